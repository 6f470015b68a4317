"""`--target` and `--round3-negative` on samg segment, samg rl train and samg eval."""

import shutil
from pathlib import Path

from typer.testing import CliRunner

from samg.cli import app
from samg.pipeline.masks import MaskSet
from samg.pipeline.store import DemoStore
from tests.pipeline.helpers import synthetic_store

runner = CliRunner()


def _segment(store, *args: str) -> dict:
    """`samg segment STORE ...` succeeds; the segmenter description stored with its masks."""
    result = runner.invoke(app, ["segment", *args])
    assert result.exit_code == 0, result.output
    name = args[args.index("--name") + 1] if "--name" in args else "samg"
    return MaskSet(DemoStore(store.path), name).attrs["segmenter"]


def test_segment_records_the_switches_with_the_masks(tmp_path):
    store = synthetic_store(tmp_path / "door.zarr", episodes=1)
    shutil.copytree("configs/prompts/door", tmp_path / "prompts" / "door")
    common = [str(store.path), "--tiny", "--random-weights", "--no-adapt", "--settings", "train",
              "--prompts", str(tmp_path / "prompts")]  # fmt: skip
    described = _segment(store, *common, "--target", "per-object", "--round3-negative", "in-box")
    assert (described["target"], described["round3_negative"]) == ("per-object", "in-box")
    described = _segment(store, *common, "--name", "official")
    assert (described["target"], described["round3_negative"]) == ("union", "global")
    refused = runner.invoke(app, ["segment", *common, "--target", "each"])
    assert refused.exit_code == 2 and "unknown target 'each'; valid targets: union, per-object" in refused.output


def test_rl_train_passes_the_switches_to_its_segmenter(tmp_path, monkeypatch):
    import samg.rl.train

    seen = {}

    def train_rl(config, **kwargs):
        seen["segmenter"] = config.segmenter
        return config.out

    monkeypatch.setattr(samg.rl.train, "train_rl", train_rl)
    args = ["rl", "train", "cartpole_swingup", "--segmenter", "samg", "--out", str(tmp_path / "run")]
    result = runner.invoke(app, [*args, "--target", "per-object", "--round3-negative", "in-box"])
    assert result.exit_code == 0, result.output
    described = seen["segmenter"].describe()
    assert (described["target"], described["round3_negative"]) == ("per-object", "in-box")
    assert runner.invoke(app, args).exit_code == 0
    assert (seen["segmenter"].options.target, seen["segmenter"].options.round3_negative) == ("union", "global")


def test_eval_passes_the_switches_as_overrides(tmp_path, monkeypatch):
    import samg.il.evaluate

    seen = []

    def evaluate(config, on_episode=None):
        seen.append(config)
        return {"policy_obs": "masked (samg)", "aggregate": {}}

    monkeypatch.setattr(samg.il.evaluate, "evaluate", evaluate)
    run = tmp_path / "run"
    assert runner.invoke(app, ["eval", str(run), "--settings", "train"]).exit_code == 0
    result = runner.invoke(app, ["eval", str(run), "--settings", "train", "--round3-negative", "in-box"])
    assert result.exit_code == 0, result.output
    assert (seen[0].target, seen[0].round3_negative) == (None, None)  # as stored with the masks
    assert (seen[1].target, seen[1].round3_negative) == (None, "in-box")
    assert isinstance(seen[1].run, Path)


def test_segment_records_the_prompt_and_region_rule_and_refuses_others_on_resume(tmp_path):
    store = synthetic_store(tmp_path / "door.zarr", episodes=1)
    common = [str(store.path), "--tiny", "--random-weights", "--no-adapt", "--settings", "train"]
    described = _segment(store, *common, "--prompt", "simulator", "--regions", "exact")
    assert (described["prompt"], described["regions"]) == ("simulator", "exact")
    again = runner.invoke(app, ["segment", *common])  # the defaults: the paper's prompt and rule
    assert again.exit_code != 0 and "--overwrite" in again.output
    described = _segment(store, *common, "--name", "paper")
    assert (described["prompt"], described["regions"]) == ("auto", "official")
    refused = runner.invoke(app, ["segment", *common, "--regions", "jpeg"])
    assert refused.exit_code == 2 and "unknown region rule 'jpeg'" in refused.output


def test_segment_records_dtype_and_compile_and_refuses_others_on_resume(tmp_path, monkeypatch):
    import torch

    compiled = []  # torch.compile stands in as the identity here: inductor is minutes on a CPU
    monkeypatch.setattr(torch, "compile", lambda network, **options: compiled.append(options) or network)
    store = synthetic_store(tmp_path / "door.zarr", episodes=1)
    common = [str(store.path), "--tiny", "--random-weights", "--no-adapt", "--settings", "train"]
    described = _segment(store, *common, "--compile", "--dtype", "bf16")
    assert (described["compile"], described["dtype"]) == (True, "bf16")
    assert compiled == [{"dynamic": False}] * 2  # SAM's encoder and DINOv2, static shapes
    for other in (["--dtype", "bf16"], ["--compile"]):  # each switch alone differs from what is stored
        again = runner.invoke(app, ["segment", *common, *other])
        assert again.exit_code != 0 and "--overwrite" in again.output, again.output
    described = _segment(store, *common, "--name", "plain")
    assert "compile" not in described and described["dtype"] == "fp32"
