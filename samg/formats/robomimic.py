"""robomimic / robosuite HDF5: `data/demo_N/{obs/<key>, actions, states}`, attributes
`data.env_args` (JSON) and `demo_N.num_samples` (see docs/own_data.md, format notes)."""

import json
import re
from pathlib import Path

import numpy as np

from samg.formats.source import Episode, FormatError, SourceInfo, as_float32, choose_camera, metadata_sha256

IMAGE_SUFFIX = "_image"
CHUNK_FRAMES = 64


def _demo_number(name: str) -> int:
    return int(name.split("_", 1)[1])


class RobomimicReader:
    """Reads one robomimic HDF5 file; h5py reads data only (no pickles)."""

    def __init__(self, path: Path, camera: str | None = None):
        import h5py

        self.path = Path(path)
        try:
            self.file = h5py.File(self.path, "r")
        except (OSError, ValueError) as error:
            raise FormatError(f"{self.path} is not a readable HDF5 file ({error}): pass a robomimic .hdf5") from None
        if "data" not in self.file:
            raise FormatError(f"{self.path} has no 'data' group: not a robomimic dataset")
        data = self.file["data"]
        self.demos = sorted((k for k in data if re.fullmatch(r"demo_\d+", k)), key=_demo_number)
        if not self.demos:
            raise FormatError(f"{self.path} has no data/demo_N groups: not a robomimic dataset")
        first = data[self.demos[0]]
        if "obs" not in first or "actions" not in first or "states" not in first:
            raise FormatError(f"{self.path}: {self.demos[0]} lacks obs, actions or states: not a robomimic dataset")
        obs = first["obs"]
        cameras = tuple(k for k in sorted(obs) if k.endswith(IMAGE_SUFFIX) and obs[k].ndim == 4)
        self.camera = choose_camera(tuple(c.removesuffix(IMAGE_SUFFIX) for c in cameras), camera, self.path)
        self.proprio_keys = tuple(k for k in sorted(obs) if obs[k].ndim <= 2 and not k.endswith(("_image", "_depth")))
        env_args = str(data.attrs.get("env_args", "{}"))
        try:
            env_name = str(json.loads(env_args).get("env_name", ""))
        except (json.JSONDecodeError, AttributeError):
            raise FormatError(f"{self.path}: data.env_args is not a JSON object") from None
        lengths = tuple(self._length(name) for name in self.demos)
        height, width, channels = obs[self.camera + IMAGE_SUFFIX].shape[1:]
        if channels != 3:
            raise FormatError(f"{self.path}: camera {self.camera} has {channels} channels, samg reads RGB (3)")
        table = json.dumps([[name, n] for name, n in zip(self.demos, lengths)]).encode()
        self.info = SourceInfo(
            format="robomimic",
            path=str(self.path.resolve()),
            version=str(data.attrs.get("repository_version", "")),
            metadata_sha256=metadata_sha256(env_args.encode(), table),
            fps=float(data.attrs.get("control_freq", 20)),
            task_text=env_name,
            camera=self.camera,
            cameras=tuple(c.removesuffix(IMAGE_SUFFIX) for c in cameras),
            frame_shape=(int(height), int(width)),
            action_dim=int(np.prod(first["actions"].shape[1:])),
            state_dim=int(np.prod(first["states"].shape[1:])),
            proprio_dim=int(sum(np.prod(obs[k].shape[1:]) for k in self.proprio_keys)),
            lengths=lengths,
            episode_indices=tuple(_demo_number(name) for name in self.demos),
            details={"proprio_keys": list(self.proprio_keys), "env_args": env_args},
        )

    def _length(self, name: str) -> int:
        demo = self.file["data"][name]
        stated = demo.attrs.get("num_samples")
        actual = demo["actions"].shape[0]
        if stated is not None and int(stated) != actual:
            raise FormatError(f"{self.path}: {name} says num_samples {int(stated)} but has {actual} actions")
        return int(actual)

    def episode(self, index: int, first_step: int = 0) -> Episode:
        name = self.demos[index]
        demo = self.file["data"][name]
        length = self.info.lengths[index]
        where = f"{self.path}: {name}"
        frames = demo["obs"].get(self.camera + IMAGE_SUFFIX)
        if frames is None:
            raise FormatError(f"{where} has no obs/{self.camera}{IMAGE_SUFFIX}: every demo needs the chosen camera")
        if frames.shape[0] != length:
            raise FormatError(f"{where}: {frames.shape[0]} frames of {self.camera} against {length} actions")
        proprio = [as_float32(demo["obs"][k][()], k, length, where) for k in self.proprio_keys]
        return Episode(
            action=as_float32(demo["actions"][()], "actions", length, where),
            state=as_float32(demo["states"][()], "states", length, where),
            proprio=np.concatenate(proprio, 1) if proprio else np.zeros((length, 0), np.float32),
            frames=(frames[start : start + CHUNK_FRAMES] for start in range(first_step, length, CHUNK_FRAMES)),
        )
