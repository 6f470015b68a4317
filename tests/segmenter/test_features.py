"""Prompt selection with an encoder whose features are known (one direction per colour)."""

import numpy as np
import torch

from samg.segmenter.features import (
    argmin_in_boxes,
    mask_boxes,
    mask_on_grid,
    type1_feature,
    type2_feature,
)
from samg.segmenter.method import FramePrompts, SamgOptions, reference_point_features
from samg.segmenter.prompts import ObjectPoints, Prompt
from tests.segmenter.helpers import COLOURS, ColourEncoder, scene

SIZE = 84


def _two_object_prompt() -> Prompt:
    image = scene(SIZE, {"red": (10, 10, 20), "green": (50, 40, 24)})
    mask = np.zeros((SIZE, SIZE), np.uint8)
    mask[10:30, 10:30] = 1
    mask[40:64, 50:74] = 2
    objects = (
        ObjectPoints(1, "red", ((15, 15), (25, 20), (20, 26))),
        ObjectPoints(2, "green", ((55, 45), (68, 50), (60, 60))),
    )
    return Prompt("synthetic", 0, 0, image, mask, objects)


def _inside(point, square) -> bool:
    x, y, side = square
    return x <= point[0] < x + side and y <= point[1] < y + side


def test_prompts_land_on_both_objects_and_the_negative_outside():
    prompt = _two_object_prompt()
    points = reference_point_features(prompt, ColourEncoder(), None, SamgOptions(use_dino=False))
    assert points.sam.shape == (2 + 6, len(COLOURS) + 1) and points.n_objects == 2
    squares = {"red": (40, 5, 18), "green": (8, 50, 22), "blue": (60, 60, 15)}  # objects moved, a distractor
    frame = scene(SIZE, squares)
    prompts = FramePrompts.from_features(points, ColourEncoder().encode(frame[None]), None, (SIZE, SIZE))
    positives = prompts.positives[0].tolist()
    assert _inside(positives[0], squares["red"]) and _inside(positives[1], squares["green"])
    assert all(_inside(p, squares["red"]) for p in positives[2:5])
    assert all(_inside(p, squares["green"]) for p in positives[5:8])
    negative = prompts.negative[0].tolist()
    assert not _inside(negative, squares["red"]) and not _inside(negative, squares["green"])


def test_negatives_come_from_type1_maps_only():
    prompt = _two_object_prompt()
    frame = scene(SIZE, {"red": (40, 5, 18), "green": (8, 50, 22), "blue": (60, 60, 15)})
    features = ColourEncoder().encode(frame[None])
    with_extra = reference_point_features(prompt, ColourEncoder(), None, SamgOptions(use_dino=False))
    without = reference_point_features(prompt, ColourEncoder(), None, SamgOptions(use_dino=False, extra_points=False))
    a = FramePrompts.from_features(with_extra, features, None, (SIZE, SIZE))
    b = FramePrompts.from_features(without, features, None, (SIZE, SIZE))
    assert torch.equal(a.negative, b.negative) and torch.allclose(a.type1_union, b.type1_union)
    assert _inside(a.negative[0].tolist(), (60, 60, 15))  # the distractor: least like either object
    assert without.sam.shape[0] == 2


def test_type1_feature_is_normalised_mean_plus_max():
    features = torch.zeros(2, 4, 4)
    features[0, :2, :2] = torch.tensor([[1.0, 3.0], [2.0, 2.0]])
    features[1, :2, :2] = 1.0
    region = torch.zeros(4, 4, dtype=torch.bool)
    region[:2, :2] = True
    expected = torch.tensor([(2.0 + 3.0) / 2, 1.0])
    assert torch.allclose(type1_feature(features, region), expected / expected.norm())


def test_type2_feature_interpolates_between_cells():
    grid = torch.arange(64, dtype=torch.float32).repeat(64, 1)  # value = column index
    features = torch.stack([grid, torch.ones(64, 64)])
    value = type2_feature(features, (21.0, 0.0), (84, 84))  # 21 / 84 * 64 = 16.0
    assert torch.allclose(value, torch.nn.functional.normalize(torch.tensor([16.0, 1.0]), dim=0))
    edge = type2_feature(features, (83.9, 83.9), (84, 84))  # clamped to the last cell
    assert torch.isfinite(edge).all()


def test_boxes_enclose_masks_and_negatives_stay_inside_boxes():
    masks = torch.zeros(3, 20, 30, dtype=torch.bool)
    masks[0, 2:5, 7:12] = True
    masks[1, 10, 3] = True
    boxes = mask_boxes(masks)
    assert boxes.tolist() == [[7, 2, 11, 4], [3, 10, 3, 10], [0, 0, 29, 19]]
    score = torch.rand(3, 20, 30, generator=torch.Generator().manual_seed(0))
    for (x, y), (x0, y0, x1, y1) in zip(argmin_in_boxes(score, boxes).tolist(), boxes.tolist()):
        assert x0 <= x <= x1 and y0 <= y <= y1
    assert mask_on_grid(np.pad(np.ones((42, 42), bool), ((0, 42), (0, 42)))).sum() == 32 * 32
