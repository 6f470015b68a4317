"""diffusion_policy's zarr ReplayBuffer: `data/<key>` arrays along one time axis and
`meta/episode_ends` (see docs/own_data.md, format notes)."""

import json
from pathlib import Path

import numpy as np
import zarr

from samg.formats.source import Episode, FormatError, SourceInfo, as_float32, choose_camera, metadata_sha256

CHUNK_FRAMES = 64
ACTION_KEY = "action"
STATE_KEY = "state"


class ReplayZarrReader:
    """Reads a ReplayBuffer directory (zarr v2 or v3). Cameras: (T, H, W, 3) uint8 arrays;
    state: `data/state` if present (also the proprio), else the low-dimensional arrays
    other than the action, concatenated in name order."""

    def __init__(self, path: Path, camera: str | None = None):
        self.path = Path(path)
        try:
            root = zarr.open_group(self.path, mode="r")
            self.data, meta = root["data"], root["meta"]
            self.ends = np.asarray(meta["episode_ends"][:], np.int64)
        except (KeyError, FileNotFoundError, ValueError, TypeError, zarr.errors.BaseZarrError) as error:
            raise FormatError(
                f"{self.path} is not a ReplayBuffer (data/, meta/episode_ends): {type(error).__name__}: {error}"
            ) from None
        arrays = {name: self.data[name] for name in sorted(self.data.array_keys())}
        lengths = np.diff(self.ends, prepend=0)
        if len(self.ends) == 0 or lengths.min() < 1:
            raise FormatError(f"{self.path}: meta/episode_ends is empty or not increasing")
        short = [n for n, a in arrays.items() if a.shape[0] < self.ends[-1]]
        if short:
            raise FormatError(f"{self.path}: data/{short[0]} has {arrays[short[0]].shape[0]} steps, episode_ends says {self.ends[-1]}")
        if ACTION_KEY not in arrays:
            raise FormatError(f"{self.path} has no data/{ACTION_KEY}: diffusion_policy stores actions there")
        cameras = tuple(n for n, a in arrays.items() if a.ndim == 4 and a.shape[-1] == 3 and a.dtype == np.uint8)
        self.camera = choose_camera(cameras, camera, self.path)
        low_dim = [n for n, a in arrays.items() if a.ndim <= 2 and n != ACTION_KEY]
        self.state_keys = (STATE_KEY,) if STATE_KEY in arrays else tuple(low_dim)
        shapes = json.dumps({n: [list(a.shape), str(a.dtype)] for n, a in arrays.items()}).encode()
        height, width = arrays[self.camera].shape[1:3]
        self.info = SourceInfo(
            format="zarr",
            path=str(self.path.resolve()),
            version=f"zarr v{root.metadata.zarr_format}",
            metadata_sha256=metadata_sha256(shapes, self.ends.tobytes()),
            fps=float(root.attrs.get("fps", 10)),
            task_text=str(root.attrs.get("task", "")),
            camera=self.camera,
            cameras=cameras,
            frame_shape=(int(height), int(width)),
            action_dim=int(np.prod(arrays[ACTION_KEY].shape[1:])),
            state_dim=int(sum(np.prod(arrays[n].shape[1:]) for n in self.state_keys)),
            proprio_dim=int(sum(np.prod(arrays[n].shape[1:]) for n in self.state_keys)),
            lengths=tuple(int(n) for n in lengths),
            episode_indices=tuple(range(len(self.ends))),
            details={"state_keys": list(self.state_keys)},
        )

    def episode(self, index: int, first_step: int = 0) -> Episode:
        start = int(self.ends[index - 1]) if index else 0
        stop = int(self.ends[index])
        length, where = stop - start, f"{self.path}: episode {index}"
        parts = [as_float32(self.data[n][start:stop], n, length, where) for n in self.state_keys]
        state = np.concatenate(parts, 1) if parts else np.zeros((length, 0), np.float32)
        camera = self.data[self.camera]
        return Episode(
            action=as_float32(self.data[ACTION_KEY][start:stop], ACTION_KEY, length, where),
            state=state,
            proprio=state,
            frames=(camera[s : min(s + CHUNK_FRAMES, stop)] for s in range(start + first_step, stop, CHUNK_FRAMES)),
        )
