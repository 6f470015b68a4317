import numpy as np
import pytest
from typer.testing import CliRunner

from samg.cli import app
from samg.formats.importer import ImportConfig, import_dataset
from samg.pipeline.store import DemoStore
from tests.formats.datasets import LENGTHS, frames_of, low_dim, write_replay_zarr, write_robomimic


def _check_store(store: DemoStore, fmt: str, exact: bool = True) -> None:
    assert store.complete and store.n_episodes == len(LENGTHS)
    assert list(store.episode_lengths) == list(LENGTHS)
    assert store.plan.source["format"] == fmt and store.plan.settings == ("train",)
    for index, length in enumerate(LENGTHS):
        episode = store.episode(index, ("train",))
        assert "mask" not in episode and "sim_state" not in episode
        np.testing.assert_array_equal(episode["action"], low_dim(index, length, 3, 0.0))
        if exact:
            np.testing.assert_array_equal(episode["rgb/train"], frames_of(index, length))


def test_robomimic_import(tmp_path):
    source = write_robomimic(tmp_path / "lift.hdf5")
    store = import_dataset(ImportConfig("robomimic", source, out=tmp_path / "lift.zarr"))
    _check_store(store, "robomimic")
    np.testing.assert_array_equal(store.episode(1)["state"], low_dim(1, LENGTHS[1], 4, 100.0))
    assert store.plan.proprio_dim == 5 and store.plan.source["proprio_keys"] == ["robot0_eef_pos", "robot0_gripper_qpos"]
    assert store.plan.source["task_text"] == "Lift" and store.plan.task == "lift"


def test_zarr_import_and_info_check(tmp_path):
    source = write_replay_zarr(tmp_path / "pusht.zarr")
    out = tmp_path / "store.zarr"
    _check_store(import_dataset(ImportConfig("zarr", source, out=out)), "zarr")
    result = CliRunner().invoke(app, ["info", str(out), "--check"])
    assert result.exit_code == 0, result.output
    assert "check passed" in result.output and "no simulator" in result.output


def test_resized_import_records_the_original_size(tmp_path):
    source = write_robomimic(tmp_path / "lift.hdf5")
    store = import_dataset(ImportConfig("robomimic", source, out=tmp_path / "s.zarr", image_size=24))
    assert store.read("images/train/rgb").shape == (sum(LENGTHS), 24, 24, 3)
    assert store.plan.source["original_size"] == [16, 16]


def test_a_killed_import_resumes_where_it_stopped(tmp_path):
    source = write_robomimic(tmp_path / "lift.hdf5", lengths=(150, 120))
    out = tmp_path / "s.zarr"

    def stop(progress):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        import_dataset(ImportConfig("robomimic", source, out=out), on_progress=stop)
    partial = DemoStore(out)
    assert partial.attrs["steps_written"] == 100 and partial.n_episodes == 0 and not partial.complete
    seen = []
    store = import_dataset(ImportConfig("robomimic", source, out=out), on_progress=lambda p: seen.append(p.frames_done))
    assert seen[0] == 200 and store.complete and store.n_episodes == 2
    np.testing.assert_array_equal(store.read("images/train/rgb", slice(95, 155))[55:], frames_of(1, 120)[:5])


def test_the_cli_imports_with_a_progress_bar(tmp_path):
    source = write_robomimic(tmp_path / "lift.hdf5")
    out = tmp_path / "s.zarr"
    result = CliRunner().invoke(app, ["import", "robomimic", str(source), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert f"{out}: 2 episodes, {sum(LENGTHS)} frames" in result.output


@pytest.mark.parametrize(
    ("make", "problem"),
    [
        (lambda p: p.write_bytes(b"not hdf5"), "not a readable HDF5 file"),
        (lambda p: write_robomimic(p, camera="robot0_eye_in_hand"), "no camera 'agentview'"),
    ],
)
def test_broken_robomimic_files_are_one_line(tmp_path, make, problem):
    source = tmp_path / "bad.hdf5"
    make(source)
    result = CliRunner().invoke(app, ["import", "robomimic", str(source), "--camera", "agentview", "--out", str(tmp_path / "o.zarr")])
    assert result.exit_code == 1 and problem in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_the_bc_data_loader_reads_an_imported_store(tmp_path):
    from samg.il.config import BCConfig
    from samg.il.data import DemoDataModule

    source = write_robomimic(tmp_path / "lift.hdf5", lengths=(5, 4, 6))
    store = import_dataset(ImportConfig("robomimic", source, out=tmp_path / "s.zarr"))
    data = DemoDataModule(BCConfig(store.path, tmp_path / "run", obs="raw", segmenter="none", val_fraction=0.34))
    data.setup()
    assert len(data.train_set) == 9 and len(data.val_set) == 6 and data.proprio_dim == 5
    batch = data.train_set.__getitems__([5])  # episode 1's first step: its own frame, three times
    np.testing.assert_array_equal(batch["frames"][0, 0:3], batch["frames"][0, 6:9])
    np.testing.assert_array_equal(batch["action"][0].numpy(), low_dim(1, 4, 3, 0.0)[0])
