"""`samg eval RUN`: live rollouts of a trained policy in each visual setting, on seeds
disjoint from its demos, with the segmenter in the loop; per-episode and aggregate records.

Parallelism composes: `workers` processes each step `envs` environments in lockstep (one
segmenter call and one policy call per step on all their frames), so workers x envs episodes
run at once. On a GPU use one worker and many envs (the models see big batches); on CPUs,
workers. An episode's result does not depend on either number (tests/il/test_lockstep.py)."""

import multiprocessing
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch

from samg.benchmark.assets import benchmark_assets, missing_allowed
from samg.cluster import check_benchmark_here, check_scheduler, dask_client, thread_cached
from samg.envs import SETTING_NAMES, FrameRenderer, get_task, make_env
from samg.envs.appearance import files_of
from samg.envs.proprio import policy_proprio_reader
from samg.errors import UnknownNameError
from samg.files import write_json
from samg.il.config import BCConfig, RunError, read_json
from samg.il.rollout import EpisodeJob, EpisodeResult, run_episodes
from samg.il.live_segmenter import live_segmenter_config
from samg.paths import require_outside_stores
from samg.results import aggregate, success_by_param, write_eval_markdown, write_success_plot
from samg.segmenter.factory import SegmenterConfig, make_segmenter
from samg.workers import die_with_parent, one_render_thread

EVAL_SEED_START = 1_000_000  # far from collection seeds (0, 1, 2, ...)
EVAL_FILES = ("eval_info.json", "eval.md", "success.png")  # and videos/*.mp4


@dataclass(frozen=True)
class EvalConfig:
    run: Path
    settings: tuple[str, ...] = SETTING_NAMES
    episodes: int = 100
    seeds: tuple[int, ...] | None = None  # default: EVAL_SEED_START onwards, the same in every setting
    segmenter: str | None = None  # default: what the policy was trained on (none for raw frames)
    target: str | None = None  # SAM-G switches: default as stored with the masks
    round3_negative: str | None = None
    workers: int = 1  # processes, each with its own policy and segmenter (dask threads|processes: its workers)
    scheduler: str | None = None  # None: local processes; else dask: threads | processes | tcp://HOST:PORT
    envs: int = 1  # environments per process, stepped in lockstep: one model call per step on all
    device: str = "cpu"  # policy and segmenter
    videos: int = 3  # recorded episodes per setting
    out: Path | None = None  # default: RUN/eval
    prompts_root: Path = Path("configs/prompts")
    overwrite: bool = False  # replace an earlier evaluation in `out_dir` (default: refuse)

    def __post_init__(self):
        if self.scheduler is not None:
            check_scheduler(self.scheduler)
        unknown = [s for s in self.settings if s not in SETTING_NAMES]
        if not self.settings or unknown:
            raise UnknownNameError("setting", unknown[0] if unknown else "", SETTING_NAMES)
        for name, least in (("episodes", 1), ("workers", 1), ("envs", 1), ("videos", 0)):
            if getattr(self, name) < least:
                raise RunError(f"--{name} must be at least {least}, got {getattr(self, name)}")
        if self.seeds is not None:
            if not self.seeds or min(self.seeds) < 0 or len(set(self.seeds)) != len(self.seeds):
                raise RunError(f"--seeds must be distinct non-negative seeds, at least one; got {self.seeds[:5]}")

    @property
    def out_dir(self) -> Path:
        return self.out or self.run / "eval"

    def episode_seeds(self) -> tuple[int, ...]:
        return self.seeds or tuple(range(EVAL_SEED_START, EVAL_SEED_START + self.episodes))


# ---- workers --------------------------------------------------------------------------------


@dataclass(frozen=True)
class RolloutSetup:
    """What a rollout worker needs, all of it in the object: the checkpoint's bytes and the
    segmenter's description travel with it, so a dask worker needs no shared file system."""

    token: str  # one per evaluation: a worker builds its models once per token
    run: Path  # named in messages only
    task: str
    checkpoint: bytes
    train: BCConfig
    segmenter: SegmenterConfig
    envs: int
    device: str
    benchmark: dict  # the client's record: every worker must render from the same files
    allow_missing: bool


class _RolloutWorker:
    """A policy, a segmenter, a renderer and `envs` environments."""

    def __init__(self, setup: RolloutSetup, in_subprocess: bool):
        if in_subprocess:
            one_render_thread()
            torch.set_num_threads(1)
        task = get_task(setup.task)
        check_benchmark_here(setup.benchmark, files_of(task), setup.allow_missing)
        self.envs, self.renderer = [], None
        try:
            self._build(setup, task)
        except BaseException:
            self.close()
            raise

    def _build(self, setup: RolloutSetup, task) -> None:
        import tempfile

        from samg.il.policy import load_policy

        train = setup.train
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "policy.ckpt"
            path.write_bytes(setup.checkpoint)
            self.policy = policy = load_policy(path, setup.device)
        self.envs.append(make_env(task))
        env = self.envs[0]
        self.proprio_reader = reader = policy_proprio_reader(task, env.model, train.proprio)
        self.frame_stack = train.frame_stack
        proprio_dim = task.proprio_dim if reader is None else reader.dim
        expected = {"frame_channels": 3 * train.frame_stack, "proprio_dim": proprio_dim, "action_dim": env.action_dim}
        for name, value in expected.items():
            if policy.hparams[name] != value:
                raise RunError(f"the checkpoint of {setup.run} has {name} {policy.hparams[name]}, its task and config need {value}")
        self.renderer = FrameRenderer(task, env.model, policy.hparams.image_size)
        self.segmenter = make_segmenter(task.name, replace(setup.segmenter, device=setup.device))
        self.envs += [make_env(task) for _ in range(setup.envs - 1)]

    def episodes(self, jobs: list[EpisodeJob]) -> list[EpisodeResult]:
        return run_episodes(self.policy, self.envs, self.renderer, self.segmenter, jobs, self.frame_stack,
                            proprio_reader=self.proprio_reader)  # fmt: skip

    def close(self) -> None:
        for closable in [self.renderer, *self.envs]:
            if closable is not None:
                closable.close()


_worker: list[_RolloutWorker] = []  # a pool process's own (set by _init_process)


def _init_process(setup: RolloutSetup) -> None:
    die_with_parent()
    _worker.append(_RolloutWorker(setup, in_subprocess=True))


def _process_batch(jobs: list[EpisodeJob]) -> list[EpisodeResult]:
    return _worker[0].episodes(jobs)


def batch_task(setup: RolloutSetup, jobs: list[EpisodeJob]) -> list[EpisodeResult]:
    """One dask task: a lockstep group of episodes."""
    worker = thread_cached(("eval", setup.token), lambda: _RolloutWorker(setup, in_subprocess=True))
    return worker.episodes(jobs)


# ---- orchestration --------------------------------------------------------------------------


def demos_record(run: Path) -> dict:
    """RUN/demos.json: the task and the seeds of the demos the policy learned from."""
    demos = read_json(run / "demos.json", "demos record of a bc run")
    seeds = demos.get("episode_seeds")
    if not isinstance(demos.get("task"), str) or not isinstance(seeds, list) or not all(type(s) is int for s in seeds):
        raise RunError(f"{run / 'demos.json'} lacks the task or its episode_seeds: train the run again with 'samg bc train'")
    get_task(demos["task"])
    return demos


def check_output(out: Path, overwrite: bool) -> bool:
    """Whether `out` holds an earlier evaluation to replace; refused unless `overwrite`."""
    require_outside_stores(out)
    if out.exists() and not out.is_dir():
        raise RunError(f"--out {out} is a file, not a directory")
    if (out / "eval_info.json").exists() and not overwrite:
        raise RunError(f"{out} already holds an evaluation: pass --overwrite to replace it, or --out DIR to keep both")
    return (out / "eval_info.json").exists()


def _remove_evaluation(out: Path) -> None:
    """The earlier evaluation's files, and only those: none of them mixes with the new one."""
    for name in EVAL_FILES:
        (out / name).unlink(missing_ok=True)
    for video in (out / "videos").glob("*.mp4"):
        video.unlink()


def evaluate(config: EvalConfig, on_episode: Callable[[EpisodeResult], None] | None = None) -> dict:
    """Everything is read and checked (run files, checkpoint, segmenter, output folder) in
    this process before the first rollout or write."""
    from samg.il.train import best_checkpoint

    train = BCConfig.load(config.run, best_checkpoint)  # as the checkpoint records it
    replacing = check_output(config.out_dir, config.overwrite)
    checkpoint = best_checkpoint(config.run)
    demos = demos_record(config.run)
    demo_seeds = set(demos["episode_seeds"])
    seeds = config.episode_seeds()
    overlap = sorted(demo_seeds & set(seeds))
    if overlap:
        raise RunError(f"evaluation seeds overlap the training demos' seeds (e.g. {overlap[0]}): pick other --seeds")
    switches = {"target": config.target, "round3_negative": config.round3_negative}
    switches = {key: value for key, value in switches.items() if value is not None}
    segmenter_config = live_segmenter_config(train, config.segmenter, config.prompts_root, switches)
    task = get_task(demos["task"])
    benchmark = benchmark_assets().record(files_of(task))  # refuses missing files early
    jobs = [EpisodeJob(s, seed, i < config.videos) for s in config.settings for i, seed in enumerate(seeds)]
    batches = [jobs[at : at + config.envs] for at in range(0, len(jobs), config.envs)]
    out = config.out_dir
    setup = RolloutSetup(uuid.uuid4().hex, config.run, task.name, checkpoint.read_bytes(), train, segmenter_config,
                         config.envs, config.device, benchmark, missing_allowed())  # fmt: skip
    local = _RolloutWorker(setup, in_subprocess=False)  # checks the policy and the segmenter
    if replacing:
        _remove_evaluation(out)
    (out / "videos").mkdir(parents=True, exist_ok=True)
    results: list[EpisodeResult] = []

    def finished(result: EpisodeResult) -> None:
        if result.video is not None:
            _write_video(out / "videos" / f"{result.setting}_seed{result.seed}.mp4", result.video)
            result.video = None
        results.append(result)
        if on_episode is not None:
            on_episode(result)

    if config.scheduler is None and config.workers <= 1:
        try:
            for batch in batches:
                for result in local.episodes(batch):
                    finished(result)
        finally:
            local.close()
    else:
        local.close()
        for results_of_batch in _batches_elsewhere(config, setup, batches):
            for result in results_of_batch:
                finished(result)
    episodes = [
        {
            "setting": r.setting,
            "seed": r.seed,
            "success": r.success,
            "return": round(r.episode_return, 4),
            "steps": r.steps,
            "success_steps": r.success_steps,
            "params": {name: round(value, 6) for name, value in r.params.items()},
        }
        for r in results
    ]
    params = {param.name: param.record() for param in task.episode_params}
    info = {
        "run": str(config.run),
        "checkpoint": str(checkpoint),
        "task": demos["task"],
        "policy_obs": train.policy_obs,
        "segmenter": segmenter_config.describe(),
        "benchmark": benchmark,
        "seeds": [min(seeds), max(seeds)],
        "per_episode": episodes,
        "aggregate": aggregate(episodes, config.settings),
        "episode_params": params,
        "success_by_param": success_by_param(episodes, config.settings, params),
    }
    write_json(out / "eval_info.json", info)
    write_eval_markdown(info, out / "eval.md")
    write_success_plot(info, out / "success.png")
    return info


def _batches_elsewhere(config: EvalConfig, setup: RolloutSetup, batches: list) -> Iterator[list[EpisodeResult]]:
    """Each batch's results, in the batches' order, from worker processes or dask."""
    if config.scheduler is None:
        context = multiprocessing.get_context("spawn")  # GL contexts do not survive fork
        with ProcessPoolExecutor(config.workers, mp_context=context, initializer=_init_process, initargs=(setup,)) as pool:
            yield from pool.map(_process_batch, batches)
        return
    from distributed import KilledWorker

    with dask_client(config.scheduler, config.workers) as client:
        shared = client.scatter(setup, broadcast=True, hash=False)  # the checkpoint's bytes travel once a worker
        futures = [client.submit(batch_task, shared, batch, key=f"samg-eval-{setup.token}-{i}")
                   for i, batch in enumerate(batches)]  # fmt: skip
        try:
            for batch, future in zip(batches, futures, strict=True):
                try:
                    yield future.result()
                except KilledWorker as error:
                    raise RunError(f"the episodes of {batch[0].setting} seed {batch[0].seed} killed every worker that ran "
                                   f"them ({error}): see the workers' logs") from None  # fmt: skip
        finally:
            client.cancel(futures)


def _write_video(path: Path, frames: np.ndarray, fps: int = 20) -> None:
    """H.264 MP4 through imageio-ffmpeg; frames padded to the codec's 16-pixel blocks."""
    import imageio.v2 as imageio

    height, width = frames.shape[1:3]
    padded = np.pad(frames, ((0, 0), (0, (-height) % 16), (0, (-width) % 16), (0, 0)))
    imageio.mimwrite(path, list(padded), format="FFMPEG", fps=fps, codec="libx264", macro_block_size=16)
