"""Segmenters: SAM-G, the simulator's ground truth (`oracle`) and no mask (`none`)."""

from samg.segmenter.base import Segmentation, Segmenter, apply_masks
from samg.segmenter.simple import NoneSegmenter, OracleSegmenter

__all__ = ["NoneSegmenter", "OracleSegmenter", "Segmentation", "Segmenter", "apply_masks"]
