import json
from dataclasses import replace

import numpy as np
import pytest
import torch

from samg.segmenter.method import SamgOptions, SamgSegmenter
from samg.segmenter.persam import adapted_mask_weights, dice_loss, fit_mask_weights, focal_loss
from samg.segmenter.prompts import ObjectPoints, build_prompt
from samg.envs import get_task
from tests.segmenter.helpers import tiny_backends


def test_losses_are_small_for_right_and_large_for_wrong_logits():
    target = torch.zeros(8, 8)
    target[2:6, 2:6] = 1
    right, wrong = (target * 2 - 1) * 10, (1 - target * 2) * 10
    assert dice_loss(right, target) < 0.01 < 0.9 < dice_loss(wrong, target)
    assert focal_loss(right, target) < 1e-3 < focal_loss(wrong, target)


def test_fitting_moves_weight_onto_the_output_that_matches():
    target = torch.zeros(20, 20, dtype=torch.bool)
    target[5:15, 5:15] = True
    generator = torch.Generator().manual_seed(0)
    logits = torch.randn(3, 20, 20, generator=generator) * 3
    logits[2] = torch.where(target, 6.0, -6.0)  # the third output is the right mask
    weights = fit_mask_weights(logits, target)
    assert weights[2] > 1 / 3 + 0.2 and weights[2] > max(weights[0], weights[1])
    assert sum(weights) == pytest.approx(1.0)


def test_adapted_weights_are_cached_per_backend(tmp_path):
    sam, dino = tiny_backends("efficientvit-l1")
    prompt = build_prompt(get_task("door"))
    weights = adapted_mask_weights(SamgSegmenter(prompt, sam, dino), tmp_path, steps=50)
    cached = list(tmp_path.glob("persam_efficientvit-l1+dinov2-vitb14_*.json"))
    assert len(cached) == 1 and sum(weights) == pytest.approx(1.0)
    assert adapted_mask_weights(SamgSegmenter(prompt, sam, dino), tmp_path, steps=50) == weights
    with torch.no_grad():
        next(sam.model.parameters()).add_(1.0)  # another backend: another cache entry
    adapted_mask_weights(SamgSegmenter(prompt, sam, dino), tmp_path, steps=50)
    assert len(list(tmp_path.glob("persam_*.json"))) == 2
    assert not np.allclose(weights, (1 / 3, 1 / 3, 1 / 3))


def test_adapted_weights_depend_on_the_prompt_points_and_options(tmp_path):
    sam, dino = tiny_backends("efficientvit-l1")
    prompt = build_prompt(get_task("door"))
    adapted_mask_weights(SamgSegmenter(prompt, sam, dino), tmp_path, steps=20)
    no_extra = SamgSegmenter(prompt, sam, dino, options=SamgOptions(extra_points=False))
    adapted_mask_weights(no_extra, tmp_path, steps=20)
    first = prompt.objects[0]
    moved = ObjectPoints(first.object_id, first.name, first.points[:-1])  # one point removed by hand
    edited = replace(prompt, objects=(moved, *prompt.objects[1:]))
    assert edited.checksum() != prompt.checksum()
    adapted_mask_weights(SamgSegmenter(edited, sam, dino), tmp_path, steps=20)
    assert len(list(tmp_path.glob("persam_*.json"))) == 3


def test_adapted_weights_are_cached_per_compute_dtype(tmp_path):
    sam, dino = tiny_backends("efficientvit-l1")
    prompt = build_prompt(get_task("door"))
    adapted_mask_weights(SamgSegmenter(prompt, sam, dino), tmp_path, steps=20)
    sam.to("cpu", torch.bfloat16)  # same weights, encoders under bf16 autocast: other features
    dino.to("cpu", torch.bfloat16)
    adapted_mask_weights(SamgSegmenter(prompt, sam, dino), tmp_path, steps=20)
    cached = sorted(json.loads(p.read_text())["dtypes"][0] for p in tmp_path.glob("persam_*.json"))
    assert cached == ["torch.bfloat16", "torch.float32"]
