"""Collection into the demo store: layout, replay, resume after SIGKILL, locking, checks."""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import zarr

from samg.benchmark.manifest import MANIFEST

from samg.envs import FrameRenderer, make_env
from samg.pipeline.lock import StoreLock, StoreLockedError
from samg.pipeline.store import FORMAT_NAME, FORMAT_VERSION, DemoStore, StoreError
from samg.pipeline.validate import check_store
from samg.rl_collect.collect import CollectConfig, PlanMismatchError, collect
from tests.pipeline.helpers import random_expert_file
from tests.rl_collect.test_mjrl_pickle import SHARED_EXPERTS

SETTINGS = ("train", "video_hard")


def _config(tmp_path: Path, out: str, **overrides) -> CollectConfig:
    values = dict(
        task="door",
        episodes=2,
        out=tmp_path / out,
        settings=SETTINGS,
        seed=0,
        workers=1,
        image_size=16,
        keep_failures=True,
        expert_path=random_expert_file(tmp_path),
    )
    return CollectConfig(**{**values, **overrides})


@pytest.fixture(scope="module")
def small_store(tmp_path_factory) -> DemoStore:
    tmp_path = tmp_path_factory.mktemp("store")
    return collect(_config(tmp_path, "door.zarr"))


def test_store_layout_and_attributes(small_store):
    store = small_store
    attrs = store.attrs
    assert attrs["format"] == FORMAT_NAME and attrs["format_version"] == FORMAT_VERSION
    assert attrs["task"] == "door" and attrs["env_id"] == "AdroitHandDoor-v1" and attrs["camera"] == "top"
    assert attrs["settings"] == list(SETTINGS) and attrs["image_size"] == 16 and attrs["complete"] is True
    assert attrs["expert"] == "mlp/random-door-expert.npz" and len(attrs["expert_sha256"]) == 64
    assert attrs["mask_objects"] == ["hand", "door"] and attrs["package_version"]
    assert store.n_episodes == 2 and list(store.episode_ends) == [200, 400] and list(store.episode_seeds) == [0, 1]
    expected = {
        "data/action": ((400, 28), "float32"),
        "data/state": ((400, 39), "float32"),
        "data/proprio": ((400, 24), "float32"),
        "data/reward": ((400,), "float32"),
        "data/success": ((400,), "bool"),
        "data/sim_state": ((400, 63), "float64"),
        "images/train/rgb": ((400, 16, 16, 3), "uint8"),
        "images/video_hard/rgb": ((400, 16, 16, 3), "uint8"),
        "masks/gt": ((400, 16, 16), "uint8"),
    }
    for key, (shape, dtype) in expected.items():
        array = store.array(key)
        assert array.shape == shape and str(array.dtype) == dtype, key
        assert array.chunks == (100, *shape[1:]), key  # along time only, inside one episode
    assert check_store(store)
    assert [len(e["action"]) for e in store.episodes()] == [200, 200]


def test_replaying_stored_actions_reproduces_states_and_frames(small_store):
    episode = small_store.episode(1, settings=("train",))
    env = make_env("door")
    step = env.reset(int(small_store.episode_seeds[1]))
    with FrameRenderer(env.task, env.model, image_size=16) as renderer:
        for t, action in enumerate(episode["action"]):
            np.testing.assert_array_equal(step.sim_state, episode["sim_state"][t])
            np.testing.assert_array_equal(renderer.render(step.sim_state, "train", 1, t), episode["rgb/train"][t])
            step = env.step(action)
    env.close()


def _tree_bytes(store_path: Path) -> dict[str, bytes]:
    """Every file of every array (the root attributes hold timings, so they are left out)."""
    return {
        str(path.relative_to(store_path)): path.read_bytes()
        for path in sorted(store_path.rglob("*"))
        if path.is_file() and path.parent != store_path
    }


def _committed(store_path: Path) -> int:
    try:
        return json.loads((store_path / "zarr.json").read_text())["attributes"]["episodes_committed"]
    except (FileNotFoundError, json.JSONDecodeError, KeyError):
        return 0


@pytest.mark.slow
def test_killed_run_resumes_to_identical_bytes(tmp_path):
    config = _config(tmp_path, "killed.zarr", episodes=3, settings=("train", "color_easy"))
    command = [
        sys.executable, "-m", "samg.cli", "collect", "door", "--episodes", "3", "--out", str(config.out),
        "--settings", "train,color_easy", "--workers", "2", "--image-size", "16", "--keep-failures",
        "--expert", str(config.expert_path),
    ]  # fmt: skip
    victim = subprocess.Popen(command, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while _committed(config.out) < 1 and victim.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert victim.poll() is None, victim.stderr.read().decode()[-2000:]
    os.killpg(victim.pid, signal.SIGKILL)  # the main process and its workers, mid-run
    victim.wait()
    interrupted = DemoStore(config.out)
    assert not interrupted.complete and 1 <= interrupted.n_episodes < 3
    at_kill = (interrupted.n_episodes, list(interrupted.episode_seeds), interrupted.attrs["next_seed"])
    resumed = subprocess.run(command, capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    reference = collect(CollectConfig(**{**config.__dict__, "out": tmp_path / "reference.zarr"}))
    finished = DemoStore(config.out)
    assert finished.complete and not list(config.out.rglob("*.partial"))
    seeds = (list(finished.episode_seeds), list(reference.episode_seeds))
    killed_files, reference_files = _tree_bytes(config.out), _tree_bytes(reference.path)
    differing = sorted(key for key in reference_files if killed_files.get(key) != reference_files[key])
    assert not differing, f"at kill {at_kill}; seeds resumed/reference {seeds}; differing {differing}"
    assert killed_files.keys() == reference_files.keys()


def test_second_writer_is_refused(tmp_path):
    config = _config(tmp_path, "locked.zarr", episodes=1)
    with StoreLock(config.out, purpose="a test holding the store"):
        with pytest.raises(StoreLockedError, match="is being written by pid .* \\(a test holding the store\\)"):
            collect(config)
    assert not config.out.exists()


def test_a_store_made_with_other_settings_is_refused(small_store, tmp_path):
    copy = tmp_path / "copy.zarr"
    shutil.copytree(small_store.path, copy)
    config = _config(tmp_path, "copy.zarr", settings=("train",))
    with pytest.raises(PlanMismatchError, match="settings: store \\['train', 'video_hard'\\] vs now \\['train'\\]"):
        collect(config)


def test_unknown_format_version_is_refused(small_store, tmp_path):
    copy = tmp_path / "future.zarr"
    shutil.copytree(small_store.path, copy)
    zarr.open_group(copy, mode="r+").attrs.update({"format_version": 99})
    with pytest.raises(StoreError, match="format_version 99; this samg .* reads version 3"):
        DemoStore(copy)


@pytest.mark.parametrize(("version", "why"), [(1, "former visual settings"), (2, "flipped and without shadows")])
def test_a_store_of_the_former_settings_names_the_rebuild_command(small_store, tmp_path, version, why):
    copy = tmp_path / "former.zarr"
    shutil.copytree(small_store.path, copy)
    zarr.open_group(copy, mode="r+").attrs.update({"format_version": version})
    with pytest.raises(StoreError, match=f"{why}.*rm -r {copy} && samg collect door --episodes"):
        DemoStore(copy)


def test_the_store_records_the_benchmark_it_was_rendered_with(small_store):
    benchmark = small_store.attrs["benchmark"]
    assert benchmark["name"] == "rl-vigen-adroit+dmcgb"
    assert benchmark["files"]["dmcgb/color_easy.pt"] == MANIFEST["dmcgb/color_easy.pt"].sha256
    assert all(name in MANIFEST for name in benchmark["files"])


def test_check_names_the_array_with_a_corrupt_chunk(small_store, tmp_path):
    copy = tmp_path / "corrupt.zarr"
    shutil.copytree(small_store.path, copy)
    chunk = copy / "images" / "train" / "rgb" / "c" / "3" / "0" / "0" / "0"
    data = bytearray(chunk.read_bytes())
    for offset in range(len(data) // 2, len(data) // 2 + 8):
        data[offset] ^= 0x5A
    chunk.write_bytes(bytes(data))
    with pytest.raises(StoreError, match="images/train/rgb: chunk 3 \\(steps 300-399\\) is corrupt"):
        check_store(DemoStore(copy))


@pytest.mark.skipif(not SHARED_EXPERTS.is_dir(), reason="the shared DAPG files are not here")
def test_only_successful_episodes_are_kept(tmp_path):
    # the pen expert fails seeds 1 and 3 (measured): episodes are seeds 0, 2, 4
    config = _config(
        tmp_path, "pen.zarr", task="pen", episodes=3, keep_failures=False, settings=("train",),
        expert_path=SHARED_EXPERTS / "pen-v0.pickle",
    )  # fmt: skip
    store = collect(config)
    assert list(store.episode_seeds) == [0, 2, 4] and store.episode_success.all()
    assert store.attrs["seeds_tried"] == 5


def test_a_commit_is_one_write_of_the_root_metadata(small_store, tmp_path, monkeypatch):
    """A kill between per-key writes once left episodes_committed=1 with next_seed=0."""
    from zarr.storage import LocalStore

    copy = tmp_path / "commit.zarr"
    shutil.copytree(small_store.path, copy)
    store = DemoStore(copy, mode="r+")
    writes = []
    original = LocalStore.set

    async def counting_set(self, key, value):
        if key == "zarr.json":
            writes.append(key)
        return await original(self, key, value)

    monkeypatch.setattr(LocalStore, "set", counting_set)
    store.group.update_attributes({"episodes_committed": 1})  # as if only episode 0 were in
    writes.clear()
    store.commit_episode(1, seed=1, success=False, next_seed=2, seeds_tried=2)
    assert writes == ["zarr.json"]
    assert {k: store.attrs[k] for k in ("episodes_committed", "next_seed", "seeds_tried")} == {
        "episodes_committed": 2,
        "next_seed": 2,
        "seeds_tried": 2,
    }
