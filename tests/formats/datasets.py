"""Tiny datasets written from each format's published layout (docs/own_data.md, format notes):
2 episodes of a few 16x16 frames, with frames that differ per step so order errors show."""

import json
from pathlib import Path

import numpy as np

SIZE = 16
LENGTHS = (5, 4)
ACTION_DIM, STATE_DIM = 3, 4


def frames_of(episode: int, length: int, size: int = SIZE) -> np.ndarray:
    """Smooth frames (they survive a lossy codec), distinct per episode and step."""
    ys, xs = np.mgrid[0:size, 0:size]
    out = np.empty((length, size, size, 3), np.uint8)
    for t in range(length):
        out[t, ..., 0] = (xs * 255 // (size - 1) + 40 * t) % 256
        out[t, ..., 1] = (ys * 255 // (size - 1) + 80 * episode) % 256
        out[t, ..., 2] = (60 + 30 * t + 50 * episode) % 256
    return out


def low_dim(episode: int, length: int, dim: int, offset: float) -> np.ndarray:
    return (offset + episode * 10 + np.arange(length)[:, None] + np.arange(dim)[None] / 10).astype(np.float32)


def write_robomimic(path: Path, lengths=LENGTHS, camera: str = "agentview") -> Path:
    import h5py

    with h5py.File(path, "w") as f:
        data = f.create_group("data")
        data.attrs["total"] = sum(lengths)
        data.attrs["env_args"] = json.dumps({"env_name": "Lift", "env_type": 1, "env_kwargs": {}})
        for episode, length in enumerate(lengths):
            demo = data.create_group(f"demo_{episode}")
            demo.attrs["num_samples"] = length
            demo["actions"] = low_dim(episode, length, ACTION_DIM, 0.0)
            demo["states"] = low_dim(episode, length, STATE_DIM, 100.0).astype(np.float64)
            demo["rewards"] = np.zeros(length)
            demo["dones"] = np.zeros(length, np.int64)
            obs = demo.create_group("obs")
            obs[f"{camera}_image"] = frames_of(episode, length)
            obs["robot0_eef_pos"] = low_dim(episode, length, 3, 200.0)
            obs["robot0_gripper_qpos"] = low_dim(episode, length, 2, 300.0)
    return path


def write_replay_zarr(path: Path, lengths=LENGTHS) -> Path:
    import zarr

    root = zarr.open_group(path, mode="w", zarr_format=2)
    frames = np.concatenate([frames_of(e, n) for e, n in enumerate(lengths)])
    root.create_array("data/img", data=frames, chunks=(2, SIZE, SIZE, 3))
    root.create_array("data/state", data=np.concatenate([low_dim(e, n, STATE_DIM, 100.0) for e, n in enumerate(lengths)]))
    root.create_array("data/action", data=np.concatenate([low_dim(e, n, ACTION_DIM, 0.0) for e, n in enumerate(lengths)]))
    root.create_array("meta/episode_ends", data=np.cumsum(lengths).astype(np.int64))
    return path
