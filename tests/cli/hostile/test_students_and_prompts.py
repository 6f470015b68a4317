"""A broken student file (segment, eval) or prompt folder (prompt --show, segment --segmenter samg)."""

import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import torch

from tests.cli.hostile.helpers import (
    edit_json,
    foreign_pickle,
    fresh_copy,
    png_bytes,
    refused,
    replace_file,
    truncate_file,
)

# ---- the student file of `samg distill`: segment and eval -----------------------------------


def _student_with(path: Path, change: Callable[[dict], None]) -> None:
    from safetensors import safe_open
    from safetensors.torch import load_file, save_file

    with safe_open(str(path), framework="pt") as handle:
        metadata = handle.metadata()
    state = load_file(str(path))
    change(state)
    path.unlink()
    save_file(state, str(path), metadata=metadata)


STUDENT_BREAKS: dict[str, tuple[Callable[[Path], None], str]] = {
    "missing": (lambda p: p.unlink(), "no student file at"),
    "empty": (lambda p: replace_file(p, b""), "is not a safetensors student file"),
    "truncated": (lambda p: replace_file(p, p.read_bytes()[: p.stat().st_size // 2]), "is not a safetensors student file"),
    "a-pickle": (lambda p: foreign_pickle(p), "is not a safetensors student file"),
    "wrong-keys": (lambda p: _student_with(p, lambda s: s.update(extra=torch.zeros(1))), "does not match its architecture"),
    "wrong-shapes": (
        lambda p: _student_with(p, lambda s: s.update({next(iter(s)): torch.zeros(1)})), "the architecture needs"
    ),
}


@pytest.mark.parametrize("command", ["segment", "eval"])
@pytest.mark.parametrize("variant", list(STUDENT_BREAKS))
def test_a_broken_student_file(pristine, tmp_path, command, variant):
    student = fresh_copy(pristine.student, tmp_path / "student.safetensors")
    breaks, expect = STUDENT_BREAKS[variant]
    breaks(student)
    store = fresh_copy(pristine.store, tmp_path / "door.zarr")
    run = fresh_copy(pristine.run, tmp_path / "run", link=True)
    args = {
        "segment": ["segment", store, "--segmenter", f"student:{student}", "--name", "student", "--workers", "1"],
        "eval": ["eval", run, "--segmenter", f"student:{student}", "--episodes", "1", "--settings", "train"],
    }[command]
    refused(args, [store, run, student], expect)
    assert not (store / "masks" / "student").exists() and not (run / "eval").exists()


# ---- prompts: prompt --show, segment --segmenter samg ---------------------------------------

PROMPT_BREAKS: dict[str, tuple[Callable[[Path], None], str]] = {
    "missing": (lambda d: shutil.rmtree(d), "no prompt for 'door'"),
    "empty-json": (lambda d: replace_file(d / "prompt.json", b""), "unreadable prompt"),
    "truncated-image": (lambda d: truncate_file(d / "image.png"), "unreadable prompt"),
    "json-a-list": (lambda d: replace_file(d / "prompt.json", b"[]"), "unreadable prompt"),
    "wrong-keys": (lambda d: edit_json(d / "prompt.json", lambda m: m.pop("objects")), "unreadable prompt"),
    "point-outside": (
        lambda d: edit_json(d / "prompt.json", lambda m: m["objects"][0].update(points=[[900, 900]])), "lies outside"
    ),
    "mask-of-another-size": (lambda d: replace_file(d / "mask.png", png_bytes(np.zeros((10, 10), np.uint8))), "sizes differ"),
}


@pytest.mark.parametrize("command", ["prompt-show", "segment-samg"])
@pytest.mark.parametrize("variant", list(PROMPT_BREAKS))
def test_a_broken_prompt(pristine, tmp_path, command, variant):
    root = tmp_path / "prompts"
    fresh_copy(pristine.prompts / "door", root / "door")
    breaks, expect = PROMPT_BREAKS[variant]
    breaks(root / "door")
    store = fresh_copy(pristine.store, tmp_path / "door.zarr")
    args = {
        "prompt-show": ["prompt", "door", "--show", "--root", root, "--out", tmp_path / "points.png"],
        "segment-samg": [  # the simulator's prompt: door's default is the paper's, from the benchmark files
            "segment", store, "--prompt", "simulator", "--prompts", root, "--tiny", "--random-weights", "--workers", "1"
        ],  # fmt: skip
    }[command]
    refused(args, [root, store], expect)
    assert not (tmp_path / "points.png").exists() and not (store / "masks" / "samg").exists()


