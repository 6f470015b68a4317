"""SAM-G's point features, similarity maps and prompt points (paper section 4).

Features are (C, G, G) grids (G = 64) from an image encoder. Point features come from the
reference: type 1 summarises a mask ((mean + max) / 2 per channel), type 2 is the feature
at one extra point. Every point feature gives a cosine-similarity map over a new frame's
grid; maps of several encoders are averaged, upsampled to the frame, and their extremes
become prompt points. Upsampling, boxes and the negative-point search follow the official
code (wadiuvatzy/SAM-G `wrappers/dmc_sam.py`, `dmcvgb/persam_utils.py`) exactly.
"""

import functools

import numpy as np
import torch
import torch.nn.functional as F

from samg.segmenter.decoder import bilinear_matrix, postprocess_matrix, resample_per_axis

GRID = 64
MAP_UPSAMPLE = 4  # the official code's `scale_factor=4` before SAM's postprocessing


def mask_on_grid(mask: np.ndarray, grid: int = GRID) -> torch.Tensor:
    """(H, W) bool -> (grid, grid) bool: bilinear resize of the 0/1 mask, kept above 0.5."""
    resized = F.interpolate(torch.as_tensor(mask, dtype=torch.float32)[None, None], size=(grid, grid), mode="bilinear")
    return resized[0, 0] > 0.5


def type1_feature(features: torch.Tensor, region: torch.Tensor) -> torch.Tensor:
    """(C, G, G) features, (G, G) bool region -> (C,) unit vector: (mean + max) / 2 inside."""
    inside = features[:, region]
    if inside.shape[1] == 0:
        raise ValueError("the reference mask covers no cell of the feature grid")
    return F.normalize((inside.mean(dim=1) + inside.amax(dim=1)) / 2, dim=0)


def type2_feature(features: torch.Tensor, point_xy: tuple[float, float], image_size: tuple[int, int]) -> torch.Tensor:
    """(C,) unit vector: the bilinear feature at an image pixel (x, y) of an (H, W) image.

    Pixel p maps to grid position p / size * G, as in the official code, clamped to the grid.
    """
    height, width = image_size
    grid = features.shape[-1]
    gx = min(max(point_xy[0] / width * grid, 0.0), grid - 1.0)
    gy = min(max(point_xy[1] / height * grid, 0.0), grid - 1.0)
    x0, y0 = int(gx), int(gy)
    x1, y1 = min(x0 + 1, grid - 1), min(y0 + 1, grid - 1)
    wx, wy = gx - x0, gy - y0
    value = (
        features[:, y0, x0] * (1 - wx) * (1 - wy)
        + features[:, y0, x1] * wx * (1 - wy)
        + features[:, y1, x0] * (1 - wx) * wy
        + features[:, y1, x1] * wx * wy
    )
    return F.normalize(value, dim=0)


def similarity_maps(point_features: torch.Tensor, frame_features: torch.Tensor) -> torch.Tensor:
    """(P, C) unit point features, (B, C, G, G) frame features -> (B, P, G, G) cosine maps."""
    return torch.einsum("pc,bcyx->bpyx", point_features, F.normalize(frame_features, dim=1))


def upsample_maps(maps: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """(B, P, G, G) -> (B, P, H, W) as the official code: bilinear x4 (G -> 4G), then SAM's
    `postprocess_masks` (bilinear to 1024, crop the padding, bilinear to the frame)."""
    return resample_per_axis(maps, size, _upsample_matrix)


@functools.lru_cache(maxsize=32)
def _upsample_matrix(output: int, valid: int, grid: int) -> torch.Tensor:
    """(output, grid): `upsample_maps` along one axis, one linear map."""
    up = bilinear_matrix(MAP_UPSAMPLE * grid, grid)
    return (postprocess_matrix(output, valid, MAP_UPSAMPLE * grid) @ up).float()


def argmax_points(maps: torch.Tensor) -> torch.Tensor:
    """(B, P, H, W) -> (B, P, 2) integer (x, y) of each map's maximum."""
    width = maps.shape[-1]
    index = maps.flatten(2).argmax(dim=2)
    return torch.stack([index % width, index // width], dim=-1)


def negative_points(score: torch.Tensor, boxes: torch.Tensor | None = None) -> torch.Tensor:
    """(B, H, W) map, (B, 4) xyxy boxes -> (B, 2) integer (x, y) of the minimum, searched as
    the official `negative_point_selection` slices: rows y0..y1-1, columns x0..x1-1 (the
    box's last row and column are left out). No box: the frame minus its last row and
    column. A box one pixel thin leaves nothing to search: (0, 0), as the official code.
    Computed on the map's device, without waiting for it."""
    batch, height, width = score.shape
    ys = torch.arange(height, device=score.device).view(1, height, 1)
    xs = torch.arange(width, device=score.device).view(1, 1, width)
    if boxes is None:
        outside = ((xs >= width - 1) | (ys >= height - 1)).expand(batch, height, width)
    else:
        x0, y0, x1, y1 = (boxes[:, i].view(batch, 1, 1) for i in range(4))
        outside = (xs < x0) | (xs >= x1) | (ys < y0) | (ys >= y1)
    index = score.masked_fill(outside, float("inf")).flatten(1).argmin(dim=1)
    points = torch.stack([index % width, index // width], dim=-1)
    empty = outside.flatten(1).all(dim=1)
    return points.masked_fill(empty[:, None], 0)


def mask_boxes(masks: torch.Tensor) -> torch.Tensor:
    """(B, H, W) bool -> (B, 4) inclusive xyxy boxes, on the masks' device without waiting
    for them. An empty mask gives the fallback of the official `adroit` code, `[1, 1, W, H]`
    (`make_env_RRL_sam.py`: 1176, 1200)."""
    batch, height, width = masks.shape
    rows, columns = masks.any(dim=2).to(torch.uint8), masks.any(dim=1).to(torch.uint8)
    # argmax gives the first maximum: the first row (column) the mask touches
    x0, y0 = columns.argmax(dim=1), rows.argmax(dim=1)
    x1, y1 = width - 1 - columns.flip(1).argmax(dim=1), height - 1 - rows.flip(1).argmax(dim=1)
    boxes = torch.stack([x0, y0, x1, y1], dim=1)
    fallback = torch.stack([torch.ones_like(x0), torch.ones_like(y0), torch.full_like(x1, width),
                            torch.full_like(y1, height)], dim=1)  # fmt: skip
    return torch.where(rows.any(dim=1, keepdim=True).bool(), boxes, fallback)
