"""`samg segment` and `samg report`: masks for a demo store and their quality."""

from pathlib import Path

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from samg.cli.common import RESUME, console, one_line_errors
from samg.devices import DEVICE_HELP, resolve_device
from samg.errors import SamgError, UnknownNameError


def parse_episodes(text: str | None) -> tuple[int, int] | None:
    """'START:STOP' (START may be empty) -> (start, stop)."""
    if text is None:
        return None
    start, sep, stop = text.partition(":")
    try:
        if not sep or not stop:
            raise ValueError
        return int(start or 0), int(stop)
    except ValueError:
        raise SamgError(f"--episodes takes START:STOP (e.g. 0:10), got {text!r}") from None


def _backend(name: str, role: str) -> str:
    from samg.segmenter.backends import BACKENDS

    valid = [spec.name for spec in BACKENDS.values() if spec.kind == role]
    if name not in valid:
        raise UnknownNameError(f"{role} backend", name, valid)
    return name


def _dtype(name: str) -> str:
    from samg.segmenter.factory import DTYPES

    if name not in DTYPES:
        raise UnknownNameError("dtype", name, DTYPES)
    return name


@one_line_errors(interrupted=RESUME)
def segment_command(
    store: Path = typer.Argument(..., help="A demo store (.zarr) from `samg collect`."),
    segmenter: str = typer.Option(
        "samg", help="samg, oracle (ground truth), none (all pixels) or student:PATH (from `samg distill`)."
    ),
    sam: str = typer.Option("efficientvit-l1", help="SAM-family backend (efficientvit-l0|l1, sam-vit-b)."),
    dino: str = typer.Option("dinov2-vitb14", help="DINOv2 backend (dinov2-vits14, dinov2-vitb14)."),
    settings: str = typer.Option("all", help="'all' or comma-separated setting names."),
    batch_size: int | None = typer.Option(None, min=1, help="Frames per model pass (default 1 on CPU, 64 on GPU)."),
    scheduler: str = typer.Option("threads", help="threads, processes, or tcp://HOST:PORT of a dask scheduler."),
    workers: int | None = typer.Option(None, min=1, help="Local workers (default: 1 for samg, else the cores)."),
    device: str = typer.Option("auto", help=DEVICE_HELP),
    dtype: str = typer.Option("fp32", help="fp32, bf16 or fp16 for the encoders."),
    compile: bool = typer.Option(
        False, "--compile", help="Encoders through torch.compile (static batch shapes; recorded with the masks)."
    ),
    episodes: str | None = typer.Option(None, help="START:STOP episode range (default: all)."),
    name: str | None = typer.Option(None, help="Name of the mask set (default: the segmenter kind)."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace masks of this name made another way."),
    no_dino: bool = typer.Option(False, "--no-dino", help="Ablation: SAM features alone."),
    no_extra_points: bool = typer.Option(False, "--no-extra-points", help="Ablation: type-1 features alone."),
    no_refine: bool = typer.Option(False, "--no-refine", help="Ablation: one decoder round."),
    no_adapt: bool = typer.Option(False, "--no-adapt", help="Ablation: default mask weights, no PerSAM-F."),
    target: str = typer.Option("union", help="Type-1 features and negatives: union (official) or per-object."),
    round3_negative: str = typer.Option("global", help="Round 3's extra negative: global (official) or in-box."),
    random_weights: bool = typer.Option(False, "--random-weights", help="Seeded random weights: timing only."),
    tiny: bool = typer.Option(False, "--tiny", hidden=True, help="Tiny architectures (tests, smoke runs)."),
    prompt: str = typer.Option("auto", help="auto (the paper's own prompt for door, hammer, pen), official or simulator."),
    regions: str = typer.Option("official", help="Type-1 regions: official (thresholded masked images) or exact."),
    prompts: Path = typer.Option(Path("configs/prompts"), help="Where the simulator's task prompts live."),
) -> None:
    """Mask every frame of STORE in every setting with Dask (resumable) and report quality."""
    import os

    from samg.envs import parse_settings
    from samg.pipeline.segment import SegmentConfig, segment_store
    from samg.pipeline.store import DemoStore
    from samg.segmenter.factory import SegmenterConfig, parse_segmenter
    from samg.segmenter.method import SamgOptions

    kind, student = parse_segmenter(segmenter)
    segmenter_config = SegmenterConfig(
        kind=kind,
        student=student,
        sam=_backend(sam, "sam"),
        dino=_backend(dino, "dino"),
        options=SamgOptions(
            use_dino=not no_dino,
            extra_points=not no_extra_points,
            refine=not no_refine,
            target=target,
            round3_negative=round3_negative,
            regions=regions,
        ),
        adapt=not no_adapt,
        device=resolve_device(device),
        dtype=_dtype(dtype),
        prompt=prompt,
        prompts_root=prompts,
        random_weights=random_weights,
        tiny=tiny,
        batch_size=batch_size,
        compile=compile,
    )
    config = SegmentConfig(
        store=store,
        segmenter=segmenter_config,
        name=name,
        settings=None if settings == "all" else parse_settings(settings),
        episodes=parse_episodes(episodes),
        scheduler=scheduler,
        workers=workers or (1 if kind in ("samg", "student") else os.cpu_count() or 1),
        overwrite=overwrite,
    )
    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("blocks  {task.fields[fps]} frames/s"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console) as progress:
        bar = progress.add_task(f"segment {config.mask_name}", total=None, fps="-")

        def show(state) -> None:
            progress.update(
                bar, total=state.blocks_total, completed=state.blocks_done, fps=f"{state.frames_per_second:.1f}"
            )

        result = segment_store(config, on_progress=show)
    skipped = result.progress.blocks_skipped
    console.print(
        f"masks/{result.name}: {result.progress.blocks_done - skipped} blocks segmented, {skipped} already done"
    )
    if DemoStore(config.store).plan.has_ground_truth:
        console.print(quality_table(result.quality, f"mask quality of {result.name!r} against masks/gt"))
        return
    for setting, values in result.quality.items():
        kept = values["all"]
        console.print(
            f"{setting}: no ground truth (an imported store), so no IoU; the masks keep {kept['kept_fraction']:.1%} "
            f"of a frame on average and nothing on {kept['empty_fraction']:.1%} of {kept['frames']} frames: "
            f"look at example frames with 'samg report {config.store} --name {result.name}'"
        )


def quality_table(quality: dict, title: str) -> Table:
    from samg.pipeline.report import HEADERS, quality_rows

    table = Table(title=title)
    for column in ("setting", "object", *HEADERS, "frames"):
        table.add_column(column, justify="left" if column in ("setting", "object") else "right")
    for setting, name, values, frames in quality_rows(quality):
        table.add_row(setting, name, *values, str(frames))
    return table


@one_line_errors
def report_command(
    store: Path = typer.Argument(..., help="A demo store with masks from `samg segment`."),
    name: str = typer.Option(..., help="Name of the mask set."),
    out: Path | None = typer.Option(None, help="Directory (default: STORE's folder, <task>_<name>_report)."),
    examples: int = typer.Option(3, min=1, help="Frames per setting in the grid: the worst, then a median one."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an earlier report in --out."),
) -> None:
    """Write report.md, examples.png and iou.png for a mask set."""
    from samg.pipeline.masks import MaskSet
    from samg.pipeline.report import write_report
    from samg.pipeline.store import DemoStore

    demo_store = DemoStore(store)
    directory = write_report(demo_store, name, out, examples, overwrite)
    if not demo_store.plan.has_ground_truth:
        console.print(f"wrote {directory / 'report.md'}, examples.png (no ground truth in an imported store: no IoU)")
        return
    console.print(quality_table(MaskSet(demo_store, name).attrs["quality"], f"mask quality of {name!r}"))
    console.print(f"wrote {directory / 'report.md'}, examples.png, iou.png")
