"""`samg segment`: masks for every frame of a demo store, block by block, through Dask.

One Dask task per block (one time chunk of one setting): it reads the block's frames and
ground truth, segments them, and writes the block's masks and quality counts (see
`masks.py`). The segmenter is built once per worker process (`worker_segmenter`), the
first time a task there needs it; the client builds it once up front too, which checks the
weights and prompt before anything is written and fits the PerSAM-F weights once, not once
per worker. Blocks already done are skipped, so a killed run resumes where it stopped.
"""

import functools
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import dask

from samg import __version__
from samg.cluster import check_scheduler, dask_client
from samg.errors import SamgError
from samg.pipeline.lock import StoreLock
from samg.pipeline.masks import MaskSet, MasksError, check_mask_name
from samg.pipeline.quality import mask_counts, summarize, summarize_without_truth
from samg.pipeline.store import DemoStore, StoreError, require_chunks
from samg.segmenter.base import Segmenter
from samg.segmenter.factory import SegmenterConfig, make_segmenter

ATTEMPTS = 3


class BlockError(SamgError):
    """A block that failed on every attempt."""


@dataclass(frozen=True)
class SegmentConfig:
    store: Path
    segmenter: SegmenterConfig = field(default_factory=SegmenterConfig)
    name: str | None = None  # default: the segmenter kind
    settings: tuple[str, ...] | None = None  # default: every setting of the store
    episodes: tuple[int, int] | None = None  # [start, stop); default: all committed
    scheduler: str = "threads"  # threads | processes | tcp://HOST:PORT (a dask.distributed scheduler)
    workers: int = 1
    overwrite: bool = False

    def __post_init__(self):
        check_scheduler(self.scheduler)
        if self.workers < 1:
            raise SamgError(f"--workers must be at least 1, got {self.workers}")
        if self.episodes is not None and not 0 <= self.episodes[0] < self.episodes[1]:
            raise SamgError(f"--episodes {self.episodes[0]}:{self.episodes[1]} is empty: START:STOP needs 0 <= START < STOP")
        check_mask_name(self.name or self.segmenter.kind)  # before anything runs

    @property
    def mask_name(self) -> str:
        return check_mask_name(self.name or self.segmenter.kind)


@dataclass(frozen=True)
class Block:
    setting: str
    chunk: int
    start: int
    stop: int
    first_episode: int
    last_episode: int

    def describe(self) -> str:
        first, last = self.first_episode, self.last_episode
        episodes = f"episode {first}" if first == last else f"episodes {first}-{last}"
        return f"{self.setting} steps {self.start}-{self.stop - 1} ({episodes})"


@dataclass
class SegmentProgress:
    blocks_done: int = 0
    blocks_total: int = 0
    blocks_skipped: int = 0
    frames: int = 0
    seconds: float = 0.0  # wall time of this run so far

    @property
    def frames_per_second(self) -> float:
        return self.frames / self.seconds if self.seconds > 0 else 0.0


@dataclass
class SegmentResult:
    name: str
    quality: dict
    timings: dict
    progress: SegmentProgress


@functools.cache
def worker_segmenter(task: str, config: SegmenterConfig) -> Segmenter:
    """This process's segmenter for (task, config), built on first use."""
    return make_segmenter(task, config)


def segmenter_identity(task: str, config: SegmenterConfig, segmenter: Segmenter) -> dict:
    """Everything that determines the masks: config, weights and prompt checksums."""
    identity = {"segmenter": config.describe()}
    if config.kind == "samg":
        from samg.segmenter.weights import file_sha256, weights_path

        identity["prompt_sha256"] = segmenter.prompt.checksum()
        for role, model, path in (("sam", config.sam, config.sam_weights), ("dino", config.dino, config.dino_weights)):
            if role == "dino" and not config.options.use_dino:
                continue
            identity[f"{role}_weights_sha256"] = (
                "random-seed-0" if config.random_weights else file_sha256(path or weights_path(model))
            )
    return identity


def run_block(store_path: Path, name: str, block: Block, task: str, config: SegmenterConfig) -> int:
    """Segment one block and write it (its frame count); retried, then reported with its episode range."""
    for attempt in range(1, ATTEMPTS + 1):
        try:
            return _segment_block(store_path, name, block, task, config)
        except (OSError, RuntimeError, ValueError) as error:
            if attempt == ATTEMPTS:
                raise BlockError(
                    f"block {block.describe()} failed {ATTEMPTS} times: {type(error).__name__}: {error}"
                ) from error
    raise AssertionError("unreachable")


def _segment_block(store_path: Path, name: str, block: Block, task: str, config: SegmenterConfig) -> int:
    segmenter = worker_segmenter(task, config)
    store = DemoStore(store_path)
    at = slice(block.start, block.stop)
    frames = store.read(f"images/{block.setting}/rgb", at)
    truth = store.read("masks/gt", at) if store.plan.has_ground_truth else None
    started = time.perf_counter()
    masks = segmenter.segment(frames, truth if segmenter.needs_ground_truth else None).masks
    seconds = time.perf_counter() - started
    counts = mask_counts(masks, truth, len(store.plan.mask_objects))
    MaskSet(store, name).write_block(block.setting, block.start, masks, counts, seconds)
    return len(frames)


def plan_blocks(store: DemoStore, settings: tuple[str, ...], episodes: tuple[int, int] | None) -> list[Block]:
    plan = store.plan
    first, stop = episodes if episodes is not None else (0, store.n_episodes)
    if not 0 <= first < stop <= store.n_episodes:
        raise StoreError(f"episodes {first}:{stop} out of range: {store.path} has {store.n_episodes} committed")
    steps = plan.chunk_steps
    chunks = range(store.episode_slice(first).start // steps, -(-store.episode_slice(stop - 1).stop // steps))
    bounds = [(c * steps, min((c + 1) * steps, plan.planned_steps)) for c in chunks]
    return [
        Block(setting, chunk, start, stop, store.episode_of(start), store.episode_of(stop - 1))
        for setting in settings
        for chunk, (start, stop) in zip(chunks, bounds)
    ]


def segment_store(config: SegmentConfig, on_progress: Callable[[SegmentProgress], None] | None = None) -> SegmentResult:
    store = DemoStore(config.store)
    name = config.mask_name
    settings = config.settings or store.plan.settings
    missing = [s for s in settings if s not in store.plan.settings]
    if missing:
        raise StoreError(f"{store.path} has no setting {missing[0]!r}; it has {', '.join(store.plan.settings)}")
    blocks = plan_blocks(store, settings, config.episodes)
    steps = slice(blocks[0].start, blocks[-1].stop)  # every setting's blocks cover the same steps
    truth = ("masks/gt",) if store.plan.has_ground_truth else ()
    for key in (*truth, *(f"images/{s}/rgb" for s in settings)):
        require_chunks(store.array(key), steps)  # before anything is written
    task = store.plan.task
    lock = StoreLock(store.path, f"samg segment --name {name}", part=f"masks-{name}", way_out="use another --name")
    with lock:
        segmenter = worker_segmenter(task, config.segmenter)  # fails before any write: weights, prompt
        identity = segmenter_identity(task, config.segmenter, segmenter)
        mask_set = MaskSet(store, name)
        _prepare(mask_set, identity, config.overwrite)
        todo = [b for b in blocks if not mask_set.block_done(b.setting, b.chunk, verify=True)]
        progress = SegmentProgress(blocks_total=len(blocks), blocks_skipped=len(blocks) - len(todo))
        progress.blocks_done = progress.blocks_skipped
        if on_progress is not None:
            on_progress(progress)
        _run(todo, store.path, name, task, config, progress, on_progress)
        before = mask_set.attrs  # settings of earlier runs keep their figures
        timings = {s: mask_set.timings(s) for s in settings}
        timings = {**before.get("timings", {}), **{s: t for s, t in timings.items() if t is not None}}
        quality = {s: _summary(store, mask_set.read(f"counts/{s}", mask_set.done_steps(s))) for s in settings}
        quality = {**before.get("quality", {}), **quality}
        mask_set.update_attributes({"quality": quality, "timings": timings, "package_version": __version__})
    return SegmentResult(name, quality, timings, progress)


def _summary(store: DemoStore, counts) -> dict:
    if store.plan.has_ground_truth:
        return summarize(counts, store.plan.mask_objects)
    return summarize_without_truth(counts, store.plan.image_size**2)


def _prepare(mask_set: MaskSet, identity: dict, overwrite: bool) -> None:
    """Create the mask set, or check that the existing one was made the same way."""
    if mask_set.exists and not overwrite:
        stored = {key: mask_set.attrs.get(key) for key in identity}
        if stored != identity:
            changed = next(key for key in identity if stored[key] != identity[key])
            raise MasksError(
                f"masks {mask_set.name!r} in {mask_set.store.path} were made with another {changed} "
                f"({stored[changed]} != {identity[changed]}): pass --overwrite, or another --name"
            )
        mask_set.add_seconds(mask_set.settings())
        return
    all_settings = mask_set.store.plan.settings
    mask_set.create(all_settings, {**identity, "settings": list(all_settings), "package_version": __version__})


def _run(blocks, store_path, name, task, config, progress, on_progress) -> None:
    tasks = [dask.delayed(run_block, pure=False)(store_path, name, b, task, config.segmenter) for b in blocks]
    started = time.perf_counter()

    def finished(frames: int) -> None:
        progress.blocks_done += 1
        progress.frames += frames
        progress.seconds = time.perf_counter() - started
        if on_progress is not None:
            on_progress(progress)

    if not tasks:
        return
    if config.scheduler.startswith("tcp://"):
        from distributed import as_completed

        with dask_client(config.scheduler) as client:
            for future in as_completed(client.compute(tasks)):
                finished(future.result())
    else:  # threads or processes (SegmentConfig checks)
        from dask.callbacks import Callback

        keys = {t.key for t in tasks}
        with Callback(posttask=lambda key, result, *_: finished(result) if key in keys else None):
            dask.compute(*tasks, scheduler=config.scheduler, num_workers=config.workers)
