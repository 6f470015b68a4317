import hashlib
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from samg.pipeline.masks import MaskSet, MasksError, masked_episodes
from samg.pipeline.segment import SegmentConfig, segment_store
from samg.pipeline.store import DemoStore
from samg.segmenter.factory import SegmenterConfig
from samg.segmenter.method import SamgOptions
from tests.pipeline.helpers import synthetic_store

PROMPTS = Path("configs/prompts")


def tiny_samg(tmp_path: Path, **overrides) -> SegmenterConfig:
    """SAM-G with tiny random backends and a private copy of the door prompt."""
    prompts = tmp_path / "prompts"
    if not prompts.exists():
        shutil.copytree(PROMPTS / "door", prompts / "door")
    values = {"kind": "samg", "tiny": True, "random_weights": True, "adapt": False, "prompts_root": prompts}
    return SegmenterConfig(**{**values, **overrides})


def assert_varied(masks: np.ndarray) -> None:
    """Byte comparisons mean something only if the masks are neither empty nor full."""
    fractions = masks.mean(axis=(1, 2))
    assert 0.02 < fractions.mean() < 0.98 and fractions.std() > 0.02


def chunk_bytes(store_path: Path, name: str) -> dict[str, bytes]:
    """The masks and counts chunks (not the seconds each block took)."""
    root = store_path / "masks" / name
    files = [p for p in sorted(root.rglob("c/*")) if p.is_file() and not p.is_relative_to(root / "seconds")]
    return {str(p.relative_to(root)): p.read_bytes() for p in files}


def tree_digest(path: Path) -> str:
    digest = hashlib.sha256()
    for file in sorted(path.rglob("*")):
        if file.is_file():
            digest.update(str(file.relative_to(path)).encode() + file.read_bytes())
    return digest.hexdigest()


def test_oracle_layout_attributes_and_perfect_quality(tmp_path):
    store = synthetic_store(tmp_path / "door.zarr")
    images_before = tree_digest(store.path / "images")
    result = segment_store(SegmentConfig(store.path, SegmenterConfig(kind="oracle"), workers=2))
    mask_set = MaskSet(DemoStore(store.path), "oracle")
    for setting in ("train", "video_hard"):
        masks = mask_set.masks(setting)
        assert masks.shape == (60, 16, 16) and masks.dtype == bool and masks.chunks == (20, 16, 16)
        assert np.array_equal(masks[:], store.array("masks/gt")[:] > 0)
        assert mask_set.counts(setting).shape == (60, 3, 3)
        for name in ("all", "hand", "door"):
            assert result.quality[setting][name]["iou"] == 1.0
            assert result.quality[setting][name]["low_iou_fraction"] == 0.0
    attrs = mask_set.attrs
    assert attrs["segmenter"] == {"kind": "oracle"} and attrs["quality"] == result.quality
    assert set(attrs["timings"]) == {"train", "video_hard"} and "package_version" in attrs
    assert tree_digest(store.path / "images") == images_before


def test_rerun_skips_done_blocks_and_redoes_a_corrupt_one(tmp_path):
    store = synthetic_store(tmp_path / "door.zarr")
    config = SegmentConfig(store.path, SegmenterConfig(kind="none"), settings=("train",))
    assert segment_store(config).progress.blocks_skipped == 0
    before = chunk_bytes(store.path, "none")
    chunk = store.path / "masks" / "none" / "train" / "c" / "1" / "0" / "0"
    chunk.write_bytes(chunk.read_bytes()[:-4] + b"\0\0\0\0")  # fails its checksum
    again = segment_store(config)
    assert again.progress.blocks_skipped == 2 and again.progress.blocks_done == 3
    assert chunk_bytes(store.path, "none") == before


def test_timings_add_up_a_stopped_run_and_its_resume(tmp_path, monkeypatch):
    import samg.pipeline.segment as segment

    store = synthetic_store(tmp_path / "door.zarr", settings=("train",))  # 3 blocks of 20 steps
    config = SegmentConfig(store.path, SegmenterConfig(kind="none"), settings=("train",))
    original, calls = segment._segment_block, []

    def stops_after_two_blocks(*args):
        calls.append(args[2].chunk)
        if len(calls) > 2:
            raise RuntimeError("killed")
        return original(*args)

    monkeypatch.setattr(segment, "_segment_block", stops_after_two_blocks)
    with pytest.raises(segment.BlockError):
        segment_store(config)
    monkeypatch.undo()
    resumed = segment_store(config)
    assert resumed.progress.blocks_skipped == 2 and resumed.progress.frames == 20
    timings = MaskSet(DemoStore(store.path), "none").attrs["timings"]["train"]
    assert timings == resumed.timings["train"] and timings["frames"] == 60 and timings["frames_per_second"] > 0


def test_a_set_made_before_block_seconds_were_recorded_is_extended(tmp_path):
    store = synthetic_store(tmp_path / "door.zarr", settings=("train",))
    segment_store(SegmentConfig(store.path, SegmenterConfig(kind="none"), settings=("train",), episodes=(0, 1)))
    shutil.rmtree(store.path / "masks" / "none" / "seconds")  # as an older samg made it
    extended = segment_store(SegmentConfig(store.path, SegmenterConfig(kind="none"), settings=("train",)))
    assert extended.progress.blocks_skipped == 1 and extended.timings["train"]["frames"] == 40  # the blocks timed


def test_samg_masks_and_the_masked_frame_view(tmp_path):
    store = synthetic_store(tmp_path / "door.zarr", episodes=2, length=10)
    config = SegmentConfig(store.path, tiny_samg(tmp_path), settings=("video_hard",), episodes=(0, 1))
    result = segment_store(config)
    mask_set = MaskSet(DemoStore(store.path), "samg")
    assert mask_set.attrs["segmenter"]["sam"] == "efficientvit-l1" and mask_set.attrs["prompt_sha256"]
    assert result.quality["video_hard"]["all"]["frames"] == 10 and result.timings["video_hard"]["frames"] == 10
    (masked,) = masked_episodes(DemoStore(store.path), "video_hard", "samg", range(1))
    raw = store.array("images/video_hard/rgb")[:10]
    assert np.array_equal(masked, raw * mask_set.masks("video_hard")[:10][..., None])
    with pytest.raises(MasksError, match="samg segment .* --name samg --episodes 1:2"):
        next(masked_episodes(DemoStore(store.path), "video_hard", "samg", range(1, 2)))
    (oracle,) = masked_episodes(DemoStore(store.path), "train", "oracle", range(1))
    assert np.array_equal(oracle, store.array("images/train/rgb")[:10] * (store.array("masks/gt")[:10] > 0)[..., None])
    (none,) = masked_episodes(DemoStore(store.path), "train", "none", range(1))
    assert np.array_equal(none, store.array("images/train/rgb")[:10])


def test_resume_after_sigkill_gives_the_same_bytes(tmp_path):
    store = synthetic_store(tmp_path / "door.zarr", episodes=4, length=5, settings=("video_hard",))
    shutil.copytree(store.path, tmp_path / "reference.zarr")
    config = tiny_samg(tmp_path, options=SamgOptions(refine=False))
    command = [sys.executable, "-m", "samg.cli", "segment", str(store.path), "--tiny", "--random-weights",
               "--no-adapt", "--no-refine", "--prompts", str(config.prompts_root)]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    counts = store.path / "masks" / "samg" / "counts" / "video_hard"

    def blocks_written() -> int:
        return len([p for p in counts.rglob("c/*/0/0") if p.is_file()])

    deadline = time.monotonic() + 120
    while blocks_written() == 0 and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert process.poll() is None, process.stderr.read().decode()[-2000:]
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    assert blocks_written() >= 1
    interrupted = MaskSet(DemoStore(store.path), "samg")
    assert not all(interrupted.block_done("video_hard", c) for c in range(4))
    resumed = segment_store(SegmentConfig(store.path, config))
    assert resumed.progress.blocks_skipped >= 1 and resumed.timings["video_hard"]["frames"] == 20  # both runs'
    segment_store(SegmentConfig(tmp_path / "reference.zarr", config))
    assert chunk_bytes(store.path, "samg") == chunk_bytes(tmp_path / "reference.zarr", "samg")
    assert_varied(MaskSet(DemoStore(store.path), "samg").masks("video_hard")[:])


def test_local_cluster_gives_the_threaded_bytes(tmp_path):
    from distributed import LocalCluster

    store = synthetic_store(tmp_path / "door.zarr", episodes=2, length=5, settings=("train",))
    config = tiny_samg(tmp_path, options=SamgOptions(refine=False))
    segment_store(SegmentConfig(store.path, config, name="threads"))
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        segment_store(SegmentConfig(store.path, config, name="cluster", scheduler=cluster.scheduler_address))
    assert chunk_bytes(store.path, "cluster") == chunk_bytes(store.path, "threads")
    assert_varied(MaskSet(DemoStore(store.path), "cluster").masks("train")[:])


def test_a_failing_block_is_retried_then_reported_with_its_episodes(tmp_path, monkeypatch):
    import samg.pipeline.segment as segment

    store = synthetic_store(tmp_path / "door.zarr", settings=("train",))
    original, calls = segment._segment_block, []

    def flaky(store_path, name, block, task, config):
        calls.append(block.chunk)
        if block.chunk == 1 and calls.count(1) < 3:
            raise OSError("disk hiccup")  # fails twice, then works
        if block.chunk == 2 and name == "broken":
            raise RuntimeError("bad frames")  # always fails
        return original(store_path, name, block, task, config)

    monkeypatch.setattr(segment, "_segment_block", flaky)
    segment_store(SegmentConfig(store.path, SegmenterConfig(kind="none")))
    assert calls.count(1) == 3 and all(MaskSet(DemoStore(store.path), "none").block_done("train", c) for c in range(3))
    calls.clear()
    with pytest.raises(segment.BlockError, match=r"block train steps 40-59 \(episode 2\) failed 3 times: RuntimeError"):
        segment_store(SegmentConfig(store.path, SegmenterConfig(kind="none"), name="broken"))
    assert calls.count(2) == 3


def test_two_runs_on_one_mask_name_do_not_overlap(tmp_path):
    from samg.pipeline.lock import StoreLock, StoreLockedError

    store = synthetic_store(tmp_path / "door.zarr")
    with StoreLock(store.path, "another samg segment", part="masks-none"):
        with pytest.raises(StoreLockedError, match=r"\(masks-none\) is being written by .* use another --name"):
            segment_store(SegmentConfig(store.path, SegmenterConfig(kind="none")))
        segment_store(SegmentConfig(store.path, SegmenterConfig(kind="oracle")))  # another name: fine
