"""Broken and hostile inputs (issue 16). Every command that reads a user's file, given a
missing, empty, truncated, foreign or tampered one, exits non-zero with exactly one line on
stderr and no traceback, names what is wrong, and leaves every input byte-identical."""

import hashlib
import io
import json
import os
import pickle
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from samg.cli import app
from samg.il.config import BCConfig
from samg.il.train import train_bc
from samg.pipeline.segment import SegmentConfig, segment_store
from samg.segmenter.backends import build_backend
from samg.segmenter.factory import SegmenterConfig
from tests.benchmark.helpers import ABSENT, GOOD, tiny_benchmark
from tests.conftest import require_benchmark_files
from tests.pipeline.helpers import random_expert_file, synthetic_store

runner = CliRunner()
ENV = {"COLUMNS": "200"}
PROMPTS = Path(__file__).resolve().parents[2] / "configs" / "prompts"
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


@pytest.fixture(scope="module")
def pristine(tmp_path_factory) -> Inputs:
    root = tmp_path_factory.mktemp("pristine")
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


def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: max(1, path.stat().st_size // 2)])


def _flip_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


def _edit_json(path: Path, change: Callable[[dict], None]) -> None:
    values = json.loads(path.read_text())
    change(values)
    path.write_text(json.dumps(values))


def _replace(path: Path, data: bytes) -> None:
    """A new file at `path`: the pristine copies are hard links and must not change."""
    path.unlink(missing_ok=True)
    path.write_bytes(data)


def _foreign_pickle(path: Path) -> None:
    path.unlink(missing_ok=True)
    torch.save({"state_dict": Foreign()}, path)


def _torch_file(path: Path, value) -> None:
    path.unlink(missing_ok=True)
    torch.save(value, path)


def _reshaped_weights(path: Path) -> None:
    state = torch.load(path, weights_only=True)
    first = next(iter(state))
    state[first] = torch.zeros(3, 1)
    _torch_file(path, state)


def _png(pixels: np.ndarray) -> bytes:
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return buffer.getvalue()


def _store_attrs(store: Path, change: Callable[[dict], None]) -> None:
    _edit_json(store / "zarr.json", lambda meta: change(meta["attributes"]))


# ---- the inputs each case works on: fresh copies, so nothing leaks between cases ------------


def _copy(source: Path, target: Path, link: bool = False) -> Path:
    if source.is_dir():
        shutil.copytree(source, target, copy_function=os.link if link else shutil.copy2)
    else:
        shutil.copy2(source, target)
    return target


def _digest(path: Path, outputs: tuple[str, ...] = ()) -> dict[str, str] | str | None:
    """sha256 of a file, or of every file under a folder but its `outputs` subfolders."""
    if path.is_file():
        return hashlib.sha256(path.read_bytes()).hexdigest()
    if not path.is_dir():
        return None
    files = [f for f in sorted(path.rglob("*")) if f.is_file() and not any(f.is_relative_to(path / o) for o in outputs)]
    return {str(f.relative_to(path)): hashlib.sha256(f.read_bytes()).hexdigest() for f in files}


def _refused(args: list[str], inputs: list[Path], expect: str, outputs: tuple[str, ...] = ()) -> None:
    """Non-zero exit, one line on stderr naming `expect`, no traceback, inputs unchanged
    (but for their `outputs` subfolders: what the command writes inside an input)."""
    before = {path: _digest(path, outputs) for path in inputs}
    result = runner.invoke(app, [str(a) for a in args], env=ENV)
    lines = result.stderr.strip().splitlines()
    assert result.exit_code != 0, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert "Traceback" not in result.output and "weights_only=False" not in result.output
    assert expect in lines[0], lines[0]
    assert {path: _digest(path, outputs) for path in inputs} == before


# ---- the demo store: info, bc train, segment, report, distill, collect -----------------------

STORE_BREAKS: dict[str, tuple[Callable[[Path], None], str]] = {
    "missing": (lambda s: shutil.rmtree(s), "no demo store at"),
    "empty": (lambda s: (shutil.rmtree(s), s.mkdir()), "no demo store at"),
    "a-file": (lambda s: (shutil.rmtree(s), s.write_text("not a store\n")), "no demo store at"),
    "truncated-metadata": (lambda s: _truncate(s / "zarr.json"), "zarr.json is unreadable"),
    "foreign-format": (lambda s: _store_attrs(s, lambda a: a.update(format="diffusion_policy")), "is not a samg demo store"),
    "old-version": (lambda s: _store_attrs(s, lambda a: a.update(format_version=1)), "former visual settings"),
    "missing-key": (lambda s: _store_attrs(s, lambda a: a.pop("episode_length")), "incomplete attributes"),
    "wrong-type": (lambda s: _store_attrs(s, lambda a: a.update(episode_length="20")), "episode_length must be int"),
    "missing-array": (lambda s: shutil.rmtree(s / "images/train/rgb"), "no readable array 'images/train/rgb'"),
    "wrong-shape": (
        lambda s: _edit_json(s / "images/train/rgb/zarr.json", lambda m: m.update(shape=[60, 8, 8, 3])),
        "images/train/rgb has shape (60, 8, 8, 3)",
    ),
    "missing-chunk": (
        lambda s: (s / IMAGE_CHUNK).unlink(),
        "images/train/rgb: chunk 1 (steps 20-39) is missing",
    ),
    "corrupt-chunk": (lambda s: _flip_byte(s / IMAGE_CHUNK), "images/train/rgb: chunk 1 (steps 20-39) is corrupt"),
}


def _store_commands(store: Path, scratch: Path) -> dict[str, list]:
    return {
        "info": ["info", store, "--check"],
        "bc-train": ["bc", "train", "--data", store, "--out", scratch / "new_run", "--accelerator", "cpu"],
        "segment": ["segment", store, "--segmenter", "oracle", "--name", "fresh", "--workers", "1"],
        "report": ["report", store, "--name", "oracle", "--out", scratch / "report"],
        "distill": ["distill", store, "--steps", "1", "--out", scratch / "student.safetensors"],
    }


@pytest.mark.parametrize("command", ["info", "bc-train", "segment", "report", "distill"])
@pytest.mark.parametrize("variant", list(STORE_BREAKS))
def test_a_broken_store(pristine, tmp_path, command, variant):
    store = _copy(pristine.store, tmp_path / "door.zarr")
    breaks, expect = STORE_BREAKS[variant]
    breaks(store)
    # Segmentation decodes a block's frames just before masking them: at a corrupt chunk it
    # stops there, the blocks done before it kept (a re-run resumes). Anything else is
    # refused before a mask set is made.
    masks_written = ("masks/fresh",) if (command, variant) == ("segment", "corrupt-chunk") else ()
    _refused(_store_commands(store, tmp_path)[command], [store], expect, outputs=masks_written)
    assert not any((tmp_path / name).exists() for name in ("new_run", "report", "student.safetensors"))
    assert masks_written or not (store / "masks" / "fresh").exists()


WRONG_TYPES = {"settings": 3, "segmenter": 3, "quality": 3}  # each command stops at the first it reads
MASK_BREAKS: dict[str, tuple[Callable[[Path], None], str | dict[str, str]]] = {  # on masks/teacher
    "missing": (lambda m: shutil.rmtree(m), "no masks named 'teacher'"),
    "truncated-group-metadata": (lambda m: _truncate(m / "zarr.json"), "masks/teacher is unreadable"),
    "wrong-types": (
        lambda m: _edit_json(m / "zarr.json", lambda g: g["attributes"].update(WRONG_TYPES)),
        {"bc-train": "is unreadable", "report": "have no quality summary", "eval": "do not describe their segmenter"},
    ),
    "truncated-array-metadata": (lambda m: _truncate(m / "train" / "zarr.json"), "masks/teacher/train is unreadable"),
    "corrupt-chunk": (lambda m: _flip_byte(m / "train/c/1/0/0"), "masks/teacher/train: chunk 1 (steps 20-39) is corrupt"),
}
MASK_CASES = [  # evaluation reads the set's description only
    (command, variant)
    for variant in MASK_BREAKS
    for command in ("report", "bc-train", "eval")
    if command != "eval" or variant in ("missing", "truncated-group-metadata", "wrong-types")
]


@pytest.mark.parametrize("command, variant", MASK_CASES)
def test_a_broken_mask_set(pristine, tmp_path, command, variant):
    store = _copy(pristine.store, tmp_path / "door.zarr")
    (store / "masks" / "oracle").rename(store / "masks" / "teacher")  # a mask set's name is its folder
    breaks, expect = MASK_BREAKS[variant]
    breaks(store / "masks" / "teacher")
    run = _copy(pristine.run, tmp_path / "run", link=True)
    _replace(run / "config.json", (run / "config.json").read_bytes().replace(str(pristine.store).encode(), str(store).encode()))
    args = {
        "report": ["report", store, "--name", "teacher", "--out", tmp_path / "report"],
        "bc-train": ["bc", "train", "--data", store, "--segmenter", "teacher", "--out", tmp_path / "new_run"],
        "eval": ["eval", run, "--segmenter", "teacher", "--episodes", "1", "--settings", "train"],
    }[command]
    _refused(args, [store, run], expect[command] if isinstance(expect, dict) else expect)
    assert not any((tmp_path / name).exists() for name in ("report", "new_run", "run/eval"))


COLLECT_INTO = {
    "a-file": "exists and is not a demo store",
    "a-folder-of-other-files": "exists and is not a demo store",
    "truncated-metadata": "zarr.json is unreadable",
    "another-plan": "was collected with other settings",
}


@pytest.mark.parametrize("variant", list(COLLECT_INTO))
def test_collect_into_a_broken_store(pristine, tmp_path, variant):
    expect = COLLECT_INTO[variant]
    out = tmp_path / "door.zarr"
    if variant == "a-file":
        out.write_text("my notes\n")
    elif variant == "a-folder-of-other-files":
        out.mkdir()
        (out / "thesis.tex").write_text("\\section{}\n")
    else:
        _copy(pristine.store, out)
        if variant == "truncated-metadata":
            _truncate(out / "zarr.json")
    args = ["collect", "door", "--episodes", "1", "--out", out, "--settings", "train", "--workers", "1",
            "--image-size", "16", "--keep-failures", "--expert", pristine.expert]  # fmt: skip
    _refused(args, [out, pristine.expert], expect)


# ---- a run folder: eval, eval compare, bc train --resume ------------------------------------

RUN_BREAKS: dict[str, tuple[Callable[[Path], None], str]] = {
    "missing": (lambda r: shutil.rmtree(r), "no config.json"),
    "empty": (lambda r: (shutil.rmtree(r), r.mkdir()), "no config.json"),
    "config-empty": (lambda r: _replace(r / "config.json", b""), "config.json is not a readable bc run config"),
    "config-truncated": (lambda r: _replace(r / "config.json", (r / "config.json").read_bytes()[:40]), "not a readable"),
    "config-binary": (lambda r: _replace(r / "config.json", b"\x80\x04\x95\xff"), "not a readable bc run config"),
    "config-a-list": (lambda r: _replace(r / "config.json", b"[1, 2]"), "a JSON object was expected"),
    "config-missing-key": (
        lambda r: _replace(r / "config.json", json.dumps({"out": "x"}).encode()), "not a valid bc run config"
    ),
    "config-wrong-type": (
        lambda r: _replace(r / "config.json", (r / "config.json").read_bytes().replace(b'"epochs": 1', b'"epochs": "1"')),
        "epochs must be int",
    ),
    "demos-missing": (lambda r: (r / "demos.json").unlink(), "no demos record"),
    "demos-truncated": (lambda r: _replace(r / "demos.json", b'{"task": "do'), "demos.json is not a readable"),
    "demos-wrong-keys": (lambda r: _replace(r / "demos.json", b'{"task": "door"}'), "lacks the task or its episode_seeds"),
    "demos-unknown-task": (
        lambda r: _replace(r / "demos.json", b'{"task": "drawer", "episode_seeds": [0]}'), "unknown task 'drawer'"
    ),
    "no-checkpoint": (lambda r: shutil.rmtree(r / "checkpoints"), "has no checkpoint"),
    "checkpoint-empty": (lambda r: _replace(r / "checkpoints/best.ckpt", b""), "best.ckpt is corrupt, truncated"),
    "checkpoint-truncated": (
        lambda r: _replace(r / "checkpoints/best.ckpt", (r / "checkpoints/best.ckpt").read_bytes()[:5000]), "corrupt, truncated"
    ),
    "checkpoint-text": (lambda r: _replace(r / "checkpoints/best.ckpt", b"hello\n"), "best.ckpt is corrupt, truncated"),
    "checkpoint-foreign-pickle": (lambda r: _foreign_pickle(r / "checkpoints/best.ckpt"), "is refused: it names posix.getcwd"),
    "checkpoint-wrong-keys": (
        lambda r: _torch_file(r / "checkpoints/best.ckpt", {"weights": torch.zeros(3)}), "not a checkpoint of 'samg bc train'"
    ),
    "checkpoint-wrong-shapes": (
        lambda r: _torch_file(r / "checkpoints/best.ckpt", _reshaped_checkpoint(r)), "does not hold a BC policy"
    ),
    "checkpoint-of-another-task": (
        lambda r: _torch_file(r / "checkpoints/best.ckpt", _checkpoint_for(r, proprio_dim=5)), "proprio_dim 5"
    ),
    "checkpoint-broken-config-record": (
        lambda r: _torch_file(r / "checkpoints/best.ckpt", _with_config_record(r, {"obs": torch.zeros(1)})),
        "best.ckpt holds a broken record of the config its run was trained with",
    ),
}


def _with_config_record(run: Path, record) -> dict:
    from samg.il.config import CONFIG_RECORD

    return {**torch.load(run / "checkpoints/best.ckpt", weights_only=True), CONFIG_RECORD: record}


def _reshaped_checkpoint(run: Path) -> dict:
    saved = torch.load(run / "checkpoints/best.ckpt", weights_only=True)
    saved["hyper_parameters"]["action_dim"] = 3  # the head's weights no longer fit
    return saved


def _checkpoint_for(run: Path, **hyper_parameters) -> dict:
    """A consistent policy of other dimensions."""
    from samg.il.policy import BCPolicy

    saved = torch.load(run / "checkpoints/best.ckpt", weights_only=True)
    values = {**saved["hyper_parameters"], **hyper_parameters}
    stats = {k: [0.0] * (values["proprio_dim"] if "proprio" in k else values["action_dim"]) for k in values["normalizer"]}
    values["normalizer"] = stats
    return {**saved, "hyper_parameters": values, "state_dict": BCPolicy(**values).state_dict()}


@pytest.mark.parametrize("variant", list(RUN_BREAKS))
def test_eval_of_a_broken_run(pristine, tmp_path, variant):
    run = _copy(pristine.run, tmp_path / "run", link=True)
    breaks, expect = RUN_BREAKS[variant]
    breaks(run)
    args = ["eval", run, "--episodes", "1", "--settings", "train", "--videos", "0"]
    _refused(args, [run, pristine.store], expect)
    assert not (run / "eval").exists()


@pytest.mark.parametrize(
    "variant", ["config-truncated", "config-wrong-type", "checkpoint-foreign-pickle", "checkpoint-truncated",
                "checkpoint-wrong-keys", "checkpoint-wrong-shapes"]
)  # fmt: skip
def test_resume_of_a_broken_run(pristine, tmp_path, variant):
    run = _copy(pristine.run, tmp_path / "run", link=True)
    breaks, expect = RUN_BREAKS[variant]
    breaks(run)
    if variant.startswith("checkpoint"):  # a resume reads last.ckpt: give it best.ckpt's broken bytes
        (run / "checkpoints/last.ckpt").unlink()
        os.link(run / "checkpoints/best.ckpt", run / "checkpoints/last.ckpt")
    args = ["bc", "train", "--data", pristine.store, "--out", run, "--epochs", "1", "--batch-size", "8",
            "--accelerator", "cpu", "--resume"]  # fmt: skip
    _refused(args, [run, pristine.store], expect)


@pytest.mark.parametrize(
    "content, expect",
    [(None, "has no eval/eval_info.json"), (b"", "eval_info.json is not a readable"),
     (b'{"aggregate": {"train": ', "eval_info.json is not a readable"), (b'{"run": "x"}', "lacks")],
    ids=["missing", "empty", "truncated", "wrong-keys"],
)  # fmt: skip
def test_compare_of_a_broken_evaluation(pristine, tmp_path, content, expect):
    run = _copy(pristine.run, tmp_path / "run", link=True)
    if content is not None:
        (run / "eval").mkdir()
        (run / "eval" / "eval_info.json").write_bytes(content)
    _refused(["eval", "compare", run, "--out", tmp_path / "table.md"], [run], expect)
    assert not (tmp_path / "table.md").exists()


# ---- the student file of `samg distill`: segment and eval -----------------------------------


def _student_with(path: Path, change: Callable[[dict], None]) -> None:
    from safetensors.torch import load_file, save_file
    from safetensors import safe_open

    with safe_open(str(path), framework="pt") as handle:
        metadata = handle.metadata()
    state = load_file(str(path))
    change(state)
    path.unlink()
    save_file(state, str(path), metadata=metadata)


STUDENT_BREAKS: dict[str, tuple[Callable[[Path], None], str]] = {
    "missing": (lambda p: p.unlink(), "no student file at"),
    "empty": (lambda p: _replace(p, b""), "is not a safetensors student file"),
    "truncated": (lambda p: _replace(p, p.read_bytes()[: p.stat().st_size // 2]), "is not a safetensors student file"),
    "a-pickle": (lambda p: _foreign_pickle(p), "is not a safetensors student file"),
    "wrong-keys": (lambda p: _student_with(p, lambda s: s.update(extra=torch.zeros(1))), "does not match its architecture"),
    "wrong-shapes": (
        lambda p: _student_with(p, lambda s: s.update({next(iter(s)): torch.zeros(1)})), "the architecture needs"
    ),
}


@pytest.mark.parametrize("command", ["segment", "eval"])
@pytest.mark.parametrize("variant", list(STUDENT_BREAKS))
def test_a_broken_student_file(pristine, tmp_path, command, variant):
    student = _copy(pristine.student, tmp_path / "student.safetensors")
    breaks, expect = STUDENT_BREAKS[variant]
    breaks(student)
    store = _copy(pristine.store, tmp_path / "door.zarr")
    run = _copy(pristine.run, tmp_path / "run", link=True)
    args = {
        "segment": ["segment", store, "--segmenter", f"student:{student}", "--name", "student", "--workers", "1"],
        "eval": ["eval", run, "--segmenter", f"student:{student}", "--episodes", "1", "--settings", "train"],
    }[command]
    _refused(args, [store, run, student], expect)
    assert not (store / "masks" / "student").exists() and not (run / "eval").exists()


# ---- prompts: prompt --show, segment --segmenter samg ---------------------------------------

PROMPT_BREAKS: dict[str, tuple[Callable[[Path], None], str]] = {
    "missing": (lambda d: shutil.rmtree(d), "no prompt for 'door'"),
    "empty-json": (lambda d: _replace(d / "prompt.json", b""), "unreadable prompt"),
    "truncated-image": (lambda d: _truncate(d / "image.png"), "unreadable prompt"),
    "json-a-list": (lambda d: _replace(d / "prompt.json", b"[]"), "unreadable prompt"),
    "wrong-keys": (lambda d: _edit_json(d / "prompt.json", lambda m: m.pop("objects")), "unreadable prompt"),
    "point-outside": (
        lambda d: _edit_json(d / "prompt.json", lambda m: m["objects"][0].update(points=[[900, 900]])), "lies outside"
    ),
    "mask-of-another-size": (lambda d: _replace(d / "mask.png", _png(np.zeros((10, 10), np.uint8))), "sizes differ"),
}


@pytest.mark.parametrize("command", ["prompt-show", "segment-samg"])
@pytest.mark.parametrize("variant", list(PROMPT_BREAKS))
def test_a_broken_prompt(pristine, tmp_path, command, variant):
    root = tmp_path / "prompts"
    _copy(pristine.prompts / "door", root / "door")
    breaks, expect = PROMPT_BREAKS[variant]
    breaks(root / "door")
    store = _copy(pristine.store, tmp_path / "door.zarr")
    args = {
        "prompt-show": ["prompt", "door", "--show", "--root", root, "--out", tmp_path / "points.png"],
        "segment-samg": [  # the simulator's prompt: door's default is the paper's, from the benchmark files
            "segment", store, "--prompt", "simulator", "--prompts", root, "--tiny", "--random-weights", "--workers", "1"
        ],  # fmt: skip
    }[command]
    _refused(args, [root, store], expect)
    assert not (tmp_path / "points.png").exists() and not (store / "masks" / "samg").exists()


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
    "empty": (PICKLED, lambda p: _replace(p, b""), "sha256"),
    "text": (PICKLED, lambda p: _replace(p, b"a policy\n"), "sha256"),
    "foreign-pickle": (PICKLED, lambda p: _replace(p, pickle.dumps(Foreign())), "sha256"),
    "npz-missing": ("expert.npz", lambda p: p.unlink(), "no expert file at"),
    "npz-empty": ("expert.npz", lambda p: _replace(p, b""), "is not an MLP expert .npz"),
    "npz-truncated": ("expert.npz", _truncate, "is not an MLP expert .npz"),
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
    expert = _copy(pristine.expert, tmp_path / name)
    breaks(expert)
    args = {
        "expert-import": ["expert", "import", expert],
        "expert-eval": ["expert", "eval", "door", "--episodes", "1", "--expert", expert],
        "collect": ["collect", "door", "--episodes", "1", "--out", tmp_path / "door.zarr", "--settings", "train",
                    "--workers", "1", "--image-size", "16", "--expert", expert],
    }[command]  # fmt: skip
    _refused(args, [expert], expect)
    assert not (tmp_path / "door.zarr").exists() and not (tmp_path / "home" / "experts").exists()


# ---- weights: weights import ----------------------------------------------------------------

WEIGHTS_BREAKS: dict[str, tuple[Callable[[Path], None], str]] = {
    "missing": (lambda p: p.unlink(), "no file at"),
    "empty": (lambda p: _replace(p, b""), "corrupt, truncated"),
    "truncated": (_truncate, "corrupt, truncated"),
    "text": (lambda p: _replace(p, b"weights\n"), "corrupt, truncated"),
    "foreign-pickle": (_foreign_pickle, "is refused: it names posix.getcwd"),
    "wrong-keys": (lambda p: _torch_file(p, {"encoder.w": torch.zeros(2)}), "does not fit efficientvit-l1"),
    "wrong-shapes": (_reshaped_weights, "does not fit efficientvit-l1: size mismatch"),
}


@pytest.mark.parametrize("variant", list(WEIGHTS_BREAKS))
def test_a_broken_weights_file(pristine, tmp_path, monkeypatch, variant):
    monkeypatch.setenv("SAMG_HOME", str(tmp_path / "home"))
    weights = _copy(pristine.weights, tmp_path / "l1.pt")
    breaks, expect = WEIGHTS_BREAKS[variant]
    breaks(weights)
    _refused(["weights", "import", "efficientvit-l1", weights, "--tiny"], [weights], expect)
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
    _refused(["assets", "import", source], [source], expect)
    assert not (tmp_path / "home" / "benchmark" / ASSET).exists()


# ---- issue 24: assets fetch that fetched nothing, the decoded clip cache, outputs in a store ---


def test_assets_fetch_that_could_not_fetch_a_file_fails_in_one_line(tmp_path, monkeypatch):
    monkeypatch.setenv("SAMG_HOME", str(tmp_path / "home"))
    with tiny_benchmark(tmp_path / "served", monkeypatch, names=(GOOD, ABSENT)) as server:
        _refused(["assets", "fetch"], [], "1 benchmark file(s) could not be fetched, e.g. tiny/absent.bin (not found at")
        (tmp_path / "home" / "benchmark" / GOOD).unlink()
        server.stop()
        _refused(["assets", "fetch"], [], f"2 benchmark file(s) could not be fetched, e.g. {GOOD}; 127.0.0.1")
    with tiny_benchmark(tmp_path / "served", monkeypatch, names=(GOOD,)):
        fetched = runner.invoke(app, ["assets", "fetch"], env=ENV)
        assert fetched.exit_code == 0 and "1 verified, 0 missing, 0 corrupt" in fetched.output, fetched.output


def _door_video_benchmark(source: Path) -> Path:
    """The files `samg envs preview door --settings video_hard` draws on, one per pool."""
    from samg.benchmark.assets import benchmark_root
    from samg.benchmark.manifest import ADROIT_CLIPS, COLOR_PRESETS, TABLE_TEXTURES

    names = [COLOR_PRESETS["hard"], TABLE_TEXTURES["easy"][0], TABLE_TEXTURES["hard"][0], ADROIT_CLIPS["hard"][0]]
    require_benchmark_files(*names)
    for name in names:
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(benchmark_root() / name, source / name)
    return source


@pytest.mark.parametrize("damage", ["white-frames", "truncated"])
def test_a_damaged_clip_cache_is_decoded_again_not_shown(tmp_path, monkeypatch, damage):
    from samg.benchmark import assets

    source = _door_video_benchmark(tmp_path / "benchmark")
    monkeypatch.setenv("SAMG_HOME", str(tmp_path / "home"))
    monkeypatch.setenv(assets.ALLOW_MISSING_ENV, "1")
    assert runner.invoke(app, ["assets", "import", str(source)], env=ENV).exit_code == 0

    def preview(name: str) -> bytes:
        assets._cached_assets.cache_clear()  # a fresh process's assets: they load the cache from disk
        args = ["envs", "preview", "door", "--settings", "video_hard", "--steps", "1", "--out", tmp_path / name]
        result = runner.invoke(app, [str(a) for a in args], env=ENV)
        assert result.exit_code == 0, result.output
        return (tmp_path / name).read_bytes()

    expected = preview("first.png")
    (cache,) = (tmp_path / "home" / "benchmark" / "cache" / "clips").glob("*.npy")
    frames = np.load(cache)
    if damage == "white-frames":
        buffer = io.BytesIO()
        np.save(buffer, np.full_like(frames, 255))
        _replace(cache, buffer.getvalue())
    else:
        _replace(cache, cache.read_bytes()[: cache.stat().st_size // 2])
    assert preview("again.png") == expected
    assert np.array_equal(np.load(cache), frames)


@pytest.mark.parametrize("command", ["eval", "eval-compare", "report"])
@pytest.mark.parametrize("where", ["the-store", "inside-it"])
def test_an_output_inside_a_demo_store_is_refused(pristine, tmp_path, command, where):
    store = _copy(pristine.store, tmp_path / "door.zarr")
    out = store if where == "the-store" else store / "masks" / "results"
    args, out = {
        "eval": (["eval", pristine.run, "--episodes", "1", "--settings", "train", "--out", out], out),
        "eval-compare": (["eval", "compare", pristine.run, "--out", out / "compare.md"], out / "compare.md"),
        "report": (["report", store, "--name", "oracle", "--out", out], out),
    }[command]
    _refused(args, [store, pristine.run], f"--out {out} is inside the store {store.resolve()}: choose an --out outside it")


INTERRUPTED = {  # command -> the library call its Ctrl-C lands in, and what its one line says to do
    "collect": ("samg.rl_collect.collect", "collect", "re-run the same command to resume"),
    "segment": ("samg.pipeline.segment", "segment_store", "re-run the same command to resume"),
    "run": ("samg.il.experiment", "run_experiment", "re-run the same command to resume"),
    "bc-train": ("samg.il.train", "train_bc", "re-run the same command with --resume to continue from the last checkpoint"),
    "rl-train": ("samg.rl.train", "train_rl", "re-run the same command with --resume to continue from the last checkpoint"),
    "eval": ("samg.il.evaluate", "evaluate", "re-run the same command to start again"),
    "distill": ("samg.distill.train", "distill", "re-run the same command to start again"),
}


@pytest.mark.parametrize("command", list(INTERRUPTED))
def test_ctrl_c_is_one_line_saying_how_to_go_on(pristine, tmp_path, monkeypatch, command):
    import importlib

    module, name, expect = INTERRUPTED[command]

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(importlib.import_module(module), name, interrupted)
    args = {
        "collect": ["collect", "door", "--episodes", "1", "--out", tmp_path / "door.zarr", "--settings", "train",
                    "--workers", "1", "--expert", pristine.expert],
        "segment": ["segment", pristine.store, "--segmenter", "oracle", "--name", "fresh"],
        "run": ["run", "door", "--out", tmp_path / "runs", "--data", tmp_path / "data"],
        "bc-train": ["bc", "train", "--data", pristine.store, "--out", tmp_path / "run", "--accelerator", "cpu"],
        "rl-train": ["rl", "train", "door", "--segmenter", "oracle", "--out", tmp_path / "rl"],
        "eval": ["eval", pristine.run, "--episodes", "1", "--settings", "train"],
        "distill": ["distill", pristine.store, "--steps", "1", "--out", tmp_path / "student.safetensors"],
    }[command]  # fmt: skip
    result = runner.invoke(app, [str(a) for a in args], env={"COLUMNS": "40"})  # one line even where it is longer
    assert result.exit_code == 130, result.output
    assert result.stderr.strip().splitlines() == [f"interrupted: {expect}"]


# ---- the five cases of issue 16 -------------------------------------------------------------


def test_case_1_a_deleted_chunk_stops_training_and_segmentation(pristine, tmp_path):
    from samg.pipeline.masks import masked_episodes
    from samg.pipeline.store import ChunkError, DemoStore

    store = _copy(pristine.store, tmp_path / "door.zarr")
    (store / IMAGE_CHUNK).unlink()
    line = f"images/train/rgb: chunk 1 (steps 20-39) is missing (zarr would read it as zeros): run 'samg info {store} --check'"
    for args in (_store_commands(store, tmp_path)["bc-train"], _store_commands(store, tmp_path)["segment"]):
        _refused(args, [store], line)
    assert not (tmp_path / "new_run").exists() and not (store / "masks" / "fresh").exists()
    with pytest.raises(ChunkError, match="chunk 1 \\(steps 20-39\\) is missing"):
        DemoStore(store).episode(1, settings=("train",))
    with pytest.raises(ChunkError, match="chunk 1 \\(steps 20-39\\) is missing"):
        list(masked_episodes(DemoStore(store), "train", "oracle"))
    assert DemoStore(store).episode(0, settings=("train",))["rgb/train"].any()  # the other chunks read


def test_case_2_a_checkpoint_naming_other_code_is_refused_in_one_line(pristine, tmp_path):
    run = _copy(pristine.run, tmp_path / "run", link=True)
    _foreign_pickle(run / "checkpoints" / "best.ckpt")
    _refused(["eval", run, "--episodes", "1"], [run], "best.ckpt is refused: it names posix.getcwd")


def test_case_3_an_unreadable_config_is_one_line(pristine, tmp_path):
    run = _copy(pristine.run, tmp_path / "run", link=True)
    _replace(run / "config.json", b'{"data": ')
    _refused(["eval", run, "--episodes", "1"], [run], "config.json is not a readable bc run config")


def test_case_4_a_negative_learning_rate_is_refused_before_any_work(pristine, tmp_path):
    args = ["bc", "train", "--data", pristine.store, "--lr", "-1", "--out", tmp_path / "run"]
    _refused(args, [pristine.store], "--lr must be a positive number, got -1.0")
    assert not (tmp_path / "run").exists()


def test_case_5_an_empty_seed_range_and_an_earlier_evaluation(pristine, tmp_path, monkeypatch):
    import dataclasses

    import samg.il.evaluate
    from samg.envs import get_task

    def short(name: str):  # episodes of 5 steps: this test is about the files, not the policy
        return dataclasses.replace(get_task(name), episode_length=5)

    monkeypatch.setattr(samg.il.evaluate, "get_task", short)
    run = _copy(pristine.run, tmp_path / "run", link=True)
    _refused(["eval", run, "--seeds", "5:2"], [run], "--seeds 5:2 is empty")
    earlier = run / "eval"
    (earlier / "videos").mkdir(parents=True)
    for name in ("eval_info.json", "eval.md", "success.png", "videos/video_hard_seed5.mp4", "notes.txt"):
        (earlier / name).write_text("an earlier evaluation\n")
    _refused(["eval", run, "--episodes", "1"], [run], "already holds an evaluation: pass --overwrite")

    args = ["eval", run, "--episodes", "1", "--settings", "train", "--videos", "1", "--overwrite"]
    replaced = runner.invoke(app, [str(a) for a in args], env=ENV)  # episodes cut to 5 steps
    assert replaced.exit_code == 0, replaced.output
    info = json.loads((earlier / "eval_info.json").read_text())
    assert list(info["aggregate"]) == ["train"] and info["per_episode"][0]["steps"] == 5
    assert sorted(p.name for p in (earlier / "videos").iterdir()) == ["train_seed1000000.mp4"]  # none of the earlier
    assert (earlier / "notes.txt").read_text() == "an earlier evaluation\n"  # what samg did not write stays


# ---- issue 24: faults and bad data, second pass ---------------------------------------------


def _write_into(store: Path, key: str, at, value) -> None:
    import zarr

    zarr.open_array(store, path=key, mode="r+").with_config({"write_empty_chunks": True})[at] = value


STORED_VALUE_BREAKS: dict[str, tuple[Callable[[Path], None], str, tuple[str, ...]]] = {  # and who reads them
    "nan-action": (
        lambda s: _write_into(s, "data/action", (25, 3), np.nan),
        "data/action holds a non-finite value (NaN or infinity) at step 25, in episode 1",
        ("info", "bc-train"),
    ),
    "inf-proprio": (
        lambda s: _write_into(s, "data/proprio", (41, 0), np.inf),
        "data/proprio holds a non-finite value (NaN or infinity) at step 41, in episode 2",
        ("info", "bc-train"),
    ),
    "episode-ends-not-increasing": (
        lambda s: _write_into(s, "meta/episode_ends", slice(0, 3), [20, 10, 60]),
        "meta/episode_ends does not count episodes of the task's length (episode 1 ends at step 10, not 40)",
        ("info", "bc-train", "segment", "distill"),
    ),
}
STORED_VALUE_CASES = [(c, v) for v, (_, _, readers) in STORED_VALUE_BREAKS.items() for c in readers]


@pytest.mark.parametrize("command, variant", STORED_VALUE_CASES)
def test_damaged_stored_values_are_refused_by_every_reader(pristine, tmp_path, command, variant):
    store = _copy(pristine.store, tmp_path / "door.zarr")
    breaks, expect, _ = STORED_VALUE_BREAKS[variant]
    breaks(store)
    _refused(_store_commands(store, tmp_path)[command], [store], expect)
    assert not any((tmp_path / name).exists() for name in ("new_run", "student.safetensors", "door.zarr/masks/fresh"))


def test_a_finite_store_reads_whole_and_nan_is_checked_per_block_read(pristine, tmp_path):
    from samg.pipeline.store import DemoStore, StoreError

    store = _copy(pristine.store, tmp_path / "door.zarr")
    _write_into(store, "data/action", (45, 0), np.nan)
    opened = DemoStore(store)
    assert np.isfinite(opened.read("data/action", slice(0, 40))).all()  # the block before the damage
    with pytest.raises(StoreError, match="at step 45, in episode 2"):
        opened.read("data/action", np.arange(30, 50))


def test_training_refuses_a_non_finite_loss_at_the_first_step(pristine, tmp_path, monkeypatch):
    from samg.il.policy import BCPolicy

    monkeypatch.setattr(BCPolicy, "_loss", lambda self, batch: torch.tensor(float("nan"), requires_grad=True))
    args = ["bc", "train", "--data", pristine.store, "--out", tmp_path / "run", "--accelerator", "cpu", "--max-steps", "3"]
    _refused(args, [pristine.store], "the training loss became nan at step 0 (epoch 0) although every input is finite")
    assert not (tmp_path / "run" / "checkpoints").exists()


def _strict_json(path: Path) -> dict:
    def refuse(constant: str):
        raise ValueError(f"{path} holds a bare {constant}")

    return json.loads(path.read_text(), parse_constant=refuse)


def test_json_samg_writes_is_valid_json(pristine, tmp_path):
    from samg.files import write_json

    for name in ("config.json", "demos.json", "training.json"):
        _strict_json(pristine.run / name)
    write_json(tmp_path / "a.json", {"rate": float("nan"), "ci": [float("inf"), 0.5], "n": 3})
    assert _strict_json(tmp_path / "a.json") == {"rate": None, "ci": [None, 0.5], "n": 3}
    assert [p.name for p in tmp_path.iterdir()] == ["a.json"]  # no temporary file left


def _no_space(*args, **kwargs):
    import errno

    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))  # as a write() into a full disk: no file name


def test_a_full_disk_during_collection_is_one_line_naming_the_store(pristine, tmp_path, monkeypatch):
    import zarr

    from samg.errors import WriteError
    from samg.pipeline.store import DemoStore

    store = DemoStore(_copy(pristine.store, tmp_path / "door.zarr"), mode="r+")
    episode = store.episode(0, settings=store.plan.settings)
    steps = {spec: episode[spec.split("/")[1]] for spec in ("data/action", "data/state", "data/proprio", "data/reward",
                                                            "data/success", "data/sim_state")}  # fmt: skip
    steps |= {f"images/{s}/rgb": episode[f"rgb/{s}"] for s in store.plan.settings} | {"masks/gt": episode["mask"]}
    monkeypatch.setattr(zarr.Array, "__setitem__", _no_space)
    with pytest.raises(WriteError, match=f"cannot write {store.path}: No space left on device: free space there"):
        store.write_episode(0, steps)


def test_a_failed_write_of_a_run_file_is_one_line(pristine, tmp_path, monkeypatch):
    import errno

    def read_only(self, *args, **kwargs):
        raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(self))

    monkeypatch.setattr(Path, "write_text", read_only)
    args = ["bc", "train", "--data", pristine.store, "--out", tmp_path / "run", "--accelerator", "cpu", "--max-steps", "1"]
    _refused(args, [pristine.store], f"cannot write {tmp_path / 'run' / 'config.json'}.tmp: Read-only file system")


def test_collect_onto_a_full_file_system_is_one_line(pristine, tmp_path):
    """A 64 KiB tmpfs (where this process may mount one, as root may): the first episode fills it."""
    import subprocess

    disk = tmp_path / "disk"
    disk.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(disk)], capture_output=True).returncode:
        pytest.skip("cannot mount a tmpfs here (not root)")
    try:
        args = ["collect", "door", "--episodes", "1", "--out", disk / "door.zarr", "--settings", "train",
                "--workers", "1", "--image-size", "16", "--keep-failures", "--expert", pristine.expert]  # fmt: skip
        _refused(args, [pristine.expert], "No space left on device: free space there and re-run the same command")
        assert sorted(p.name for p in disk.iterdir()) == []  # no half-made store, no lock: the same command starts over
    finally:
        subprocess.run(["umount", str(disk)], check=True)


def test_a_symlink_loop_as_out_is_one_line_and_leaves_no_lock(pristine, tmp_path):
    (tmp_path / "A").symlink_to(tmp_path / "B")
    (tmp_path / "B").symlink_to(tmp_path / "A")
    args = ["collect", "door", "--episodes", "1", "--out", tmp_path / "A", "--settings", "train", "--workers", "1",
            "--image-size", "16", "--keep-failures", "--expert", pristine.expert]  # fmt: skip
    _refused(args, [pristine.expert], f"{tmp_path / 'A'} is a symbolic link to nothing (a loop or a missing target)")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["A", "B"]  # no A.lock


# ---- issue 24, runs: a run's config travels in its checkpoints; --resume keeps the history --


def _edited_config(run: Path, change: Callable[[dict], None]) -> None:
    values = json.loads((run / "config.json").read_text())
    change(values)
    _replace(run / "config.json", json.dumps(values).encode())


CONFIG_EDITS: dict[str, tuple[Callable[[dict], None], list[str], str]] = {  # and the flags a resume repeats
    "obs-changed": (
        lambda c: c.update(obs="raw"), ["--obs", "raw"], 'config.json says obs "raw", but the run was trained with "masked"'
    ),
    "keys-deleted": (
        lambda c: (c.pop("obs"), c.pop("frame_stack")), [], '(it lacks obs, frame_stack): put back what'
    ),
}


@pytest.mark.parametrize("command", ["eval", "resume"])
@pytest.mark.parametrize("variant", list(CONFIG_EDITS))
def test_a_config_json_that_disagrees_with_the_checkpoint(pristine, tmp_path, command, variant):
    run = _copy(pristine.run, tmp_path / "run", link=True)
    change, flags, expect = CONFIG_EDITS[variant]
    _edited_config(run, change)
    args = {
        "eval": ["eval", run, "--episodes", "1", "--settings", "train", "--videos", "0"],
        "resume": ["bc", "train", "--data", pristine.store, "--out", run, "--epochs", "2", "--batch-size", "8",
                   "--accelerator", "cpu", "--resume", *flags],
    }[command]  # fmt: skip
    checkpoint = run / "checkpoints" / ("best.ckpt" if command == "eval" else "last.ckpt")
    if variant == "keys-deleted":  # the line tells what to put back
        expect += f' {checkpoint} records: {{"obs": "masked", "frame_stack": 3}}'
    else:
        expect += f" (as {checkpoint} records): set it back"
    _refused(args, [run, pristine.store], expect)
    assert not (run / "eval").exists()


def test_every_checkpoint_records_the_config_it_was_trained_with(pristine):
    from samg.il.config import CONFIG_RECORD

    for name in ("best.ckpt", "last.ckpt"):
        saved = torch.load(pristine.run / "checkpoints" / name, weights_only=True)
        assert saved[CONFIG_RECORD] == json.loads((pristine.run / "config.json").read_text())


class Killed(Exception):
    """kill -9, as far as the process it hits can tell."""


def _metrics(run: Path) -> list[tuple[str, str]]:
    import csv

    with open(run / "logs" / "metrics.csv", newline="") as handle:
        return [(row["epoch"], row["step"]) for row in csv.DictReader(handle)]


def test_a_resumed_run_keeps_the_history_of_the_part_before(pristine, tmp_path, monkeypatch):
    """3 epochs of 8 steps (60 frames, batches of 8), killed at step 20, after the checkpoint
    of step 16: the resumed run's metrics rows and tally are those of a run never killed."""
    from samg.il.policy import BCPolicy

    def train(out: Path, *extra: str):
        args = ["bc", "train", "--data", pristine.store, "--out", out, "--epochs", "3", "--batch-size", "8",
                "--accelerator", "cpu", *extra]  # fmt: skip
        return runner.invoke(app, [str(a) for a in args], env=ENV)

    assert train(tmp_path / "whole").exit_code == 0
    whole = json.loads((tmp_path / "whole" / "training.json").read_text())
    run, real_step = tmp_path / "run", BCPolicy.training_step

    def killed_at_step_20(self, batch, index):
        if self.global_step == 20:
            raise Killed
        return real_step(self, batch, index)

    monkeypatch.setattr(BCPolicy, "training_step", killed_at_step_20)
    assert isinstance(train(run).exception, Killed)
    assert _metrics(run)[-1] == ("2", "19")  # logged after the checkpoint: the resumed run logs it again
    monkeypatch.undo()

    resumed = train(run, "--resume")
    assert resumed.exit_code == 0, resumed.output
    assert _metrics(run) == _metrics(tmp_path / "whole") == [("0", "7"), ("1", "9"), ("1", "15"), ("2", "19"), ("2", "23")]
    training = json.loads((run / "training.json").read_text())
    assert [(part["from_step"], part["to_step"]) for part in training["parts"]] == [(0, 16), (16, 24)]
    assert training["samples"] == whole["samples"] == 180 and training["global_step"] == 24
    assert training["wall_seconds"] == pytest.approx(sum(part["wall_seconds"] for part in training["parts"]), abs=0.02)
    assert len(whole["parts"]) == 1


def test_a_run_killed_before_its_first_checkpoint_starts_again(pristine, tmp_path):
    run = _copy(pristine.run, tmp_path / "run")  # not linked: this one trains again
    (run / "checkpoints" / "last.ckpt").unlink()  # killed after best.ckpt, before last.ckpt and training.json
    (run / "training.json").unlink()
    args = ["bc", "train", "--data", pristine.store, "--out", run, "--epochs", "1", "--batch-size", "8",
            "--accelerator", "cpu", "--max-steps", "2"]  # fmt: skip
    _refused([*args, "--resume"], [run, pristine.store], "a run stopped before its first checkpoint starts again without --resume")
    started = runner.invoke(app, [str(a) for a in args], env=ENV)
    assert started.exit_code == 0, started.output
    assert f"{run} stopped before its first checkpoint: training it again from the beginning" in started.stdout
    training = json.loads((run / "training.json").read_text())
    assert training["global_step"] == 2 and [(p["from_step"], p["to_step"]) for p in training["parts"]] == [(0, 2)]

    (run / "checkpoints" / "last.ckpt").unlink()  # a finished run is never started over
    _refused(args, [run, pristine.store], "holds a finished run whose checkpoints/last.ckpt is gone")


RL_SMALL = ["--episode-frames", "20", "--seed-frames", "20", "--eval-every", "40", "--eval-episodes", "1",
            "--image-size", "32", "--device", "cpu", "--hidden-dim", "64"]  # fmt: skip


def _rl_args(out: Path, *extra: str) -> list[str]:
    return ["rl", "train", "cartpole_swingup", "--out", str(out), *RL_SMALL, *extra]


def test_rl_resume_refuses_a_config_json_that_disagrees_with_the_checkpoint(tmp_path):
    run = tmp_path / "run"
    assert runner.invoke(app, _rl_args(run, "--frames", "20", "--batch-size", "8"), env=ENV).exit_code == 0
    _edited_config(run, lambda c: c.update(batch_size=16))
    expect = f'config.json says batch_size 16, but the run was trained with 8 (as {run / "checkpoint" / "state.json"} records)'
    _refused(_rl_args(run, "--frames", "40", "--batch-size", "16", "--resume"), [run], expect)


def test_rl_resume_keeps_the_history_of_the_part_before(tmp_path, monkeypatch):
    import samg.rl.checkpoint

    run, real_write, commits = tmp_path / "run", samg.rl.checkpoint.atomic_write, []

    def killed_at_the_second_commit(path, write):
        commits.extend([path.name] if path.name == "state.json" else [])
        if commits.count("state.json") == 2:
            raise Killed
        real_write(path, write)

    monkeypatch.setattr(samg.rl.checkpoint, "atomic_write", killed_at_the_second_commit)
    assert isinstance(runner.invoke(app, _rl_args(run, "--frames", "40", "--batch-size", "8"), env=ENV).exception, Killed)
    monkeypatch.undo()
    resumed = runner.invoke(app, _rl_args(run, "--frames", "60", "--batch-size", "8", "--resume"), env=ENV)
    assert resumed.exit_code == 0, resumed.output
    assert [row.split(",")[0] for row in (run / "train.csv").read_text().splitlines()[1:]] == ["20", "40", "60"]
    training = json.loads((run / "training.json").read_text())
    assert [(part["from_frames"], part["to_frames"]) for part in training["parts"]] == [(0, 20), (20, 60)]
    assert training["frames"] == 60 and training["episodes"] == 3
    assert training["wall_seconds"] == pytest.approx(sum(part["wall_seconds"] for part in training["parts"]), abs=0.02)
