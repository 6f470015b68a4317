"""The demo store (`data/<task>.zarr`): one time axis, `episode_ends`, chunks along time.

Layout (SPEC section 5) and its single source of truth, `demo_arrays`:

    meta/episode_ends (E,) int64      meta/episode_seed (E,) int64    meta/episode_success (E,) bool
    data/action (T, A) float32        data/state (T, S) float32        data/proprio (T, P) float32
    data/reward (T,) float32          data/success (T,) bool           data/sim_state (T, Q) float64
    images/<setting>/rgb (T, H, W, 3) uint8                            masks/gt (T, H, W) uint8
    data/executed_action (T, A) float32, in stores collected with action noise (DART): the
    action the environment got; data/action is then the expert's clean action at that state

An imported store (`samg import`, `plan.source` set) has no simulator behind it: no reward,
success, sim_state nor masks/gt, episodes of their own lengths (`meta/episode_ends`, all
written at creation) and time chunks that may straddle episodes; its commit point is
`steps_written`, chunk-aligned, and the episodes that end within it are committed.

Arrays are created at their planned size; time chunks never straddle two episodes, so
each episode owns its chunks and writing it never touches a committed one. Group
attributes `episodes_committed` and `next_seed` are the commit point (zarr writes each
file atomically). A store whose `complete` attribute is false is a run in progress.
"""

import functools
import shutil
from collections.abc import Iterator
from dataclasses import MISSING, asdict, dataclass
from pathlib import Path

import numpy as np
import zarr
from zarr.codecs import ZstdCodec

from samg import __version__
from samg.errors import SamgError, writing
from samg.typecheck import check_field_types

FORMAT_NAME = "samg.demos"
# 2: rendered on the paper's benchmark (RL-ViGen / DMC-GB), see samg.benchmark; 3: Adroit
# frames as the paper's agents saw them (mujoco-py's row order, the benchmark's shadows)
FORMAT_VERSION = 3
FORMER_VERSIONS = {
    1: "samg's former visual settings, not the paper's benchmark",
    2: "the paper's benchmark, but flipped and without shadows against the frames the paper's agents saw",
}
TARGET_CHUNK_STEPS = 100  # measured: zstd-3 ratio 4.7 on 84x84 frames, see docs/benchmarks.md
COMPRESSOR = ZstdCodec(level=3, checksum=True)  # the checksum turns corrupt bytes into errors


class StoreError(SamgError):
    """A store that is missing, of another format, or inconsistent."""


class ChunkError(StoreError):
    """A chunk file of a stored array that is missing or does not decode."""


TimeSelection = slice | int | np.integer | np.ndarray


def chunk_file(array: zarr.Array, chunk: int) -> Path:
    """The file of time chunk `chunk` (arrays are chunked along time only)."""
    key = array.metadata.encode_chunk_key((chunk, *(0,) * (array.ndim - 1)))
    return Path(str(array.store.root)) / array.path / key


def _chunk_problem(array: zarr.Array, chunk: int, problem: str, hint: str | None) -> ChunkError:
    size = array.chunks[0]
    root = Path(str(array.store.root))
    hint = f"run 'samg info {root} --check'" if hint is None else hint
    message = f"{array.path or root.name}: chunk {chunk} (steps {chunk * size}-{(chunk + 1) * size - 1}) is {problem}"
    return ChunkError(f"{message}: {hint}" if hint else message)


def require_chunks(array: zarr.Array, selection: TimeSelection = slice(None), hint: str | None = None) -> list[int]:
    """The time chunks `selection` touches, after checking that each one's file exists:
    zarr would read a missing chunk as its fill value, zeros."""
    steps = np.atleast_1d(np.arange(array.shape[0])[selection])
    chunks = [int(c) for c in np.unique(steps // array.chunks[0])]
    for chunk in chunks:
        if not chunk_file(array, chunk).is_file():
            raise _chunk_problem(array, chunk, "missing (zarr would read it as zeros)", hint)
    return chunks


def checked_read(array: zarr.Array, selection: TimeSelection = slice(None), hint: str | None = None) -> np.ndarray:
    """`array[selection]` (along time), never zarr's fill value for a missing chunk file; a
    chunk that fails to decode (the zstd checksum) is named. `hint` says how to diagnose
    (default: `samg info STORE --check`; "" for none). Every read of stored arrays goes here."""
    chunks = require_chunks(array, selection, hint)
    try:
        return array[selection]
    except (RuntimeError, ValueError) as error:  # zstd: RuntimeError; a bad shape: ValueError
        bad = next((c for c in chunks if not _decodes(array, c)), chunks[0])
        reason = (str(error).splitlines() or [""])[0]
        raise _chunk_problem(array, bad, f"corrupt ({type(error).__name__}: {reason})", hint) from None


def _decodes(array: zarr.Array, chunk: int) -> bool:
    size = array.chunks[0]
    try:
        array[chunk * size : min((chunk + 1) * size, array.shape[0])]
    except (RuntimeError, ValueError):
        return False
    return True


@dataclass(frozen=True)
class StorePlan:
    """What a collection run writes; stored in the attributes and compared on resume."""

    task: str
    env_id: str
    camera: str | int
    image_size: int
    settings: tuple[str, ...]
    episodes: int
    episode_length: int
    seed: int
    keep_failures: bool
    expert: str
    expert_sha256: str
    mask_objects: tuple[str, ...]
    action_dim: int
    state_dim: int
    proprio_dim: int
    sim_state_dim: int
    benchmark: dict  # BenchmarkAssets.record(): benchmark name, hashes of the files used, missing ones
    action_noise: float = 0.0  # std of the Gaussian noise on executed actions (DART); 0: the expert's own
    total_steps: int = 0  # imported: the steps of all episodes; 0: episodes * episode_length
    source: dict | None = None  # imported: where from (format, path, version, metadata hash); None: simulator

    @property
    def imported(self) -> bool:
        return self.source is not None

    @property
    def planned_steps(self) -> int:
        return self.total_steps if self.imported else self.episodes * self.episode_length

    @property
    def has_ground_truth(self) -> bool:
        return not self.imported

    @property
    def chunk_steps(self) -> int:
        """Largest divisor of the episode length up to the target: chunks stay in one episode
        (an imported store's chunks hold the target, whatever the episodes)."""
        if self.imported:
            return max(1, min(TARGET_CHUNK_STEPS, self.total_steps))
        return max(d for d in range(1, min(TARGET_CHUNK_STEPS, self.episode_length) + 1) if self.episode_length % d == 0)

    def to_attrs(self) -> dict:
        attrs = asdict(self)
        attrs["settings"] = list(self.settings)
        attrs["mask_objects"] = list(self.mask_objects)
        return attrs

    @classmethod
    def from_attrs(cls, attrs: dict) -> "StorePlan":
        values = {name: attrs[name] for name, f in cls.__dataclass_fields__.items() if name in attrs or f.default is MISSING}
        values["settings"] = tuple(values["settings"])
        values["mask_objects"] = tuple(values["mask_objects"])
        plan = cls(**values)
        check_field_types(plan, StoreError)
        return plan


@dataclass(frozen=True)
class ArraySpec:
    key: str
    dtype: str
    step_shape: tuple[int, ...]


def demo_arrays(plan: StorePlan) -> list[ArraySpec]:
    """Every per-step array of a store, in order."""
    size = plan.image_size
    arrays = [
        ArraySpec("data/action", "float32", (plan.action_dim,)),
        ArraySpec("data/state", "float32", (plan.state_dim,)),
        ArraySpec("data/proprio", "float32", (plan.proprio_dim,)),
    ]
    if not plan.imported:
        arrays += [
            ArraySpec("data/reward", "float32", ()),
            ArraySpec("data/success", "bool", ()),
            ArraySpec("data/sim_state", "float64", (plan.sim_state_dim,)),
        ]
    if plan.action_noise > 0:
        arrays.append(ArraySpec("data/executed_action", "float32", (plan.action_dim,)))
    arrays += [ArraySpec(f"images/{name}/rgb", "uint8", (size, size, 3)) for name in plan.settings]
    if plan.has_ground_truth:
        arrays.append(ArraySpec("masks/gt", "uint8", (size, size)))
    return arrays


META_ARRAYS = (("meta/episode_ends", "int64"), ("meta/episode_seed", "int64"), ("meta/episode_success", "bool"))


def meta_arrays(plan: StorePlan) -> tuple[tuple[str, str], ...]:
    """An imported store has no success signal: its seeds are the source's episode indices."""
    return META_ARRAYS[:2] if plan.imported else META_ARRAYS


class DemoStore:
    """Read (and, for collection, write) a demo store.

    >>> store = DemoStore("data/door.zarr")
    >>> store.n_episodes, store.episode(0)["action"].shape
    """

    def __init__(self, path: str | Path, mode: str = "r"):
        self.path = Path(path)
        if not (self.path / "zarr.json").is_file():
            raise StoreError(f"no demo store at {self.path}: create one with 'samg collect TASK --out {self.path}'")
        try:
            self.group = zarr.open_group(self.path, mode=mode)
            attrs = self.group.attrs.asdict()
        except (ValueError, TypeError, KeyError, OSError, zarr.errors.BaseZarrError) as error:
            raise StoreError(f"{self.path}/zarr.json is unreadable ({type(error).__name__}: {error})") from None
        if attrs.get("format") != FORMAT_NAME:
            raise StoreError(f"{self.path} is not a samg demo store (format {attrs.get('format')!r})")
        if attrs.get("format_version") in FORMER_VERSIONS:
            episodes = attrs.get("episodes", 300)
            raise StoreError(
                f"{self.path} was rendered with {FORMER_VERSIONS[attrs['format_version']]}: "
                f"rebuild it with 'rm -r {self.path} && samg collect {attrs.get('task', 'TASK')} "
                f"--episodes {episodes} --out {self.path}'"
            )
        if attrs.get("format_version") != FORMAT_VERSION:
            raise StoreError(
                f"{self.path} has format_version {attrs.get('format_version')!r}; this samg "
                f"({__version__}) reads version {FORMAT_VERSION}: use a matching samg release"
            )
        try:
            self.plan = StorePlan.from_attrs(attrs)
            committed = attrs["episodes_committed"]
        except (KeyError, TypeError) as error:
            raise StoreError(f"{self.path} has incomplete attributes ({type(error).__name__}: {error})") from None
        if type(committed) is not int or not 0 <= committed <= self.plan.episodes:
            raise StoreError(f"{self.path} says {committed!r} episodes are committed, of {self.plan.episodes} planned")
        self._ends_checked = False

    @classmethod
    def create(cls, path: str | Path, plan: StorePlan) -> "DemoStore":
        path = Path(path)
        if path.is_symlink() and not path.exists():
            raise StoreError(f"{path} is a symbolic link to nothing (a loop or a missing target): choose another --out")
        if path.exists() and (not path.is_dir() or any(path.iterdir())):
            raise StoreError(f"{path} exists and is not a demo store: choose another --out")
        existed = path.exists()
        try:
            with writing(path):
                return cls._create(path, plan)
        except BaseException:  # a store without its attributes would be refused as foreign, not resumed
            shutil.rmtree(path, ignore_errors=True)
            if existed:
                path.mkdir()
            raise

    @classmethod
    def _create(cls, path: Path, plan: StorePlan) -> "DemoStore":
        group = zarr.open_group(path, mode="w")
        total = plan.planned_steps
        for spec in demo_arrays(plan):
            group.create_array(
                spec.key,
                shape=(total, *spec.step_shape),
                chunks=(plan.chunk_steps, *spec.step_shape),
                dtype=spec.dtype,
                compressors=[COMPRESSOR],
                fill_value=0,
            )
        for key, dtype in meta_arrays(plan):
            group.create_array(
                key,
                shape=(plan.episodes,),
                chunks=(plan.episodes,),
                dtype=dtype,
                compressors=[COMPRESSOR],
                fill_value=0,
            )
        group.update_attributes(  # one write (attrs.update would write once per key)
            {
                "format": FORMAT_NAME,
                "format_version": FORMAT_VERSION,
                "package_version": __version__,
                **plan.to_attrs(),
                "episodes_committed": 0,
                "steps_written": 0,
                "next_seed": plan.seed,
                "seeds_tried": 0,
                "complete": False,
            }
        )
        return cls(path, mode="r+")

    # ---- reading -------------------------------------------------------------------------

    @property
    def attrs(self) -> dict:
        return self.group.attrs.asdict()

    @property
    def n_episodes(self) -> int:
        return int(self.attrs["episodes_committed"])

    @property
    def complete(self) -> bool:
        return bool(self.attrs["complete"])

    @property
    def n_steps(self) -> int:
        if self.plan.imported:
            return int(self.episode_ends[-1]) if self.n_episodes else 0
        return self.n_episodes * self.plan.episode_length

    @property
    def episode_ends(self) -> np.ndarray:
        return self.check_episode_ends()

    def check_episode_ends(self) -> np.ndarray:
        """Where each committed episode ends: every episode has the task's length, so the ends
        are fixed; anything else is a damaged store."""
        ends = self.read("meta/episode_ends", slice(self.n_episodes))
        if self.plan.imported:
            self._check_imported_ends(ends)
            return ends
        expected = np.arange(1, len(ends) + 1, dtype=np.int64) * self.plan.episode_length
        if not np.array_equal(ends, expected):
            first = int(np.flatnonzero(ends != expected)[0])
            raise StoreError(
                f"{self.path}: meta/episode_ends does not count episodes of the task's length (episode {first} ends "
                f"at step {ends[first]}, not {expected[first]}): the store is damaged, collect it again"
            )
        self._ends_checked = True
        return ends

    def _check_imported_ends(self, ends: np.ndarray) -> None:
        lengths = np.diff(ends, prepend=0)
        if len(ends) and (lengths.min() < 1 or ends[-1] > self.plan.total_steps):
            raise StoreError(
                f"{self.path}: meta/episode_ends is not increasing within the {self.plan.total_steps} steps "
                f"imported: the store is damaged, import it again"
            )
        self._ends_checked = True
        self._ends = ends

    @property
    def episode_lengths(self) -> np.ndarray:
        return np.diff(self.episode_ends, prepend=0)

    @property
    def episode_seeds(self) -> np.ndarray:
        return self.read("meta/episode_seed", slice(self.n_episodes))

    @property
    def episode_success(self) -> np.ndarray:
        """Per committed episode; an imported store has no success signal: StoreError."""
        if self.plan.imported:
            raise StoreError(f"{self.path} is imported ({self.plan.source['format']}): it has no success signal")
        return self.read("meta/episode_success", slice(self.n_episodes))

    def array(self, key: str) -> zarr.Array:
        """A stored array, of the shape and dtype the plan says (else every read would be wrong)."""
        try:
            array = self.group[key]
        except (KeyError, ValueError, TypeError, zarr.errors.BaseZarrError):
            raise StoreError(f"{self.path} has no readable array {key!r}: run 'samg info {self.path} --check'") from None
        expected = self._expected.get(key)
        if expected is not None and (array.shape, str(array.dtype)) != expected:
            raise StoreError(
                f"{key} has shape {array.shape} and dtype {array.dtype}, expected {expected[0]} and {expected[1]}: "
                f"run 'samg info {self.path} --check'"
            )
        return array

    @functools.cached_property
    def _expected(self) -> dict[str, tuple[tuple[int, ...], str]]:
        total = self.plan.planned_steps
        expected = {spec.key: ((total, *spec.step_shape), spec.dtype) for spec in demo_arrays(self.plan)}
        return expected | {key: ((self.plan.episodes,), dtype) for key, dtype in meta_arrays(self.plan)}

    def read(self, key: str, selection: TimeSelection = slice(None), hint: str | None = None) -> np.ndarray:
        """`key[selection]`, refusing missing and corrupt chunks (see `checked_read`) and, in a
        float array, NaN and infinity: checked once per block read, no reader sees them."""
        values = checked_read(self.array(key), selection, hint)
        if values.dtype.kind == "f" and not np.isfinite(values).all():
            bad = ~np.isfinite(np.atleast_1d(values))
            first = int(np.flatnonzero(bad.reshape(len(bad), -1).any(1))[0])
            step = int(np.atleast_1d(np.arange(self.array(key).shape[0])[selection])[first])
            episode = self.episode_of(step)
            raise StoreError(
                f"{self.path}: {key} holds a non-finite value (NaN or infinity) at step {step}, in episode {episode}: "
                f"the store is damaged, collect it again (or use only the episodes before {episode})"
            )
        return values

    def episode_slice(self, index: int) -> slice:
        if not self._ends_checked:  # once per store opened: every reader locates episodes here
            self.check_episode_ends()
        if not 0 <= index < self.n_episodes:
            raise IndexError(f"episode {index} out of range: the store has {self.n_episodes}")
        if self.plan.imported:
            return slice(int(self._ends[index - 1]) if index else 0, int(self._ends[index]))
        length = self.plan.episode_length
        return slice(index * length, (index + 1) * length)

    def episode_of(self, step: int) -> int:
        """The episode that step `step` belongs to."""
        if self.plan.imported:
            ends = self.read("meta/episode_ends", slice(self.plan.episodes))
            return int(np.searchsorted(ends, step, side="right"))
        return step // self.plan.episode_length

    def episode(self, index: int, settings: tuple[str, ...] = ()) -> dict[str, np.ndarray]:
        """Low-dimensional arrays of one episode, plus the frames of the named settings."""
        steps = self.episode_slice(index)
        for name in settings:
            if name not in self.plan.settings:
                raise StoreError(f"{self.path} has no setting {name!r}; it has {', '.join(self.plan.settings)}")
        low_dim = [spec.key for spec in demo_arrays(self.plan) if spec.key.startswith("data/")]
        episode = {key.split("/")[1]: self.read(key, steps) for key in low_dim}
        for name in settings:
            episode[f"rgb/{name}"] = self.read(f"images/{name}/rgb", steps)
        if self.plan.has_ground_truth:
            episode["mask"] = self.read("masks/gt", steps)
        return episode

    def episodes(self, settings: tuple[str, ...] = ()) -> Iterator[dict[str, np.ndarray]]:
        for index in range(self.n_episodes):
            yield self.episode(index, settings)

    # ---- writing (collection) ------------------------------------------------------------

    def _writable(self, key: str) -> zarr.Array:
        """Every chunk written, even all-zero ones, so a missing chunk file means lost data."""
        return self.group[key].with_config({"write_empty_chunks": True})

    def write_episode(self, index: int, steps: dict[str, np.ndarray]) -> None:
        """Write one episode's per-step arrays (keys as in `demo_arrays`) into its own chunks."""
        length = self.plan.episode_length
        at = slice(index * length, (index + 1) * length)
        with writing(self.path):
            for spec in demo_arrays(self.plan):
                self._writable(spec.key)[at] = steps[spec.key]

    def commit_episode(self, index: int, seed: int, success: bool, next_seed: int, seeds_tried: int) -> None:
        """Make episode `index` part of the store (all earlier ones must be committed)."""
        if index != self.n_episodes:
            raise StoreError(f"commit of episode {index} out of order: {self.n_episodes} are committed")
        with writing(self.path):
            self._writable("meta/episode_ends")[index] = (index + 1) * self.plan.episode_length
            self._writable("meta/episode_seed")[index] = seed
            self._writable("meta/episode_success")[index] = success
            # The commit point: one atomic write of zarr.json. `group.attrs.update` would write
            # once per key, and a kill between two of them left committed=1 with next_seed=0.
            self.group.update_attributes({"episodes_committed": index + 1, "next_seed": next_seed, "seeds_tried": seeds_tried})

    # ---- writing (import) ----------------------------------------------------------------

    def write_episode_table(self, ends: np.ndarray, source_indices: np.ndarray) -> None:
        """An imported store's episode ends and source episode indices, known before any frame."""
        with writing(self.path):
            self._writable("meta/episode_ends")[:] = ends
            self._writable("meta/episode_seed")[:] = source_indices

    def write_steps(self, start: int, steps: dict[str, np.ndarray]) -> None:
        """Write consecutive steps (keys as in `demo_arrays`) from step `start` (whole chunks)."""
        length = len(next(iter(steps.values())))
        with writing(self.path):
            for spec in demo_arrays(self.plan):
                self._writable(spec.key)[start : start + length] = steps[spec.key]

    def commit_steps(self, steps_written: int) -> None:
        """The import's commit point: the episodes that end within `steps_written` are committed."""
        ends = self.read("meta/episode_ends", slice(self.plan.episodes))
        committed = int(np.searchsorted(ends, steps_written, side="right"))
        with writing(self.path):
            self.group.update_attributes({"steps_written": steps_written, "episodes_committed": committed})

    def mark_complete(self, **stats) -> None:
        with writing(self.path):
            self.group.update_attributes({"complete": True, **stats})

    def remove_partial_files(self) -> int:
        """Temporary files a killed writer left behind (zarr writes `*.partial`, then renames)."""
        leftovers = list(self.path.rglob("*.partial"))
        for path in leftovers:
            path.unlink(missing_ok=True)
        return len(leftovers)
