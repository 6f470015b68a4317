"""Prompt selection with an encoder whose features are known (one direction per colour)."""

from types import SimpleNamespace

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from segment_anything.modeling import Sam
from segment_anything.utils.transforms import ResizeLongestSide

from samg.segmenter.features import (
    mask_boxes,
    mask_on_grid,
    negative_points,
    type1_feature,
    type2_feature,
    upsample_maps,
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


@pytest.mark.parametrize("target", ["union", "per-object"])
def test_prompts_land_on_both_objects_and_the_negative_outside(target):
    prompt = _two_object_prompt()
    options = SamgOptions(use_dino=False, target=target, regions="exact")
    points = reference_point_features(prompt, ColourEncoder(), None, options)
    # union: the whole target, then each object as a part; per-object: each object
    n_type1 = 3 if target == "union" else 2
    assert points.sam.shape == (n_type1 + 6, len(COLOURS) + 1) and points.n_type1 == n_type1
    assert points.n_negative == (1 if target == "union" else 2)
    squares = {"red": (40, 5, 18), "green": (8, 50, 22), "blue": (60, 60, 15)}  # objects moved, a distractor
    frame = scene(SIZE, squares)
    prompts = FramePrompts.from_features(points, ColourEncoder().encode(frame[None]), None, (SIZE, SIZE))
    positives = prompts.positives[0].tolist()
    if target == "union":
        assert _inside(positives[0], squares["red"]) or _inside(positives[0], squares["green"])
        positives = positives[1:]
    assert _inside(positives[0], squares["red"]) and _inside(positives[1], squares["green"])
    assert all(_inside(p, squares["red"]) for p in positives[2:5])
    assert all(_inside(p, squares["green"]) for p in positives[5:8])
    negative = prompts.negative[0].tolist()
    assert not _inside(negative, squares["red"]) and not _inside(negative, squares["green"])
    assert _inside(negative, squares["blue"])  # the distractor: least like the target


@pytest.mark.parametrize("target", ["union", "per-object"])
def test_negatives_come_from_type1_maps_only(target):
    prompt = _two_object_prompt()
    frame = scene(SIZE, {"red": (40, 5, 18), "green": (8, 50, 22), "blue": (60, 60, 15)})
    features = ColourEncoder().encode(frame[None])
    with_extra = reference_point_features(prompt, ColourEncoder(), None, SamgOptions(use_dino=False, target=target, regions="exact"))
    without = reference_point_features(
        prompt, ColourEncoder(), None, SamgOptions(use_dino=False, extra_points=False, target=target, regions="exact")
    )
    a = FramePrompts.from_features(with_extra, features, None, (SIZE, SIZE))
    b = FramePrompts.from_features(without, features, None, (SIZE, SIZE))
    assert torch.allclose(a.negative_map, b.negative_map)
    for negative in (a.negative[0].tolist(), b.negative[0].tolist()):  # the map is flat there: ties
        assert _inside(negative, (60, 60, 15))
    assert without.sam.shape[0] == without.n_type1


def test_union_target_takes_negatives_from_the_whole_target_map():
    prompt = _two_object_prompt()
    frame = scene(SIZE, {"red": (40, 5, 18), "green": (8, 50, 22)})
    features = ColourEncoder().encode(frame[None])
    union = reference_point_features(prompt, ColourEncoder(), None, SamgOptions(use_dino=False, regions="exact"))
    per_object = reference_point_features(prompt, ColourEncoder(), None, SamgOptions(use_dino=False, target="per-object", regions="exact"))
    a = FramePrompts.from_features(union, features, None, (SIZE, SIZE))
    b = FramePrompts.from_features(per_object, features, None, (SIZE, SIZE))
    assert torch.allclose(a.negative_map, a.maps[:, 0])  # the whole target's map
    assert torch.allclose(b.negative_map, b.maps[:, :2].amax(dim=1))  # the objects' maps, maximum
    assert not torch.allclose(a.negative_map, b.negative_map)


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


def test_boxes_enclose_masks_and_an_empty_mask_gets_the_official_fallback():
    masks = torch.zeros(3, 20, 30, dtype=torch.bool)
    masks[0, 2:5, 7:12] = True
    masks[1, 10, 3] = True
    assert mask_boxes(masks).tolist() == [[7, 2, 11, 4], [3, 10, 3, 10], [1, 1, 30, 20]]
    assert mask_boxes(torch.zeros(1, 84, 84, dtype=torch.bool)).tolist() == [[1, 1, 84, 84]]  # as the official adroit code
    assert mask_on_grid(np.pad(np.ones((42, 42), bool), ((0, 42), (0, 42)))).sum() == 32 * 32


def test_negatives_leave_out_the_last_row_and_column_of_the_box():
    score = torch.zeros(4, 10, 12)
    score[0, 9, 5] = -3.0  # last row of the frame: outside the default search
    score[0, 4, 4] = -1.0
    score[1, 6, 8] = -3.0  # last row (y1 = 6) of the box (2, 3, 9, 6): left out
    score[1, 5, 8] = -2.0
    score[2, 4, 9] = -3.0  # last column (x1 = 9) of that box: left out
    score[2, 3, 2] = -2.0
    score[3, 3, 4] = -3.0  # a box one row high leaves nothing to search
    assert negative_points(score[:1]).tolist() == [[4, 4]]
    boxes = torch.tensor([[0, 0, 11, 9], [2, 3, 9, 6], [2, 3, 9, 6], [1, 3, 8, 3]])
    assert negative_points(score, boxes).tolist() == [[4, 4], [8, 5], [2, 3], [0, 0]]


@pytest.mark.parametrize("size", [(84, 84), (100, 60), (48, 64)])
def test_similarity_maps_upsample_as_the_official_chain(size):
    """x4 bilinear, then segment_anything's own `Sam.postprocess_masks`."""
    maps = torch.randn(2, 3, 64, 64, generator=torch.Generator().manual_seed(0))
    input_size = ResizeLongestSide.get_preprocess_shape(*size, 1024)
    sam = SimpleNamespace(image_encoder=SimpleNamespace(img_size=1024))


    def official(values: torch.Tensor) -> torch.Tensor:
        up = F.interpolate(values, scale_factor=4, mode="bilinear", align_corners=False)
        return Sam.postprocess_masks(sam, up, input_size, size)

    expected = official(maps.double())  # the chain without float32 rounding
    ours = upsample_maps(maps, size)
    assert ours.shape == (2, 3, *size) and ours.dtype == torch.float32
    torch.testing.assert_close(ours.double(), expected, atol=1e-6, rtol=0)
    torch.testing.assert_close(ours, official(maps), atol=3e-5, rtol=0)  # the float32 chain rounds more
    one_step = F.interpolate(maps, size=size, mode="bilinear", align_corners=False)  # what samg did before
    assert (one_step.double() - expected).abs().max() > 0.05
