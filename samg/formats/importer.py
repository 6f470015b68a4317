"""`samg import FORMAT SOURCE`: a dataset's chosen camera into the `train` setting of a new
samg store, streamed episode by episode and written in whole time chunks; a killed import,
re-run, continues from its last committed chunk (`steps_written`)."""

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from samg.errors import SamgError
from samg.formats.source import DatasetReader, FormatError, SourceInfo
from samg.pipeline.lock import StoreLock
from samg.pipeline.store import DemoStore, StorePlan

IMPORT_SETTING = "train"  # what every samg command reads


def _lerobot(path: Path, camera: str | None) -> DatasetReader:
    from samg.formats.lerobot import LeRobotReader

    return LeRobotReader(path, camera)


def _robomimic(path: Path, camera: str | None) -> DatasetReader:
    from samg.formats.robomimic import RobomimicReader

    return RobomimicReader(path, camera)


def _zarr(path: Path, camera: str | None) -> DatasetReader:
    from samg.formats.replay_zarr import ReplayZarrReader

    return ReplayZarrReader(path, camera)


READERS: dict[str, Callable[[Path, str | None], DatasetReader]] = {
    "lerobot": _lerobot,
    "robomimic": _robomimic,
    "zarr": _zarr,
}


@dataclass(frozen=True)
class ImportConfig:
    format: str
    source: Path
    out: Path | None = None  # default data/<name>.zarr
    name: str | None = None  # the store's task name (its prompt folder); default: the source's file name
    camera: str | None = None  # default: the first camera, in name order
    image_size: int | None = None  # default: the frames' own (square) size

    def __post_init__(self):
        if self.format not in READERS:
            raise SamgError(f"unknown format {self.format!r}; valid formats: {', '.join(READERS)}")
        if self.image_size is not None and self.image_size < 16:
            raise SamgError(f"--image-size must be at least 16, got {self.image_size}")

    @property
    def store_name(self) -> str:
        return self.name or self.source.resolve().name.split(".")[0]

    @property
    def store_path(self) -> Path:
        return self.out or Path("data") / f"{self.store_name}.zarr"


@dataclass
class ImportProgress:
    frames_done: int
    frames_total: int


def import_plan(config: ImportConfig, info: SourceInfo) -> StorePlan:
    height, width = info.frame_shape
    if config.image_size is None and height != width:
        raise FormatError(
            f"{config.source}: camera {info.camera} is {width}x{height}; samg stores square frames: "
            f"pass --image-size N to resize (the original size is recorded)"
        )
    source = {
        "format": info.format,
        "path": info.path,
        "version": info.version,
        "metadata_sha256": info.metadata_sha256,
        "fps": info.fps,
        "task_text": info.task_text,
        "camera": info.camera,
        "original_size": [height, width],
        **info.details,
    }
    return StorePlan(
        task=config.store_name,
        env_id="",
        camera=info.camera,
        image_size=config.image_size or height,
        settings=(IMPORT_SETTING,),
        episodes=len(info.lengths),
        episode_length=0,
        seed=0,
        keep_failures=True,
        expert="",
        expert_sha256="",
        mask_objects=(),
        action_dim=info.action_dim,
        state_dim=info.state_dim,
        proprio_dim=info.proprio_dim,
        sim_state_dim=0,
        benchmark={},
        total_steps=info.total_steps,
        source=source,
    )


def _open(path: Path, plan: StorePlan, info: SourceInfo) -> DemoStore:
    if not (path / "zarr.json").exists():
        store = DemoStore.create(path, plan)
        store.write_episode_table(np.cumsum(info.lengths), np.asarray(info.episode_indices))
        return store
    store = DemoStore(path, mode="r+")
    if store.plan != plan:
        ours, theirs = plan.to_attrs(), store.plan.to_attrs()
        differing = [f"{k}: store {theirs.get(k)!r} vs now {ours[k]!r}" for k in ours if ours[k] != theirs.get(k)]
        raise SamgError(
            f"{path} was imported from another source or with other options ({'; '.join(differing)[:300]}): "
            f"repeat the original command to resume, or choose another --out"
        )
    store.remove_partial_files()
    return store


def resize(frames: np.ndarray, size: int) -> np.ndarray:
    if frames.shape[1:3] == (size, size):
        return np.ascontiguousarray(frames)
    return np.stack([np.asarray(Image.fromarray(f).resize((size, size), Image.Resampling.BILINEAR)) for f in frames])


def _steps(reader: DatasetReader, store: DemoStore, start: int) -> Iterator[dict[str, np.ndarray]]:
    """The store's per-step arrays from step `start` to the end, in pieces."""
    ends = np.cumsum(reader.info.lengths)
    size = store.plan.image_size
    for index in range(int(np.searchsorted(ends, start, side="right")), len(ends)):
        first = int(ends[index - 1]) if index else 0
        skip = max(0, start - first)
        episode = reader.episode(index, skip)
        at = skip
        for frames in episode.frames:
            frames = np.asarray(frames)
            if frames.ndim != 4 or frames.shape[-1] != 3 or frames.dtype != np.uint8:
                raise FormatError(f"{reader.info.path}: episode {index} frames are {frames.shape} {frames.dtype}, not RGB uint8")
            stop = at + len(frames)
            if stop > len(episode.action):
                at = stop
                break
            yield {
                "data/action": episode.action[at:stop],
                "data/state": episode.state[at:stop],
                "data/proprio": episode.proprio[at:stop],
                f"images/{IMPORT_SETTING}/rgb": resize(frames, size),
            }
            at = stop
        if at != len(episode.action):
            extra = "more" if at > len(episode.action) else f"only {at - skip}"
            raise FormatError(
                f"{reader.info.path}: episode {reader.info.episode_indices[index]} has {extra} frames of "
                f"{reader.info.camera} for its {len(episode.action)} steps: the dataset's frame counts do not match"
            )


def import_dataset(
    config: ImportConfig, on_progress: Callable[[ImportProgress], None] | None = None
) -> DemoStore:
    """Import (or resume importing) `config.source` into a samg store; returns it complete."""
    reader = READERS[config.format](config.source, config.camera)
    plan = import_plan(config, reader.info)
    path = config.store_path
    with StoreLock(path, purpose=f"samg import {config.format}"):
        store = _open(path, plan, reader.info)
        if store.complete:
            return store
        written = int(store.attrs["steps_written"])
        chunk, total = plan.chunk_steps, plan.total_steps
        progress = ImportProgress(written, total)
        pending: list[dict[str, np.ndarray]] = []
        buffered = 0
        for piece in _steps(reader, store, written):
            pending.append(piece)
            buffered += len(piece["data/action"])
            while buffered >= chunk or (buffered and written + buffered == total):
                steps = {key: np.concatenate([p[key] for p in pending]) for key in pending[0]}
                count = min(buffered, chunk * (buffered // chunk) or buffered)
                store.write_steps(written, {key: value[:count] for key, value in steps.items()})
                written += count
                store.commit_steps(written)
                pending = [{key: value[count:] for key, value in steps.items()}]
                buffered -= count
                progress.frames_done = written
                if on_progress is not None:
                    on_progress(progress)
        store.mark_complete()
    return store
