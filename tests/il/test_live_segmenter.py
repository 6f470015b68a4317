"""Evaluation rebuilds the segmenter from the description stored with the policy's masks."""

import pytest

from samg.il.config import BCConfig, RunError
from samg.il.live_segmenter import live_segmenter_config
from samg.pipeline.masks import MaskSet, MasksError
from samg.pipeline.store import DemoStore
from samg.segmenter.factory import SegmenterConfig
from samg.segmenter.method import SamgOptions
from tests.pipeline.helpers import synthetic_store

ABLATED = SegmenterConfig(  # what `samg segment --sam efficientvit-l0 --no-dino --no-adapt --target per-object` stores
    sam="efficientvit-l0", options=SamgOptions(use_dino=False, target="per-object"), adapt=False
)


@pytest.fixture
def store(tmp_path) -> DemoStore:
    store = synthetic_store(tmp_path / "door.zarr", episodes=1)
    for name in ("samg", "ablated"):  # the default name of `samg segment`, and another one
        MaskSet(store, name).create(("train",), {"segmenter": ABLATED.describe()})
    return store


@pytest.mark.parametrize("name", ["samg", "ablated"])
def test_the_policys_mask_set_is_rebuilt_whatever_its_name(store, tmp_path, name):
    train = BCConfig(data=store.path, out=tmp_path / "run", segmenter=name)
    config = live_segmenter_config(train, None, tmp_path / "prompts")
    assert config.describe() == ABLATED.describe()
    assert config.prompts_root == tmp_path / "prompts"
    assert live_segmenter_config(train, "samg", tmp_path / "prompts").describe() == ABLATED.describe()


def test_switches_override_the_stored_ones(store, tmp_path):
    train = BCConfig(data=store.path, out=tmp_path / "run", segmenter="samg")
    config = live_segmenter_config(train, None, tmp_path, {"round3_negative": "in-box"})
    assert config.options == SamgOptions(use_dino=False, target="per-object", round3_negative="in-box")
    oracle = BCConfig(data=store.path, out=tmp_path / "run")
    with pytest.raises(RunError, match="--target applies to SAM-G masks, not to oracle"):
        live_segmenter_config(oracle, None, tmp_path, {"target": "union"})


def test_simple_kinds_and_a_missing_mask_set(store, tmp_path):
    raw = BCConfig(data=store.path, out=tmp_path / "run", obs="raw")
    assert live_segmenter_config(raw, None, tmp_path).describe() == {"kind": "none"}
    train = BCConfig(data=store.path, out=tmp_path / "run", segmenter="other")
    with pytest.raises(MasksError, match="has no masks named 'other'"):
        live_segmenter_config(train, None, tmp_path)
