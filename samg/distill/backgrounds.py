"""Backgrounds for the student's augmentation, from sources disjoint from the benchmark.

Photographs that ship inside installed packages (scikit-image's sample images and
scikit-learn's two sample photos) and procedural images (multi-octave value noise,
stripes, checkerboards, gradients, rectangles, flat colours), all drawn from a seeded
generator. Nothing here reads the benchmark's colour presets, table textures or clips
(`samg assets`); tests/distill/test_no_benchmark_reads.py checks that while training.
"""

import warnings

import numpy as np
import torch
import torch.nn.functional as F

# colour photographs; the grey ones are tinted when drawn
COLOUR_PHOTOS = ("astronaut", "chelsea", "coffee", "rocket", "hubble_deep_field", "immunohistochemistry",
                 "retina", "colorwheel")  # fmt: skip
GREY_PHOTOS = ("brick", "camera", "grass", "gravel", "moon", "coins", "clock", "cell", "page", "text")


def package_photographs() -> list[np.ndarray]:
    """(H, W, 3) uint8 photographs from scikit-image and scikit-learn (no download)."""
    import skimage.data
    from sklearn.datasets import load_sample_images

    photos = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name in COLOUR_PHOTOS + GREY_PHOTOS:
            image = np.asarray(getattr(skimage.data, name)())
            if image.ndim == 2:
                image = np.repeat(image[..., None], 3, axis=2)
            photos.append(np.array(image[..., :3], dtype=np.uint8))  # a writable copy
        photos += [np.array(image, np.uint8) for image in load_sample_images().images]
    return photos


def _colours(rng: np.random.Generator, count: int) -> np.ndarray:
    return rng.uniform(0, 1, (count, 3)).astype(np.float32)


def _value_noise(rng: np.random.Generator, size: int) -> np.ndarray:
    """Sum of upsampled random grids at a few scales: (size, size) in [0, 1]."""
    total = torch.zeros(1, 1, size, size)
    weight_sum = 0.0
    for octave in range(rng.integers(1, 5)):
        cells = int(rng.integers(2, 6)) * 2**octave
        grid = torch.from_numpy(rng.uniform(0, 1, (1, 1, cells, cells)).astype(np.float32))
        weight = 0.5**octave
        total += weight * F.interpolate(grid, size=(size, size), mode="bicubic", align_corners=False)
        weight_sum += weight
    noise = (total / weight_sum)[0, 0].numpy()
    return (noise - noise.min()) / max(float(np.ptp(noise)), 1e-6)


def _coordinates(rng: np.random.Generator, size: int) -> np.ndarray:
    """A coordinate along a random direction, in pixels."""
    angle = rng.uniform(0, np.pi)
    y, x = np.mgrid[0:size, 0:size].astype(np.float32)
    return x * np.cos(angle) + y * np.sin(angle)


def procedural_background(rng: np.random.Generator, size: int) -> np.ndarray:
    """One (size, size, 3) float32 image in [0, 1] of a random procedural kind."""
    kind = rng.integers(6)
    low, high = _colours(rng, 2)
    if kind == 0:  # coloured noise, sometimes through a random palette of several colours
        field = _value_noise(rng, size)
        if rng.random() < 0.5:
            palette = _colours(rng, int(rng.integers(3, 6)))
            return np.stack(
                [np.interp(field, np.linspace(0, 1, len(palette)), palette[:, c]) for c in range(3)], -1
            )
        return low + field[..., None] * (high - low)
    if kind == 1:  # stripes
        period = rng.uniform(3, size / 2)
        wave = 0.5 + 0.5 * np.sin(2 * np.pi * _coordinates(rng, size) / period)
        return low + (wave > 0.5 if rng.random() < 0.5 else wave)[..., None] * (high - low)
    if kind == 2:  # checkerboard, possibly rotated
        cell = rng.uniform(3, size / 3)
        u, v = _coordinates(rng, size), _coordinates(rng, size)
        board = (np.floor(u / cell) + np.floor(v / cell)) % 2
        return low + board[..., None] * (high - low)
    if kind == 3:  # linear gradient
        ramp = _coordinates(rng, size)
        ramp = (ramp - ramp.min()) / max(float(np.ptp(ramp)), 1e-6)
        return low + ramp[..., None] * (high - low)
    if kind == 4:  # random rectangles on a colour
        image = np.broadcast_to(low, (size, size, 3)).copy()
        for colour in _colours(rng, int(rng.integers(2, 12))):
            y0, x0 = rng.integers(0, size, 2)
            h, w = rng.integers(2, size // 2 + 2, 2)
            image[y0 : y0 + h, x0 : x0 + w] = colour
        return image
    return np.broadcast_to(low + rng.normal(0, 0.02, 3).astype(np.float32), (size, size, 3)).copy()


def photo_crop(rng: np.random.Generator, photo: np.ndarray, size: int) -> np.ndarray:
    """A random square crop of a photograph at a random scale, resized: (size, size, 3) in [0, 1]."""
    height, width = photo.shape[:2]
    side = int(rng.integers(min(size, height, width) // 2, min(height, width) + 1))
    top, left = rng.integers(0, height - side + 1), rng.integers(0, width - side + 1)
    crop = torch.from_numpy(photo[top : top + side, left : left + side]).permute(2, 0, 1)[None].float() / 255
    image = F.interpolate(crop, size=(size, size), mode="bilinear", antialias=True, align_corners=False)
    image = image[0].permute(1, 2, 0).numpy()
    if rng.random() < 0.5:
        image = image[:, ::-1]
    if np.ptp(photo[..., 0].astype(np.int16) - photo[..., 1]) == 0 or rng.random() < 0.3:  # grey, or tinted
        image = image * _colours(rng, 1)[0] * 1.5
    return np.clip(image, 0, 1)


class BackgroundBank:
    """`count` backgrounds of (size, size), a share of them photo crops; `refresh` redraws a
    part so that a long training run sees many more than `count`."""

    def __init__(self, count: int, size: int, photo_share: float, seed: int = 0):
        self.size, self.photo_share = size, photo_share
        self.rng = np.random.default_rng(seed)
        self.photos = package_photographs() if photo_share > 0 else []
        self.images = torch.from_numpy(np.stack([self._draw() for _ in range(count)])).permute(0, 3, 1, 2)

    def _draw(self) -> np.ndarray:
        if self.photos and self.rng.random() < self.photo_share:
            image = photo_crop(self.rng, self.photos[self.rng.integers(len(self.photos))], self.size)
        else:
            image = procedural_background(self.rng, self.size)
        return np.ascontiguousarray(image, dtype=np.float32)

    def refresh(self, share: float) -> None:
        count = max(1, int(len(self.images) * share))
        for index in self.rng.choice(len(self.images), count, replace=False):
            self.images[index] = torch.from_numpy(self._draw()).permute(2, 0, 1)

    def sample(self, count: int, generator: torch.Generator) -> torch.Tensor:
        """(count, 3, size, size) float in [0, 1]."""
        return self.images[torch.randint(len(self.images), (count,), generator=generator)]
