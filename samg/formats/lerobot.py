"""LeRobot v3.0 on disk: `meta/info.json` (features, fps, path templates), episode rows in
`meta/episodes/chunk-*/file-*.parquet` (length, data and video file indices, each video's
from/to timestamps), frames' rows in `data/` parquet, one MP4 per camera and file in
`videos/` (see docs/own_data.md, format notes). Videos are decoded with PyAV."""

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from samg.formats.source import Episode, FormatError, SourceInfo, as_float32, choose_camera, metadata_sha256

CODEBASE_VERSION = "v3.0"
IMAGE_PREFIX = "observation.images."
STATE_KEY, ACTION_KEY = "observation.state", "action"
CHUNK_FRAMES = 64


def _parquet(path: Path, **options):
    import pyarrow as pa
    import pyarrow.parquet as pq

    if not path.is_file():
        raise FormatError(f"{path} is missing: the LeRobot dataset is incomplete, download it again")
    try:
        return pq.read_table(path, **options)
    except (pa.ArrowException, OSError) as error:
        reason = (str(error).splitlines() or [""])[0]
        raise FormatError(f"{path} is not a readable parquet file ({reason}): the file is damaged, download it again") from None


def column_array(table, name: str) -> np.ndarray:
    """A column of numbers or of fixed-length lists of numbers, as (N,) or (N, D)."""
    import pyarrow as pa

    column = table.column(name).combine_chunks()
    if pa.types.is_list(column.type) or pa.types.is_fixed_size_list(column.type) or pa.types.is_large_list(column.type):
        return np.asarray(column.flatten().to_numpy(zero_copy_only=False)).reshape(len(column), -1)
    return np.asarray(column.to_numpy(zero_copy_only=False))


class LeRobotReader:
    def __init__(self, root: Path, camera: str | None = None):
        self.root = Path(root)
        info_path = self.root / "meta" / "info.json"
        if not info_path.is_file():
            raise FormatError(f"{self.root} has no meta/info.json: pass a LeRobot dataset folder")
        info_bytes = info_path.read_bytes()
        try:
            self.meta = json.loads(info_bytes)
            version, fps, features = self.meta["codebase_version"], float(self.meta["fps"]), self.meta["features"]
        except (json.JSONDecodeError, KeyError, TypeError, ValueError) as error:
            raise FormatError(f"{info_path} is not a LeRobot info.json ({type(error).__name__}: {error})") from None
        if version != CODEBASE_VERSION:
            raise FormatError(
                f"{self.root} is LeRobot {version}; samg reads {CODEBASE_VERSION}: convert it with lerobot's "
                f"convert_dataset_v21_to_v30 script"
            )
        self.features = features
        cameras = tuple(k.removeprefix(IMAGE_PREFIX) for k, f in sorted(features.items()) if f.get("dtype") == "video")
        if not cameras and any(f.get("dtype") == "image" for f in features.values()):
            raise FormatError(f"{self.root} keeps its frames as images in parquet; samg imports video features only")
        self.camera = choose_camera(cameras, camera, self.root)
        self.video_key = IMAGE_PREFIX + self.camera
        if ACTION_KEY not in features:
            raise FormatError(f"{self.root} has no '{ACTION_KEY}' feature: samg imports demonstrations with actions")
        episode_files = sorted((self.root / "meta" / "episodes").glob("chunk-*/file-*.parquet"))
        if not episode_files:
            raise FormatError(f"{self.root} has no meta/episodes/chunk-*/file-*.parquet: the dataset is incomplete")
        wanted = ["episode_index", "tasks", "length", "data/chunk_index", "data/file_index", "dataset_from_index",
                  *(f"videos/{self.video_key}/{k}" for k in ("chunk_index", "file_index", "from_timestamp", "to_timestamp"))]  # fmt: skip
        rows: dict[str, list] = {name: [] for name in wanted}
        for path in episode_files:
            table = _parquet(path)
            missing = [name for name in wanted if name not in table.column_names]
            if missing:
                raise FormatError(f"{path} has no column {missing[0]!r}: not a LeRobot v3.0 episodes table")
            for name in wanted:
                rows[name] += table.column(name).to_pylist()
        order = np.argsort(rows["episode_index"], kind="stable")
        self.episodes = [{name: rows[name][i] for name in wanted} for i in order]
        height, width = self._shape(features[self.video_key])
        state = features.get(STATE_KEY)
        state_dim = int(np.prod(state["shape"])) if state else 0
        tasks = list(dict.fromkeys(t for e in self.episodes for t in (e["tasks"] or [])))
        self.info = SourceInfo(
            format="lerobot",
            path=str(self.root.resolve()),
            version=version,
            metadata_sha256=metadata_sha256(info_bytes, *(p.read_bytes() for p in episode_files)),
            fps=fps,
            task_text=" | ".join(tasks),
            camera=self.camera,
            cameras=cameras,
            frame_shape=(height, width),
            action_dim=int(np.prod(features[ACTION_KEY]["shape"])),
            state_dim=state_dim,
            proprio_dim=state_dim,
            lengths=tuple(int(e["length"]) for e in self.episodes),
            episode_indices=tuple(int(e["episode_index"]) for e in self.episodes),
            details={"video_key": self.video_key, "state_key": STATE_KEY if state else None},
        )

    def _shape(self, feature: dict) -> tuple[int, int]:
        names, shape = feature.get("names") or ["height", "width", "channels"], feature["shape"]
        try:
            return int(shape[names.index("height")]), int(shape[names.index("width")])
        except (ValueError, IndexError):
            raise FormatError(f"{self.root}: feature {self.video_key} has shape {shape} named {names}") from None

    def _path(self, template_key: str, row: dict, prefix: str, **extra) -> Path:
        template = self.meta.get(template_key)
        chunk, file = row[f"{prefix}/chunk_index"], row[f"{prefix}/file_index"]
        return self.root / template.format(chunk_index=int(chunk), file_index=int(file), **extra)

    def episode(self, index: int, first_step: int = 0) -> Episode:
        row = self.episodes[index]
        number, length = int(row["episode_index"]), int(row["length"])
        data_path = self._path("data_path", row, "data")
        columns = ["episode_index", "timestamp", ACTION_KEY] + ([STATE_KEY] if self.info.state_dim else [])
        table = _parquet(data_path, columns=columns, filters=[("episode_index", "==", number)])
        where = f"{data_path}: episode {number}"
        if table.num_rows != length:
            raise FormatError(f"{where} has {table.num_rows} rows, meta/episodes says {length}: the dataset is inconsistent")
        action = as_float32(column_array(table, ACTION_KEY), ACTION_KEY, length, where)
        state = (
            as_float32(column_array(table, STATE_KEY), STATE_KEY, length, where)
            if self.info.state_dim else np.zeros((length, 0), np.float32)
        )  # fmt: skip
        video = self._path("video_path", row, f"videos/{self.video_key}", video_key=self.video_key)
        if not video.is_file():
            raise FormatError(f"{video} is missing (camera {self.camera}, episode {number}): download the dataset again")
        start = float(row[f"videos/{self.video_key}/from_timestamp"])
        stop = float(row[f"videos/{self.video_key}/to_timestamp"])
        frames = decode_frames(video, start, stop, self.info.fps, first_step)
        return Episode(action=action, state=state, proprio=state, frames=frames)


def decode_frames(path: Path, start: float, stop: float, fps: float, skip: int) -> Iterator[np.ndarray]:
    """The frames of [start, stop) seconds of an MP4, `skip` first ones left out, in pieces
    (PyAV seeks to the keyframe before `start`, then decodes forward)."""
    import av

    half = 0.5 / fps
    try:
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            container.seek(max(0, int((start - half) / stream.time_base)), stream=stream, backward=True)
            piece: list[np.ndarray] = []
            seen = 0
            for frame in container.decode(stream):
                time = float(frame.pts * stream.time_base)
                if time < start - half:
                    continue
                if time >= stop - half:
                    break
                seen += 1
                if seen > skip:
                    piece.append(frame.to_ndarray(format="rgb24"))
                if len(piece) == CHUNK_FRAMES:
                    yield np.stack(piece)
                    piece = []
            if piece:
                yield np.stack(piece)
    except (av.FFmpegError, OSError) as error:
        raise FormatError(f"{path} does not decode ({type(error).__name__}: {error}): the video is damaged") from None
