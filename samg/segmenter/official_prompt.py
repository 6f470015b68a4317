"""SAM-G's own Adroit prompts (branch `adroit`, `src/cfgs_adroit/pieg_config.yaml`): the
reference frame, the masked JPEGs of the whole target and of each part, and the
hand-picked extra points; and the official rule that turns masked images into the
type-1 regions on the feature grid (`make_env_RRL_sam.py` :776-790, :857-866).

Pen's reference is 160 px (`pen_160_0.png`), its points in 160-px pixels. The official code
divides points by the frame's size, so it can use them only on 160-px frames; here points
and regions are the reference's own pixels on the 64 x 64 grid and the reference is encoded
at its own size, so the same prompt serves pen's 84-px (default) and 160-px stores alike.
"""

import json
import re

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from samg.benchmark.assets import BenchmarkAssets, benchmark_assets
from samg.benchmark.manifest import SAMG_CONFIG, SAMG_REFERENCE_IMAGES
from samg.segmenter.features import GRID
from samg.segmenter.prompts import ObjectPoints, Prompt, PromptError

PROMPT_SOURCES = ("auto", "official", "simulator")  # auto: official where the paper has one
REGION_RULES = ("official", "exact")
# the config lists door's points as `extra_points_list` and hammer's and pen's in comments,
# each followed by "for <image stem>_0 we provided"
_POINTS = re.compile(r"(\[\[[\d,\s\[\]]+\]\])\]?\s*#?\s*for (\w+?)_0 we provided")
_VISIBLE = 60  # channel sum above JPEG noise on the black background (drawing and labels only)


def has_official_prompt(task: str) -> bool:
    return task in SAMG_REFERENCE_IMAGES


def official_points(config_text: str) -> dict[str, list[tuple[int, int]]]:
    """The hand-picked extra points of each reference image stem, as (x, y) pixels."""
    return {m.group(2): [tuple(p) for p in json.loads(m.group(1))] for m in _POINTS.finditer(config_text)}


def load_official_prompt(task: str, assets: BenchmarkAssets | None = None) -> Prompt:
    """The paper's prompt of an Adroit task from the pinned (verified) benchmark files."""
    if not has_official_prompt(task):
        raise PromptError(f"the paper has no prompt of its own for '{task}': use --prompt simulator")
    assets = assets or benchmark_assets()
    files = SAMG_REFERENCE_IMAGES[task]
    names = [files["image"], files["target"], *files["parts"], SAMG_CONFIG]
    assets.require(*names)
    read = lambda name: np.asarray(Image.open(assets.path(name)).convert("RGB"))  # noqa: E731
    image, target, parts = read(files["image"]), read(files["target"]), tuple(read(name) for name in files["parts"])
    stem = files["image"].rsplit("/", 1)[1].removesuffix("_0.png")
    points = official_points(assets.path(SAMG_CONFIG).read_text())[stem]
    # object k is part k; each extra point goes to the part brightest under it (one of
    # hammer's lies on the black background: the official code uses it all the same)
    brightness = np.stack([part.astype(np.int64).sum(-1) for part in parts])
    mask = np.where(brightness.max(0) > _VISIBLE, brightness.argmax(0) + 1, 0).astype(np.uint8)
    owners = [int(brightness[:, y, x].argmax()) + 1 for x, y in points]
    objects = tuple(
        ObjectPoints(k, f"part{k}", tuple(p for p, owner in zip(points, owners) if owner == k))
        for k in range(1, len(parts) + 1)
    )
    return Prompt(task, -1, 0, image, mask, objects, masked_target=target, masked_parts=parts, source="official")


def thresholded_regions(prompt: Prompt, preprocess) -> tuple[torch.Tensor, list[torch.Tensor]]:
    """The official type-1 regions: each masked image through SAM's image transform
    (`preprocess`: (B, H, W, 3) uint8 array -> (B, 3, S, S) normalised and padded), bilinear to
    the 64 x 64 grid; the whole target where its red channel > 0, a part where the sum of
    its three channels > 0."""
    target, parts = prompt.masked_images()
    images = np.stack([target, *parts])
    grids = F.interpolate(preprocess(images).float().cpu(), size=(GRID, GRID), mode="bilinear", align_corners=False)
    return grids[0, 0] > 0, [grid.sum(0) > 0 for grid in grids[1:]]
