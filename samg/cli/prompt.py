"""`samg prompt NAME`: the SAM-G reference of a task, from the simulator, or from a frame and
its mask given by a person (`--from-image` / `--store`)."""

from pathlib import Path

import typer

from samg.cli.common import allow_missing_assets_option, console, one_line_errors


@one_line_errors
def prompt_command(
    task: str | None = typer.Argument(None, help="Task name (see `samg envs list`), or the imported store's name."),
    show: bool = typer.Option(False, "--show", help="Draw the saved prompt's points instead of building one."),
    image_size: int | None = typer.Option(None, min=16, help="Frame size (default: the task's)."),
    root: Path = typer.Option(Path("configs/prompts"), help="Where prompts live."),
    out: Path | None = typer.Option(None, help="With --show: the PNG to write (default: beside the prompt)."),
    from_image: Path | None = typer.Option(None, "--from-image", help="The reference frame (PNG), instead of the simulator."),
    store: Path | None = typer.Option(None, help="Take the reference frame from this store (with --episode, --step)."),
    episode: int = typer.Option(0, min=0, help="With --store: the episode."),
    step: int = typer.Option(0, min=0, help="With --store: the step within the episode."),
    mask: Path | None = typer.Option(None, help="The frame's object mask (PNG: 0 background, one value per object)."),
    points: list[str] | None = typer.Option(None, help="'x,y x,y x,y' for one object; repeat per object (default: 3 chosen)."),
    objects: str | None = typer.Option(None, help="Comma-separated object names (default: object1, object2, ...)."),
    allow_missing_assets: bool = allow_missing_assets_option(),
) -> None:
    """Build (or, with --show, draw) the reference image, mask and points of a task."""
    from samg.segmenter.prompts import draw_prompt, load_prompt, prompt_dir, save_prompt

    if from_image is not None or store is not None:
        prompt = _user_prompt(task, from_image, store, episode, step, mask, points, objects)
    else:
        if task is None:
            raise typer.BadParameter("name a task, or give --from-image / --store with --mask")
        from samg.benchmark.assets import allow_missing_assets as allow_missing
        from samg.envs import get_task
        from samg.segmenter.prompts import build_prompt

        allow_missing(allow_missing_assets)
        task = get_task(task).name
        if show:
            picture = out or prompt_dir(task, root) / "prompt_points.png"
            draw_prompt(load_prompt(task, root)).save(picture)
            console.print(f"wrote {picture}")
            return
        prompt = build_prompt(get_task(task), image_size)
    directory = save_prompt(prompt, root)
    if show:
        picture = out or directory / "prompt_points.png"
        draw_prompt(prompt).save(picture)
        console.print(f"wrote {picture}")
    points_text = ", ".join(f"{o.name}: {list(o.points)}" for o in prompt.objects)
    console.print(f"{directory}: seed {prompt.seed}, frame {prompt.frame}; points {points_text}")


def _user_prompt(task, from_image, store, episode, step, mask, points, objects):
    from samg.segmenter.prompts import PromptError
    from samg.segmenter.user_prompt import parse_points, read_picture, store_frame, user_prompt

    if (from_image is None) == (store is None):
        raise PromptError("give the frame once: --from-image FRAME.png or --store STORE")
    if mask is None:
        raise PromptError("a prompt from your own frame needs its object mask: --mask MASK.png")
    if store is not None:
        image, seed = store_frame(store, episode, step)
        frame = step
        if task is None:
            from samg.pipeline.store import DemoStore

            task = DemoStore(store).plan.task
    else:
        image, seed, frame = read_picture(from_image, "RGB"), -1, -1
    if task is None:
        raise PromptError("name the prompt (the store's name, whose segmentation uses it): samg prompt NAME --from-image ...")
    parsed = [parse_points(text) for text in points] if points else None
    names = [n.strip() for n in objects.split(",")] if objects else None
    return user_prompt(task, image, read_picture(mask, "L"), parsed, names, seed, frame)
