"""What every dataset reader gives the importer: a description and episodes, streamed."""

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np

from samg.errors import SamgError


class FormatError(SamgError):
    """A dataset that is missing, of another format, or inconsistent."""


@dataclass(frozen=True)
class SourceInfo:
    format: str
    path: str
    version: str
    metadata_sha256: str
    fps: float
    task_text: str
    camera: str
    cameras: tuple[str, ...]
    frame_shape: tuple[int, int]  # (H, W) of the chosen camera
    action_dim: int
    state_dim: int
    proprio_dim: int
    lengths: tuple[int, ...]  # steps per episode
    episode_indices: tuple[int, ...]  # the source's own episode numbers
    details: dict = field(default_factory=dict)  # format-specific, JSON-able (e.g. the proprio keys)

    @property
    def total_steps(self) -> int:
        return int(sum(self.lengths))


@dataclass(frozen=True)
class Episode:
    """One episode: its low-dimensional arrays whole, its frames in pieces."""

    action: np.ndarray  # (L, A) float32
    state: np.ndarray  # (L, S) float32
    proprio: np.ndarray  # (L, P) float32
    frames: Iterator[np.ndarray]  # pieces of (n, H, W, 3) uint8, from the first step asked for


class DatasetReader(Protocol):
    info: SourceInfo

    def episode(self, index: int, first_step: int = 0) -> Episode:
        """Episode `index` (0-based, in the reader's order); frames from `first_step` on."""
        ...


def metadata_sha256(*parts: bytes) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(len(part).to_bytes(8, "little"))
        digest.update(part)
    return digest.hexdigest()


def choose_camera(cameras: tuple[str, ...], asked: str | None, where: Path) -> str:
    if not cameras:
        raise FormatError(f"{where} has no camera images: samg needs one RGB camera")
    if asked is None:
        return cameras[0]
    if asked not in cameras:
        raise FormatError(f"{where} has no camera {asked!r}; it has {', '.join(cameras)}: pass one of them to --camera")
    return asked


def as_float32(values: np.ndarray, name: str, length: int, where: str) -> np.ndarray:
    """(L, D) float32 of a per-step array, its length checked against the episode's."""
    values = np.asarray(values, dtype=np.float32)
    values = values.reshape(len(values), -1)
    if len(values) != length:
        raise FormatError(f"{where}: {name} has {len(values)} steps, the episode {length}: the dataset is inconsistent")
    return values
