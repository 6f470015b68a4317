"""Segmenting an imported store: no ground truth, so the quality says so instead of IoU."""

import numpy as np
from PIL import Image
from typer.testing import CliRunner

from samg.cli import app
from samg.formats.importer import ImportConfig, import_dataset
from samg.pipeline.masks import MaskSet
from samg.pipeline.segment import SegmentConfig, segment_store
from samg.segmenter.factory import SegmenterConfig
from tests.formats.datasets import write_robomimic


def _imported(tmp_path, lengths=(70, 60)):  # 130 steps: chunks of 100 straddle the episodes
    source = write_robomimic(tmp_path / "lift.hdf5", lengths=lengths)
    return import_dataset(ImportConfig("robomimic", source, out=tmp_path / "lift.zarr"))


def test_segment_none_on_an_imported_store(tmp_path):
    store = _imported(tmp_path)
    result = segment_store(SegmentConfig(store.path, SegmenterConfig(kind="none")))
    assert result.quality["train"]["all"] == {"ground_truth": False, "kept_fraction": 1.0, "empty_fraction": 0.0, "frames": 130}
    masks = MaskSet(store, "none")
    assert masks.read("train", masks.require_episode("train", 1)).shape == (60, 16, 16)
    report = CliRunner().invoke(app, ["report", str(store.path), "--name", "none", "--out", str(tmp_path / "report")])
    assert report.exit_code == 0 and "no ground truth" in report.output, report.output
    assert "there is no IoU" in (tmp_path / "report" / "report.md").read_text()
    assert (tmp_path / "report" / "examples.png").is_file()


def test_segment_random_weight_samg_through_the_cli(tmp_path):
    store = _imported(tmp_path, lengths=(5, 4))
    prompts = tmp_path / "prompts"
    mask = np.zeros((16, 16), np.uint8)
    mask[4:12, 4:12] = 1
    Image.fromarray(mask).save(tmp_path / "mask.png")
    runner = CliRunner()
    made = runner.invoke(app, ["prompt", "--store", str(store.path), "--episode", "1", "--step", "3", "--mask", str(tmp_path / "mask.png"), "--root", str(prompts)])
    assert made.exit_code == 0, made.output
    assert (prompts / "lift" / "prompt.json").is_file()
    args = ["segment", str(store.path), "--tiny", "--random-weights", "--no-adapt", "--prompt", "simulator",
            "--prompts", str(prompts), "--episodes", "1:2", "--workers", "1"]  # fmt: skip
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "no ground truth (an imported store), so no IoU" in result.output
    masks = MaskSet(store, "samg")
    assert masks.read("train", masks.require_episode("train", 1)).shape == (4, 16, 16)
