"""Training a student never opens a benchmark asset (the settings' presets, textures, clips):
its augmentation draws only on package photographs and procedures. Every way a file can
be opened from Python is watched while a real tiny training runs."""

import builtins
import io
import os
from pathlib import Path

import imageio
import imageio.v2
import imageio.v3
import numpy as np
import torch

from samg.benchmark.assets import benchmark_root
from samg.benchmark.manifest import MANIFEST
from samg.distill.augment import AugmentConfig
from samg.distill.model import StudentArchitecture
from samg.distill.train import DistillConfig, distill
from tests.conftest import SHARED_BENCHMARK
from tests.pipeline.helpers import synthetic_store

OPENERS = [(builtins, "open"), (io, "open"), (os, "open"), (np, "load"), (torch, "load"), (imageio, "imread"),
           (imageio, "get_reader"), (imageio.v2, "imread"), (imageio.v3, "imread"), (imageio.v3, "imopen")]  # fmt: skip


def watch_opened_paths(monkeypatch) -> list[Path]:
    opened: list[Path] = []

    def spy(original):
        def opening(target, *args, **kwargs):
            if isinstance(target, (str, bytes, os.PathLike)):
                opened.append(Path(os.fsdecode(target)))
            return original(target, *args, **kwargs)

        return opening

    for module, name in OPENERS:
        monkeypatch.setattr(module, name, spy(getattr(module, name)))
    return opened


def is_benchmark_file(path: Path) -> bool:
    roots = [benchmark_root().resolve(), SHARED_BENCHMARK.resolve()]
    resolved = path.resolve()
    if any(resolved == root or root in resolved.parents for root in roots):
        return True
    names = [asset.name for asset in MANIFEST.values()] + [asset.path for asset in MANIFEST.values()]
    return any(resolved.as_posix().endswith("/" + name) for name in names)


def test_training_opens_no_benchmark_file(tmp_path, monkeypatch):
    store = synthetic_store(tmp_path / "door.zarr", episodes=2)
    config = DistillConfig(store=store.path, steps=3, batch_size=4, architecture=StudentArchitecture(widths=(4, 8)),
                           augment=AugmentConfig(bank_size=32, photo_share=0.9, refresh_every=1),
                           out=tmp_path / "s.safetensors")  # fmt: skip
    opened = watch_opened_paths(monkeypatch)
    distill(config)
    assert any("skimage" in str(p) for p in opened) and any("sklearn" in str(p) for p in opened), (
        "the watch must see the augmentation's own reads (package photographs)"
    )
    assert [p for p in opened if is_benchmark_file(p)] == []

    # and the watch would have seen a benchmark read
    asset = next(iter(MANIFEST.values()))
    try:
        open(benchmark_root() / asset.name, "rb").close()
    except OSError:
        pass  # absent here: the attempt is what counts
    assert is_benchmark_file(opened[-1])
