"""The benchmark files on this machine: where they live, whether they are the pinned
ones, and the data the visual settings read from them (presets, textures, clips)."""

import functools
import os
import shutil
import tempfile
import urllib.error
import urllib.request
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from samg.benchmark.clips import cached_clip
from samg.benchmark.manifest import BENCHMARK_NAME, MANIFEST, AssetFile
from samg.benchmark.presets import load_presets
from samg.errors import SamgError
from samg.paths import samg_home

ALLOW_MISSING_ENV = "SAMG_ALLOW_MISSING_ASSETS"
VERIFIED, MISSING, CORRUPT = "verified", "missing", "corrupt"


class MissingAssetsError(SamgError):
    """Benchmark files absent (and not explicitly allowed to be) or not the pinned bytes."""


class AbsentAssetsError(MissingAssetsError):
    """Benchmark files a draw or a reader needs that are absent here (`names`)."""

    def __init__(self, names: Sequence[str], message: str):
        self.names = tuple(names)
        super().__init__(message)


def benchmark_root() -> Path:
    return samg_home() / "benchmark"


def missing_allowed() -> bool:
    return os.environ.get(ALLOW_MISSING_ENV, "").strip().lower() in ("1", "true", "yes")


def allow_missing_assets(allow: bool) -> None:
    """What `--allow-missing-assets` does: it also reaches worker processes."""
    if allow:
        os.environ[ALLOW_MISSING_ENV] = "1"


def file_status(root: Path, asset: AssetFile) -> str:
    path = root / asset.name
    if not path.is_file():
        return MISSING
    return VERIFIED if asset.matches(path.read_bytes()) else CORRUPT


@dataclass(frozen=True)
class ImportResult:
    status: dict[str, str]  # name -> verified (copied or already there) / missing / corrupt
    unreachable: str | None = None  # why downloads stopped (no network), if they did


def import_assets(source: Path, root: Path | None = None) -> ImportResult:
    """Copy the pinned files found under `source` (laid out as the manifest names them)."""
    root = root or benchmark_root()
    if not Path(source).is_dir():
        raise MissingAssetsError(f"{source} is not a folder: give the folder that holds dmcgb/ and rl-vigen-adroit/")
    status = {}
    for name, asset in MANIFEST.items():
        path = Path(source) / name
        if not path.is_file():
            status[name] = file_status(root, asset)  # keep what is already here
            continue
        data = path.read_bytes()
        if not asset.matches(data):
            status[name] = CORRUPT
            continue
        _write_atomically(root / name, data)
        status[name] = VERIFIED
    return ImportResult(status)


def fetch_assets(root: Path | None = None, timeout: float = 60.0) -> ImportResult:
    """Download every file that is not here and verified, from its pinned commit."""
    root = root or benchmark_root()
    status, unreachable = {}, None
    for name, asset in MANIFEST.items():
        if file_status(root, asset) == VERIFIED:
            status[name] = VERIFIED
            continue
        if unreachable is not None:
            status[name] = MISSING
            continue
        try:
            with urllib.request.urlopen(asset.url, timeout=timeout) as response:
                data = response.read()
        except urllib.error.HTTPError:
            status[name] = MISSING
            continue
        except (urllib.error.URLError, OSError) as error:  # no network: the rest would fail alike
            status[name], unreachable = MISSING, f"{asset.url.split('/')[2]} unreachable ({error})"
            continue
        if not asset.matches(data):
            status[name] = CORRUPT
            continue
        _write_atomically(root / name, data)
        status[name] = VERIFIED
    return ImportResult(status, unreachable)


def _write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=path.parent, delete=False, suffix=".partial") as handle:
        handle.write(data)
    os.replace(handle.name, path)


class BenchmarkAssets:
    """The verified files of one root, with what the settings need from them.

    Construction checks every pinned file once. A corrupt file is always refused; absent
    files are refused unless `allow_missing`, and then draws that land on one move on to
    the next present file of the same pool (`pick`), and `record()` names them.
    """

    def __init__(self, root: Path | None = None, allow_missing: bool | None = None):
        self.root = Path(root or benchmark_root())
        self.allow_missing = missing_allowed() if allow_missing is None else allow_missing
        self.status = {name: file_status(self.root, asset) for name, asset in MANIFEST.items()}
        corrupt = self.names_with(CORRUPT)
        if corrupt:
            raise MissingAssetsError(
                f"benchmark file {corrupt[0]} in {self.root} is not the pinned one"
                f"{f' (and {len(corrupt) - 1} more)' if len(corrupt) > 1 else ''}: "
                "replace it with 'samg assets fetch' or 'samg assets import DIR'"
            )
        missing = self.names_with(MISSING)
        if missing and not self.allow_missing:
            raise MissingAssetsError(
                f"{len(missing)} benchmark files missing in {self.root} (e.g. {missing[0]}): run 'samg assets fetch' "
                f"or 'samg assets import DIR', or pass --allow-missing-assets ({ALLOW_MISSING_ENV}=1) to run without them"
            )
        self._clips: dict[tuple[str, int], np.ndarray] = {}

    def names_with(self, status: str) -> list[str]:
        return [name for name, value in self.status.items() if value == status]

    def pick(self, pool: Sequence[str], index: int) -> str:
        """`pool[index]`, or where that file is absent the next present one (cyclically)."""
        for offset in range(len(pool)):
            name = pool[(index + offset) % len(pool)]
            if self.status[name] == VERIFIED:
                return name
        raise AbsentAssetsError(pool, f"no file of the pool {pool[0]}... is present in {self.root}: run 'samg assets fetch'")

    def require(self, *names: str) -> None:
        """Refuse, naming them, files that are not here and verified."""
        absent = [name for name in names if self.status[name] != VERIFIED]
        if absent:
            more = f" (and {len(absent) - 1} more)" if len(absent) > 1 else ""
            raise AbsentAssetsError(
                absent,
                f"benchmark file {absent[0]}{more} is missing in {self.root}: "
                "run 'samg assets fetch' or 'samg assets import DIR'",
            )

    def path(self, name: str) -> Path:
        return self.root / name

    @functools.cache
    def presets(self, name: str) -> list[dict[str, np.ndarray]]:
        self.require(name)
        return load_presets(self.path(name).read_bytes(), name)

    def clip(self, name: str, size: int) -> np.ndarray:
        """(N, size, size, 3) uint8 frames, decoded once and cached on disk at this size (`clips.py`)."""
        key = (name, size)
        if key not in self._clips:
            if len(self._clips) >= 4:
                self._clips.pop(next(iter(self._clips)))
            asset = MANIFEST[name]
            source_hash = asset.sha256 or asset.git_blob_sha1
            self._clips[key] = cached_clip(self.path(name), source_hash, size, self.root / "cache" / "clips")
        return self._clips[key]

    def record(self, names: Iterable[str]) -> dict:
        """What a store or report keeps: the benchmark, the files used and those missing."""
        names = sorted(set(names))
        return {
            "name": BENCHMARK_NAME,
            "files": {n: MANIFEST[n].sha256 or MANIFEST[n].git_blob_sha1 for n in names if self.status[n] == VERIFIED},
            "missing": [n for n in names if self.status[n] == MISSING],
        }


@functools.cache
def _cached_assets(root: Path, allow_missing: bool) -> BenchmarkAssets:
    return BenchmarkAssets(root, allow_missing)


def benchmark_assets() -> BenchmarkAssets:
    """This process's assets (from $SAMG_HOME and SAMG_ALLOW_MISSING_ASSETS), checked once."""
    return _cached_assets(benchmark_root(), missing_allowed())


def remove_cache(root: Path | None = None) -> None:
    shutil.rmtree((root or benchmark_root()) / "cache", ignore_errors=True)
