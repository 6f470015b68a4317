"""Benchmark clips decoded to frames at the render size, and their cache on disk.

Frames are resized whole (not cropped) with bilinear interpolation without antialiasing,
the interpolation RL-ViGen's `cv2.resize` applies to its clips.

Decoding a clip takes far longer than reading it back, so the frames are kept as an .npy
file and memory-mapped. The cache is tied to the verified clip it was decoded from: a
sidecar .json records the clip's hash and the cache file's size and sha256, and every load
checks all three (a full sha256: 8-12 ms for a 10-16 MB clip at 84 px, measured, against
5-40 s to decode it). A cache that does not match (overwritten, truncated, of another clip)
is decoded again.
"""

import hashlib
import json
import os
import tempfile
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


def cached_clip(source: Path, source_hash: str, size: int, folder: Path) -> np.ndarray:
    """(N, size, size, 3) uint8 frames of the verified clip `source` (pinned as `source_hash`),
    memory-mapped from `folder`, decoded again where the cache there does not match."""
    cache = folder / f"{source_hash[:16]}_{size}.npy"
    if not _cache_matches(cache, source_hash):
        _write_cache(cache, decode_clip(source, size), source_hash)
    return np.load(cache, mmap_mode="r")


def _file_sha256(path: Path) -> str:
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def _cache_matches(cache: Path, source_hash: str) -> bool:
    try:
        record = json.loads(cache.with_suffix(".json").read_text())
        return (
            isinstance(record, dict)
            and record.get("source_hash") == source_hash
            and record.get("bytes") == cache.stat().st_size
            and record.get("sha256") == _file_sha256(cache)
        )
    except (OSError, ValueError):  # no cache or sidecar yet, or an unreadable one
        return False


def _write_cache(cache: Path, frames: np.ndarray, source_hash: str) -> None:
    """The frames, then their sidecar, each replaced atomically: a kill between the two
    leaves a cache without a matching sidecar, which the next load decodes again."""
    cache.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=cache.parent, delete=False, suffix=".partial") as handle:
        np.save(handle, frames)
    os.replace(handle.name, cache)
    record = {"source_hash": source_hash, "bytes": cache.stat().st_size, "sha256": _file_sha256(cache)}
    with tempfile.NamedTemporaryFile("w", dir=cache.parent, delete=False, suffix=".partial") as handle:
        json.dump(record, handle)
    os.replace(handle.name, cache.with_suffix(".json"))
