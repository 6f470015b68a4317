"""Augmentation of the student's training frames, batched in torch.

The teacher's mask splits a train frame into foreground (kept, recoloured) and background
(replaced): the student learns the objects' shapes rather than the train setting's
backdrop. Per frame, each with its probability: a new background from the bank (sometimes
a second one inside a random rectangle, the way a wall panel sits inside a room), a colour
jitter of the foreground (hue rotation, saturation, brightness, contrast; two jitters
blended by a smooth random field so parts of the objects change differently), a whole-frame
tint, a random shift, blur and pixel noise.
"""

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from samg.distill.backgrounds import BackgroundBank


@dataclass(frozen=True)
class AugmentConfig:
    background: float = 0.9  # probability that a frame's background is replaced
    photo_share: float = 0.5  # share of photographs among the replacement backgrounds
    inset: float = 0.5  # probability of a second background inside a random rectangle
    jitter: float = 0.8  # probability of a foreground colour jitter
    hue: float = 0.5  # of a full turn, either way
    saturation: float = 0.7  # factor in [1 - s, 1 + s]
    brightness: float = 0.4
    contrast: float = 0.4
    two_tone: float = 0.5  # probability that a second jitter is blended in by a smooth field
    tint: float = 0.3  # probability of a whole-frame colour gain and offset
    shift: int = 4  # pixels, either way (replicate padding)
    blur: float = 0.2
    noise: float = 0.3  # probability of Gaussian pixel noise, sigma up to 0.05
    bank_size: int = 512
    refresh_every: int = 100  # steps between redraws of a quarter of the bank


def _uniform(count: int, low: float, high: float, generator: torch.Generator) -> torch.Tensor:
    return low + (high - low) * torch.rand(count, generator=generator)


def _chance(count: int, probability: float, generator: torch.Generator) -> torch.Tensor:
    return torch.rand(count, generator=generator) < probability


def colour_matrices(hue: torch.Tensor, saturation: torch.Tensor) -> torch.Tensor:
    """(B, 3, 3): rotation by `hue` turns about the grey axis, then saturation scaling."""
    axis = torch.full((3,), 1 / math.sqrt(3))
    cross = torch.tensor([[0.0, -1.0, 1.0], [1.0, 0.0, -1.0], [-1.0, 1.0, 0.0]]) / math.sqrt(3)
    outer = torch.outer(axis, axis)
    angle = (2 * math.pi * hue)[:, None, None]
    rotation = torch.cos(angle) * torch.eye(3) + torch.sin(angle) * cross + (1 - torch.cos(angle)) * outer
    grey = torch.full((3, 3), 1 / 3)
    scale = saturation[:, None, None]
    return (scale * torch.eye(3) + (1 - scale) * grey) @ rotation


class Augmenter:
    def __init__(self, config: AugmentConfig, size: int, seed: int = 0):
        self.config = config
        self.generator = torch.Generator().manual_seed(seed)
        self.bank = (
            BackgroundBank(config.bank_size, size, config.photo_share, seed)
            if config.background > 0
            else None
        )
        self.calls = 0

    def __call__(self, frames: torch.Tensor, masks: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """frames (B, H, W, 3) uint8, masks (B, H, W) bool -> (B, 3, H, W) float in [0, 1],
        (B, H, W) float."""
        config, generator = self.config, self.generator
        images = frames.permute(0, 3, 1, 2).float() / 255
        weights = masks.float()[:, None]
        images, weights = self._shift(images, weights)
        foreground = self._jitter(images)
        background = self._backgrounds(images)
        images = weights * foreground + (1 - weights) * background
        images = self._tint(images)
        images = self._blur(images)
        noisy = _chance(len(images), config.noise, generator).nonzero()[:, 0]
        sigma = _uniform(len(noisy), 0, 0.05, generator)[:, None, None, None]
        images[noisy] += sigma * torch.randn(images[noisy].shape, generator=generator)
        self.calls += 1
        if self.bank is not None and self.calls % config.refresh_every == 0:
            self.bank.refresh(0.25)
        return images.clamp(0, 1), weights[:, 0]

    def describe(self) -> dict:
        from dataclasses import asdict

        return asdict(self.config) | {"photographs": len(self.bank.photos) if self.bank else 0}

    def _shift(self, images: torch.Tensor, weights: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        pad = self.config.shift
        if pad == 0:
            return images, weights
        height, width = images.shape[-2:]
        both = F.pad(torch.cat([images, weights], 1), (pad, pad, pad, pad), mode="replicate")
        offsets = torch.randint(0, 2 * pad + 1, (len(images), 2), generator=self.generator).tolist()
        both = torch.stack([b[:, y : y + height, x : x + width] for b, (y, x) in zip(both, offsets)])
        return both[:, :3], both[:, 3:]

    def _colour_jitter(self, images: torch.Tensor) -> torch.Tensor:
        config, generator, count = self.config, self.generator, len(images)
        matrices = colour_matrices(
            _uniform(count, -config.hue, config.hue, generator),
            _uniform(count, 1 - config.saturation, 1 + config.saturation, generator),
        )
        jittered = torch.einsum("bij,bjhw->bihw", matrices, images)
        mean = jittered.mean(dim=(1, 2, 3), keepdim=True)
        contrast = _uniform(count, 1 - config.contrast, 1 + config.contrast, generator)[:, None, None, None]
        brightness = _uniform(count, 1 - config.brightness, 1 + config.brightness, generator)[
            :, None, None, None
        ]
        return ((jittered - mean) * contrast + mean) * brightness

    def _jitter(self, images: torch.Tensor) -> torch.Tensor:
        config, generator, count = self.config, self.generator, len(images)
        jittered = self._colour_jitter(images)
        two_tone = _chance(count, config.two_tone, generator)
        if two_tone.any():
            cells = torch.rand(count, 1, 4, 4, generator=generator)
            field = F.interpolate(cells, size=images.shape[-2:], mode="bicubic", align_corners=False).clamp(
                0, 1
            )
            field = torch.where(two_tone[:, None, None, None], field, torch.ones_like(field))
            jittered = field * jittered + (1 - field) * self._colour_jitter(images)
        keep = ~_chance(count, config.jitter, generator)
        return torch.where(keep[:, None, None, None], images, jittered)

    def _backgrounds(self, images: torch.Tensor) -> torch.Tensor:
        config, generator, count = self.config, self.generator, len(images)
        if self.bank is None:
            return images
        background = self.bank.sample(count, generator)
        height, width = images.shape[-2:]
        inset = self.bank.sample(count, generator)
        rows, cols = torch.arange(height)[None, :, None], torch.arange(width)[None, None, :]
        top, left = (
            torch.rand(2, count, generator=generator) * torch.tensor([[height], [width]]) * 0.6
        ).long()
        tall = (_uniform(count, 0.3, 1.0, generator) * height).long()
        wide = (_uniform(count, 0.3, 1.0, generator) * width).long()
        inside = ((rows >= top[:, None, None]) & (rows < (top + tall)[:, None, None])
                  & (cols >= left[:, None, None]) & (cols < (left + wide)[:, None, None]))  # fmt: skip
        inside &= _chance(count, config.inset, generator)[:, None, None]
        background = torch.where(inside[:, None], inset, background)
        replace = _chance(count, config.background, generator)[:, None, None, None]
        return torch.where(replace, background, images)

    def _tint(self, images: torch.Tensor) -> torch.Tensor:
        count, generator = len(images), self.generator
        gains = 0.7 + 0.6 * torch.rand(count, 3, 1, 1, generator=generator)
        offsets = 0.1 * (torch.rand(count, 3, 1, 1, generator=generator) - 0.5)
        tinted = images * gains + offsets
        return torch.where(_chance(count, self.config.tint, generator)[:, None, None, None], tinted, images)

    def _blur(self, images: torch.Tensor) -> torch.Tensor:
        kernel = torch.tensor([1.0, 2.0, 1.0])
        kernel = (torch.outer(kernel, kernel) / 16).expand(3, 1, 3, 3)
        chosen = _chance(len(images), self.config.blur, self.generator).nonzero()[:, 0]
        images[chosen] = F.conv2d(F.pad(images[chosen], (1, 1, 1, 1), mode="replicate"), kernel, groups=3)
        return images
