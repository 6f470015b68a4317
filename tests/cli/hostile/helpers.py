"""What the broken-input tests share: the pristine inputs, the ways to break a file, and the
one-line refusal check."""

import hashlib
import io
import json
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from typer.testing import CliRunner

from samg.cli import app
from samg.il.config import BCConfig
from samg.il.train import train_bc
from samg.pipeline.segment import SegmentConfig, segment_store
from samg.segmenter.backends import build_backend
from samg.segmenter.factory import SegmenterConfig
from tests.pipeline.helpers import random_expert_file, synthetic_store

runner = CliRunner()
ENV = {"COLUMNS": "200"}
PROMPTS = Path(__file__).resolve().parents[3] / "configs" / "prompts"
IMAGE_CHUNK = "images/train/rgb/c/1/0/0/0"  # steps 20-39 of the synthetic store


class Foreign:
    """Pickled by reference to a function outside the file: loading it would call that code."""

    def __reduce__(self):
        return (os.getcwd, ())


@dataclass(frozen=True)
class Inputs:
    store: Path  # a door-shaped synthetic store with 'oracle' masks
    run: Path  # a BC run trained on it for one step
    expert: Path  # an MLP expert (.npz)
    weights: Path  # a tiny efficientvit-l1 state dict
    student: Path  # a student file from `samg distill`'s writer
    prompts: Path  # the repository's prompts


def build_pristine(root: Path) -> Inputs:
    store = synthetic_store(root / "door.zarr", episodes=3, length=20, action_dim=28, proprio_dim=24).path
    segment_store(SegmentConfig(store, SegmenterConfig(kind="oracle")))
    run = train_bc(
        BCConfig(data=store, out=root / "run", epochs=1, batch_size=8, accelerator="cpu", max_steps=1), progress=False
    )
    weights = root / "l1.pt"
    torch.save(build_backend("efficientvit-l1", tiny=True).model.state_dict(), weights)
    from tests.distill.helpers import student_file

    return Inputs(store, run, random_expert_file(root), weights, student_file(root / "student.safetensors"), PROMPTS)


# ---- ways to break a file ------------------------------------------------------------------


def truncate_file(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: max(1, path.stat().st_size // 2)])


def flip_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


def edit_json(path: Path, change: Callable[[dict], None]) -> None:
    values = json.loads(path.read_text())
    change(values)
    path.write_text(json.dumps(values))


def replace_file(path: Path, data: bytes) -> None:
    """A new file at `path`: the pristine copies are hard links and must not change."""
    path.unlink(missing_ok=True)
    path.write_bytes(data)


def foreign_pickle(path: Path) -> None:
    path.unlink(missing_ok=True)
    torch.save({"state_dict": Foreign()}, path)


def torch_file(path: Path, value) -> None:
    path.unlink(missing_ok=True)
    torch.save(value, path)


def reshaped_weights(path: Path) -> None:
    state = torch.load(path, weights_only=True)
    first = next(iter(state))
    state[first] = torch.zeros(3, 1)
    torch_file(path, state)


def png_bytes(pixels: np.ndarray) -> bytes:

    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return buffer.getvalue()


def store_attrs(store: Path, change: Callable[[dict], None]) -> None:
    edit_json(store / "zarr.json", lambda meta: change(meta["attributes"]))


# ---- the inputs each case works on: fresh copies, so nothing leaks between cases ------------


def fresh_copy(source: Path, target: Path, link: bool = False) -> Path:
    if source.is_dir():
        shutil.copytree(source, target, copy_function=os.link if link else shutil.copy2)
    else:
        shutil.copy2(source, target)
    return target


def digest_of(path: Path, outputs: tuple[str, ...] = ()) -> dict[str, str] | str | None:
    """sha256 of a file, or of every file under a folder but its `outputs` subfolders."""
    if path.is_file():
        return hashlib.sha256(path.read_bytes()).hexdigest()
    if not path.is_dir():
        return None
    files = [f for f in sorted(path.rglob("*")) if f.is_file() and not any(f.is_relative_to(path / o) for o in outputs)]
    return {str(f.relative_to(path)): hashlib.sha256(f.read_bytes()).hexdigest() for f in files}


def refused(args: list[str], inputs: list[Path], expect: str, outputs: tuple[str, ...] = ()) -> None:
    """Non-zero exit, one line on stderr naming `expect`, no traceback, inputs unchanged
    (but for their `outputs` subfolders: what the command writes inside an input)."""
    before = {path: digest_of(path, outputs) for path in inputs}
    result = runner.invoke(app, [str(a) for a in args], env=ENV)
    lines = result.stderr.strip().splitlines()
    assert result.exit_code != 0, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert "Traceback" not in result.output and "weights_only=False" not in result.output
    assert expect in lines[0], lines[0]
    assert {path: digest_of(path, outputs) for path in inputs} == before



def store_commands(store: Path, scratch: Path) -> dict[str, list]:
    return {
        "info": ["info", store, "--check"],
        "bc-train": ["bc", "train", "--data", store, "--out", scratch / "new_run", "--accelerator", "cpu"],
        "segment": ["segment", store, "--segmenter", "oracle", "--name", "fresh", "--workers", "1"],
        "report": ["report", store, "--name", "oracle", "--out", scratch / "report"],
        "distill": ["distill", store, "--steps", "1", "--out", scratch / "student.safetensors"],
    }

