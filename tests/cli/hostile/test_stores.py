"""A broken demo store or mask set, for every command that reads one; collect into a broken store."""

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.cli.hostile.helpers import (
    IMAGE_CHUNK,
    edit_json,
    flip_byte,
    fresh_copy,
    refused,
    replace_file,
    store_attrs,
    store_commands,
    truncate_file,
)

# ---- the demo store: info, bc train, segment, report, distill, collect -----------------------

STORE_BREAKS: dict[str, tuple[Callable[[Path], None], str]] = {
    "missing": (lambda s: shutil.rmtree(s), "no demo store at"),
    "empty": (lambda s: (shutil.rmtree(s), s.mkdir()), "no demo store at"),
    "a-file": (lambda s: (shutil.rmtree(s), s.write_text("not a store\n")), "no demo store at"),
    "truncated-metadata": (lambda s: truncate_file(s / "zarr.json"), "zarr.json is unreadable"),
    "foreign-format": (lambda s: store_attrs(s, lambda a: a.update(format="diffusion_policy")), "is not a samg demo store"),
    "old-version": (lambda s: store_attrs(s, lambda a: a.update(format_version=1)), "former visual settings"),
    "missing-key": (lambda s: store_attrs(s, lambda a: a.pop("episode_length")), "incomplete attributes"),
    "wrong-type": (lambda s: store_attrs(s, lambda a: a.update(episode_length="20")), "episode_length must be int"),
    "missing-array": (lambda s: shutil.rmtree(s / "images/train/rgb"), "no readable array 'images/train/rgb'"),
    "wrong-shape": (
        lambda s: edit_json(s / "images/train/rgb/zarr.json", lambda m: m.update(shape=[60, 8, 8, 3])),
        "images/train/rgb has shape (60, 8, 8, 3)",
    ),
    "missing-chunk": (
        lambda s: (s / IMAGE_CHUNK).unlink(),
        "images/train/rgb: chunk 1 (steps 20-39) is missing",
    ),
    "corrupt-chunk": (lambda s: flip_byte(s / IMAGE_CHUNK), "images/train/rgb: chunk 1 (steps 20-39) is corrupt"),
}



@pytest.mark.parametrize("command", ["info", "bc-train", "segment", "report", "distill"])
@pytest.mark.parametrize("variant", list(STORE_BREAKS))
def test_a_broken_store(pristine, tmp_path, command, variant):
    store = fresh_copy(pristine.store, tmp_path / "door.zarr")
    breaks, expect = STORE_BREAKS[variant]
    breaks(store)
    # Segmentation decodes a block's frames just before masking them: at a corrupt chunk it
    # stops there, the blocks done before it kept (a re-run resumes). Anything else is
    # refused before a mask set is made.
    masks_written = ("masks/fresh",) if (command, variant) == ("segment", "corrupt-chunk") else ()
    refused(store_commands(store, tmp_path)[command], [store], expect, outputs=masks_written)
    assert not any((tmp_path / name).exists() for name in ("new_run", "report", "student.safetensors"))
    assert masks_written or not (store / "masks" / "fresh").exists()


WRONG_TYPES = {"settings": 3, "segmenter": 3, "quality": 3}  # each command stops at the first it reads
MASK_BREAKS: dict[str, tuple[Callable[[Path], None], str | dict[str, str]]] = {  # on masks/teacher
    "missing": (lambda m: shutil.rmtree(m), "no masks named 'teacher'"),
    "truncated-group-metadata": (lambda m: truncate_file(m / "zarr.json"), "masks/teacher is unreadable"),
    "wrong-types": (
        lambda m: edit_json(m / "zarr.json", lambda g: g["attributes"].update(WRONG_TYPES)),
        {"bc-train": "is unreadable", "report": "have no quality summary", "eval": "do not describe their segmenter"},
    ),
    "truncated-array-metadata": (lambda m: truncate_file(m / "train" / "zarr.json"), "masks/teacher/train is unreadable"),
    "corrupt-chunk": (lambda m: flip_byte(m / "train/c/1/0/0"), "masks/teacher/train: chunk 1 (steps 20-39) is corrupt"),
}
MASK_CASES = [  # evaluation reads the set's description only
    (command, variant)
    for variant in MASK_BREAKS
    for command in ("report", "bc-train", "eval")
    if command != "eval" or variant in ("missing", "truncated-group-metadata", "wrong-types")
]


@pytest.mark.parametrize("command, variant", MASK_CASES)
def test_a_broken_mask_set(pristine, tmp_path, command, variant):
    store = fresh_copy(pristine.store, tmp_path / "door.zarr")
    (store / "masks" / "oracle").rename(store / "masks" / "teacher")  # a mask set's name is its folder
    breaks, expect = MASK_BREAKS[variant]
    breaks(store / "masks" / "teacher")
    run = fresh_copy(pristine.run, tmp_path / "run", link=True)
    replace_file(run / "config.json", (run / "config.json").read_bytes().replace(str(pristine.store).encode(), str(store).encode()))
    args = {
        "report": ["report", store, "--name", "teacher", "--out", tmp_path / "report"],
        "bc-train": ["bc", "train", "--data", store, "--segmenter", "teacher", "--out", tmp_path / "new_run"],
        "eval": ["eval", run, "--segmenter", "teacher", "--episodes", "1", "--settings", "train"],
    }[command]
    refused(args, [store, run], expect[command] if isinstance(expect, dict) else expect)
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
        fresh_copy(pristine.store, out)
        if variant == "truncated-metadata":
            truncate_file(out / "zarr.json")
    args = ["collect", "door", "--episodes", "1", "--out", out, "--settings", "train", "--workers", "1",
            "--image-size", "16", "--keep-failures", "--expert", pristine.expert]  # fmt: skip
    refused(args, [out, pristine.expert], expect)


