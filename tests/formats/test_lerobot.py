import numpy as np
import pytest
from typer.testing import CliRunner

from samg.cli import app
from samg.formats.importer import ImportConfig, import_dataset
from tests.formats.datasets import CAMERA_KEY, LENGTHS, frames_of, low_dim, psnr, write_lerobot

MIN_PSNR = 40.0  # libx264 crf 0, yuv444p: lossless up to the RGB <-> YUV rounding


@pytest.fixture
def lerobot_dir(tmp_path):
    return write_lerobot(tmp_path / "push_cube")


def test_lerobot_import(lerobot_dir, tmp_path):
    store = import_dataset(ImportConfig("lerobot", lerobot_dir, out=tmp_path / "s.zarr"))
    assert store.complete and list(store.episode_lengths) == list(LENGTHS)
    source = store.plan.source
    assert (source["version"], source["fps"], source["task_text"], source["camera"]) == ("v3.0", 10.0, "push the cube", "front")
    assert len(source["metadata_sha256"]) == 64 and store.plan.task == "push_cube"
    for index, length in enumerate(LENGTHS):
        episode = store.episode(index, ("train",))
        np.testing.assert_array_equal(episode["action"], low_dim(index, length, 3, 0.0))
        np.testing.assert_array_equal(episode["proprio"], low_dim(index, length, 4, 100.0))
        assert psnr(episode["rgb/train"], frames_of(index, length)) > MIN_PSNR


def _cli_import(source, out):
    return CliRunner().invoke(app, ["import", "lerobot", str(source), "--out", str(out)])


def test_missing_video_is_one_line(lerobot_dir, tmp_path):
    (lerobot_dir / f"videos/{CAMERA_KEY}/chunk-000/file-000.mp4").unlink()
    result = _cli_import(lerobot_dir, tmp_path / "s.zarr")
    assert result.exit_code == 1 and "file-000.mp4 is missing" in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_truncated_parquet_is_one_line(lerobot_dir, tmp_path):
    data = lerobot_dir / "data/chunk-000/file-000.parquet"
    data.write_bytes(data.read_bytes()[: data.stat().st_size // 2])
    result = _cli_import(lerobot_dir, tmp_path / "s.zarr")
    assert result.exit_code == 1 and "is not a readable parquet file" in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_mismatched_frame_counts_are_one_line(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    source = write_lerobot(tmp_path / "d")
    episodes = source / "meta/episodes/chunk-000/file-000.parquet"
    table = pq.read_table(episodes)
    later = [t + 0.3 for t in table.column(f"videos/{CAMERA_KEY}/to_timestamp").to_pylist()]
    table = table.set_column(table.column_names.index(f"videos/{CAMERA_KEY}/to_timestamp"), f"videos/{CAMERA_KEY}/to_timestamp", pa.array(later))
    pq.write_table(table, episodes)
    result = _cli_import(source, tmp_path / "s.zarr")
    assert result.exit_code == 1 and "has more frames of front for its 5 steps" in result.output
    assert len(result.output.strip().splitlines()) == 1
