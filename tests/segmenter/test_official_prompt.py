"""The paper's own Adroit prompts: loaded from the pinned files, their type-1 regions by
the official thresholding rule, checked against the package's own per-image transform."""

import json

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image

from samg.benchmark.assets import benchmark_assets
from samg.envs import FrameRenderer, make_env
from samg.benchmark.manifest import SAMG_CONFIG, SAMG_REFERENCE_IMAGES
from samg.paths import samg_home
from samg.segmenter.factory import SegmenterConfig, make_segmenter, task_prompt
from samg.segmenter.method import SamgOptions, SamgSegmenter, sam_transform
from samg.segmenter.official_prompt import load_official_prompt, official_points, thresholded_regions
from samg.segmenter.prompts import PromptError
from samg.segmenter.weights import random_backend
from tests.segmenter.helpers import tiny_backends

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


SAM_MEAN, SAM_STD = (123.675, 116.28, 103.53), (58.395, 57.12, 57.375)


def _official_rule(path, channel_sum: bool) -> torch.Tensor:
    """Independently, from the file: what `Per_set_image` does to a masked image with
    EfficientViT-SAM's transform (PIL bilinear resize of the long side to 512, SAM's pixel
    mean and std, zero padding to 512 x 512), then `make_env_RRL_sam.py`'s bilinear to
    64 x 64 and its threshold: red > 0 (:779-784) or the channel sum > 0 (:857-862)."""
    image = Image.open(path).convert("RGB")
    scale = 512 / max(image.size)
    width, height = int(image.width * scale + 0.5), int(image.height * scale + 0.5)
    pixels = np.asarray(image.resize((width, height), Image.BILINEAR), np.float32) / 255
    normalised = (pixels - np.float32(SAM_MEAN) / 255) / (np.float32(SAM_STD) / 255)
    padded = np.zeros((512, 512, 3), np.float32)
    padded[:height, :width] = normalised
    data = torch.from_numpy(padded).permute(2, 0, 1)[None]
    grid = F.interpolate(data, size=(64, 64), mode="bilinear", align_corners=False)[0]
    return grid.sum(0) > 0 if channel_sum else grid[0] > 0


@pytest.mark.parametrize("task", TASKS)
def test_regions_follow_the_official_thresholding_rule(task):
    backend = random_backend("efficientvit-l1", "cpu", torch.float32, tiny=True)
    prompt = load_official_prompt(task)
    whole, parts = thresholded_regions(prompt, sam_transform(backend))
    files, path = SAMG_REFERENCE_IMAGES[task], benchmark_assets().path
    assert torch.equal(whole, _official_rule(path(files["target"]), channel_sum=False))
    assert len(parts) == len(files["parts"]) == 2
    for region, name in zip(parts, files["parts"]):
        assert torch.equal(region, _official_rule(path(name), channel_sum=True))
    assert 0 < whole.sum() < 64 * 64 and all(0 < region.sum() < 64 * 64 for region in parts)


def test_auto_takes_the_papers_prompt_where_it_has_one(tmp_path):
    assert task_prompt("door", SegmenterConfig()).source == "official"
    simulator = task_prompt("door", SegmenterConfig(prompt="simulator"))
    assert simulator.source == "simulator" and simulator.masked_target is None
    with pytest.raises(PromptError, match="no prompt of its own for 'relocate': use --prompt simulator"):
        task_prompt("relocate", SegmenterConfig(prompt="official"))


def test_the_papers_prompt_needs_no_prompt_folder(tmp_path):
    """Its PerSAM-F weights are cached in $SAMG_HOME/persam/TASK, not beside a simulator prompt."""
    absent = tmp_path / "no-prompts"
    config = SegmenterConfig(tiny=True, random_weights=True, options=SamgOptions(use_dino=False), prompts_root=absent)
    segmenter = make_segmenter("door", config)
    assert segmenter.prompt.source == "official" and not absent.exists()
    cached = list((samg_home() / "persam" / "door").glob("persam_efficientvit-l1_*.json"))
    assert len(cached) == 1 and json.loads(cached[0].read_text())["mask_weights"] == segmenter.mask_weights.tolist()


def test_old_descriptions_read_as_simulator_prompts_with_exact_regions():
    described = SegmenterConfig().describe()
    assert (described["prompt"], described["regions"]) == ("auto", "official")
    old = {k: v for k, v in described.items() if k not in ("prompt", "regions")}
    rebuilt = SegmenterConfig.from_description(old)
    assert (rebuilt.prompt, rebuilt.options.regions) == ("simulator", "exact")


def _pen_frame(size: int) -> np.ndarray:
    env = make_env("pen")
    try:
        with FrameRenderer(env.task, env.model, size) as renderer:
            return renderer.render(env.reset(0).sim_state, "train", 0, 0)
    finally:
        env.close()


@pytest.mark.parametrize("size", [160, 84])
def test_the_160_px_pen_prompt_serves_pen_frames_at_either_size(size):
    """The official prompt is pen_160_0.png, for 160-px frames; an 84-px store (pen's
    default) uses it too: the reference is encoded at its own size, its points and regions
    are its own pixels on the 64 x 64 grid, and each frame is encoded at its size."""
    sam, dino = tiny_backends("efficientvit-l1")
    prompt = load_official_prompt("pen")
    segmenter = SamgSegmenter(prompt, sam, dino, chunk=1)
    # type 2 as the official code at its 160-px frames: grid position p / 160 * 64
    features, points = segmenter.reference_sam[0], [p for obj in prompt.objects for p in obj.points]
    for row, (x, y) in zip(segmenter.points.sam[segmenter.points.n_type1 :], points):
        gx, gy = x / 160 * 64, y / 160 * 64
        x0, y0 = int(gx), int(gy)
        expected = sum(
            features[:, y0 + dy, x0 + dx] * (1 - abs(gx - x0 - dx)) * (1 - abs(gy - y0 - dy))
            for dx in (0, 1) for dy in (0, 1)
        )  # fmt: skip
        assert torch.allclose(row, F.normalize(expected, dim=0), atol=1e-6)
    result = segmenter.segment(_pen_frame(size)[None])
    assert result.masks.shape == (1, size, size) and 0 < result.masks.mean() < 1
    assert all(0 <= x < size and 0 <= y < size for x, y in result.diagnostics[0]["points"])
