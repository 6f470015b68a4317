"""The paper's own Adroit prompts: loaded from the pinned files, their type-1 regions by
the official thresholding rule, checked against the package's own per-image transform."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image

from samg.benchmark.assets import benchmark_assets
from samg.benchmark.manifest import SAMG_CONFIG, SAMG_REFERENCE_IMAGES
from samg.segmenter.factory import SegmenterConfig, task_prompt
from samg.segmenter.method import sam_transform
from samg.segmenter.official_prompt import load_official_prompt, official_points, thresholded_regions
from samg.segmenter.prompts import PromptError
from samg.segmenter.weights import random_backend

TASKS = ("door", "hammer", "pen")


@pytest.mark.parametrize("task", TASKS)
def test_the_official_prompt_loads_from_the_pinned_files(task):
    prompt = load_official_prompt(task)
    files = SAMG_REFERENCE_IMAGES[task]
    image = np.asarray(Image.open(benchmark_assets().path(files["image"])).convert("RGB"))
    assert prompt.source == "official" and np.array_equal(prompt.image, image)
    assert prompt.image.shape[:2] == ((160, 160) if task == "pen" else (84, 84))
    assert len(prompt.masked_parts) == 2 and prompt.masked_target.shape == prompt.image.shape
    points = [p for obj in prompt.objects for p in obj.points]
    assert sorted(points) == sorted(official_points(benchmark_assets().path(SAMG_CONFIG).read_text())[
        files["image"].rsplit("/", 1)[1].removesuffix("_0.png")])  # fmt: skip
    assert len(points) == {"door": 6, "hammer": 7, "pen": 7}[task]
    # PerSAM-F's target is the whole target's red channel > 0, as the official code reads it
    assert np.array_equal(prompt.adaptation_target(), prompt.masked_target[..., 0] > 0)


def test_door_points_are_the_configs_active_list():
    prompt = load_official_prompt("door")
    door, hand = prompt.objects  # part 1 is the door, part 2 the hand (their masked JPEGs)
    assert door.points == ((38, 14), (42, 31), (28, 34)) and hand.points == ((36, 59), (38, 61), (37, 75))


def _official_rule(backend, masked: np.ndarray, channel_sum: bool) -> torch.Tensor:
    """Independently: the package's own per-image transform (what `Per_set_image` applies
    to the masked image), bilinear to 64 x 64, thresholded at 0."""
    data = backend.model.transform(masked).unsqueeze(0)
    grid = F.interpolate(data, size=(64, 64), mode="bilinear", align_corners=False)[0]
    return grid.sum(0) > 0 if channel_sum else grid[0] > 0


@pytest.mark.parametrize("task", TASKS)
def test_regions_follow_the_official_thresholding_rule(task):
    backend = random_backend("efficientvit-l1", "cpu", torch.float32, tiny=True)
    prompt = load_official_prompt(task)
    whole, parts = thresholded_regions(prompt, sam_transform(backend))
    expected_whole = _official_rule(backend, prompt.masked_target, channel_sum=False)
    assert torch.equal(whole, expected_whole)
    for region, masked in zip(parts, prompt.masked_parts):
        assert torch.equal(region, _official_rule(backend, masked, channel_sum=True))
    assert 0 < whole.sum() and all(0 < region.sum() for region in parts)


def test_auto_takes_the_papers_prompt_where_it_has_one(tmp_path):
    assert task_prompt("door", SegmenterConfig()).source == "official"
    simulator = task_prompt("door", SegmenterConfig(prompt="simulator"))
    assert simulator.source == "simulator" and simulator.masked_target is None
    with pytest.raises(PromptError, match="no prompt of its own for 'relocate': use --prompt simulator"):
        task_prompt("relocate", SegmenterConfig(prompt="official"))


def test_old_descriptions_read_as_simulator_prompts_with_exact_regions():
    described = SegmenterConfig().describe()
    assert (described["prompt"], described["regions"]) == ("auto", "official")
    old = {k: v for k, v in described.items() if k not in ("prompt", "regions")}
    rebuilt = SegmenterConfig.from_description(old)
    assert (rebuilt.prompt, rebuilt.options.regions) == ("simulator", "exact")
