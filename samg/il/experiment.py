"""`samg run TASK`: the point of SAM-G in one command. Collect demos, train a policy on raw
frames and one on masked frames from the same demos with the same recipe, evaluate both
live in every setting, and compare them. Every stage resumes: a finished store, policy or
evaluation is reused when the command runs again with the same flags."""

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from samg.cluster import check_scheduler
from samg.envs import SETTING_NAMES, get_task
from samg.errors import UnknownNameError
from samg.il.config import BCConfig

EXPERIMENT_SEGMENTERS = ("oracle", "student", "samg")


@dataclass(frozen=True)
class ExperimentConfig:
    """Defaults chosen to finish in about 10 minutes on 2 CPU cores for door (10.4 measured)
    and show the gap (README); the paper's protocol is 300 demos, 80 epochs, lr 5e-5, 100
    episodes and 3 seeds."""

    task: str = "door"
    segmenter: str = "oracle"  # the masked policy's: oracle, student (distilled from the oracle) or samg
    episodes: int = 100  # demos
    noise: float = 0.0  # DART noise on the demos' executed actions (samg collect --noise)
    preset: str = "default"  # the BC recipe of both policies (configs/bc); epochs and lr override it
    epochs: int | None = None
    lr: float | None = None
    eval_episodes: int = 30  # per setting
    settings: tuple[str, ...] = SETTING_NAMES
    seed: int = 0
    workers: int = field(default_factory=lambda: os.cpu_count() or 1)
    envs: int = 4  # environments per evaluation process, in lockstep
    student_steps: int = 1500
    image_size: int | None = None
    expert: Path | None = None  # default: the cached published expert
    keep_failures: bool = False
    data: Path = Path("data")
    out: Path = Path("runs")
    device: str = "cpu"
    scheduler: str | None = None  # dask for collection, masks and evaluation (docs/cluster.md); None: local processes

    def __post_init__(self):
        get_task(self.task)
        if self.scheduler is not None:
            check_scheduler(self.scheduler)
        if self.segmenter not in EXPERIMENT_SEGMENTERS:
            raise UnknownNameError("segmenter", self.segmenter, EXPERIMENT_SEGMENTERS)

    @property
    def store(self) -> Path:
        noisy = f"_noise{self.noise:g}" if self.noise else ""
        return self.data / f"{self.task}_{self.episodes}{noisy}.zarr"

    @property
    def student_file(self) -> Path:
        return self.out / f"student_{self.store.stem}.safetensors"

    def run_dir(self, label: str) -> Path:
        return self.out / f"run_{self.task}_{label}_s{self.seed}"

    def bc_config(self, obs: str) -> BCConfig:
        from samg.il.presets import resolve_config

        raw = obs == "raw"  # a raw run's config names no mask set: the same run serves every --segmenter
        return resolve_config(self.preset, {"epochs": self.epochs, "lr": self.lr}, data=self.store,
                              out=self.run_dir("raw" if raw else self.segmenter), obs=obs,
                              segmenter="oracle" if raw else self.segmenter, seed=self.seed)  # fmt: skip


def run_experiment(config: ExperimentConfig, say: Callable[[str], None] = print) -> dict:
    """The five stages; returns {"runs": [raw, masked], "table": (header, rows), "seconds": ...}."""
    from samg.il.evaluate import EvalConfig, evaluate
    from samg.il.report import compare_runs, load_eval
    from samg.il.train import checkpoint_to_resume, last_checkpoint, train_bc
    from samg.rl_collect.collect import CollectConfig, collect

    started = time.perf_counter()
    configs = [config.bc_config("raw"), config.bc_config("masked")]
    resumes = [last_checkpoint(bc.out).is_file() for bc in configs]
    for bc, resume in zip(configs, resumes, strict=True):
        if resume:
            checkpoint_to_resume(bc)  # refuses a run of other flags before collecting

    say(f"1/5 collect: {config.episodes} {config.task} demos -> {config.store}")
    collect(CollectConfig(task=config.task, episodes=config.episodes, out=config.store, seed=config.seed,
                          workers=config.workers, image_size=config.image_size, expert_path=config.expert,
                          keep_failures=config.keep_failures, noise=config.noise, scheduler=config.scheduler))  # fmt: skip
    say(f"2/5 masks for the {config.segmenter} policy")
    _prepare_masks(config, say)
    for index, (bc, resume) in enumerate(zip(configs, resumes, strict=True)):
        say(f"{3 + index}/5 bc train ({bc.policy_obs}): preset {bc.preset}, {bc.epochs} epochs -> {bc.out}")
        if not (bc.out / "training.json").is_file():
            train_bc(bc, resume=resume, say=say)
    say(f"5/5 eval: {config.eval_episodes} episodes in each of {len(config.settings)} settings, both policies")
    for bc in configs:
        if not (bc.out / "eval" / "eval_info.json").is_file():
            segmenter = f"student:{config.student_file}" if config.segmenter == "student" and bc.obs != "raw" else None
            evaluate(EvalConfig(run=bc.out, settings=config.settings, episodes=config.eval_episodes, segmenter=segmenter,
                                workers=config.workers, envs=config.envs, device=config.device, videos=1,
                                scheduler=config.scheduler))  # fmt: skip
        load_eval(bc.out)
    runs = [bc.out for bc in configs]
    return {"runs": runs, "table": compare_runs(runs), "seconds": time.perf_counter() - started}


def _prepare_masks(config: ExperimentConfig, say: Callable[[str], None]) -> None:
    """oracle: none needed (the simulator's masks are in the store). student: distilled from
    the oracle on the train frames, then the train frames segmented by it. samg: every
    training frame segmented by SAM-G (needs the weights)."""
    from samg.pipeline.segment import SegmentConfig, segment_store
    from samg.segmenter.factory import SegmenterConfig

    if config.segmenter == "oracle":
        say("   oracle: the simulator's masks, nothing to compute")
        return
    if config.segmenter == "student" and not config.student_file.is_file():
        from samg.distill.train import DistillConfig, distill

        say(f"   distilling a student from the oracle ({config.student_steps} steps) -> {config.student_file}")
        distill(DistillConfig(store=config.store, teacher="oracle", steps=config.student_steps, device=config.device,
                              seed=config.seed, out=config.student_file))  # fmt: skip
    if config.segmenter == "student":
        segmenter = SegmenterConfig(kind="student", student=config.student_file, device=config.device)
    else:
        segmenter = SegmenterConfig(kind="samg", device=config.device)
    say(f"   segmenting the train frames with {config.segmenter} (blocks already done are kept)")
    segment_store(SegmentConfig(config.store, segmenter, name=config.segmenter, settings=("train",),
                                scheduler=config.scheduler or "threads"))  # fmt: skip
