"""Benchmark clips decoded to frames at the render size.

Frames are resized whole (not cropped) with bilinear interpolation without antialiasing,
the interpolation RL-ViGen's `cv2.resize` applies to its clips.
"""

from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F


def decode_clip(path: Path, size: int) -> np.ndarray:
    import imageio.v3 as iio

    frames = [np.asarray(frame)[..., :3] for frame in iio.imiter(path, plugin="FFMPEG")]
    return np.stack([resize_frame(frame, size) for frame in frames])


def resize_frame(frame: np.ndarray, size: int) -> np.ndarray:
    if frame.shape[:2] == (size, size):
        return np.ascontiguousarray(frame)
    pixels = torch.from_numpy(np.ascontiguousarray(frame)).permute(2, 0, 1)[None].float()
    resized = F.interpolate(pixels, size=(size, size), mode="bilinear", align_corners=False, antialias=False)
    return resized[0].permute(1, 2, 0).round().clamp(0, 255).to(torch.uint8).numpy()
