"""`samg prompt TASK`: the SAM-G reference of a task, from the simulator."""

from pathlib import Path

import typer

from samg.cli.common import allow_missing_assets_option, console, one_line_errors


@one_line_errors
def prompt_command(
    task: str = typer.Argument(..., help="Task name (see `samg envs list`)."),
    show: bool = typer.Option(False, "--show", help="Draw the saved prompt's points instead of building one."),
    image_size: int | None = typer.Option(None, min=16, help="Frame size (default: the task's)."),
    root: Path = typer.Option(Path("configs/prompts"), help="Where prompts live."),
    out: Path | None = typer.Option(None, help="With --show: the PNG to write (default: beside the prompt)."),
    allow_missing_assets: bool = allow_missing_assets_option(),
) -> None:
    """Build (or, with --show, draw) the reference image, mask and points of a task."""
    from samg.benchmark.assets import allow_missing_assets as allow_missing
    from samg.envs import get_task
    from samg.segmenter.prompts import build_prompt, draw_prompt, load_prompt, prompt_dir, save_prompt

    allow_missing(allow_missing_assets)
    spec = get_task(task)
    if show:
        picture = out or prompt_dir(spec.name, root) / "prompt_points.png"
        draw_prompt(load_prompt(spec.name, root)).save(picture)
        console.print(f"wrote {picture}")
        return
    prompt = build_prompt(spec, image_size)
    directory = save_prompt(prompt, root)
    points = ", ".join(f"{o.name}: {list(o.points)}" for o in prompt.objects)
    console.print(f"{directory}: seed {prompt.seed}, frame {prompt.frame}; points {points}")
