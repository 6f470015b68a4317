import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from samg.cli import app
from samg.rl.train import RLConfig, RLRun
from samg.segmenter.factory import SegmenterConfig

runner = CliRunner()
SMALL = ["--episode-frames", "20", "--seed-frames", "20", "--batch-size", "8", "--eval-every", "40",
         "--eval-episodes", "1", "--image-size", "32"]  # fmt: skip


def _train(out: Path, *extra):
    return runner.invoke(app, ["rl", "train", "cartpole_swingup", "--out", str(out), *SMALL, *extra])


@pytest.mark.parametrize("segmenter", ["none", "oracle", "samg"])
def test_a_few_hundred_frames_with_each_segmenter(tmp_path, monkeypatch, segmenter):
    extra = []
    if segmenter == "samg":  # tiny random backends and a prompt for the task, built here
        from samg.segmenter.prompts import build_prompt, save_prompt
        from samg.envs import get_task

        save_prompt(build_prompt(get_task("cartpole_swingup")), tmp_path / "configs" / "prompts")
        monkeypatch.chdir(tmp_path)
        extra = ["--tiny", "--random-weights"]
    result = _train(tmp_path / "run", "--frames", "120" if segmenter != "samg" else "40", "--segmenter", segmenter,
                    "--settings", "train,video_hard", *extra)  # fmt: skip
    assert result.exit_code == 0, result.output
    run = tmp_path / "run"
    assert (run / "curve.png").is_file() and (run / "checkpoint" / "state.json").is_file()
    last = sorted((run / "eval").iterdir(), key=lambda p: int(p.name.split("_")[1]))[-1]
    info = json.loads((last / "eval_info.json").read_text())
    assert info["segmenter"]["kind"] == segmenter and set(info["aggregate"]) == {"train", "video_hard"}
    assert info["per_episode"][0]["steps"] == 20


def test_resume_restores_counters_replay_and_optimisers(tmp_path):
    out = tmp_path / "run"
    assert _train(out, "--frames", "60").exit_code == 0
    config = RLConfig(task="cartpole_swingup", out=out, segmenter=SegmenterConfig(kind="oracle"), frames=60,
                      eval_every=40, eval_episodes=1, batch_size=8, seed_frames=20, episode_frames=20, image_size=32)  # fmt: skip
    saved = RLRun(config)
    saved.load()
    assert saved.counters.step == 30 and saved.counters.episode == 3 and len(saved.replay) == 33
    assert saved.agent.optimizers["critic"].state_dict()["state"]  # Adam moments were saved
    shutil.copytree(out, tmp_path / "before")
    refused = _train(out, "--frames", "100")
    assert refused.exit_code == 1 and "pass --resume" in refused.output
    resumed = _train(out, "--frames", "100", "--resume")
    assert resumed.exit_code == 0, resumed.output
    after = RLRun(config)
    after.load()
    assert after.counters.step == 50 and after.counters.episode == 5 and len(after.replay) == 55
    np.testing.assert_array_equal(after.replay.frames[:33], saved.replay.frames[:33])  # the old replay, kept
    steps = [after.agent.optimizers["critic"].state_dict()["state"][0]["step"],
             saved.agent.optimizers["critic"].state_dict()["state"][0]["step"]]  # fmt: skip
    assert float(steps[0]) > float(steps[1])  # optimiser continued, not restarted
    frames = [int(line.split(",")[0]) for line in (out / "train.csv").read_text().splitlines()[1:]]
    assert frames == [20, 40, 60, 80, 100]
    other = _train(out, "--frames", "120", "--resume", "--batch-size", "16")
    assert other.exit_code == 1 and "another config" in other.output
    saved.close()
    after.close()
