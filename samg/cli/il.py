"""`samg bc train`, `samg eval` (and `samg eval compare`), `samg run`."""

from pathlib import Path

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from samg.cli.common import RESUME, RESUME_FLAG, START_AGAIN, allow_missing_assets_option, console, one_line_errors
from samg.devices import DEVICE_HELP, resolve_device
from samg.errors import SamgError, UnknownNameError
from samg.paths import require_outside_stores

SCHEDULER_HELP = ("Run the episodes on dask: threads, processes (--workers local workers, each stepping --envs) "
                  "or tcp://HOST:PORT of a dask scheduler (docs/cluster.md); default: local processes without dask.")

bc_app = typer.Typer(help="Behaviour cloning on (masked) demo frames.", no_args_is_help=True)


@bc_app.command("train")
@one_line_errors(interrupted=RESUME_FLAG)
def bc_train(
    data: Path | None = typer.Option(None, help="Demo store from `samg collect` (default: the only one under data/)."),
    obs: str = typer.Option("masked", help="masked (rgb * mask) or raw."),
    segmenter: str = typer.Option(
        "oracle", help="Masks: oracle (masks/gt), a mask set from `samg segment`, or blank (black frames: the control)."
    ),
    preset: str | None = typer.Option(
        None, help="Recipe: a preset in configs/bc (default: 'default', samg's CPU recipe; paper: 80 epochs, lr 5e-5) or a .toml file; flags override it; --resume keeps the run's own."
    ),
    encoder: str | None = typer.Option(None, help="conv (DrQ-v2, from scratch) or resnet18 (PIE-G, frozen ImageNet)."),
    epochs: int | None = typer.Option(None, min=1),
    batch_size: int | None = typer.Option(None, min=1),
    lr: float | None = typer.Option(None),
    proprio: str | None = typer.Option(None, help="hand (RL-ViGen's 24 hand joints), hand+arm (plus the arm's joints) or none (images only); the last two are not the paper's."),
    proprio_dropout: float | None = typer.Option(
        None, help="Probability that a training sample's proprioception is replaced by its mean (0: never; not the paper)."
    ),
    select_episodes: int | None = typer.Option(
        None, min=0, help="Choose best.ckpt by successes in this many live train-setting episodes after each epoch (0: by validation loss)."
    ),
    seed: int = typer.Option(0),
    demos: int | None = typer.Option(None, min=1, help="Use the first N episodes (default: all)."),
    out: Path | None = typer.Option(None, help="Run directory (default runs/<task>_<obs>_<segmenter>_s<seed>)."),
    devices: str = typer.Option("auto", help="Lightning devices: auto, 1, 4, ..."),
    accelerator: str = typer.Option("auto", help="Lightning accelerator: auto, cpu, gpu."),
    strategy: str = typer.Option(
        "auto", help="Lightning strategy: auto, ddp (a process per device; --batch-size is the global batch) or ddp_spawn."
    ),
    max_steps: int = typer.Option(-1, help="Stop after this many optimiser steps (-1: epochs decide)."),
    resume: bool = typer.Option(
        False, "--resume", help="Continue the run in --out from its last checkpoint, keeping its metrics and tally."
    ),
) -> None:
    """Train a BC policy; writes config, checkpoints, metrics and training.json."""
    from samg.il.config import BCConfig
    from samg.il.presets import resolve_config
    from samg.il.train import last_checkpoint, launching_process, train_bc
    from samg.pipeline.store import DemoStore

    from samg.paths import only_store

    data = data or only_store()
    task = DemoStore(data).plan.task
    label = "raw" if obs == "raw" else "blank" if segmenter == "blank" else f"masked_{segmenter}"
    recipe = {"encoder": encoder, "epochs": epochs, "batch_size": batch_size, "lr": lr, "proprio": proprio,
              "proprio_dropout": proprio_dropout, "select_episodes": select_episodes}  # fmt: skip
    out = out or Path("runs") / f"{task}_{label}_s{seed}"
    resumed = BCConfig.load(out, last_checkpoint) if resume and last_checkpoint(out).is_file() else None
    config = resolve_config(
        preset,
        recipe,
        resumed,
        data=data,
        out=out,
        obs=obs,
        segmenter=segmenter,
        seed=seed,
        demos=demos,
        devices=devices,
        accelerator=accelerator,
        strategy=strategy,
        max_steps=max_steps,
    )
    run = train_bc(config, resume=resume, say=lambda line: console.print(line, markup=False))
    if launching_process():  # ddp's other ranks run this command too
        console.print(f"trained {run}: {(run / 'training.json').read_text().strip()}")


MAX_SEEDS = 100_000  # per setting; the paper evaluates 100


def _parse_seeds(text: str | None) -> tuple[int, ...] | None:
    if text is None:
        return None
    try:
        if ":" in text:
            start, stop = (int(part) for part in text.split(":"))
            seeds = range(start, stop)
        else:
            seeds = [int(s) for s in text.split(",")]
    except ValueError:
        raise SamgError(f"--seeds takes START:STOP or a comma list, got {text!r}") from None
    if not seeds:
        raise SamgError(f"--seeds {text} is empty: START:STOP needs START below STOP")
    if min(seeds) < 0 or len(seeds) > MAX_SEEDS:
        raise SamgError(f"--seeds {text}: seeds are non-negative, at most {MAX_SEEDS} of them")
    return tuple(seeds)


@one_line_errors(interrupted=START_AGAIN)
def eval_command(
    runs: list[Path] | None = typer.Argument(
        None, help="RUN (default: the newest trained run under runs/), or: compare RUN_A RUN_B ..."
    ),
    settings: str = typer.Option("all", help="'all' or comma-separated setting names."),
    episodes: int = typer.Option(100, min=1, help="Episodes per setting."),
    seeds: str | None = typer.Option(None, help="START:STOP or a comma list (default: 1000000 onwards)."),
    segmenter: str | None = typer.Option(
        None, help="Segmenter in the loop: none, oracle, a mask set's name or student:PATH (default: the trained one)."
    ),
    target: str | None = typer.Option(None, help="SAM-G: union or per-object (default: as stored with the masks)."),
    round3_negative: str | None = typer.Option(None, help="SAM-G: global or in-box (default: as stored)."),
    workers: int = typer.Option(1, min=1, help="Rollout processes (each steps --envs environments)."),
    envs: int = typer.Option(
        1, min=1, help="Environments per process in lockstep: one segmenter and policy call per step on all."
    ),
    device: str = typer.Option("auto", help=DEVICE_HELP),
    videos: int = typer.Option(3, min=0, help="Episodes per setting recorded as MP4 (raw | mask | masked)."),
    out: Path | None = typer.Option(None, help="Output directory (default RUN/eval; compare: eval_compare.md)."),
    layout: str = typer.Option(
        "runs", "--format", help="compare: runs (a row per run) or paper (Table 3: a row per task and policy, in %)."
    ),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an earlier evaluation (or comparison) in --out."),
    scheduler: str | None = typer.Option(None, help=SCHEDULER_HELP),
    allow_missing_assets: bool = allow_missing_assets_option(),
) -> None:
    """Roll a trained policy out live in each setting; `samg eval compare RUN...` tabulates runs."""
    from samg.benchmark.assets import allow_missing_assets as allow_missing

    allow_missing(allow_missing_assets)
    if not runs:
        from samg.paths import newest_run

        runs = [newest_run()]
        console.print(f"evaluating the newest run, {runs[0]}")
    if runs[0] == Path("compare"):
        _compare(runs[1:], out or Path("eval_compare.md"), overwrite, layout)
        return
    if len(runs) != 1:
        raise SamgError("samg eval takes one RUN (or: samg eval compare RUN_A RUN_B ...)")
    from samg.envs import parse_settings
    from samg.il.evaluate import EvalConfig, evaluate

    parsed_seeds = _parse_seeds(seeds)
    config = EvalConfig(
        run=runs[0],
        settings=parse_settings(settings),
        episodes=len(parsed_seeds) if parsed_seeds else episodes,
        seeds=parsed_seeds,
        segmenter=segmenter,
        target=target,
        round3_negative=round3_negative,
        workers=workers,
        envs=envs,
        device=resolve_device(device),
        videos=videos,
        out=out,
        overwrite=overwrite,
        scheduler=scheduler,
    )
    columns = (TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
               TextColumn("success {task.fields[rate]}"), TimeElapsedColumn(), TimeRemainingColumn())  # fmt: skip
    with Progress(*columns, console=console) as progress:
        bars = {s: progress.add_task(s, total=config.episodes, rate="-") for s in config.settings}
        wins = dict.fromkeys(config.settings, 0)

        def show(result) -> None:
            wins[result.setting] += result.success
            bar = bars[result.setting]
            progress.advance(bar)
            done = progress.tasks[bar].completed
            progress.update(bar, rate=f"{wins[result.setting] / done:.2f}")

        info = evaluate(config, on_episode=show)
    table = Table(title=f"success rate of {config.run} ({info['policy_obs']})")
    for column in ("setting", "episodes", "success", "95% interval", "mean return"):
        table.add_column(column)
    for setting, values in info["aggregate"].items():
        low, high = values["ci95"]
        table.add_row(setting, str(values["episodes"]), f"{values['success_rate']:.3f}", f"[{low:.3f}, {high:.3f}]",
                      f"{values['mean_return']:.1f}")  # fmt: skip
    console.print(table)
    console.print(f"wrote {config.out_dir}/eval_info.json, eval.md, success.png, videos/")


def _compare(runs: list[Path], out: Path, overwrite: bool, layout: str) -> None:
    from samg.il.report import COMPARISON_LAYOUTS, write_comparison

    if layout not in COMPARISON_LAYOUTS:
        raise UnknownNameError("comparison format", layout, COMPARISON_LAYOUTS)

    if not runs:
        raise SamgError("samg eval compare needs at least one RUN")
    if len({run.resolve() for run in runs}) < len(runs):
        raise SamgError("samg eval compare got a RUN twice: name each run once (its training seeds are separate runs)")
    require_outside_stores(out)
    if out.is_dir():
        raise SamgError(f"--out {out} is a directory: give the comparison's file name")
    if out.exists() and not overwrite:
        raise SamgError(f"{out} exists: pass --overwrite to replace it, or another --out")
    header, rows = COMPARISON_LAYOUTS[layout](runs)
    _print_table("success rate [95% interval]" if layout == "runs" else "success rate in % (Table 3 layout)", header, rows)
    write_comparison(header, rows, out, layout)
    console.print(f"wrote {out}")


def _print_table(title: str, header: list[str], rows: list[list[str]]) -> None:
    table = Table(title=title)
    for column in header:
        table.add_column(column)
    for row in rows:
        table.add_row(*row)
    console.print(table)


@one_line_errors(interrupted=RESUME)
def run_command(
    task: str = typer.Argument("door", help="Adroit task: door, hammer, pen."),
    segmenter: str = typer.Option(
        "oracle", help="The masked policy's segmenter: oracle, student (distilled here) or samg (needs the weights)."
    ),
    episodes: int = typer.Option(100, min=2, help="Demos to collect (paper: 300)."),
    noise: float = typer.Option(0.0, min=0.0, help="DART noise on the demos' executed actions (see samg collect --noise)."),
    preset: str = typer.Option("default", help="BC recipe of both policies: a preset in configs/bc or a .toml file."),
    epochs: int | None = typer.Option(None, min=1, help="BC epochs, both policies (default: the preset's; paper: 80)."),
    lr: float | None = typer.Option(None, help="BC learning rate (default: the preset's; paper: 5e-5 over 80 epochs)."),
    eval_episodes: int = typer.Option(30, min=1, help="Evaluation episodes per setting (paper: 100)."),
    seed: int = typer.Option(0, min=0),
    workers: int | None = typer.Option(None, min=1, help="Collection and evaluation processes (default: cores)."),
    envs: int = typer.Option(4, min=1, help="Evaluation environments per process, in lockstep."),
    student_steps: int = typer.Option(1500, min=1, help="--segmenter student: distillation steps."),
    device: str = typer.Option("auto", help=DEVICE_HELP),
    out: Path = typer.Option(Path("runs"), help="Where the run directories go."),
    data: Path = typer.Option(Path("data"), help="Where the demo store goes."),
    image_size: int | None = typer.Option(None, min=16, help="Frame size (default: the task's)."),
    expert: Path | None = typer.Option(None, help="Expert file (default: the cached published one)."),
    keep_failures: bool = typer.Option(False, help="Keep unsuccessful demos too."),
    scheduler: str | None = typer.Option(None, help=SCHEDULER_HELP),
    allow_missing_assets: bool = allow_missing_assets_option(),
) -> None:
    """Raw frames vs masked frames on the same demos: collect, train both, evaluate both in
    every setting, compare. About 10 minutes for door on 2 CPU cores with the defaults."""
    import os

    from samg.benchmark.assets import allow_missing_assets as allow_missing

    allow_missing(allow_missing_assets)
    from samg.il.experiment import ExperimentConfig, run_experiment

    config = ExperimentConfig(
        task=task, segmenter=segmenter, episodes=episodes, noise=noise, preset=preset, epochs=epochs, lr=lr,
        eval_episodes=eval_episodes,
        seed=seed, workers=workers or os.cpu_count() or 1, envs=envs, student_steps=student_steps,
        device=resolve_device(device),
        image_size=image_size, expert=expert, keep_failures=keep_failures, data=data, out=out, scheduler=scheduler,
    )  # fmt: skip
    result = run_experiment(config, say=lambda line: console.print(line, markup=False))
    header, rows = result["table"]
    _print_table(f"{task}: success rate [95% interval], {eval_episodes} episodes a setting", header, rows)
    comparison = out / f"run_{task}_compare.md"
    from samg.il.report import write_comparison

    write_comparison(header, rows, comparison)
    console.print(f"done in {result['seconds'] / 60:.1f} min; table in {comparison}")
