"""The five cases of issue 16 and the faults of issue 24: damaged values, full disks, failed writes."""

import json
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import torch

from samg.cli import app
from tests.cli.hostile.helpers import (
    ENV,
    IMAGE_CHUNK,
    foreign_pickle,
    fresh_copy,
    refused,
    replace_file,
    runner,
    store_commands,
)

# ---- the five cases of issue 16 -------------------------------------------------------------


def test_case_1_a_deleted_chunk_stops_training_and_segmentation(pristine, tmp_path):
    from samg.pipeline.masks import masked_episodes
    from samg.pipeline.store import ChunkError, DemoStore

    store = fresh_copy(pristine.store, tmp_path / "door.zarr")
    (store / IMAGE_CHUNK).unlink()
    line = f"images/train/rgb: chunk 1 (steps 20-39) is missing (zarr would read it as zeros): run 'samg info {store} --check'"
    for args in (store_commands(store, tmp_path)["bc-train"], store_commands(store, tmp_path)["segment"]):
        refused(args, [store], line)
    assert not (tmp_path / "new_run").exists() and not (store / "masks" / "fresh").exists()
    with pytest.raises(ChunkError, match="chunk 1 \\(steps 20-39\\) is missing"):
        DemoStore(store).episode(1, settings=("train",))
    with pytest.raises(ChunkError, match="chunk 1 \\(steps 20-39\\) is missing"):
        list(masked_episodes(DemoStore(store), "train", "oracle"))
    assert DemoStore(store).episode(0, settings=("train",))["rgb/train"].any()  # the other chunks read


def test_case_2_a_checkpoint_naming_other_code_is_refused_in_one_line(pristine, tmp_path):
    run = fresh_copy(pristine.run, tmp_path / "run", link=True)
    foreign_pickle(run / "checkpoints" / "best.ckpt")
    refused(["eval", run, "--episodes", "1"], [run], "best.ckpt is refused: it names posix.getcwd")


def test_case_3_an_unreadable_config_is_one_line(pristine, tmp_path):
    run = fresh_copy(pristine.run, tmp_path / "run", link=True)
    replace_file(run / "config.json", b'{"data": ')
    refused(["eval", run, "--episodes", "1"], [run], "config.json is not a readable bc run config")


def test_case_4_a_negative_learning_rate_is_refused_before_any_work(pristine, tmp_path):
    args = ["bc", "train", "--data", pristine.store, "--lr", "-1", "--out", tmp_path / "run"]
    refused(args, [pristine.store], "--lr must be a positive number, got -1.0")
    assert not (tmp_path / "run").exists()


def test_case_5_an_empty_seed_range_and_an_earlier_evaluation(pristine, tmp_path, monkeypatch):
    import dataclasses

    import samg.il.evaluate
    from samg.envs import get_task

    def short(name: str):  # episodes of 5 steps: this test is about the files, not the policy
        return dataclasses.replace(get_task(name), episode_length=5)

    monkeypatch.setattr(samg.il.evaluate, "get_task", short)
    run = fresh_copy(pristine.run, tmp_path / "run", link=True)
    refused(["eval", run, "--seeds", "5:2"], [run], "--seeds 5:2 is empty")
    earlier = run / "eval"
    (earlier / "videos").mkdir(parents=True)
    for name in ("eval_info.json", "eval.md", "success.png", "videos/video_hard_seed5.mp4", "notes.txt"):
        (earlier / name).write_text("an earlier evaluation\n")
    refused(["eval", run, "--episodes", "1"], [run], "already holds an evaluation: pass --overwrite")

    args = ["eval", run, "--episodes", "1", "--settings", "train", "--videos", "1", "--overwrite"]
    replaced = runner.invoke(app, [str(a) for a in args], env=ENV)  # episodes cut to 5 steps
    assert replaced.exit_code == 0, replaced.output
    info = json.loads((earlier / "eval_info.json").read_text())
    assert list(info["aggregate"]) == ["train"] and info["per_episode"][0]["steps"] == 5
    assert sorted(p.name for p in (earlier / "videos").iterdir()) == ["train_seed1000000.mp4"]  # none of the earlier
    assert (earlier / "notes.txt").read_text() == "an earlier evaluation\n"  # what samg did not write stays


# ---- issue 24: faults and bad data, second pass ---------------------------------------------


def _write_into(store: Path, key: str, at, value) -> None:
    import zarr

    zarr.open_array(store, path=key, mode="r+").with_config({"write_empty_chunks": True})[at] = value


STORED_VALUE_BREAKS: dict[str, tuple[Callable[[Path], None], str, tuple[str, ...]]] = {  # and who reads them
    "nan-action": (
        lambda s: _write_into(s, "data/action", (25, 3), np.nan),
        "data/action holds a non-finite value (NaN or infinity) at step 25, in episode 1",
        ("info", "bc-train"),
    ),
    "inf-proprio": (
        lambda s: _write_into(s, "data/proprio", (41, 0), np.inf),
        "data/proprio holds a non-finite value (NaN or infinity) at step 41, in episode 2",
        ("info", "bc-train"),
    ),
    "episode-ends-not-increasing": (
        lambda s: _write_into(s, "meta/episode_ends", slice(0, 3), [20, 10, 60]),
        "meta/episode_ends does not count episodes of the task's length (episode 1 ends at step 10, not 40)",
        ("info", "bc-train", "segment", "distill"),
    ),
}
STORED_VALUE_CASES = [(c, v) for v, (_, _, readers) in STORED_VALUE_BREAKS.items() for c in readers]


@pytest.mark.parametrize("command, variant", STORED_VALUE_CASES)
def test_damaged_stored_values_are_refused_by_every_reader(pristine, tmp_path, command, variant):
    store = fresh_copy(pristine.store, tmp_path / "door.zarr")
    breaks, expect, _ = STORED_VALUE_BREAKS[variant]
    breaks(store)
    refused(store_commands(store, tmp_path)[command], [store], expect)
    assert not any((tmp_path / name).exists() for name in ("new_run", "student.safetensors", "door.zarr/masks/fresh"))


def test_a_finite_store_reads_whole_and_nan_is_checked_per_block_read(pristine, tmp_path):
    from samg.pipeline.store import DemoStore, StoreError

    store = fresh_copy(pristine.store, tmp_path / "door.zarr")
    _write_into(store, "data/action", (45, 0), np.nan)
    opened = DemoStore(store)
    assert np.isfinite(opened.read("data/action", slice(0, 40))).all()  # the block before the damage
    with pytest.raises(StoreError, match="at step 45, in episode 2"):
        opened.read("data/action", np.arange(30, 50))


def test_training_refuses_a_non_finite_loss_at_the_first_step(pristine, tmp_path, monkeypatch):
    from samg.il.policy import BCPolicy

    monkeypatch.setattr(BCPolicy, "_loss", lambda self, batch: torch.tensor(float("nan"), requires_grad=True))
    args = ["bc", "train", "--data", pristine.store, "--out", tmp_path / "run", "--accelerator", "cpu", "--max-steps", "3"]
    refused(args, [pristine.store], "the training loss became nan at step 0 (epoch 0) although every input is finite")
    assert not (tmp_path / "run" / "checkpoints").exists()


def _strict_json(path: Path) -> dict:
    def refuse(constant: str):
        raise ValueError(f"{path} holds a bare {constant}")

    return json.loads(path.read_text(), parse_constant=refuse)


def test_json_samg_writes_is_valid_json(pristine, tmp_path):
    from samg.files import write_json

    for name in ("config.json", "demos.json", "training.json"):
        _strict_json(pristine.run / name)
    write_json(tmp_path / "a.json", {"rate": float("nan"), "ci": [float("inf"), 0.5], "n": 3})
    assert _strict_json(tmp_path / "a.json") == {"rate": None, "ci": [None, 0.5], "n": 3}
    assert [p.name for p in tmp_path.iterdir()] == ["a.json"]  # no temporary file left


def _no_space(*args, **kwargs):
    import errno

    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))  # as a write() into a full disk: no file name


def test_a_full_disk_during_collection_is_one_line_naming_the_store(pristine, tmp_path, monkeypatch):
    import zarr

    from samg.errors import WriteError
    from samg.pipeline.store import DemoStore

    store = DemoStore(fresh_copy(pristine.store, tmp_path / "door.zarr"), mode="r+")
    episode = store.episode(0, settings=store.plan.settings)
    steps = {spec: episode[spec.split("/")[1]] for spec in ("data/action", "data/state", "data/proprio", "data/reward",
                                                            "data/success", "data/sim_state")}  # fmt: skip
    steps |= {f"images/{s}/rgb": episode[f"rgb/{s}"] for s in store.plan.settings} | {"masks/gt": episode["mask"]}
    monkeypatch.setattr(zarr.Array, "__setitem__", _no_space)
    with pytest.raises(WriteError, match=f"cannot write {store.path}: No space left on device: free space there"):
        store.write_episode(0, steps)


def test_a_failed_write_of_a_run_file_is_one_line(pristine, tmp_path, monkeypatch):
    import errno

    def read_only(self, *args, **kwargs):
        raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(self))

    monkeypatch.setattr(Path, "write_text", read_only)
    args = ["bc", "train", "--data", pristine.store, "--out", tmp_path / "run", "--accelerator", "cpu", "--max-steps", "1"]
    refused(args, [pristine.store], f"cannot write {tmp_path / 'run' / 'config.json'}.tmp: Read-only file system")


def test_collect_onto_a_full_file_system_is_one_line(pristine, tmp_path):
    """A 64 KiB tmpfs (where this process may mount one, as root may): the first episode fills it."""
    import subprocess

    disk = tmp_path / "disk"
    disk.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(disk)], capture_output=True).returncode:
        pytest.skip("cannot mount a tmpfs here (not root)")
    try:
        args = ["collect", "door", "--episodes", "1", "--out", disk / "door.zarr", "--settings", "train",
                "--workers", "1", "--image-size", "16", "--keep-failures", "--expert", pristine.expert]  # fmt: skip
        refused(args, [pristine.expert], "No space left on device: free space there and re-run the same command")
        assert sorted(p.name for p in disk.iterdir()) == []  # no half-made store, no lock: the same command starts over
    finally:
        subprocess.run(["umount", str(disk)], check=True)


def test_a_symlink_loop_as_out_is_one_line_and_leaves_no_lock(pristine, tmp_path):
    (tmp_path / "A").symlink_to(tmp_path / "B")
    (tmp_path / "B").symlink_to(tmp_path / "A")
    args = ["collect", "door", "--episodes", "1", "--out", tmp_path / "A", "--settings", "train", "--workers", "1",
            "--image-size", "16", "--keep-failures", "--expert", pristine.expert]  # fmt: skip
    refused(args, [pristine.expert], f"{tmp_path / 'A'} is a symbolic link to nothing (a loop or a missing target)")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["A", "B"]  # no A.lock


