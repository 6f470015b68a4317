"""`samg distill`: a fast student segmenter learned from a teacher's masks of the train frames."""

from pathlib import Path

import typer

from samg.cli.common import START_AGAIN, console, one_line_errors
from samg.cli.segment import parse_episodes
from samg.devices import DEVICE_HELP, resolve_device


@one_line_errors(interrupted=START_AGAIN)
def distill_command(
    store: Path = typer.Argument(..., help="A demo store (.zarr) from `samg collect`."),
    teacher: str = typer.Option("oracle", help="oracle (the simulator's masks) or a mask set's name."),
    episodes: str | None = typer.Option(None, help="START:STOP episodes to learn from (default: all)."),
    setting: str = typer.Option("train", help="Only 'train': the shifted settings are for testing."),
    steps: int = typer.Option(3000, min=1, help="Optimiser steps."),
    batch_size: int = typer.Option(32, min=1, help="Frames per step."),
    lr: float = typer.Option(2e-3, min=0.0, help="Peak learning rate (one-cycle schedule)."),
    device: str = typer.Option("auto", help=DEVICE_HELP),
    seed: int = typer.Option(0, min=0),
    out: Path | None = typer.Option(
        None, help="Student file (default: runs/student_<task>_<teacher>.safetensors)."
    ),
) -> None:
    """Train a student segmenter; use it as `--segmenter student:PATH`."""
    from samg.distill.train import DistillConfig, distill

    config = DistillConfig(
        store=store,
        teacher=teacher,
        episodes=parse_episodes(episodes),
        setting=setting,
        steps=steps,
        batch_size=batch_size,
        lr=lr,
        device=resolve_device(device),
        seed=seed,
        out=out,
        log_every=max(1, min(100, steps // 10)),
    )

    def show(record: dict) -> None:
        console.print(
            f"step {record['step']:>6}/{record['steps']}  loss {record['loss']:.4f}  "
            f"{record['samples_per_second']:.0f} frames/s  ({record['seconds']:.0f} s)"
        )

    result = distill(config, on_progress=show)
    training = result.description["training"]
    console.print(
        f"wrote {result.path} ({result.description['parameters']:,} parameters, {training['seconds']:.0f} s; "
        f"IoU on un-augmented training frames {training['train_frames_iou']:.3f}): "
        f"use --segmenter student:{result.path}"
    )
