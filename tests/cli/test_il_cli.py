import json

import pytest
from typer.testing import CliRunner

from samg.cli import app
from samg.envs import get_task, make_env
from tests.pipeline.helpers import random_expert_file

runner = CliRunner()
ENV = {"COLUMNS": "200"}


@pytest.fixture(scope="module")
def tiny_store(tmp_path_factory):
    """Two real door episodes (a random expert) at 16 px in train and video_hard."""
    root = tmp_path_factory.mktemp("bc")
    store = root / "door.zarr"
    args = ["collect", "door", "--episodes", "2", "--out", str(store), "--settings", "train,video_hard",
            "--workers", "1", "--image-size", "16", "--keep-failures", "--expert", str(random_expert_file(root))]  # fmt: skip
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    return store


def _train(store, out, *extra):
    args = ["bc", "train", "--data", str(store), "--out", str(out), "--epochs", "5", "--batch-size", "16",
            "--accelerator", "cpu", *extra]  # fmt: skip
    return runner.invoke(app, args, env=ENV)


def test_train_eval_and_compare_end_to_end(tiny_store, tmp_path):
    run = tmp_path / "oracle_run"
    trained = _train(tiny_store, run, "--max-steps", "3")
    assert trained.exit_code == 0, trained.output
    config = json.loads((run / "config.json").read_text())
    assert config["obs"] == "masked" and config["segmenter"] == "oracle" and config["demos"] is None
    training = json.loads((run / "training.json").read_text())
    assert training["global_step"] == 3 and training["samples"] == 48 and 0 <= training["data_wait_fraction"] < 1
    assert (run / "checkpoints" / "last.ckpt").is_file() and (run / "logs" / "metrics.csv").is_file()

    evaluated = runner.invoke(
        app, ["eval", str(run), "--settings", "train,video_hard", "--episodes", "2", "--videos", "1"], env=ENV
    )
    assert evaluated.exit_code == 0, evaluated.output
    info = json.loads((run / "eval" / "eval_info.json").read_text())
    assert [(e["setting"], e["seed"]) for e in info["per_episode"]] == [
        ("train", 1_000_000), ("train", 1_000_001), ("video_hard", 1_000_000), ("video_hard", 1_000_001)
    ]  # fmt: skip
    assert set(info["per_episode"][0]) == {"setting", "seed", "success", "return", "steps", "success_steps", "params"}
    door = make_env(get_task("door"))
    drawn = {seed: door.task.episode_param_values(door.reset(seed).sim_state) for seed in (1_000_000, 1_000_001)}
    door.close()
    for episode in info["per_episode"]:  # what the reset drew, the same seed alike in every setting
        assert episode["params"] == pytest.approx(drawn[episode["seed"]], abs=1e-6)
    assert list(info["episode_params"]) == ["door_x", "door_y", "door_z"]
    assert info["episode_params"]["door_x"]["range"] == [-0.3, -0.2]
    for table in info["success_by_param"].values():
        assert [sum(n for _, n in cells) for cells in table["by_setting"].values()] == [2, 2]
    assert "**door_y** (m)" in (run / "eval" / "eval.md").read_text()
    assert info["per_episode"][0]["steps"] == 200 and info["segmenter"] == {"kind": "oracle"}
    for values in info["aggregate"].values():
        assert values["episodes"] == 2 and set(values) == {"episodes", "success_rate", "ci95", "mean_return"}
    assert (run / "eval" / "eval.md").read_text().count("|") > 10 and (run / "eval" / "success.png").is_file()
    assert sorted(p.name for p in (run / "eval" / "videos").iterdir()) == [
        "train_seed1000000.mp4", "video_hard_seed1000000.mp4"
    ]  # fmt: skip

    raw = tmp_path / "raw_run"
    assert _train(tiny_store, raw, "--obs", "raw", "--max-steps", "2").exit_code == 0
    raw_eval = runner.invoke(app, ["eval", str(raw), "--settings", "train", "--episodes", "1", "--videos", "0"], env=ENV)
    assert raw_eval.exit_code == 0, raw_eval.output
    assert json.loads((raw / "eval" / "eval_info.json").read_text())["segmenter"] == {"kind": "none"}
    compared = runner.invoke(app, ["eval", "compare", str(run), str(raw), "--out", str(tmp_path / "c.md")], env=ENV)
    assert compared.exit_code == 0, compared.output
    table = (tmp_path / "c.md").read_text()
    assert "masked (oracle)" in table and "| raw |" in table and "video_hard" in table


def test_resume_continues_from_the_last_checkpoint(tiny_store, tmp_path):
    run = tmp_path / "run"
    assert _train(tiny_store, run, "--max-steps", "2").exit_code == 0
    again = _train(tiny_store, run, "--max-steps", "2")
    assert again.exit_code == 1 and "pass --resume" in again.output
    resumed = _train(tiny_store, run, "--max-steps", "4", "--resume")
    assert resumed.exit_code == 0, resumed.output
    assert json.loads((run / "training.json").read_text())["global_step"] == 4
    other = _train(tiny_store, run, "--max-steps", "6", "--resume", "--lr", "0.1")
    assert other.exit_code == 1 and "trained with another config" in other.output


def test_eval_refuses_a_run_without_checkpoint(tiny_store, tmp_path):
    result = runner.invoke(app, ["eval", str(tmp_path / "nothing")])
    assert result.exit_code == 1 and "no config.json" in result.output
    run = tmp_path / "run"
    assert _train(tiny_store, run, "--max-steps", "1").exit_code == 0
    for checkpoint in (run / "checkpoints").iterdir():
        checkpoint.unlink()
    result = runner.invoke(app, ["eval", str(run), "--episodes", "1"])
    assert result.exit_code == 1
    assert result.output.strip().splitlines()[-1].endswith("train it with 'samg bc train'")


def test_eval_refuses_seeds_of_the_training_demos(tiny_store, tmp_path):
    run = tmp_path / "run"
    assert _train(tiny_store, run, "--max-steps", "1").exit_code == 0
    result = runner.invoke(app, ["eval", str(run), "--seeds", "0:3"])
    assert result.exit_code == 1 and "overlap the training demos' seeds" in result.output


@pytest.mark.parametrize("segmenter", ["oracle", "student"])
def test_run_trains_raw_and_masked_on_the_same_demos_and_compares_them(tmp_path, segmenter):
    expert = random_expert_file(tmp_path)
    args = ["run", "door", "--segmenter", segmenter, "--episodes", "2", "--epochs", "1", "--eval-episodes", "1",
            "--workers", "1", "--envs", "2", "--image-size", "16", "--keep-failures", "--expert", str(expert),
            "--data", str(tmp_path / "data"), "--out", str(tmp_path / "runs"), "--device", "cpu"]  # fmt: skip
    # the student case also takes the recipe switches: noisy demos and the paper's preset (epochs overridden)
    extra = ["--student-steps", "4", "--noise", "0.1", "--preset", "paper"] if segmenter == "student" else []
    result = runner.invoke(app, [*args, *extra], env=ENV)
    assert result.exit_code == 0, result.output
    runs = tmp_path / "runs"
    raw, masked = runs / "run_door_raw_s0", runs / f"run_door_{segmenter}_s0"
    store = tmp_path / "data" / ("door_2_noise0.1.zarr" if segmenter == "student" else "door_2.zarr")
    for run, policy_obs in ((raw, "raw"), (masked, f"masked ({segmenter})")):
        info = json.loads((run / "eval" / "eval_info.json").read_text())
        assert len(info["per_episode"]) == 5 and info["policy_obs"] == policy_obs
        config = json.loads((run / "config.json").read_text())
        assert config["data"] == str(store) and config["epochs"] == 1
        assert (config["preset"], config["lr"]) == (("paper", 5e-5) if segmenter == "student" else ("default", 3e-4))
    if segmenter == "student":
        assert json.loads((masked / "eval" / "eval_info.json").read_text())["segmenter"]["kind"] == "student"
        assert (runs / "student_door_2_noise0.1.safetensors").is_file()
    table = (runs / "run_door_compare.md").read_text()
    assert "| raw |" in table and f"masked ({segmenter})" in table and "Average" in table
    again = runner.invoke(app, [*args, *extra], env=ENV)
    assert again.exit_code == 0 and "done in" in again.output  # every stage found done and reused


def test_blank_control_trains_and_evaluates_on_black_frames(tiny_store, tmp_path):
    """`--segmenter blank`: the policy sees black frames in training and in the rollouts, so
    it acts on proprioception alone: the row that shows how much a task's policy uses vision."""
    from samg.pipeline.masks import masked_episodes
    from samg.pipeline.store import DemoStore

    store = DemoStore(tiny_store)
    blank, raw = next(masked_episodes(store, "train", "blank")), next(masked_episodes(store, "train", "none"))
    assert blank.shape == raw.shape and raw.any() and not blank.any()

    run = tmp_path / "blank_run"
    trained = _train(tiny_store, run, "--segmenter", "blank", "--max-steps", "2")
    assert trained.exit_code == 0, trained.output
    evaluated = runner.invoke(app, ["eval", str(run), "--settings", "video_hard", "--episodes", "1", "--videos", "1"],
                              env=ENV)  # fmt: skip
    assert evaluated.exit_code == 0, evaluated.output
    info = json.loads((run / "eval" / "eval_info.json").read_text())
    assert info["segmenter"] == {"kind": "blank"} and info["policy_obs"] == "blank (proprioception only)"
    named = runner.invoke(app, ["segment", str(tiny_store), "--name", "blank", "--segmenter", "oracle"], env=ENV)
    assert named.exit_code != 0 and "invalid mask name 'blank'" in named.output


def test_eval_and_run_refuse_an_unknown_scheduler_in_one_line(tmp_path):
    for command in (["eval", str(tmp_path / "run")], ["run", "door", "--out", str(tmp_path)]):
        result = runner.invoke(app, [*command, "--scheduler", "slurm"], env=ENV)
        assert result.exit_code != 0, result.output
        assert "unknown scheduler 'slurm': use threads, processes or tcp://HOST:PORT" in result.output


def test_bc_train_refuses_an_unknown_strategy_in_one_line(tmp_path):
    from tests.pipeline.helpers import synthetic_store

    store = synthetic_store(tmp_path / "door.zarr", episodes=2).path
    result = _train(store, tmp_path / "run", "--strategy", "horovod")
    assert result.exit_code != 0 and "unknown strategy 'horovod'" in result.output and "auto, ddp, ddp_spawn" in result.output
