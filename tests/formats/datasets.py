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


FPS = 10
CAMERA_KEY = "observation.images.front"


def write_mp4(path: Path, frames: np.ndarray, fps: int = FPS) -> None:
    import av

    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=fps, options={"crf": "0"})
        stream.width, stream.height, stream.pix_fmt = frames.shape[2], frames.shape[1], "yuv444p"
        for frame in frames:
            container.mux(stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")))
        container.mux(stream.encode())


def write_lerobot(root: Path, lengths=LENGTHS, task: str = "push the cube") -> Path:
    """LeRobot v3.0: one data file, one video file and one episodes file holding both episodes."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    total = sum(lengths)
    starts = np.cumsum((0, *lengths))[:-1]
    rows = {
        "observation.state": np.concatenate([low_dim(e, n, STATE_DIM, 100.0) for e, n in enumerate(lengths)]),
        "action": np.concatenate([low_dim(e, n, ACTION_DIM, 0.0) for e, n in enumerate(lengths)]),
        "timestamp": np.concatenate([np.arange(n, dtype=np.float32) / FPS for n in lengths]),
        "frame_index": np.concatenate([np.arange(n) for n in lengths]),
        "episode_index": np.concatenate([np.full(n, e) for e, n in enumerate(lengths)]),
        "index": np.arange(total),
        "task_index": np.zeros(total, np.int64),
    }
    data = pa.table({k: list(v) if v.ndim == 2 else v for k, v in rows.items()})
    (root / "data/chunk-000").mkdir(parents=True)
    pq.write_table(data, root / "data/chunk-000/file-000.parquet")
    write_mp4(root / f"videos/{CAMERA_KEY}/chunk-000/file-000.mp4", np.concatenate([frames_of(e, n) for e, n in enumerate(lengths)]))
    episodes = {
        "episode_index": list(range(len(lengths))),
        "tasks": [[task] for _ in lengths],
        "length": list(lengths),
        "data/chunk_index": [0] * len(lengths),
        "data/file_index": [0] * len(lengths),
        "dataset_from_index": [int(s) for s in starts],
        "dataset_to_index": [int(s + n) for s, n in zip(starts, lengths)],
        f"videos/{CAMERA_KEY}/chunk_index": [0] * len(lengths),
        f"videos/{CAMERA_KEY}/file_index": [0] * len(lengths),
        f"videos/{CAMERA_KEY}/from_timestamp": [float(s) / FPS for s in starts],
        f"videos/{CAMERA_KEY}/to_timestamp": [float(s + n) / FPS for s, n in zip(starts, lengths)],
        "meta/episodes/chunk_index": [0] * len(lengths),
        "meta/episodes/file_index": [0] * len(lengths),
    }
    (root / "meta/episodes/chunk-000").mkdir(parents=True)
    pq.write_table(pa.table(episodes), root / "meta/episodes/chunk-000/file-000.parquet")
    pq.write_table(tasks_table([task]), root / "meta/tasks.parquet")
    scalar = {"dtype": "float32", "shape": [1], "names": None}
    info = {
        "codebase_version": "v3.0",
        "robot_type": None,
        "total_episodes": len(lengths),
        "total_frames": total,
        "total_tasks": 1,
        "chunks_size": 1000,
        "data_files_size_in_mb": 100,
        "video_files_size_in_mb": 200,
        "fps": FPS,
        "splits": {"train": f"0:{len(lengths)}"},
        "data_path": "data/chunk-{chunk_index:03d}/file-{file_index:03d}.parquet",
        "video_path": "videos/{video_key}/chunk-{chunk_index:03d}/file-{file_index:03d}.mp4",
        "features": {
            CAMERA_KEY: {
                "dtype": "video",
                "shape": [SIZE, SIZE, 3],
                "names": ["height", "width", "channels"],
                "info": {"video.fps": FPS, "video.codec": "h264", "video.pix_fmt": "yuv444p", "video.is_depth_map": False},
            },
            "observation.state": {"dtype": "float32", "shape": [STATE_DIM], "names": None},
            "action": {"dtype": "float32", "shape": [ACTION_DIM], "names": None},
            "timestamp": scalar,
            **{k: {"dtype": "int64", "shape": [1], "names": None} for k in ("frame_index", "episode_index", "index", "task_index")},
        },
    }
    (root / "meta/info.json").write_text(json.dumps(info, indent=2))
    return root


def tasks_table(tasks: list[str]):
    """meta/tasks.parquet as pandas writes a frame indexed by `task` (LeRobot reads it with
    pandas): the index is a column named in the schema's pandas metadata."""
    import pyarrow as pa

    pandas = {
        "index_columns": ["task"],
        "column_indexes": [],
        "columns": [
            {"name": "task_index", "field_name": "task_index", "pandas_type": "int64", "numpy_type": "int64", "metadata": None},
            {"name": "task", "field_name": "task", "pandas_type": "unicode", "numpy_type": "object", "metadata": None},
        ],
        "creator": {"library": "pyarrow", "version": pa.__version__},
        "pandas_version": "2.2.3",
    }
    table = pa.table({"task_index": pa.array(range(len(tasks)), pa.int64()), "task": pa.array(tasks, pa.string())})
    return table.replace_schema_metadata({b"pandas": json.dumps(pandas).encode()})


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    error = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return float("inf") if error == 0 else 10 * np.log10(255**2 / error)
