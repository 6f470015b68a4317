import shutil

import zarr
from typer.testing import CliRunner

from samg.cli import app
from samg.envs import get_task, make_env
from tests.pipeline.helpers import random_expert_file
from tests.rl_collect.test_mjrl_pickle import SHARED_EXPERTS

runner = CliRunner()


def _collect(tmp_path, out, *extra):
    expert = random_expert_file(tmp_path)
    args = ["collect", "door", "--episodes", "1", "--out", str(out), "--settings", "train", "--workers", "1",
            "--image-size", "16", "--keep-failures", "--expert", str(expert), *extra]  # fmt: skip
    return runner.invoke(app, args)


def test_collect_then_info_check(tmp_path):
    out = tmp_path / "door.zarr"
    result = _collect(tmp_path, out)
    assert result.exit_code == 0, result.output
    assert "1 episodes, complete" in result.output
    info = runner.invoke(app, ["info", str(out), "--check"], env={"COLUMNS": "200"})
    assert info.exit_code == 0, info.output
    assert "images/train/rgb" in info.output and "check passed" in info.output
    door = make_env(get_task("door"))
    seed = int(zarr.open_group(out, mode="r")["meta/episode_seed"][0])
    height = door.task.episode_param_values(door.reset(seed).sim_state)["door_z"]
    door.close()
    assert f"door_z (m): {height:.4g} to {height:.4g} over the episodes, drawn from 0.252 to 0.35" in info.output
    again = _collect(tmp_path, out)  # a complete store: nothing to do, same answer
    assert again.exit_code == 0 and "1 episodes, complete" in again.output


def test_info_check_fails_on_a_missing_chunk(tmp_path):
    out = tmp_path / "door.zarr"
    assert _collect(tmp_path, out).exit_code == 0
    shutil.rmtree(out / "data" / "action" / "c" / "1")
    result = runner.invoke(app, ["info", str(out), "--check"])
    assert result.exit_code == 1
    assert "data/action: chunk 1 (steps 100-199) is missing" in result.output.splitlines()[-1]


def test_commands_refuse_a_store_of_another_version(tmp_path):
    out = tmp_path / "door.zarr"
    assert _collect(tmp_path, out).exit_code == 0
    zarr.open_group(out, mode="r+").attrs.update({"format_version": 7})
    for args in (["info", str(out)], ["info", str(out), "--check"]):
        result = runner.invoke(app, args)
        assert result.exit_code == 1 and "format_version 7" in result.output
        assert len(result.output.strip().splitlines()) == 1
    result = _collect(tmp_path, out)
    assert result.exit_code == 1 and "format_version 7" in result.output


def test_info_on_a_missing_store(tmp_path):
    result = runner.invoke(app, ["info", str(tmp_path / "nothing.zarr")])
    assert result.exit_code == 1 and "no demo store at" in result.output


def test_expert_commands(tmp_path, monkeypatch):
    monkeypatch.setenv("SAMG_HOME", str(tmp_path / "home"))
    result = runner.invoke(app, ["expert", "eval", "door", "--episodes", "1"])
    assert result.exit_code == 1 and "samg expert fetch door" in result.output
    result = runner.invoke(app, ["expert", "fetch", "drawer"])
    assert result.exit_code == 2 and "unknown expert task 'drawer'" in result.output
    if SHARED_EXPERTS.is_dir():
        result = runner.invoke(app, ["expert", "import", str(SHARED_EXPERTS / "door-v0.pickle")])
        assert result.exit_code == 0 and "door:" in result.output
        result = runner.invoke(app, ["expert", "eval", "door", "--episodes", "2"])
        assert result.exit_code == 0 and "success 2/2" in result.output


def test_an_unknown_scheduler_is_one_line_before_anything_runs(tmp_path):
    out = tmp_path / "door.zarr"
    result = _collect(tmp_path, out, "--scheduler", "slurm")
    assert result.exit_code != 0 and not out.exists()
    assert "unknown scheduler 'slurm': use threads, processes or tcp://HOST:PORT" in result.output


def test_a_killed_worker_is_one_line_and_the_same_command_resumes(tmp_path):
    import multiprocessing
    import os
    import signal
    import threading
    import time

    out = tmp_path / "door.zarr"
    results = []
    collecting = threading.Thread(target=lambda: results.append(_collect(tmp_path, out, "--episodes", "2")))
    collecting.start()
    deadline = time.monotonic() + 120
    while not multiprocessing.active_children() and time.monotonic() < deadline:
        time.sleep(0.05)
    for worker in multiprocessing.active_children():
        os.kill(worker.pid, signal.SIGKILL)
    collecting.join(timeout=300)
    result = results[0]
    assert result.exit_code == 1, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "a collection worker process died" in lines[0], result.stderr
    assert f"committed in {out}: re-run the same command to resume" in lines[0]
    again = _collect(tmp_path, out, "--episodes", "2")
    assert again.exit_code == 0 and "2 episodes, complete" in again.output, again.output
