"""Predicted masks inside a demo store: `masks/<name>/`.

    masks/<name>/<setting>         (T, H, W) bool, chunked along time like the images
    masks/<name>/counts/<setting>  (T, 1 + n_objects, 3) int32: pixel counts against masks/gt
                                   (see `quality.py`), same time chunks
    masks/<name>/seconds/<setting> (T / chunk,) float64: the segmenter's seconds on each block,
                                   a chunk per block (NaN: not recorded, as in older sets)

A block is one time chunk of one setting. Its mask chunk is written first, then its
seconds, and its counts chunk last, each file atomically, so a block is done exactly when
the mask and counts chunk files exist and decode. The seconds travel with the block, so the
timings of a set made over several runs (a killed one, then its resume) add up all of them.
Nothing outside `masks/<name>/` is ever written.
"""

import re
import shutil
from collections.abc import Iterator

import numpy as np
import zarr

from samg.errors import SamgError, writing
from samg.pipeline.store import COMPRESSOR, DemoStore, StoreError, checked_read, chunk_file

NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
SIMPLE_VIEWS = ("none", "oracle", "blank")  # masked views computed on the fly, nothing stored
RESERVED_NAMES = ("gt", "counts", "blank")  # blank: the black-frame view would shadow a mask set of that name
UNREADABLE = (ValueError, TypeError, KeyError, OSError, zarr.errors.BaseZarrError)  # what broken metadata raises


class MasksError(SamgError):
    """Predicted masks that are missing, incomplete or of another configuration."""


def check_mask_name(name: str) -> str:
    if not NAME_PATTERN.fullmatch(name) or name in RESERVED_NAMES:
        raise MasksError(
            f"invalid mask name {name!r}: use letters, digits, '_', '.', '-' (not {', '.join(RESERVED_NAMES)})"
        )
    return name


class MaskSet:
    """One named set of predicted masks in a store."""

    def __init__(self, store: DemoStore, name: str):
        self.store, self.name = store, check_mask_name(name)
        self.key = f"masks/{name}"

    @property
    def exists(self) -> bool:
        return (self.store.path / self.key / "zarr.json").is_file()

    @property
    def group(self) -> zarr.Group:
        if not self.exists:
            raise MasksError(f"{self.store.path} has no masks named {self.name!r}: run 'samg segment {self.store.path}'")
        try:
            return zarr.open_group(self.store.path / self.key, mode="r")
        except UNREADABLE as error:
            raise self._unreadable(self.key, error) from None

    @property
    def attrs(self) -> dict:
        return self.group.attrs.asdict()

    def _unreadable(self, key: str, error: Exception) -> MasksError:
        return MasksError(
            f"{self.store.path}/{key} is unreadable ({type(error).__name__}: {error}): "
            f"segment again with 'samg segment {self.store.path} --name {self.name} --overwrite'"
        )

    def create(self, settings: tuple[str, ...], attrs: dict) -> None:
        """(Re)create the group with empty arrays for `settings`."""
        path = self.store.path / self.key
        if path.exists():
            shutil.rmtree(path)
        plan = self.store.plan
        total, size = plan.planned_steps, plan.image_size
        group = zarr.open_group(path, mode="w")
        for setting in settings:
            for key, shape, dtype in (
                (setting, (size, size), "bool"),
                (f"counts/{setting}", (1 + len(plan.mask_objects), 3), "int32"),
            ):
                group.create_array(
                    key,
                    shape=(total, *shape),
                    chunks=(plan.chunk_steps, *shape),
                    dtype=dtype,
                    compressors=[COMPRESSOR],
                    fill_value=0,
                )
        self.add_seconds(settings)
        group.update_attributes(attrs)

    def add_seconds(self, settings: tuple[str, ...]) -> None:
        """The per-block seconds arrays of `settings` that are not there yet (sets made before
        they were recorded get them on their next run)."""
        group = zarr.open_group(self.store.path / self.key, mode="r+")
        plan = self.store.plan
        blocks = -(-plan.planned_steps // plan.chunk_steps)
        for setting in settings:
            if f"seconds/{setting}" not in group:
                group.create_array(f"seconds/{setting}", shape=(blocks,), chunks=(1,), dtype="float64",
                                   compressors=[COMPRESSOR], fill_value=np.nan)  # fmt: skip

    def update_attributes(self, attrs: dict) -> None:
        zarr.open_group(self.store.path / self.key, mode="r+").update_attributes(attrs)

    def settings(self) -> tuple[str, ...]:
        settings = self.attrs.get("settings", [])
        if not isinstance(settings, list) or not all(isinstance(s, str) for s in settings):
            raise self._unreadable(f"{self.key}/zarr.json", TypeError(f"settings {settings!r} is not a list of names"))
        return tuple(settings)

    def _array(self, key: str) -> zarr.Array:
        try:
            return zarr.open_array(self.store.path, path=f"{self.key}/{key}", mode="r")
        except (FileNotFoundError, zarr.errors.NodeNotFoundError):
            raise MasksError(f"masks {self.name!r} of {self.store.path} have no {key!r}") from None
        except UNREADABLE as error:
            raise self._unreadable(f"{self.key}/{key}", error) from None

    def read(self, key: str, selection) -> np.ndarray:
        """`key[selection]` of done blocks; a corrupt chunk is named (a re-run redoes it)."""
        return checked_read(self._array(key), selection, hint=f"run 'samg segment {self.store.path} --name {self.name}'")

    def masks(self, setting: str) -> zarr.Array:
        return self._array(setting)

    def counts(self, setting: str) -> zarr.Array:
        return self._array(f"counts/{setting}")

    # ---- blocks --------------------------------------------------------------------------

    def block_done(self, setting: str, chunk: int, verify: bool = False) -> bool:
        """Both chunk files present (and, with `verify`, decodable: zstd checksums; the
        block's seconds too, where recorded)."""
        files = [chunk_file(self._array(key), chunk) for key in (setting, f"counts/{setting}")]
        if not all(path.is_file() for path in files):
            return False
        if verify:
            steps = self.store.plan.chunk_steps
            at = slice(chunk * steps, min((chunk + 1) * steps, self.store.plan.planned_steps))
            seconds = self._array(f"seconds/{setting}")
            try:
                self.masks(setting)[at]
                self.counts(setting)[at]
                if chunk_file(seconds, chunk).is_file():
                    seconds[chunk]
            except (RuntimeError, ValueError):  # corrupt: the block is redone
                return False
        return True

    def write_block(self, setting: str, start: int, masks: np.ndarray, counts: np.ndarray, seconds: float) -> None:
        path = self.store.path / self.key
        stop = start + len(masks)
        block = start // self.store.plan.chunk_steps
        with writing(path):  # no space: a WriteError, not retried
            for key, at, values in (  # counts last: the commit
                (setting, slice(start, stop), masks),
                (f"seconds/{setting}", slice(block, block + 1), np.array([seconds])),
                (f"counts/{setting}", slice(start, stop), counts),
            ):
                array = zarr.open_array(path / key, mode="r+").with_config({"write_empty_chunks": True})
                array[at] = values

    def done_steps(self, setting: str) -> np.ndarray:
        """Indices of the steps whose block is done."""
        steps, total = self.store.plan.chunk_steps, self.store.plan.planned_steps
        chunks = range(-(-self.store.n_steps // steps))
        done = [np.arange(c * steps, min((c + 1) * steps, total)) for c in chunks if self.block_done(setting, c)]
        return np.concatenate(done) if done else np.zeros(0, np.int64)

    def timings(self, setting: str) -> dict | None:
        """Frames and the segmenter's seconds over every done block whose seconds were
        recorded, whichever run did it; None where none were."""
        steps = self.store.plan.chunk_steps
        seconds = self._array(f"seconds/{setting}")
        timed = [
            c for c in range(-(-self.store.n_steps // steps))
            if self.block_done(setting, c) and chunk_file(seconds, c).is_file()
        ]  # fmt: skip
        if not timed:
            return None
        total = float(self.read(f"seconds/{setting}", np.array(timed)).sum())
        frames = sum(min((c + 1) * steps, self.store.plan.planned_steps) - c * steps for c in timed)
        return {
            "frames": frames,
            "segmenter_seconds": round(total, 3),
            "frames_per_second": round(frames / total, 2) if total > 0 else None,
        }

    def require_episode(self, setting: str, episode: int) -> slice:
        """The episode's step range, if all its blocks are done."""
        at = self.store.episode_slice(episode)
        steps = self.store.plan.chunk_steps
        if setting not in self.settings():
            raise MasksError(f"masks {self.name!r} have no setting {setting!r}: run 'samg segment --settings {setting}'")
        missing = [c for c in range(at.start // steps, -(-at.stop // steps)) if not self.block_done(setting, c)]
        if missing:
            raise MasksError(
                f"masks {self.name!r} of episode {episode} in {setting} are not computed yet: "
                f"run 'samg segment {self.store.path} --name {self.name} --episodes {episode}:{episode + 1}'"
            )
        return at


def masked_episodes(
    store: DemoStore, setting: str, segmenter: str = "none", episodes: range | None = None
) -> Iterator[np.ndarray]:
    """`rgb * mask` per episode, (L, H, W, 3) uint8, without writing masked copies:
    `none` gives the raw frames, `oracle` uses masks/gt, `blank` black frames, any other
    name its stored masks."""
    if setting not in store.plan.settings:
        raise StoreError(f"{store.path} has no setting {setting!r}; it has {', '.join(store.plan.settings)}")
    mask_set = None if segmenter in SIMPLE_VIEWS else MaskSet(store, segmenter)
    for episode in episodes if episodes is not None else range(store.n_episodes):
        at = store.episode_slice(episode)
        frames = store.read(f"images/{setting}/rgb", at)
        if segmenter == "none":
            yield frames
            continue
        if segmenter == "blank":
            yield np.zeros_like(frames)
            continue
        if mask_set is None:
            if not store.plan.has_ground_truth:
                raise StoreError(f"{store.path} is imported: it has no ground-truth masks (oracle); segment it with 'samg segment'")
            mask = store.read("masks/gt", at) > 0
        else:
            mask = mask_set.read(setting, mask_set.require_episode(setting, episode))
        yield frames * mask[..., None].astype(np.uint8)
