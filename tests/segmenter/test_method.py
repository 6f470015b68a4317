"""The batched SAM-G against the per-frame reference written on the predictor API."""

import itertools

import numpy as np
import pytest
import torch

from samg.envs import FrameRenderer, make_env
from samg.segmenter.method import SamgOptions, SamgSegmenter
from samg.segmenter.prompts import load_prompt
from samg.segmenter.reference import reference_segment
from tests.segmenter.helpers import tiny_backends

SWITCHES = [  # every combination of the two switches, with the rest at their defaults
    SamgOptions(target=target, round3_negative=negative)
    for target, negative in itertools.product(("union", "per-object"), ("global", "in-box"))
]
ABLATIONS = [
    SamgOptions(use_dino=False),
    SamgOptions(extra_points=False),
    SamgOptions(refine=False),
    SamgOptions(regions="exact"),
]
# How far the two paths' final mask logits may differ: float32 rounding only. Measured over
# these 16 cases on door's 3 frames (CPU): at most 5.3e-6 apart (largest |logit| 0.43). Most of
# it is the upsampling to the frame: SAM's `postprocess_masks` chain (bilinear to 1024, crop,
# bilinear to 84) in float32 is up to 4.9e-6 off its float64 value, the batched path's one
# matrix per axis (`decoder.postprocess`) 4.6e-8; the decoders agree within 5.4e-7. The tiny
# random models' logits are small, so each case has 1-8 pixels within 1e-5 of 0, where the
# masks may disagree: with regions=official and target=per-object one pixel of frame 0 has
# logit +1.9e-7 in float64 and batched, -3.1e-8 through the float32 chain (mask IoU 0.998).
LOGIT_TOLERANCE = 2e-5


def _label(options: SamgOptions) -> str:
    changed = {k: v for k, v in vars(options).items() if v != getattr(SamgOptions(), k)}
    return ",".join(f"{k}={v}" for k, v in changed.items()) or "defaults"


@pytest.fixture(scope="module")
def door_frames() -> np.ndarray:
    env = make_env("door")
    frames = []
    with FrameRenderer(env.task, env.model) as renderer:
        for seed, setting in ((1, "train"), (2, "color_hard"), (3, "video_hard")):
            frames.append(renderer.render(env.reset(seed).sim_state, setting, seed, 0))
    env.close()
    return np.stack(frames)


@pytest.mark.slow
@pytest.mark.parametrize("options", SWITCHES + ABLATIONS, ids=_label)
@pytest.mark.parametrize("sam_name", ["efficientvit-l1", "sam-vit-b"])
def test_batched_masks_equal_the_per_frame_reference(sam_name, options, door_frames):
    sam, dino = tiny_backends(sam_name)
    segmenter = SamgSegmenter(load_prompt("door"), sam, dino, options=options, chunk=3)  # all frames in one pass
    upsampled = []  # the batched path's logits at frame size, per call: the last is the answer's
    to_image = segmenter.sam.decoder.to_image
    segmenter.sam.decoder.to_image = lambda low, size: upsampled.append(to_image(low, size)) or upsampled[-1]
    batched = segmenter.segment(door_frames)
    reference = reference_segment(segmenter, door_frames)
    assert batched.masks.shape == (3, 84, 84) and batched.masks.dtype == bool
    assert 0.02 < batched.masks.mean() < 0.98  # neither empty nor full: the comparison means something
    logits, expected = upsampled[-1][:, 0].numpy(), np.stack([d["logits"] for d in reference.diagnostics])
    assert np.array_equal(logits > 0, batched.masks)
    assert np.abs(logits - expected).max() <= LOGIT_TOLERANCE
    # the masks agree but at pixels whose logit is 0 up to that rounding
    assert (np.abs(expected[batched.masks != reference.masks]) <= LOGIT_TOLERANCE).all()


def test_switches_change_the_prompts(door_frames):
    sam, dino = tiny_backends("efficientvit-l1")
    prompt = load_prompt("door")
    runs = {
        (options.target, options.round3_negative): SamgSegmenter(prompt, sam, dino, options=options).segment(
            door_frames
        )
        for options in SWITCHES
    }
    union, per_object = runs["union", "global"].diagnostics[0], runs["per-object", "global"].diagnostics[0]
    # door has 2 objects: union adds the whole target's type-1 point to theirs
    assert len(union["points"]) == len(per_object["points"]) + 1
    for target in ("union", "per-object"):
        first = runs[target, "global"].diagnostics
        in_box = runs[target, "in-box"].diagnostics
        assert all(d["points"][-1] == d["points"][-3] for d in first)  # round 3 repeats round 1's negative
        assert any(d["points"][-1] != d["points"][-3] for d in in_box)
        for a, b in zip(first, in_box):
            assert a["points"][:-1] == b["points"][:-1]  # rounds 1 and 2 are the same


@pytest.mark.parametrize("round3_negative", ["global", "in-box"])
def test_empty_masks_get_the_official_fallback_box(round3_negative, door_frames):
    sam, dino = tiny_backends("efficientvit-l1")
    with torch.no_grad():  # every mask logit exactly 0: every mask empty
        for mlp in sam.model.mask_decoder.output_hypernetworks_mlps:
            mlp.layers[-1].weight.zero_()
            mlp.layers[-1].bias.zero_()
    options = SamgOptions(round3_negative=round3_negative)
    segmenter = SamgSegmenter(load_prompt("door"), sam, dino, options=options, chunk=3)
    batched = segmenter.segment(door_frames)
    reference = reference_segment(segmenter, door_frames)
    assert not batched.masks.any() and not reference.masks.any()
    for ours, theirs in zip(batched.diagnostics, reference.diagnostics):
        assert ours["box"] == [1, 1, 84, 84]
        assert ours["points"] == theirs["points"] and ours["labels"] == theirs["labels"]
        in_box = ours["points"][-2:] if round3_negative == "in-box" else ours["points"][-2:-1]
        assert all(1 <= x < 84 and 1 <= y < 84 for x, y in in_box)  # searched inside that box
        repeated = ours["points"][-3] if round3_negative == "global" else ours["points"][-2]  # same map, same box
        assert ours["points"][-1] == repeated


def test_describe_and_diagnostics(door_frames):
    sam, dino = tiny_backends("efficientvit-l1")
    segmenter = SamgSegmenter(load_prompt("door"), sam, dino, options=SamgOptions(refine=False))
    result = segmenter.segment(door_frames[:2])
    assert segmenter.describe() == {
        "kind": "samg",
        "sam": "efficientvit-l1",
        "dino": "dinov2-vitb14",
        "mask_weights": pytest.approx([1 / 3] * 3),
        "use_dino": True,
        "extra_points": True,
        "refine": False,
        "target": "union",
        "round3_negative": "global",
        "regions": "official",
    }
    first = result.diagnostics[0]
    # door: 2 objects -> 3 type-1 (the whole target, each object) + 6 extra points positive, 1 negative
    assert first["labels"] == [1] * 9 + [0] and len(first["points"]) == 10 and len(first["box"]) == 4
    assert first["encode_s"] > 0 and first["decode_s"] > 0


def test_compiled_encoders_see_one_batch_shape_and_give_the_same_masks(door_frames, monkeypatch):
    sam, dino = tiny_backends("efficientvit-l1")
    plain = SamgSegmenter(load_prompt("door"), sam, dino, chunk=2).segment(door_frames)
    shapes = []

    def compile(network, **options):  # torch.compile's stand-in: records what the network is given
        assert options == {"dynamic": False}
        return lambda batch: shapes.append(tuple(batch.shape)) or network(batch)

    monkeypatch.setattr(torch, "compile", compile)
    compiled = SamgSegmenter(load_prompt("door"), sam, dino, chunk=2, compile=True)
    result = compiled.segment(door_frames)  # 3 frames: one full pass, one padded with a copy of the last
    assert sorted(set(shapes)) == [(2, 3, 448, 448), (2, 3, 512, 512)] and len(shapes) == 4
    assert np.array_equal(result.masks, plain.masks) and len(result.diagnostics) == 3
    assert [d["points"] for d in result.diagnostics] == [d["points"] for d in plain.diagnostics]
