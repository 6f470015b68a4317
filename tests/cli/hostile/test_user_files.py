"""Files a user brings: experts, weights, benchmark assets."""

import pickle
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import torch

from tests.cli.hostile.helpers import (
    Foreign,
    foreign_pickle,
    fresh_copy,
    refused,
    replace_file,
    reshaped_weights,
    torch_file,
    truncate_file,
)
from tests.pipeline.helpers import random_expert_file

# ---- experts: expert import, expert eval, collect -------------------------------------------


def _npz(path: Path, arrays: dict) -> None:
    path.unlink(missing_ok=True)
    with open(path, "wb") as handle:
        np.savez(handle, **arrays)


def _expert_arrays(path: Path) -> dict:
    with np.load(path) as saved:
        return {key: saved[key] for key in saved.files}


def _expert_of_another_task(path: Path) -> None:
    other = path.parent / "other"
    other.mkdir()
    _npz(path, _expert_arrays(random_expert_file(other, state_dim=5)))  # shapes chain, for a 5-d state


PICKLED = "door-v0.pickle"  # checked against the published sha256 before anything unpickles it
EXPERT_BREAKS: dict[str, tuple[str, Callable[[Path], None], str]] = {
    "missing": (PICKLED, lambda p: p.unlink(), PICKLED),
    "empty": (PICKLED, lambda p: replace_file(p, b""), "sha256"),
    "text": (PICKLED, lambda p: replace_file(p, b"a policy\n"), "sha256"),
    "foreign-pickle": (PICKLED, lambda p: replace_file(p, pickle.dumps(Foreign())), "sha256"),
    "npz-missing": ("expert.npz", lambda p: p.unlink(), "no expert file at"),
    "npz-empty": ("expert.npz", lambda p: replace_file(p, b""), "is not an MLP expert .npz"),
    "npz-truncated": ("expert.npz", truncate_file, "is not an MLP expert .npz"),
    "npz-wrong-keys": ("expert.npz", lambda p: _npz(p, {"weights": np.zeros(3)}), "is not an MLP expert .npz"),
    "npz-wrong-shapes": (
        "expert.npz", lambda p: _npz(p, {**_expert_arrays(p), "weight_0": np.zeros((8, 5))}), "shapes do not chain"
    ),
    "npz-of-another-task": ("expert.npz", _expert_of_another_task, "does not take this task's 39-d state"),
}


EXPERT_CASES = [  # `expert import` takes the published pickles only
    (command, variant)
    for variant, (name, _, _) in EXPERT_BREAKS.items()
    for command in ("expert-import", "expert-eval", "collect")
    if not (command == "expert-import" and name.endswith(".npz"))
]


@pytest.mark.parametrize("command, variant", EXPERT_CASES)
def test_a_broken_expert(pristine, tmp_path, monkeypatch, command, variant):
    monkeypatch.setenv("SAMG_HOME", str(tmp_path / "home"))  # an import must not reach the shared cache
    name, breaks, expect = EXPERT_BREAKS[variant]
    expert = fresh_copy(pristine.expert, tmp_path / name)
    breaks(expert)
    args = {
        "expert-import": ["expert", "import", expert],
        "expert-eval": ["expert", "eval", "door", "--episodes", "1", "--expert", expert],
        "collect": ["collect", "door", "--episodes", "1", "--out", tmp_path / "door.zarr", "--settings", "train",
                    "--workers", "1", "--image-size", "16", "--expert", expert],
    }[command]  # fmt: skip
    refused(args, [expert], expect)
    assert not (tmp_path / "door.zarr").exists() and not (tmp_path / "home" / "experts").exists()


# ---- weights: weights import ----------------------------------------------------------------

WEIGHTS_BREAKS: dict[str, tuple[Callable[[Path], None], str]] = {
    "missing": (lambda p: p.unlink(), "no file at"),
    "empty": (lambda p: replace_file(p, b""), "corrupt, truncated"),
    "truncated": (truncate_file, "corrupt, truncated"),
    "text": (lambda p: replace_file(p, b"weights\n"), "corrupt, truncated"),
    "foreign-pickle": (foreign_pickle, "is refused: it names posix.getcwd"),
    "wrong-keys": (lambda p: torch_file(p, {"encoder.w": torch.zeros(2)}), "does not fit efficientvit-l1"),
    "wrong-shapes": (reshaped_weights, "does not fit efficientvit-l1: size mismatch"),
}


@pytest.mark.parametrize("variant", list(WEIGHTS_BREAKS))
def test_a_broken_weights_file(pristine, tmp_path, monkeypatch, variant):
    monkeypatch.setenv("SAMG_HOME", str(tmp_path / "home"))
    weights = fresh_copy(pristine.weights, tmp_path / "l1.pt")
    breaks, expect = WEIGHTS_BREAKS[variant]
    breaks(weights)
    refused(["weights", "import", "efficientvit-l1", weights, "--tiny"], [weights], expect)
    assert not (tmp_path / "home" / "weights").exists() or not any((tmp_path / "home" / "weights").iterdir())


# ---- benchmark assets: assets import --------------------------------------------------------

ASSET = "dmcgb/color_hard.pt"  # any pinned file


ASSETS_FROM = {
    "missing": "is not a folder",
    "a-file": "is not a folder",
    "empty": "holds none of the benchmark's files",
    "truncated": "not the pinned bytes",
    "wrong-format": "not the pinned bytes",
}


@pytest.mark.parametrize("variant", list(ASSETS_FROM))
def test_a_broken_benchmark_import(tmp_path, monkeypatch, variant):
    expect = ASSETS_FROM[variant]
    monkeypatch.setenv("SAMG_HOME", str(tmp_path / "home"))
    source = tmp_path / "benchmark"
    if variant == "a-file":
        source.write_text("dmcgb\n")
    elif variant != "missing":
        source.mkdir()
    if variant in ("truncated", "wrong-format"):
        (source / ASSET).parent.mkdir(parents=True)
        (source / ASSET).write_bytes(b"\x80\x02}q" if variant == "truncated" else b"colour presets\n")
    refused(["assets", "import", source], [source], expect)
    assert not (tmp_path / "home" / "benchmark" / ASSET).exists()


