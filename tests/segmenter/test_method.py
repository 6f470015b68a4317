"""The batched SAM-G against the per-frame reference written on the predictor API."""

import numpy as np
import pytest

from samg.envs import FrameRenderer, make_env
from samg.segmenter.method import SamgOptions, SamgSegmenter
from samg.segmenter.prompts import load_prompt
from samg.segmenter.reference import reference_segment
from tests.segmenter.helpers import tiny_backends

ABLATIONS = [
    SamgOptions(),
    SamgOptions(use_dino=False),
    SamgOptions(extra_points=False),
    SamgOptions(refine=False),
]


@pytest.fixture(scope="module")
def door_frames() -> np.ndarray:
    env = make_env("door")
    frames = []
    with FrameRenderer(env.task, env.model) as renderer:
        for seed, setting in ((1, "train"), (2, "color_hard"), (3, "video_hard")):
            frames.append(renderer.render(env.reset(seed).sim_state, setting, seed, 0))
    env.close()
    return np.stack(frames)


def _iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    union = (a | b).sum(axis=(1, 2))
    return np.where(union > 0, (a & b).sum(axis=(1, 2)) / np.maximum(union, 1), 1.0)


@pytest.mark.slow
@pytest.mark.parametrize("sam_name", ["efficientvit-l1", "sam-vit-b"])
def test_batched_masks_equal_the_per_frame_reference(sam_name, door_frames):
    sam, dino = tiny_backends(sam_name)
    prompt = load_prompt("door")
    foreground = []
    for options in ABLATIONS:
        segmenter = SamgSegmenter(prompt, sam, dino, options=options, chunk=3)  # all frames in one pass
        batched = segmenter.segment(door_frames)
        reference = reference_segment(segmenter, door_frames)
        assert batched.masks.shape == (3, 84, 84) and batched.masks.dtype == bool
        assert (_iou(batched.masks, reference.masks) >= 0.999).all(), options
        foreground.append(batched.masks.mean())
    assert len(set(np.round(foreground, 6))) > 1  # the switches change the answer


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
    }
    first = result.diagnostics[0]
    # door: 2 objects -> 2 type-1 + 6 extra points positive, 1 negative
    assert first["labels"] == [1] * 8 + [0] and len(first["points"]) == 9 and len(first["box"]) == 4
    assert first["encode_s"] > 0 and first["decode_s"] > 0
