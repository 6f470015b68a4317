"""`samg bc train`: Lightning behaviour cloning into a run directory.

    RUN/config.json          the resolved BCConfig (plus the store's task and episode seeds)
    RUN/checkpoints/         last.ckpt and best.ckpt (lowest validation loss)
    RUN/logs/                metrics.csv (and TensorBoard events when tensorboard is installed)
    RUN/training.json        wall time, samples/s, steps, final losses, over every part of the run

With several devices (`devices` 2, `strategy` ddp: one process per device, gloo on CPU and
nccl on GPUs) `batch_size` stays the global batch: each device takes batch_size / devices
samples of a step, its shard of the epoch (Lightning's distributed sampler), so an epoch has
the optimiser steps, and a step the batch size, of the same run on one device; the learning
rate needs no change. Only global rank 0 writes the run's files (config.json, demos.json,
checkpoints, metrics, training.json).

Every checkpoint carries the run's config (samg.il.config.CONFIG_RECORD) and the tally of
each part of the run up to it (a part: from the start or a resume to its last checkpoint);
`--resume` keeps that tally and the metrics rows logged up to the checkpoint.
"""

import csv
import io
import os
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import pytorch_lightning as pl
import torch
from pytorch_lightning.utilities.exceptions import MisconfigurationException

from samg.files import write_json, write_text
from samg.il.config import CONFIG_RECORD, BCConfig, RunError
from samg.il.data import DemoDataModule, stored_proprio_reader
from samg.il.policy import BCPolicy, load_policy
from samg.il.select import SELECTION_MONITOR, ClosedLoopSelection
from samg.pipeline.store import DemoStore
from samg.safe_load import safe_torch_load


PARTS_RECORD = "samg_bc_parts"  # the key of a checkpoint holding the tally of each part of the run up to it
PART_FIELDS = ("from_step", "to_step", "samples", "train_seconds", "wait_seconds", "wall_seconds")


class _Tally(pl.Callback):
    """Training samples, the seconds spent in steps and waiting for a batch, and wall time, for
    this part of the run; the parts before it come from the checkpoint it resumed."""

    def __init__(self):
        self.earlier: list[dict] = []
        self.from_step = 0
        self.samples = 0
        self.train_seconds = 0.0
        self.wait_seconds = 0.0
        self._started = self._last_end = self._batch_start = None

    def parts(self, trainer) -> list[dict]:
        now = [self.from_step, trainer.global_step, self.samples, round(self.train_seconds, 3),
               round(self.wait_seconds, 3), round(time.perf_counter() - self._started, 2)]  # fmt: skip
        return [*self.earlier, dict(zip(PART_FIELDS, now, strict=True))]

    def on_load_checkpoint(self, trainer, module, checkpoint) -> None:
        self.earlier = checkpoint.get(PARTS_RECORD, [])  # checked by checkpoint_to_resume
        self.from_step = checkpoint["global_step"]

    def on_save_checkpoint(self, trainer, module, checkpoint) -> None:
        checkpoint[PARTS_RECORD] = self.parts(trainer)

    def on_fit_start(self, trainer, module) -> None:
        self._started = time.perf_counter()

    def on_train_start(self, trainer, module) -> None:  # a resume may start mid-epoch
        self._last_end = time.perf_counter()

    def on_train_epoch_start(self, trainer, module) -> None:
        self._last_end = time.perf_counter()

    def on_train_batch_start(self, trainer, module, batch, batch_index) -> None:
        self._batch_start = time.perf_counter()
        self.wait_seconds += self._batch_start - self._last_end

    def on_train_batch_end(self, trainer, module, outputs, batch, batch_index) -> None:
        self._last_end = time.perf_counter()
        self.train_seconds += self._last_end - self._batch_start
        self.samples += len(batch["action"]) * trainer.world_size  # every device's share of the step


class _Record(pl.Callback):
    """Every checkpoint carries the config of its run."""

    def __init__(self, config: BCConfig):
        self.config = config

    def on_save_checkpoint(self, trainer, module, checkpoint) -> None:
        checkpoint[CONFIG_RECORD] = self.config.to_json()


class _FiniteLoss(pl.Callback):
    """Stop at the first non-finite training loss, before its backward pass: the store's
    arrays are checked finite when read, so the model itself diverged."""

    def on_before_backward(self, trainer, module, loss) -> None:
        if not torch.isfinite(loss).all():
            raise RunError(
                f"the training loss became {loss.item()} at step {trainer.global_step} (epoch {trainer.current_epoch}) "
                f"although every input is finite: train again with a lower --lr (now {module.hparams.lr})"
            )


def last_checkpoint(run: Path) -> Path:
    return run / "checkpoints" / "last.ckpt"


def checkpoint_to_resume(config: BCConfig) -> tuple[Path, dict]:
    """last.ckpt of the run in `config.out`, and what it holds, once the run's config.json, its
    record in the checkpoint and `config` agree."""
    last = last_checkpoint(config.out)
    if not last.is_file():
        raise RunError(f"nothing to resume in {config.out}: no checkpoints/last.ckpt "
                       "(a run stopped before its first checkpoint starts again without --resume)")  # fmt: skip

    def fixed(c: BCConfig) -> dict:  # what a resume may change: how long to train (and where the run lies)
        return {key: value for key, value in c.to_json().items() if key not in ("epochs", "max_steps", "out")}

    if fixed(BCConfig.load(config.out, last_checkpoint)) != fixed(config):
        raise RunError(f"{config.out} was trained with another config: resume with the same flags, or another --out")
    # Lightning would read the checkpoint only after the frames are loaded, and with a traceback.
    saved = safe_torch_load(last, "BC checkpoint", RunError)
    resumable = isinstance(saved, dict) and {"optimizer_states", "loops"} <= saved.keys()
    if not resumable or type(saved.get("global_step")) is not int:
        raise RunError(f"{last} is not a checkpoint of 'samg bc train' to resume from: train again with another --out")
    parts = saved.get(PARTS_RECORD, [])
    if not isinstance(parts, list) or not all(_is_part(part) for part in parts):
        raise RunError(f"{last} holds a broken {PARTS_RECORD} (the tally of the run's parts): train again with another --out")
    store = DemoStore(config.data)
    policy, plan, reader = load_policy(last), store.plan, stored_proprio_reader(store, config)
    proprio_dim = plan.proprio_dim if reader is None else reader.dim
    expected = {"frame_channels": 3 * config.frame_stack, "image_size": plan.image_size, "proprio_dim": proprio_dim,
                "action_dim": plan.action_dim, "encoder": config.encoder}  # fmt: skip
    for name, value in expected.items():
        if policy.hparams[name] != value:
            raise RunError(f"{last} has {name} {policy.hparams[name]}, the store and flags need {value}: use another --out")
    return last, saved


def _is_part(part) -> bool:
    return (isinstance(part, dict) and tuple(part) == PART_FIELDS
            and all(isinstance(value, int | float) and not isinstance(value, bool) for value in part.values()))  # fmt: skip


def _refuse_a_run(out: Path) -> None:
    """A plain start refuses a run that reached a checkpoint or finished; one killed before its
    first last.ckpt holds nothing to resume, and starts again from the beginning."""
    if last_checkpoint(out).is_file():
        raise RunError(f"{out} already holds a run: pass --resume, or another --out")
    if (out / "training.json").is_file():
        raise RunError(f"{out} holds a finished run whose checkpoints/last.ckpt is gone, so it cannot resume: "
                       "train into another --out")  # fmt: skip


def train_bc(config: BCConfig, resume: bool = False, progress: bool = True, say: Callable[[str], None] = print) -> Path:
    """Train, write the run directory, return it. `resume` continues from last.ckpt, keeping
    the metrics logged before it and the tally of the parts before it (training.json)."""
    if config.out.exists() and not config.out.is_dir():
        raise RunError(f"--out {config.out} is a file, not a run directory")
    first = launching_process()
    checkpoint, saved = checkpoint_to_resume(config) if resume else (None, None)
    if not resume and first:  # the other ranks start once this one has written config.json
        _refuse_a_run(config.out)
    pl.seed_everything(config.seed, workers=True, verbose=False)
    data = DemoDataModule(config)  # refuses missing chunks and mask sets before loading a frame
    selection = _closed_loop_selection(config, data)
    if selection is not None:
        monitor, mode = SELECTION_MONITOR, "max"
    else:
        monitor, mode = ("val/loss" if len(data.val_episodes) else "train/loss_epoch"), "min"
    checkpoints = pl.callbacks.ModelCheckpoint(
        dirpath=config.out / "checkpoints", filename="best", monitor=monitor, mode=mode, save_last=True
    )
    tally, loggers = _Tally(), _loggers(config.out / "logs")
    try:
        trainer = pl.Trainer(
            max_epochs=config.epochs,
            max_steps=config.max_steps,
            accelerator=config.accelerator,
            devices=config.devices,
            strategy=config.strategy,
            default_root_dir=config.out,
            logger=loggers,
            callbacks=[checkpoints, tally, _Record(config), _FiniteLoss(), *([selection] if selection else [])],
            enable_progress_bar=progress,
            enable_model_summary=False,
            log_every_n_steps=10,
            deterministic=False,
        )
    except (MisconfigurationException, TypeError, ValueError, RuntimeError) as error:  # e.g. gpu without one
        reason = (str(error).splitlines() or [""])[0]
        raise RunError(f"--accelerator {config.accelerator} --devices {config.devices} --strategy {config.strategy}: {reason}") from None
    devices = trainer.num_devices * trainer.num_nodes
    if config.batch_size % devices:
        raise RunError(f"--batch-size {config.batch_size} is the global batch: it must split evenly over {devices} devices")
    if selection is not None and devices > 1:
        raise RunError("--select-episodes runs live episodes in one process: train on one device, or pass --select-episodes 0")
    data.setup()
    plan = data.store.plan
    policy = BCPolicy(
        frame_channels=3 * config.frame_stack,
        image_size=plan.image_size,
        proprio_dim=data.proprio_dim,
        action_dim=plan.action_dim,
        normalizer=data.normalizer.to_dict(),
        encoder=config.encoder,
        lr=config.lr,
        shift_pad=config.shift_pad,
        proprio_dropout=config.proprio_dropout,
    )
    if first:
        _write_run_files(config, data, say, fresh=not resume)
    if saved is not None and first:
        _keep_metrics(loggers[0], saved["global_step"])
    trainer.fit(policy, datamodule=data, ckpt_path=checkpoint)
    if not trainer.is_global_zero:
        return config.out
    parts = tally.parts(trainer)
    total = {key: sum(part[key] for part in parts) for key in PART_FIELDS[2:]}
    stepped = total["train_seconds"] + total["wait_seconds"]
    metrics = {key: float(value) for key, value in trainer.callback_metrics.items()}
    write_json(
        config.out / "training.json",
        {
            "wall_seconds": round(total["wall_seconds"], 2),
            "global_step": trainer.global_step,
            "epochs_done": trainer.current_epoch,
            "samples": total["samples"],
            "samples_per_second": round(total["samples"] / total["train_seconds"], 1) if total["train_seconds"] else None,
            "data_wait_fraction": round(total["wait_seconds"] / stepped, 4) if stepped else None,
            "metrics": metrics,
            "threads": torch.get_num_threads(),
            "parts": parts,  # more than one: the run was resumed (from_step: where)
        },
    )
    return config.out


def launching_process() -> bool:
    """Whether this is the process the user started (global rank 0): Lightning starts the other
    ranks of ddp by running the same command again, with their ranks in the environment."""
    return all(int(os.environ.get(name, 0)) == 0 for name in ("LOCAL_RANK", "NODE_RANK", "RANK"))


def _write_run_files(config: BCConfig, data: DemoDataModule, say: Callable[[str], None], fresh: bool) -> None:
    if fresh and (config.out / "config.json").is_file():
        say(f"{config.out} stopped before its first checkpoint: training it again from the beginning")
        (config.out / "checkpoints" / "best.ckpt").unlink(missing_ok=True)  # it may have written one just before
    config.out.mkdir(parents=True, exist_ok=True)
    config.save(config.out / "config.json")
    demos = {"task": data.store.plan.task, "episode_seeds": data.episode_seeds, "store": str(config.data)}
    write_json(config.out / "demos.json", demos, indent=None)


def _keep_metrics(logger: pl.loggers.CSVLogger, before_step: int) -> None:
    """metrics.csv keeps the rows logged before the checkpoint a run resumes from (`before_step`
    steps in): Lightning's CSV logger removes the file when it opens it, so they are written back
    after, and the logger told their columns (it appends rows, or rewrites the file with more)."""
    path = Path(logger.log_dir) / "metrics.csv"
    if not path.is_file():
        return
    with open(path, newline="") as handle:
        reader = csv.DictReader(handle)
        complete = [row for row in reader if None not in row and None not in row.values()]  # not a row cut by a kill
        header = reader.fieldnames or []
    text = io.StringIO()
    rows = csv.DictWriter(text, fieldnames=header)
    rows.writeheader()
    rows.writerows(row for row in complete if row.get("step", "").isdigit() and int(row["step"]) < before_step)
    with warnings.catch_warnings():  # "previous log files will be deleted": these are written back
        warnings.filterwarnings("ignore", message="Experiment logs directory")
        writer = logger.experiment
    write_text(path, text.getvalue())
    writer.metrics_keys = list(header)


def _closed_loop_selection(config: BCConfig, data: DemoDataModule) -> ClosedLoopSelection | None:
    if not config.select_episodes:
        return None
    if not len(data.val_episodes):
        least = next((n for n in range(1, 100_000) if round(n * config.val_fraction) >= 1), None)
        fix = f"use at least {least} demos" if least else "set val_fraction above 0 in the preset"
        raise RunError(
            f"--select-episodes ranks epochs by closed-loop success, then validation loss, and "
            f"{len(data.train_episodes)} demos at val_fraction {config.val_fraction} hold none out: {fix}"
        )
    plan = data.store.plan
    return ClosedLoopSelection(config, plan.task, plan.image_size, data.proprio_reader)


def _loggers(directory: Path) -> list:
    loggers = [pl.loggers.CSVLogger(directory, name="", version="")]
    try:
        import tensorboard  # noqa: F401
    except ImportError:
        return loggers
    return [*loggers, pl.loggers.TensorBoardLogger(directory, name="", version="")]


def best_checkpoint(run: Path) -> Path:
    for path in (run / "checkpoints" / "best.ckpt", last_checkpoint(run)):
        if path.is_file():
            return path
    raise RunError(f"{run} has no checkpoint (checkpoints/best.ckpt or last.ckpt): train it with 'samg bc train'")
