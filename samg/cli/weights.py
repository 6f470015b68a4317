"""`samg weights ...`: the backends' checkpoint files."""

import json
from pathlib import Path

import typer
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TransferSpeedColumn
from rich.table import Table

from samg.cli.common import console, one_line_errors

app = typer.Typer(help="Model weights (SAM family, DINOv2) in $SAMG_HOME/weights.", no_args_is_help=True)


@app.command("list")
@one_line_errors
def list_weights() -> None:
    """Each model, its file, the official sha256, and what is present (downloaded or imported)."""
    from samg.segmenter.weights import WEIGHTS, import_record, weights_path

    table = Table(title="model weights")
    for column in ("model", "file", "official sha256", "present"):
        table.add_column(column)
    for name, spec in WEIGHTS.items():
        path = weights_path(name)
        present = f"{path.stat().st_size / 2**20:.0f} MiB" if path.is_file() else "no"
        if path.is_file() and import_record(name).is_file():
            record = json.loads(import_record(name).read_text())
            present += f", imported from {Path(record['source']).name} (sha256 {record['sha256'][:16]}...)"
        table.add_row(name, spec.file_name, spec.sha256[:16] + "...", present)
    console.print(table)


@app.command("import")
@one_line_errors
def import_file(
    model: str = typer.Argument(..., help="Model name (see `samg weights list`), e.g. efficientvit-l1."),
    file: Path = typer.Argument(..., help="A checkpoint you have, e.g. the September 2023 EfficientViT-SAM l1.pt."),
    tiny: bool = typer.Option(False, "--tiny", hidden=True, help="Check against the tiny architecture (tests)."),
) -> None:
    """Use a checkpoint you have for MODEL: checked by loading every key, copied into the cache."""
    from samg.segmenter.weights import import_weights

    path, digest = import_weights(model, file, tiny=tiny)
    console.print(f"{model}: {path} (sha256 {digest}); masks made with it record this sha256")


@app.command()
@one_line_errors
def download(model: str = typer.Argument(..., help="Model name (see `samg weights list`), or 'all'.")) -> None:
    """Fetch official checkpoints, checksum-verified."""
    from samg.segmenter.weights import WEIGHTS, download_weights, weights_file

    names = list(WEIGHTS) if model == "all" else [weights_file(model).model]
    columns = (TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TransferSpeedColumn())
    with Progress(*columns, console=console) as progress:
        for name in names:
            bar = progress.add_task(name, total=None)
            path = download_weights(name, lambda done, total, bar=bar: progress.update(bar, completed=done, total=total or None))
            progress.console.print(f"{name}: {path}")
