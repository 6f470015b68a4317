"""One segmenter interface for the offline pipeline, evaluation rollouts and online RL."""

from dataclasses import dataclass, field
from typing import Protocol

import numpy as np


@dataclass
class Segmentation:
    masks: np.ndarray  # (B, H, W) bool: the objects that matter
    diagnostics: list[dict] = field(default_factory=list)  # per frame: prompts, scores, timings


class Segmenter(Protocol):
    name: str
    needs_ground_truth: bool  # the oracle reads the simulator's mask; the others the pixels

    def segment(self, frames: np.ndarray, ground_truth: np.ndarray | None = None) -> Segmentation:
        """frames: (B, H, W, 3) uint8 RGB; ground_truth: (B, H, W) object ids (oracle only)."""

    def describe(self) -> dict:
        """JSON-able configuration, stored with the masks it produced."""


def apply_masks(frames: np.ndarray, masks: np.ndarray) -> np.ndarray:
    """`rgb * mask`: background pixels black."""
    return frames * masks[..., None].astype(frames.dtype)


def check_frames(frames: np.ndarray) -> None:
    if frames.ndim != 4 or frames.shape[-1] != 3 or frames.dtype != np.uint8:
        raise ValueError(f"frames must be (B, H, W, 3) uint8, got {frames.shape} {frames.dtype}")


def frame_iou(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """(B, H, W) bool, (B, H, W) bool -> (B,) IoU of each frame's two masks (1 where both are
    empty): how far two ways of segmenting the same frames agree (e.g. bf16 against fp32)."""
    union = (first | second).sum(axis=(1, 2))
    overlap = (first & second).sum(axis=(1, 2))
    return np.where(union > 0, overlap / np.maximum(union, 1), 1.0)
