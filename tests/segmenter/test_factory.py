import numpy as np
import pytest
import torch

from samg.errors import UnknownNameError
from samg.segmenter.factory import SegmenterConfig, make_segmenter
from samg.segmenter.method import SamgOptions
from samg.segmenter.simple import NoneSegmenter, OracleSegmenter
from samg.segmenter.weights import WeightsError
from tests.segmenter.helpers import tiny_backends


def test_registry_builds_the_simple_kinds_and_names_the_valid_ones():
    assert isinstance(make_segmenter("door", SegmenterConfig(kind="oracle")), OracleSegmenter)
    assert isinstance(make_segmenter("door", SegmenterConfig(kind="none")), NoneSegmenter)
    with pytest.raises(UnknownNameError, match="valid segmenters: samg, oracle, none"):
        make_segmenter("door", SegmenterConfig(kind="grabcut"))


def test_samg_without_weights_names_the_download(tmp_path, monkeypatch):
    monkeypatch.setenv("SAMG_HOME", str(tmp_path))
    with pytest.raises(WeightsError, match="samg weights download efficientvit-l1"):
        make_segmenter("door", SegmenterConfig())


def test_samg_from_weight_files_with_adaptation_and_bf16(tmp_path, monkeypatch):
    sam, dino = tiny_backends("efficientvit-l1")
    torch.save(sam.model.state_dict(), tmp_path / "sam.pt")
    torch.save(dino.model.state_dict(), tmp_path / "dino.pt")
    import samg.segmenter.weights as weights

    config = SegmenterConfig(
        sam_weights=tmp_path / "sam.pt", dino_weights=tmp_path / "dino.pt", dtype="bf16",
        options=SamgOptions(refine=False), prompts_root=tmp_path / "prompts",
    )  # fmt: skip
    import shutil

    shutil.copytree("configs/prompts/door", tmp_path / "prompts" / "door")
    original = weights.build_backend  # the tiny architectures stand in for the full ones
    monkeypatch.setattr(weights, "build_backend", lambda name, tiny=False: original(name, tiny=True))
    segmenter = make_segmenter("door", config)
    assert segmenter.sam.dtype == torch.bfloat16 and segmenter.dino.dtype == torch.bfloat16
    assert segmenter.describe()["mask_weights"] != pytest.approx([1 / 3] * 3)
    frames = np.random.default_rng(0).integers(0, 255, (2, 84, 84, 3), dtype=np.uint8)
    assert segmenter.segment(frames).masks.shape == (2, 84, 84)


def test_switches_are_described_and_rebuilt():
    config = SegmenterConfig(sam="efficientvit-l0", options=SamgOptions(target="per-object", round3_negative="in-box"))
    described = config.describe()
    assert described["target"] == "per-object" and described["round3_negative"] == "in-box"
    rebuilt = SegmenterConfig.from_description(described, device="cuda")
    assert rebuilt.options == config.options and rebuilt.sam == "efficientvit-l0" and rebuilt.device == "cuda"
    assert SegmenterConfig().describe()["target"] == "union"  # the official code's behaviour by default
    assert SegmenterConfig().describe()["round3_negative"] == "global"


def test_descriptions_from_before_the_switches_rebuild_what_samg_did_then():
    described = SegmenterConfig().describe()
    del described["target"], described["round3_negative"]
    options = SegmenterConfig.from_description(described).options
    assert (options.target, options.round3_negative) == ("per-object", "in-box")


def test_unknown_switch_values_name_the_valid_ones():
    with pytest.raises(UnknownNameError, match="valid targets: union, per-object"):
        SamgOptions(target="each")
    with pytest.raises(UnknownNameError, match="global, in-box"):
        SamgOptions(round3_negative="box")
