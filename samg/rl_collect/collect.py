"""`samg collect`: expert demos of a task, every setting rendered from the same states.

Work is split in two kinds of jobs that run in worker processes:
1. roll out seed k with the expert (physics only, cheap);
2. for a kept rollout, render all settings and masks from its states and write them
   into the episode's own chunks of the store.
The main process keeps the order: the e-th kept seed becomes episode e, and episodes are
committed in that order. On dask (`scheduler`) one task per seed does both jobs and returns
the arrays; the client writes them, so a worker that dies loses only its own episodes. The
result depends on the seed alone, not on the number of workers, on dask or on
interruptions: a killed run, resumed, ends with the same bytes.
"""

import math
import multiprocessing
import os
import time
import uuid
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from samg.benchmark.assets import benchmark_assets, missing_allowed
from samg.cluster import check_benchmark_here, check_scheduler, dask_client, thread_cached
from samg.envs import SETTING_NAMES, FrameRenderer, TaskSpec, get_task, make_env
from samg.envs.appearance import files_of
from samg.errors import SamgError
from samg.pipeline.lock import StoreLock
from samg.pipeline.store import DemoStore, StorePlan
from samg.rl_collect.experts import Expert, check_fits, load_expert
from samg.rl_collect.rollout import EpisodeRollout, render_episode, rollout_episode
from samg.workers import die_with_parent, one_render_thread


@dataclass(frozen=True)
class CollectConfig:
    task: str
    episodes: int = 300
    out: Path | None = None  # default data/<task>.zarr
    settings: tuple[str, ...] = SETTING_NAMES
    seed: int = 0
    workers: int = field(default_factory=lambda: os.cpu_count() or 1)
    image_size: int | None = None
    keep_failures: bool = False
    expert_path: Path | None = None  # default: the cached published expert
    noise: float = 0.0  # DART: std of Gaussian noise on executed actions ([-1, 1] units); labels stay clean
    scheduler: str | None = None  # None: local processes; else dask: threads | processes | tcp://HOST:PORT

    def __post_init__(self):
        if self.scheduler is not None:
            check_scheduler(self.scheduler)
        if not (self.noise >= 0 and math.isfinite(self.noise)):
            raise SamgError(f"--noise must be a finite number >= 0 (a std in action units), got {self.noise}")

    @property
    def store_path(self) -> Path:
        return self.out or Path("data") / f"{self.task}.zarr"


@dataclass
class CollectProgress:
    """What the progress display shows; updated after every commit and every rollout."""

    committed: int
    target: int
    seeds_tried: int = 0
    kept_successes: int = 0
    frames_written: int = 0
    started: float = field(default_factory=time.perf_counter)

    @property
    def success_rate(self) -> float:
        return self.kept_successes / self.seeds_tried if self.seeds_tried else float("nan")

    @property
    def frames_per_second(self) -> float:
        return self.frames_written / max(time.perf_counter() - self.started, 1e-9)


ExpertFactory = Callable[[TaskSpec], Expert]  # picklable: worker processes call it


@dataclass(frozen=True)
class PublishedExpertFactory:
    """The task's published expert, from the cache or an explicit file."""

    path: Path | None = None

    def __call__(self, task: TaskSpec) -> Expert:
        return load_expert(task.name, self.path)


# ---- worker side ---------------------------------------------------------------------------

_worker: dict = {}  # per worker process: env, expert, renderer, settings (set by the initializer)


def _init_worker(task_name: str, expert_factory: ExpertFactory, image_size: int, settings, noise: float) -> None:
    one_render_thread()
    die_with_parent()
    task = get_task(task_name)
    env = make_env(task)
    _worker.update(
        env=env,
        expert=expert_factory(task),
        renderer=FrameRenderer(task, env.model, image_size),
        settings=tuple(settings),
        noise=noise,
    )


def _rollout_job(seed: int) -> EpisodeRollout:
    return rollout_episode(_worker["env"], _worker["expert"], seed, _worker["noise"])


def _write_job(store_path: str, index: int, rollout: EpisodeRollout) -> int:
    steps, frames = episode_arrays(_worker["renderer"], rollout, _worker["settings"])
    DemoStore(store_path, mode="r+").write_episode(index, steps)
    return frames


def episode_arrays(renderer: FrameRenderer, rollout: EpisodeRollout, settings) -> tuple[dict[str, np.ndarray], int]:
    """The store's per-step arrays of a rollout (its frames rendered in every setting), and
    how many frames that is."""
    images, masks = render_episode(renderer, rollout, tuple(settings))
    steps = {
        "data/action": rollout.action,
        "data/state": rollout.state,
        "data/proprio": rollout.proprio,
        "data/reward": rollout.reward,
        "data/success": rollout.success,
        "data/sim_state": rollout.sim_state,
        "masks/gt": masks,
        **{f"images/{name}/rgb": frames for name, frames in images.items()},
    }
    if rollout.executed_action is not None:
        steps["data/executed_action"] = rollout.executed_action
    return steps, rollout.length * len(images)


# ---- main side -----------------------------------------------------------------------------


class WorkerDiedError(SamgError):
    """A collection worker process ended without a result (killed, out of memory, a native crash)."""


class PlanMismatchError(SamgError):
    """A store exists at the output path, made with other settings."""


def plan_for(config: CollectConfig, expert: Expert) -> StorePlan:
    task = get_task(config.task)
    env = make_env(task)
    try:
        first = env.reset(config.seed)
        dims = (env.action_dim, first.state.shape[0], first.proprio.shape[0], first.sim_state.shape[0])
        check_fits(expert, first.state, env.action_dim)
    finally:
        env.close()
    image_size = config.image_size or task.image_size
    return StorePlan(
        task=task.name,
        env_id=task.env_id,
        camera=task.camera,
        image_size=image_size,
        settings=tuple(config.settings),
        episodes=config.episodes,
        episode_length=task.episode_length,
        seed=config.seed,
        keep_failures=config.keep_failures,
        expert=expert.name,
        expert_sha256=expert.sha256,
        mask_objects=tuple(o.name for o in task.objects),
        action_dim=dims[0],
        state_dim=dims[1],
        proprio_dim=dims[2],
        sim_state_dim=dims[3],
        benchmark=benchmark_assets().record(files_of(task)),
        action_noise=config.noise,
    )


def open_or_create(path: Path, plan: StorePlan) -> DemoStore:
    """Resume a store made with the same plan, or start one; refuse a different plan."""
    if not (path / "zarr.json").exists():
        return DemoStore.create(path, plan)
    store = DemoStore(path, mode="r+")
    if store.plan != plan:
        ours, theirs = plan.to_attrs(), store.plan.to_attrs()
        differing = [f"{k}: store {theirs[k]!r} vs now {ours[k]!r}" for k in ours if ours[k] != theirs[k]]
        raise PlanMismatchError(
            f"{path} was collected with other settings ({'; '.join(differing)}): "
            f"repeat the original command to resume, or choose another --out"
        )
    store.remove_partial_files()
    return store


def collect(
    config: CollectConfig,
    expert_factory: ExpertFactory | None = None,
    on_progress: Callable[[CollectProgress], None] | None = None,
) -> DemoStore:
    """Collect `config.episodes` kept episodes into the store (resuming if it exists)."""
    expert_factory = expert_factory or PublishedExpertFactory(config.expert_path)
    task = get_task(config.task)
    expert = expert_factory(task)
    plan = plan_for(config, expert)
    path = config.store_path
    with StoreLock(path, purpose=f"samg collect {task.name}"):
        store = open_or_create(path, plan)
        if store.complete:
            return store
        progress = CollectProgress(committed=store.n_episodes, target=plan.episodes)
        progress.seeds_tried = int(store.attrs["seeds_tried"])
        progress.kept_successes = int(store.episode_success.sum())
        started = time.perf_counter()
        if config.scheduler is None:
            _run_jobs(store, config, plan, expert_factory, progress, on_progress)
        else:
            _run_on_dask(store, config, plan, expert, progress, on_progress)
        store.mark_complete(
            collect_seconds=round(time.perf_counter() - started, 3),
            frames_per_second=round(progress.frames_per_second, 2),
        )
    return store


def _run_jobs(store, config, plan, expert_factory, progress, on_progress) -> None:
    try:
        _run_pool(store, config, plan, expert_factory, progress, on_progress)
    except BrokenProcessPool:
        raise WorkerDiedError(
            f"a collection worker process died (killed, out of memory or a crash in rendering); "
            f"{store.n_episodes} episodes are committed in {store.path}: re-run the same command to resume"
        ) from None


def _run_pool(store, config, plan, expert_factory, progress, on_progress) -> None:
    workers = max(1, config.workers)
    context = multiprocessing.get_context("spawn")  # GL contexts do not survive fork
    init_args = (plan.task, expert_factory, plan.image_size, plan.settings, plan.action_noise)
    next_seed = int(store.attrs["next_seed"])
    next_index = store.n_episodes
    rollouts: dict[int, Future] = {}  # seed -> rollout job
    writes: dict[int, tuple[Future, EpisodeRollout, int]] = {}  # index -> (job, rollout, seeds tried)
    seed_to_submit = next_seed
    with ProcessPoolExecutor(workers, mp_context=context, initializer=_init_worker, initargs=init_args) as pool:
        while store.n_episodes < plan.episodes:
            while next_index + len(rollouts) < plan.episodes and len(rollouts) + len(writes) < 2 * workers:
                rollouts[seed_to_submit] = pool.submit(_rollout_job, seed_to_submit)
                seed_to_submit += 1
            # kept rollouts get their episode index in seed order
            while next_seed in rollouts and rollouts[next_seed].done():
                rollout = rollouts.pop(next_seed).result()
                next_seed += 1
                progress.seeds_tried += 1
                if (rollout.episode_success or plan.keep_failures) and next_index < plan.episodes:
                    job = pool.submit(_write_job, str(store.path), next_index, rollout)
                    writes[next_index] = (job, rollout, progress.seeds_tried)
                    next_index += 1
                    progress.kept_successes += int(rollout.episode_success)
            # written episodes are committed in index order
            while store.n_episodes in writes and writes[store.n_episodes][0].done():
                job, rollout, tried = writes.pop(store.n_episodes)
                progress.frames_written += job.result()
                store.commit_episode(
                    store.n_episodes, rollout.seed, rollout.episode_success, rollout.seed + 1, tried
                )
                progress.committed = store.n_episodes
            if on_progress is not None:
                on_progress(progress)
            pending = [*rollouts.values(), *(job for job, _, _ in writes.values())]
            if pending:
                wait(pending, timeout=1.0, return_when=FIRST_COMPLETED)


# ---- on dask ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class EpisodeSetup:
    """What every episode task carries to its worker: the expert itself, not a path."""

    token: str  # one per collection: a worker thread builds its simulator once per token
    task: str
    expert: Expert
    image_size: int
    settings: tuple[str, ...]
    noise: float
    keep_failures: bool
    benchmark: dict  # the client's record: the worker must render from the same files
    allow_missing: bool


@dataclass(frozen=True)
class EpisodeOutput:
    seed: int
    success: bool
    steps: dict[str, np.ndarray] | None  # None: a failure that is not kept
    frames: int


class _EpisodeWorker:
    def __init__(self, setup: EpisodeSetup):
        one_render_thread()
        task = get_task(setup.task)
        check_benchmark_here(setup.benchmark, files_of(task), setup.allow_missing)
        self.env = make_env(task)
        self.renderer = FrameRenderer(task, self.env.model, setup.image_size)

    def close(self) -> None:
        self.renderer.close()
        self.env.close()


def episode_task(setup: EpisodeSetup, seed: int) -> EpisodeOutput:
    """Roll out seed `seed` and, if it is kept, render it: one dask task."""
    worker = thread_cached(("collect", setup.token), lambda: _EpisodeWorker(setup))
    rollout = rollout_episode(worker.env, setup.expert, seed, setup.noise)
    if not (rollout.episode_success or setup.keep_failures):
        return EpisodeOutput(rollout.seed, rollout.episode_success, None, 0)
    steps, frames = episode_arrays(worker.renderer, rollout, setup.settings)
    return EpisodeOutput(rollout.seed, rollout.episode_success, steps, frames)


def _run_on_dask(store, config, plan, expert, progress, on_progress) -> None:
    from distributed import KilledWorker

    setup = EpisodeSetup(uuid.uuid4().hex, plan.task, expert, plan.image_size, plan.settings, plan.action_noise,
                         plan.keep_failures, plan.benchmark, missing_allowed())  # fmt: skip
    next_seed = int(store.attrs["next_seed"])
    with dask_client(config.scheduler, config.workers) as client:
        ahead = 2 * max(1, len(client.scheduler_info()["workers"]))
        futures = {}  # seed -> its task, submitted in seed order
        try:
            while store.n_episodes < plan.episodes:
                while len(futures) < ahead and store.n_episodes + len(futures) < plan.episodes:
                    seed = next_seed + len(futures)
                    futures[seed] = client.submit(episode_task, setup, seed, key=f"samg-collect-{setup.token}-{seed}")
                try:
                    output = futures.pop(next_seed).result()
                except KilledWorker as error:
                    raise SamgError(f"episode seed {next_seed} killed every worker that ran it ({error}): "
                                    "see the workers' logs, then re-run the same command to resume") from None  # fmt: skip
                next_seed += 1
                progress.seeds_tried += 1
                if output.steps is not None:
                    index = store.n_episodes
                    store.write_episode(index, output.steps)
                    store.commit_episode(index, output.seed, output.success, output.seed + 1, progress.seeds_tried)
                    progress.committed = store.n_episodes
                    progress.kept_successes += int(output.success)
                    progress.frames_written += output.frames
                if on_progress is not None:
                    on_progress(progress)
        finally:
            client.cancel(list(futures.values()))
