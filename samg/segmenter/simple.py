"""The reference points of every experiment: the simulator's mask, no mask, and a blank
image (the policy on proprioception alone)."""

import numpy as np

from samg.segmenter.base import Segmentation, check_frames


class OracleSegmenter:
    """The ground-truth object mask: the upper bound of what segmentation can give."""

    name = "oracle"
    needs_ground_truth = True

    def segment(self, frames: np.ndarray, ground_truth: np.ndarray | None = None) -> Segmentation:
        check_frames(frames)
        if ground_truth is None or ground_truth.shape != frames.shape[:3]:
            shape = None if ground_truth is None else ground_truth.shape
            raise ValueError(f"the oracle needs ground-truth masks of shape {frames.shape[:3]}, got {shape}")
        return Segmentation(masks=ground_truth > 0, diagnostics=[{} for _ in frames])

    def describe(self) -> dict:
        return {"kind": self.name}


class _ConstantSegmenter:
    """Every pixel kept (`keep`) or none: no model, no ground truth."""

    name: str
    keep: bool
    needs_ground_truth = False

    def segment(self, frames: np.ndarray, ground_truth: np.ndarray | None = None) -> Segmentation:
        check_frames(frames)
        return Segmentation(masks=np.full(frames.shape[:3], self.keep), diagnostics=[{} for _ in frames])

    def describe(self) -> dict:
        return {"kind": self.name}


class NoneSegmenter(_ConstantSegmenter):
    """All pixels kept: the raw-frame baseline, through the same interface."""

    name, keep = "none", True


class BlankSegmenter(_ConstantSegmenter):
    """No pixel kept: the control that shows how much a policy uses its images at all."""

    name, keep = "blank", False
