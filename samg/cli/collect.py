"""`samg collect` and `samg info`: demo stores."""

from pathlib import Path

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from samg.cli.common import RESUME, allow_missing_assets_option, console, one_line_errors


@one_line_errors(interrupted=RESUME)
def collect_command(
    task: str = typer.Argument(..., help="Task name (see `samg envs list`)."),
    episodes: int = typer.Option(300, min=1, help="Episodes to keep."),
    out: Path | None = typer.Option(None, help="Store path (default data/TASK.zarr)."),
    settings: str = typer.Option("all", help="'all' or comma-separated setting names."),
    seed: int = typer.Option(0, min=0, help="First episode seed; seeds are tried in order."),
    workers: int | None = typer.Option(None, min=1, help="Worker processes (default: the core count)."),
    image_size: int | None = typer.Option(None, min=16, help="Frame size (default: the task's)."),
    keep_failures: bool = typer.Option(False, help="Keep unsuccessful episodes too."),
    expert: Path | None = typer.Option(None, help="Expert file (default: the cached published one)."),
    noise: float = typer.Option(
        0.0, min=0.0, help="DART: std of Gaussian noise added to the executed actions ([-1, 1] units); the stored labels stay the expert's clean actions."
    ),
    scheduler: str | None = typer.Option(
        None, help="Run the episodes on dask: threads, processes (--workers local workers) or tcp://HOST:PORT of a dask scheduler (docs/cluster.md); default: local processes without dask."
    ),
    allow_missing_assets: bool = allow_missing_assets_option(),
) -> None:
    """Roll out the expert and store every step in every setting (resumable)."""
    import os

    from samg.benchmark.assets import allow_missing_assets as allow_missing

    from samg.envs import get_task, parse_settings
    from samg.rl_collect.collect import CollectConfig, collect

    config = CollectConfig(
        task=get_task(task).name,
        episodes=episodes,
        out=out,
        settings=parse_settings(settings),
        seed=seed,
        workers=workers or os.cpu_count() or 1,
        image_size=image_size,
        keep_failures=keep_failures,
        expert_path=expert,
        noise=noise,
        scheduler=scheduler,
    )
    allow_missing(allow_missing_assets)
    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("success {task.fields[success]}"),
        TextColumn("{task.fields[fps]} frames/s"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console) as progress:
        bar = progress.add_task(f"collect {task}", total=episodes, success="-", fps="-")

        def show(state) -> None:
            rate = "-" if state.seeds_tried == 0 else f"{state.success_rate:.2f}"
            progress.update(bar, completed=state.committed, success=rate, fps=f"{state.frames_per_second:.0f}")

        store = collect(config, on_progress=show)
    console.print(f"{store.path}: {store.n_episodes} episodes, complete")


@one_line_errors
def info_command(
    store_path: Path = typer.Argument(..., metavar="STORE", help="A demo store (.zarr)."),
    check: bool = typer.Option(False, "--check", help="Validate every array and chunk."),
) -> None:
    """Attributes, episodes and arrays of a demo store; --check validates all of it."""
    from samg.pipeline.store import DemoStore, demo_arrays
    from samg.pipeline.validate import check_store, disk_bytes

    store = DemoStore(store_path)
    attrs = store.attrs
    about = Table(title=f"{store.path}", show_header=False)
    for key in sorted(attrs):
        if key not in ("benchmark", "source"):
            about.add_row(key, str(attrs[key]))
    if store.plan.imported:
        for key, value in store.plan.source.items():
            about.add_row(f"source.{key}", str(value)[:200])
    else:
        benchmark = attrs["benchmark"]
        missing = ", ".join(benchmark["missing"]) or "none"
        about.add_row("benchmark", f"{benchmark['name']}: {len(benchmark['files'])} files verified, missing: {missing}")
    console.print(about)
    state = "complete" if store.complete else "in progress"
    if store.plan.imported:
        console.print(
            f"episodes: {store.n_episodes}/{store.plan.episodes} ({state}), steps: {store.n_steps}; imported "
            f"from {store.plan.source['format']}: no simulator, so no ground-truth masks, success signal or sim states"
        )
    else:
        success = store.episode_success
        rate = f"{success.mean():.3f}" if len(success) else "-"
        console.print(
            f"episodes: {store.n_episodes}/{store.plan.episodes} ({state}), "
            f"steps: {store.n_steps}, episode success rate: {rate}"
        )
        _print_episode_params(store)
    arrays = Table(title="arrays")
    for column in ("array", "shape", "chunks", "dtype", "on disk"):
        arrays.add_column(column)
    for key in [spec.key for spec in demo_arrays(store.plan)] + ["meta/episode_ends"]:
        array = store.array(key)
        size = disk_bytes(store.path / key)
        arrays.add_row(key, str(array.shape), str(array.chunks), str(array.dtype), f"{size / 2**20:.1f} MiB")
    console.print(arrays)
    console.print(f"total on disk: {disk_bytes(store.path) / 2**20:.1f} MiB")
    if check:
        for line in check_store(store):
            console.print(f"[green]ok[/] {line}")
        console.print("[green]check passed[/]")


def _print_episode_params(store) -> None:
    """The range of each parameter the resets drew (the nail board's height) over the stored
    episodes, read from their first simulator states, beside the range they are drawn from."""
    import numpy as np

    from samg.envs import get_task

    task = get_task(store.plan.task)
    if not task.episode_params or not store.n_episodes:
        return
    firsts = store.read("data/sim_state", np.arange(store.n_episodes) * store.plan.episode_length)
    values = [task.episode_param_values(state) for state in firsts]
    for param in task.episode_params:
        drawn = [episode[param.name] for episode in values]
        console.print(
            f"{param.name} ({param.unit}): {min(drawn):.4g} to {max(drawn):.4g} over the episodes, "
            f"drawn from {param.low:.4g} to {param.high:.4g} ({param.about})"
        )
