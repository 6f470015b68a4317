import zarr
from typer.testing import CliRunner

from samg.cli import app
from tests.pipeline.helpers import synthetic_store
from tests.pipeline.test_segment import tree_digest

runner = CliRunner()


def _segment(store, *extra):
    return runner.invoke(app, ["segment", str(store), *extra], env={"COLUMNS": "200"})


def test_oracle_and_none_then_report(tmp_path):
    store = synthetic_store(tmp_path / "door.zarr")
    result = _segment(store.path, "--segmenter", "oracle", "--workers", "2")
    assert result.exit_code == 0, result.output
    assert "6 blocks segmented, 0 already done" in result.output
    assert "│ video_hard │ door   │    1.000 │" in result.output
    again = _segment(store.path, "--segmenter", "oracle")
    assert again.exit_code == 0 and "0 blocks segmented, 6 already done" in again.output
    none = _segment(store.path, "--segmenter", "none", "--episodes", "1:3", "--scheduler", "processes", "--workers", "2")
    assert none.exit_code == 0, none.output
    assert "│ train      │ all    │    0.160 │" in none.output  # the squares cover 16% of the frame
    report = runner.invoke(app, ["report", str(store.path), "--name", "oracle", "--out", str(tmp_path / "r")])
    assert report.exit_code == 0, report.output
    text = (tmp_path / "r" / "report.md").read_text()
    assert "| video_hard | all | 1.000 | 1.000 | 1.000 | 0.000 | 60 |" in text
    assert (tmp_path / "r" / "examples.png").stat().st_size > 0 and (tmp_path / "r" / "iou.png").stat().st_size > 0


def _refused(store_path, args, message, code=1):
    before = tree_digest(store_path)
    result = _segment(store_path, *args)
    assert result.exit_code == code, result.output
    lines = result.output.strip().splitlines()
    assert message in lines[-1], result.output
    assert len([line for line in lines if line.startswith("error:")]) == 1
    assert tree_digest(store_path) == before


def test_bad_input_is_one_line_and_leaves_the_store_untouched(tmp_path, monkeypatch):
    store = synthetic_store(tmp_path / "door.zarr")
    assert _segment(store.path, "--segmenter", "oracle", "--name", "mine").exit_code == 0
    _refused(store.path, ["--segmenter", "none", "--name", "mine"], "were made with another segmenter")
    _refused(store.path, ["--segmenter", "oracle", "--settings", "color_easy"], "has no setting 'color_easy'")
    _refused(store.path, ["--segmenter", "oracle", "--episodes", "2:9"], "episodes 2:9 out of range")
    _refused(store.path, ["--segmenter", "grabcut"], "unknown segmenter 'grabcut'", code=2)
    _refused(store.path, ["--segmenter", "oracle", "--name", "gt"], "invalid mask name 'gt'")
    monkeypatch.setenv("SAMG_HOME", str(tmp_path / "home"))
    _refused(store.path, [], "run 'samg weights download efficientvit-l1'")
    other = zarr.open_group(tmp_path / "other.zarr", mode="w")
    other.update_attributes({"format": "someone.else"})
    _refused(tmp_path / "other.zarr", ["--segmenter", "oracle"], "is not a samg demo store")
    overwritten = _segment(store.path, "--segmenter", "none", "--name", "mine", "--overwrite")
    assert overwritten.exit_code == 0, overwritten.output
