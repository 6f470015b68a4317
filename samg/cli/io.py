"""`samg import FORMAT SOURCE`: other people's datasets into samg stores."""

from pathlib import Path

import typer

from samg.cli.common import RESUME, console, one_line_errors

import_app = typer.Typer(help="Import a LeRobot, robomimic or diffusion_policy dataset into a samg store.", no_args_is_help=True)

CAMERA_HELP = "The camera whose frames become the store's train setting (default: the first, in name order)."
SIZE_HELP = "Resize frames to N x N (the original size is recorded); needed for non-square cameras."
NAME_HELP = "The store's task name, which names its prompt folder (default: the source's file name)."
OUT_HELP = "The store to write (default: data/NAME.zarr); re-running continues a killed import."


def _run(fmt: str, source: Path, camera: str | None, image_size: int | None, name: str | None, out: Path | None) -> None:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from samg.formats.importer import ImportConfig, import_dataset

    config = ImportConfig(fmt, source, out=out, name=name, camera=camera, image_size=image_size)
    columns = (TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TextColumn("frames"), TimeRemainingColumn())
    with Progress(*columns, console=console, transient=True) as progress:
        bar = progress.add_task(f"import {fmt}", total=None)

        def show(state) -> None:
            progress.update(bar, completed=state.frames_done, total=state.frames_total)

        store = import_dataset(config, on_progress=show)
    console.print(
        f"{store.path}: {store.n_episodes} episodes, {store.n_steps} frames of {store.plan.source['camera']} "
        f"at {store.plan.image_size} px, setting train"
    )


def _command(fmt: str, source_help: str):
    @one_line_errors(interrupted=RESUME)
    def command(
        source: Path = typer.Argument(..., help=source_help),
        camera: str | None = typer.Option(None, help=CAMERA_HELP),
        image_size: int | None = typer.Option(None, min=16, help=SIZE_HELP),
        name: str | None = typer.Option(None, help=NAME_HELP),
        out: Path | None = typer.Option(None, help=OUT_HELP),
    ) -> None:
        _run(fmt, source, camera, image_size, name, out)

    command.__doc__ = f"Import a {fmt} dataset ({source_help})"
    return command


import_app.command("lerobot")(_command("lerobot", "a LeRobot v3.0 dataset folder: meta/info.json, data/, videos/"))
import_app.command("robomimic")(_command("robomimic", "a robomimic / robosuite .hdf5 file with image observations"))
import_app.command("zarr")(_command("zarr", "a diffusion_policy ReplayBuffer folder: data/, meta/episode_ends"))
