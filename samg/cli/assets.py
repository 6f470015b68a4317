"""`samg assets list | fetch | import DIR`: the benchmark's own files, pinned and verified."""

from pathlib import Path

import typer
from rich.table import Table

from samg.cli.common import console, one_line_errors
from samg.errors import SamgError

app = typer.Typer(help="The paper's benchmark files (RL-ViGen Adroit, DMC-GB).", no_args_is_help=True)


def _summary(status: dict[str, str]) -> str:
    counts = {value: list(status.values()).count(value) for value in ("verified", "missing", "corrupt")}
    return ", ".join(f"{count} {name}" for name, count in counts.items())


def _report(status: dict[str, str], verb: str) -> None:
    from samg.benchmark.assets import CORRUPT, benchmark_root

    for name, value in status.items():
        if value == CORRUPT:
            console.print(f"[red]corrupt[/] {name}: its bytes are not the pinned ones (not used)")
    console.print(f"{benchmark_root()}: {verb}; {_summary(status)}")
    corrupt = [name for name, value in status.items() if value == CORRUPT]
    if corrupt:
        raise SamgError(f"{len(corrupt)} file(s) are not the pinned bytes and were not used, e.g. {corrupt[0]}")


@app.command("list")
@one_line_errors
def list_assets(
    all_files: bool = typer.Option(False, "--all", help="One row per file (default: folders summarised)."),
) -> None:
    """Each pinned file as verified / missing / corrupt (hashes are checked)."""
    from samg.benchmark.assets import benchmark_root, file_status
    from samg.benchmark.manifest import MANIFEST

    root = benchmark_root()
    status = {name: file_status(root, asset) for name, asset in MANIFEST.items()}
    table = Table(title=f"benchmark files in {root}")
    for column in ("file", "status", "repository@commit", "bytes"):
        table.add_column(column)
    folders: dict[str, list[str]] = {}
    for name in MANIFEST:
        folders.setdefault(str(Path(name).parent), []).append(name)
    for folder, names in folders.items():
        rows = names if all_files or len(names) <= 3 or any(status[n] != "verified" for n in names) else []
        for name in rows:
            asset = MANIFEST[name]
            colour = {"verified": "green", "missing": "yellow", "corrupt": "red"}[status[name]]
            table.add_row(name, f"[{colour}]{status[name]}[/]", f"{asset.repository}@{asset.commit[:7]}", str(asset.size or "-"))
        if not rows:
            table.add_row(f"{folder}/ ({len(names)} files)", "[green]verified[/]", MANIFEST[names[0]].repository, "")
    console.print(table)
    console.print(_summary(status))


@app.command("fetch")
@one_line_errors
def fetch() -> None:
    """Download every file that is not here yet from its pinned commit, and verify it; exits
    non-zero unless every file is then here and verified."""
    from samg.benchmark.assets import MISSING, fetch_assets

    result = fetch_assets()
    _report(result.status, "fetched")
    missing = [name for name, value in result.status.items() if value == MISSING]
    if missing:
        why = f"; {result.unreachable}" if result.unreachable else " (not found at the pinned commit)"
        raise SamgError(
            f"{len(missing)} benchmark file(s) could not be fetched, e.g. {missing[0]}{why}: re-run "
            "'samg assets fetch' when the host is reachable (verified files are kept), or copy them with "
            "'samg assets import DIR'"
        )


@app.command("import")
@one_line_errors
def import_command(
    source: Path = typer.Argument(..., help="A folder laid out like the manifest (e.g. ../shared/benchmark)."),
) -> None:
    """Copy the pinned files found in SOURCE into $SAMG_HOME/benchmark, verifying each one."""
    from samg.benchmark.assets import import_assets
    from samg.benchmark.manifest import MANIFEST

    if source.is_dir() and not any((source / name).is_file() for name in MANIFEST):
        raise SamgError(f"{source} holds none of the benchmark's files: give the folder that holds dmcgb/ and rl-vigen-adroit/")
    _report(import_assets(source).status, f"imported from {source}")
