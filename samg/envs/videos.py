"""Moving natural backgrounds for the video settings.

By default, clips are seeded pans and zooms over natural photographs that ship inside
scikit-image and scikit-learn, so they exist on every machine. A directory of real clips
(video files, or folders of frames as in DAVIS) replaces them with `--video-dir`.
"""

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np
from PIL import Image

from samg.errors import SamgError

VIDEO_SUFFIXES = (".mp4", ".avi", ".mov", ".webm", ".mkv", ".gif")
FRAME_SUFFIXES = (".jpg", ".jpeg", ".png")


class Clip(Protocol):
    def frame(self, step: int) -> np.ndarray:
        """The (size, size, 3) uint8 background at an episode step."""


class VideoSource(Protocol):
    def sample_clip(self, rng: np.random.Generator, size: int) -> Clip: ...


def _natural_photographs() -> list[np.ndarray]:
    import skimage.data
    from sklearn.datasets import load_sample_images

    photos = [
        skimage.data.astronaut(),
        skimage.data.coffee(),
        skimage.data.chelsea(),
        skimage.data.rocket(),
        skimage.data.hubble_deep_field(),
        *skimage.data.stereo_motorcycle()[:2],
        *load_sample_images().images,
    ]
    return [np.ascontiguousarray(photo[..., :3]) for photo in photos]


@dataclass(frozen=True)
class PanZoomClip:
    """A camera drifting over a photograph: a linear pan that bounces off the borders,
    with a slow sinusoidal zoom. Every frame is a pure function of the step."""

    photo: np.ndarray  # (H, W, 3) float32
    size: int
    start: tuple[float, float]  # crop centre at step 0, in [0, 1] of the free range
    velocity: tuple[float, float]  # fraction of the free range per step
    zoom: float  # crop side = shorter photo side / zoom
    zoom_swing: float
    zoom_period: float

    def frame(self, step: int) -> np.ndarray:
        height, width = self.photo.shape[:2]
        zoom = self.zoom * (1.0 + self.zoom_swing * math.sin(2 * math.pi * step / self.zoom_period))
        side = min(height, width) / zoom
        top = _bounce(self.start[0] + self.velocity[0] * step) * (height - side)
        left = _bounce(self.start[1] + self.velocity[1] * step) * (width - side)
        return _bilinear_crop(self.photo, top, left, side, self.size)


class NaturalImageClips:
    """Pan/zoom clips over the photographs that scikit-image and scikit-learn ship."""

    def __init__(self, loader: Callable[[], list[np.ndarray]] = _natural_photographs):
        self._loader = loader
        self._photos: list[np.ndarray] | None = None

    def sample_clip(self, rng: np.random.Generator, size: int) -> PanZoomClip:
        if self._photos is None:
            self._photos = [photo.astype(np.float32) for photo in self._loader()]
        photo = self._photos[int(rng.integers(len(self._photos)))]
        angle = rng.uniform(0, 2 * math.pi)
        speed = rng.uniform(0.004, 0.012)
        return PanZoomClip(
            photo=photo,
            size=size,
            start=(float(rng.uniform()), float(rng.uniform())),
            velocity=(speed * math.sin(angle), speed * math.cos(angle)),
            zoom=float(rng.uniform(1.2, 2.0)),
            zoom_swing=float(rng.uniform(0.05, 0.2)),
            zoom_period=float(rng.uniform(80, 240)),
        )


@dataclass(frozen=True)
class FramesClip:
    """A real clip played forwards then backwards, so it loops without a jump."""

    frames: np.ndarray  # (N, size, size, 3) uint8
    offset: int

    def frame(self, step: int) -> np.ndarray:
        count = len(self.frames)
        period = max(2 * count - 2, 1)
        position = (self.offset + step) % period
        return self.frames[position if position < count else period - position]


class VideoDirectory:
    """Real clips from a directory: video files and/or folders of numbered frames."""

    def __init__(self, root: str | Path):
        self.root = Path(root)
        self.clips = sorted(
            path
            for path in self.root.iterdir()
            if path.suffix.lower() in VIDEO_SUFFIXES
            or (path.is_dir() and any(p.suffix.lower() in FRAME_SUFFIXES for p in path.iterdir()))
        ) if self.root.is_dir() else []
        if not self.clips:
            raise SamgError(
                f"no clips in video directory {self.root}: put video files "
                f"({', '.join(VIDEO_SUFFIXES)}) or folders of frames there"
            )
        self._loaded: dict[tuple[Path, int], np.ndarray] = {}

    def sample_clip(self, rng: np.random.Generator, size: int) -> FramesClip:
        path = self.clips[int(rng.integers(len(self.clips)))]
        if (path, size) not in self._loaded:
            self._loaded[(path, size)] = np.stack([_square(frame, size) for frame in _read_frames(path)])
        frames = self._loaded[(path, size)]
        return FramesClip(frames=frames, offset=int(rng.integers(len(frames))))


def _read_frames(path: Path) -> list[np.ndarray]:
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix.lower() in FRAME_SUFFIXES)
        return [np.asarray(Image.open(f).convert("RGB")) for f in files]
    import imageio.v3 as iio

    return [np.asarray(frame)[..., :3] for frame in iio.imiter(path)]


def _square(frame: np.ndarray, size: int) -> np.ndarray:
    height, width = frame.shape[:2]
    side = min(height, width)
    top, left = (height - side) // 2, (width - side) // 2
    crop = Image.fromarray(frame[top : top + side, left : left + side])
    return np.asarray(crop.resize((size, size), Image.BILINEAR))


def _bounce(position: float) -> float:
    """Triangle wave: positions past 1 or below 0 reflect back into [0, 1]."""
    position = position % 2.0
    return 2.0 - position if position > 1.0 else position


def _bilinear_crop(photo: np.ndarray, top: float, left: float, side: float, size: int) -> np.ndarray:
    height, width = photo.shape[:2]
    coords = (np.arange(size, dtype=np.float32) + 0.5) * (side / size) - 0.5
    ys = np.clip(top + coords, 0, height - 1)
    xs = np.clip(left + coords, 0, width - 1)
    y0, x0 = np.floor(ys).astype(np.int64), np.floor(xs).astype(np.int64)
    y1, x1 = np.minimum(y0 + 1, height - 1), np.minimum(x0 + 1, width - 1)
    wy, wx = (ys - y0)[:, None, None], (xs - x0)[None, :, None]
    top_row = photo[y0][:, x0] * (1 - wx) + photo[y0][:, x1] * wx
    bottom_row = photo[y1][:, x0] * (1 - wx) + photo[y1][:, x1] * wx
    return np.clip(top_row * (1 - wy) + bottom_row * wy + 0.5, 0, 255).astype(np.uint8)
