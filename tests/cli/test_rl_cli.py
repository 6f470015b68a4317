import json
import shutil
from pathlib import Path

import pytest
import torch
from typer.testing import CliRunner

import samg.rl.checkpoint
from samg.cli import app
from samg.rl.agent import AgentConfig
from samg.rl.config import RLConfig
from samg.rl.train import RLRun, RLRunError
from samg.segmenter.factory import SegmenterConfig

runner = CliRunner()
SMALL = ["--episode-frames", "20", "--seed-frames", "20", "--batch-size", "8", "--eval-every", "40",
         "--eval-episodes", "1", "--image-size", "32", "--device", "cpu", "--hidden-dim", "64"]  # fmt: skip


def _train(out: Path, *extra):
    return runner.invoke(app, ["rl", "train", "cartpole_swingup", "--out", str(out), *SMALL, *extra])


def _frames_logged(run: Path, name: str = "train.csv") -> list[int]:
    return [int(line.split(",")[0]) for line in (run / name).read_text().splitlines()[1:]]


@pytest.mark.parametrize("segmenter", ["none", "oracle", "samg"])
def test_a_few_hundred_frames_with_each_segmenter(tmp_path, monkeypatch, segmenter):
    extra = []
    if segmenter == "samg":  # tiny random backends and a prompt for the task, built here
        from samg.envs import get_task
        from samg.segmenter.prompts import build_prompt, save_prompt

        save_prompt(build_prompt(get_task("cartpole_swingup")), tmp_path / "configs" / "prompts")
        monkeypatch.chdir(tmp_path)
        extra = ["--tiny", "--random-weights"]
    result = _train(tmp_path / "run", "--frames", "120" if segmenter != "samg" else "40", "--segmenter", segmenter,
                    "--settings", "train,video_hard", *extra)  # fmt: skip
    assert result.exit_code == 0, result.output
    run = tmp_path / "run"
    assert (run / "curve.png").is_file() and (run / "checkpoint" / "state.json").is_file()
    last = max((run / "eval").iterdir(), key=lambda p: int(p.name.split("_")[1]))
    info = json.loads((last / "eval_info.json").read_text())
    assert info["segmenter"]["kind"] == segmenter and set(info["aggregate"]) == {"train", "video_hard"}
    assert info["per_episode"][0]["steps"] == 20


def test_drqv2_settings_per_task_and_flags_over_them(tmp_path):
    walker = RLConfig.for_task("walker_walk", tmp_path)
    cheetah = RLConfig.for_task("cheetah_run", tmp_path)
    cartpole = RLConfig.for_task("cartpole_swingup", tmp_path, noise_steps=7, batch_size=32)
    assert (walker.nstep, walker.batch_size, walker.agent.std_steps) == (1, 512, 100_000)
    assert (cheetah.nstep, cheetah.batch_size, cheetah.agent.std_steps) == (3, 256, 500_000)
    assert (cartpole.nstep, cartpole.batch_size, cartpole.agent.std_steps) == (3, 32, 7)
    assert (cartpole.replay_size, cartpole.eval_episodes, cartpole.agent.expl_steps) == (1_000_000, 10, 2000)
    out = tmp_path / "run"
    result = _train(out, "--frames", "20", "--nstep", "2", "--replay-size", "500", "--noise-frames", "1000",
                    "--random-frames", "10", "--action-repeat", "4", "--update-every", "1", "--hidden-dim", "32")  # fmt: skip
    assert result.exit_code == 0, result.output
    saved = json.loads((out / "config.json").read_text())
    assert (saved["nstep"], saved["batch_size"], saved["replay_size"], saved["action_repeat"]) == (2, 8, 500, 4)
    assert (saved["agent"]["std_steps"], saved["agent"]["expl_steps"], saved["eval_episodes"]) == (250, 2, 1)
    assert (saved["update_every"], saved["agent"]["hidden_dim"]) == (1, 32)


def test_seeds_give_different_evaluations_from_frame_0(tmp_path):
    returns = []
    for seed in (1, 2):
        run = _train(tmp_path / f"s{seed}", "--frames", "100", "--seed", str(seed), "--episode-frames", "100",
                     "--seed-frames", "100")  # long enough an episode for returns to differ  # fmt: skip
        assert run.exit_code == 0, run.output
        info = json.loads((tmp_path / f"s{seed}" / "eval" / "frames_0" / "eval_info.json").read_text())
        assert info["frames"] == 0
        returns.append(info["per_episode"][0]["return"])
    assert returns[0] != returns[1]


def test_device_reaches_the_agent_and_cuda_is_refused_without_it(tmp_path, monkeypatch):
    devices = set()

    class Spy(RLRun):
        def __init__(self, config, device="cpu"):
            super().__init__(config, device)
            devices.update(p.device.type for p in [*self.agent.encoder.parameters(), *self.agent.critic.parameters()])
            self.close()
            raise RLRunError("stopped after building the agent")

    monkeypatch.setattr("samg.rl.train.RLRun", Spy)
    result = _train(tmp_path / "run", "--frames", "20", "--device", "meta")  # tensors without storage
    assert "stopped after building the agent" in result.output and devices == {"meta"}
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    refused = _train(tmp_path / "other", "--frames", "20", "--device", "cuda")
    assert refused.exit_code == 1 and "no CUDA device" in refused.output and len(refused.output.splitlines()) == 1
    assert not (tmp_path / "other").exists()


class Killed(Exception):
    pass


@pytest.mark.parametrize(("dies_writing", "envs"), [("state.json", 1), ("agent_", 1), ("state.json", 2)])
def test_a_run_killed_between_checkpoints_resumes_to_the_same_files(tmp_path, monkeypatch, dies_writing, envs):
    """Killed while writing the third checkpoint (episodes of 20 frames, N in lockstep end
    together): the resumed run's files equal an uninterrupted run's, byte for byte."""
    out, reference = tmp_path / "run", tmp_path / "reference"
    flags = ["--frames", str(80 * envs), "--seed", "3", "--envs", str(envs), "--seed-frames", str(20 * envs)]
    assert _train(out, *flags).exit_code == 0
    out.rename(reference)  # the same path for both runs: eval_info.json names it

    real_write, written = samg.rl.checkpoint.atomic_write, []

    def dies_at_the_third_checkpoint(path, write):
        written.append(path.name)
        if path.name.startswith(dies_writing) and sum(n.startswith(dies_writing) for n in written) == 3:
            write(path.with_name(path.name + ".tmp"))  # killed after the temporary, before the rename
            raise Killed
        real_write(path, write)

    def rows(batches: int) -> list[int]:  # one row per episode, at the frames of its batch
        return [batch * 20 * envs for batch in range(1, batches + 1) for _ in range(envs)]

    monkeypatch.setattr(samg.rl.checkpoint, "atomic_write", dies_at_the_third_checkpoint)
    assert isinstance(_train(out, *flags).exception, Killed)
    assert _frames_logged(out) == rows(3)  # the third batch was logged, its checkpoint never committed
    monkeypatch.setattr(samg.rl.checkpoint, "atomic_write", real_write)

    refused = _train(out, *flags)
    assert refused.exit_code == 1 and "pass --resume" in refused.output
    other = _train(out, *flags, "--resume", "--batch-size", "16")
    assert other.exit_code == 1 and "another config" in other.output
    resumed = _train(out, *flags, "--resume")
    assert resumed.exit_code == 0, resumed.output
    assert _frames_logged(out) == rows(4)
    assert _frames_logged(out, "curve.csv") == {1: [0, 40, 80], 2: [0, 40, 80, 120, 160]}[envs]

    files = sorted(path.relative_to(reference) for path in reference.rglob("*") if path.is_file())
    assert files == sorted(path.relative_to(out) for path in out.rglob("*") if path.is_file())
    assert len([name for name in files if name.name.startswith("episode_")]) == 4 * envs
    for name in files:
        if name.name not in ("state.json", "training.json"):  # they hold the run's parts, with wall times
            assert (out / name).read_bytes() == (reference / name).read_bytes(), name

    def without_parts(run: Path, name: str) -> dict:
        return {k: v for k, v in json.loads((run / name).read_text()).items() if k not in ("parts", "wall_seconds")}

    for name in ("checkpoint/state.json", "training.json"):
        assert without_parts(out, name) == without_parts(reference, name)
    parts = json.loads((out / "training.json").read_text())["parts"]
    assert [(part["from_frames"], part["to_frames"]) for part in parts] == [(0, 40 * envs), (40 * envs, 80 * envs)]
    assert len(json.loads((reference / "training.json").read_text())["parts"]) == 1


def test_resume_continues_the_replay_optimisers_and_counters(tmp_path):
    out = tmp_path / "run"
    assert _train(out, "--frames", "60").exit_code == 0
    config = RLConfig(task="cartpole_swingup", out=out, segmenter=SegmenterConfig(kind="oracle"), frames=60,
                      eval_every=40, eval_episodes=1, batch_size=8, seed_frames=20, episode_frames=20, image_size=32,
                      agent=AgentConfig(hidden_dim=64))  # fmt: skip
    saved = RLRun(config)
    saved.load()
    assert saved.counters.step == 30 and saved.counters.episode == 3 and len(saved.replay) == 33
    assert saved.agent.optimizers["critic"].state_dict()["state"]  # Adam moments were saved
    episode_files = sorted(p.name for p in (out / "checkpoint" / "replay").iterdir())
    shutil.copytree(out / "checkpoint" / "replay", tmp_path / "replay_before")
    assert _train(out, "--frames", "100", "--resume").exit_code == 0
    for name in episode_files:  # episodes are written once, when they end
        assert (out / "checkpoint" / "replay" / name).read_bytes() == (tmp_path / "replay_before" / name).read_bytes()
    after = RLRun(config)
    after.load()
    assert after.counters.step == 50 and after.counters.episode == 5 and len(after.replay) == 55
    steps = [after.agent.optimizers["critic"].state_dict()["state"][0]["step"],
             saved.agent.optimizers["critic"].state_dict()["state"][0]["step"]]  # fmt: skip
    assert float(steps[0]) > float(steps[1])  # optimiser continued, not restarted
    assert _frames_logged(out) == [20, 40, 60, 80, 100]
    saved.close()
    after.close()
