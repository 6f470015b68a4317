"""Test models: tiny backends with spread-out random weights, and an encoder whose
features are known (one direction per colour)."""

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from samg.segmenter.backends import build_backend
from samg.segmenter.features import GRID

COLOURS = {"red": (220, 30, 30), "green": (30, 200, 60), "blue": (40, 60, 220)}


def roughen(module: nn.Module, seed: int = 1) -> None:
    """He-scaled random weights: tiny default-initialised encoders give nearly constant
    features, whose similarity maxima tie within float noise."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for parameter in module.parameters():
            if parameter.ndim >= 2:
                fan_in = parameter[0].numel()
                parameter.copy_(torch.randn(parameter.shape, generator=generator) * (2.0 / fan_in) ** 0.5)


def tiny_backends(sam_name: str):
    sam, dino = build_backend(sam_name, tiny=True), build_backend("dinov2-vitb14", tiny=True)
    roughen(sam.model.image_encoder)
    roughen(dino.model)
    return sam, dino


class ColourEncoder:
    """Features on the 64 x 64 grid: the one-hot colour class of each pixel (red, green,
    blue, anything else), resized to the grid as masks are, so the right prompts are known."""

    name = "colour"

    def encode(self, frames: np.ndarray) -> torch.Tensor:
        pixels = frames.astype(int)
        classes = np.full(pixels.shape[:3], len(COLOURS))
        for index, rgb in enumerate(COLOURS.values()):
            classes[np.abs(pixels - rgb).sum(-1) < 30] = index
        one_hot = torch.as_tensor(np.eye(len(COLOURS) + 1, dtype=np.float32)[classes]).permute(0, 3, 1, 2)
        return F.interpolate(one_hot, size=(GRID, GRID), mode="bilinear") + 0.01


def scene(size: int, squares: dict[str, tuple[int, int, int]]) -> np.ndarray:
    """A grey frame with coloured squares: name -> (x, y, side)."""
    frame = np.full((size, size, 3), 128, np.uint8)
    for name, (x, y, side) in squares.items():
        frame[y : y + side, x : x + side] = COLOURS[name]
    return frame
