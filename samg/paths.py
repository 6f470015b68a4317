"""Where samg keeps downloaded files ($SAMG_HOME, default ~/.cache/samg), the store and run
the card's bare commands default to (data/, runs/ of the working directory), and where
outputs may not go (inside a store)."""

import os
from pathlib import Path


def samg_home() -> Path:
    return Path(os.environ.get("SAMG_HOME") or Path.home() / ".cache" / "samg")


def only_store(data: Path = Path("data")) -> Path:
    """The one demo store under `data/`, for `samg bc train` without --data."""
    from samg.errors import SamgError

    stores = sorted(data.glob("*.zarr"))
    if not stores:
        raise SamgError(f"no demo store under {data}/: make one with 'samg collect TASK', or pass --data")
    if len(stores) > 1:
        raise SamgError(f"{data}/ holds {len(stores)} stores ({', '.join(s.name for s in stores)}): pick one with --data")
    return stores[0]


def newest_run(runs: Path = Path("runs")) -> Path:
    """The trained BC run under `runs/` whose training finished last, for `samg eval` without RUN."""
    from samg.errors import SamgError

    finished = [record.parent for record in runs.glob("*/training.json") if (record.parent / "demos.json").is_file()]
    if not finished:
        raise SamgError(f"no trained BC run under {runs}/: train one with 'samg bc train', or name the RUN")
    return max(finished, key=lambda run: (run / "training.json").stat().st_mtime_ns)


def require_outside_stores(out: Path) -> None:
    """Refuse an output path inside a zarr store (a demo store holds only what `samg collect`
    and `samg segment` write; other files there would be mistaken for, or break, its data)."""
    from samg.errors import SamgError

    resolved = Path(os.path.realpath(out))
    for folder in reversed((resolved, *resolved.parents)):  # the outermost: the store, not its masks group
        if (folder / "zarr.json").is_file():
            raise SamgError(f"--out {out} is inside the store {folder}: choose an --out outside it")
