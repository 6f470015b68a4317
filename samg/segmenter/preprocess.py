"""Image preprocessing for the encoders, batched on the frames' device.

The SAM family's official transforms resize each uint8 image with PIL (bilinear, the
longest side to the encoder's input), then normalise and pad. `pil_resize` computes PIL's
own resampling: its filter coefficients in fixed point (22 fraction bits) and its two
uint8 passes (horizontal, then vertical, each rounded half up) in int32 arithmetic, so a
whole batch is resized on a GPU to the same bytes PIL gives (tests compare them on CPU).
"""

import functools
import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from samg.segmenter.decoder import preprocess_shape

PRECISION_BITS = 22  # Pillow's `PRECISION_BITS` for 8-bit images (32 - 8 - 2)


def as_pixels(frames: np.ndarray | torch.Tensor, device: torch.device) -> torch.Tensor:
    """(B, H, W, 3) uint8 frames as a uint8 tensor on `device`: one copy, none if already there."""
    if isinstance(frames, np.ndarray):  # copied here only if read-only or strided
        frames = torch.from_numpy(np.require(frames, requirements=("C_CONTIGUOUS", "WRITEABLE")))
    return frames.to(device, non_blocking=True)


@functools.lru_cache(maxsize=64)
def _pil_taps(source: int, output: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(output, K) source indices and int32 weights of Pillow's bilinear `precompute_coeffs`
    and `normalize_coeffs_8bpc` along one axis (unused taps: index 0, weight 0)."""
    scale = source / output
    filter_scale = max(scale, 1.0)
    support = filter_scale  # the bilinear filter's support is 1
    taps = math.ceil(support) * 2 + 1
    index = np.zeros((output, taps), np.int64)
    weight = np.zeros((output, taps), np.int64)
    for out in range(output):
        center = (out + 0.5) * scale
        first = max(int(center - support + 0.5), 0)
        count = min(int(center + support + 0.5), source) - first
        values = [max(0.0, 1.0 - abs((x + first - center + 0.5) / filter_scale)) for x in range(count)]
        total = sum(values)
        for x, value in enumerate(values):
            index[out, x] = first + x
            weight[out, x] = int(0.5 + (value / total if total else value) * (1 << PRECISION_BITS))
    return torch.from_numpy(index), torch.from_numpy(weight).to(torch.int32)


def _resize_axis(images: torch.Tensor, output: int, dim: int) -> torch.Tensor:
    index, weight = _pil_taps(images.shape[dim], output)
    index, weight = index.to(images.device), weight.to(images.device)
    picked = images.index_select(dim, index.flatten())
    shape = list(images.shape)
    shape[dim : dim + 1] = index.shape
    view = [1] * len(shape)
    view[dim : dim + 2] = weight.shape
    total = (picked.view(shape) * weight.view(view)).sum(dim + 1, dtype=torch.int32) + (1 << (PRECISION_BITS - 1))
    return (total >> PRECISION_BITS).clamp(0, 255)


def pil_resize(images: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """(B, C, H, W) uint8 -> (B, C, h, w) uint8, as `PIL.Image.resize(..., BILINEAR)` per image."""
    height, width = size
    pixels = images.to(torch.int32)
    if width != pixels.shape[-1]:
        pixels = _resize_axis(pixels, width, 3)
    if height != pixels.shape[-2]:
        pixels = _resize_axis(pixels, height, 2)
    return pixels.to(torch.uint8)


@dataclass(frozen=True)
class SamPreprocess:
    """A SAM-family transform: resize the longest side to `side` (PIL bilinear), normalise
    per channel, pad bottom and right with zeros to `side` x `side`. `unit_scale`: the
    values are divided by 255 first and normalised with mean / 255 and std / 255, as
    torchvision's ToTensor + Normalize (EfficientViT-SAM); else normalised in 0-255 units
    (segment-anything's `Sam.preprocess`). Each float step is the one the official code
    takes, in the same order, so the results are the same floats."""

    side: int
    mean: tuple[float, float, float]
    std: tuple[float, float, float]
    unit_scale: bool

    def __call__(self, pixels: torch.Tensor) -> torch.Tensor:
        """(B, H, W, 3) uint8 on any device -> (B, 3, side, side) float32 there."""
        height, width = pixels.shape[1:3]
        resized = pil_resize(pixels.permute(0, 3, 1, 2), preprocess_shape(height, width, self.side))
        values = resized.float()
        mean = torch.tensor(self.mean, dtype=torch.float64, device=values.device)
        std = torch.tensor(self.std, dtype=torch.float64, device=values.device)
        if self.unit_scale:
            values, mean, std = values.div(255), mean / 255, std / 255
        values = (values - mean.float().view(1, 3, 1, 1)) / std.float().view(1, 3, 1, 1)
        return F.pad(values, (0, self.side - values.shape[-1], 0, self.side - values.shape[-2]))
