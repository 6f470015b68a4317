"""`samg envs ...`: the tasks, and a picture of them in every visual setting."""

from pathlib import Path

import typer
from rich.table import Table

from samg.cli.common import allow_missing_assets_option, console, one_line_errors

app = typer.Typer(help="Tasks and visual settings.", no_args_is_help=True)


@app.command("list")
@one_line_errors
def list_tasks() -> None:
    """Print the tasks and their facts."""
    from samg.envs import SETTING_NAMES, TASKS

    table = Table(title="samg tasks")
    for column in ("task", "family", "env id", "steps", "camera", "image", "proprio", "success rule", "mask objects"):
        table.add_column(column)
    for task in TASKS.values():
        rule = f"> {task.success_min_steps} steps" if task.success_min_steps is not None else "-"
        objects = ", ".join(f"{i}:{o.name}" for i, o in enumerate(task.objects, start=1))
        table.add_row(
            task.name,
            task.family,
            task.env_id,
            str(task.episode_length),
            str(task.camera),
            "/".join(map(str, task.image_sizes)),
            str(task.proprio_dim),
            rule,
            objects,
        )
    console.print(table)
    console.print(f"visual settings: {', '.join(SETTING_NAMES)}")


@app.command()
@one_line_errors
def preview(
    task: str = typer.Argument(..., help="Task name (see `samg envs list`)."),
    settings: str = typer.Option("all", help="'all' or comma-separated setting names."),
    steps: int = typer.Option(6, min=1, help="Columns: steps spread over one episode."),
    seed: int = typer.Option(0, min=0, help="Episode seed."),
    image_size: int | None = typer.Option(None, min=16, help="Frame size (default: the task's)."),
    allow_missing_assets: bool = allow_missing_assets_option(),
    out: Path | None = typer.Option(None, help="PNG to write (default data/preview_TASK.png)."),
) -> None:
    """Write one picture: a row per setting, columns over an episode, and the GT mask."""
    from samg.envs import get_task, parse_settings
    from samg.envs.preview import write_preview
    from samg.benchmark.assets import allow_missing_assets as allow_missing

    allow_missing(allow_missing_assets)
    spec = get_task(task)
    names = parse_settings(settings)
    path = write_preview(spec, names, out or Path("data") / f"preview_{task}.png", steps, seed, image_size)
    console.print(f"wrote {path}")
