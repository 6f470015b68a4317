"""Fetch that fetched nothing, a damaged clip cache, outputs inside a store, Ctrl-C."""

import io
import shutil
from pathlib import Path

import numpy as np
import pytest

from samg.cli import app
from tests.benchmark.helpers import ABSENT, GOOD, tiny_benchmark
from tests.cli.hostile.helpers import (
    ENV,
    fresh_copy,
    refused,
    replace_file,
    runner,
)
from tests.conftest import require_benchmark_files

# ---- issue 24: assets fetch that fetched nothing, the decoded clip cache, outputs in a store ---


def test_assets_fetch_that_could_not_fetch_a_file_fails_in_one_line(tmp_path, monkeypatch):
    monkeypatch.setenv("SAMG_HOME", str(tmp_path / "home"))
    with tiny_benchmark(tmp_path / "served", monkeypatch, names=(GOOD, ABSENT)) as server:
        refused(["assets", "fetch"], [], "1 benchmark file(s) could not be fetched, e.g. tiny/absent.bin (not found at")
        (tmp_path / "home" / "benchmark" / GOOD).unlink()
        server.stop()
        refused(["assets", "fetch"], [], f"2 benchmark file(s) could not be fetched, e.g. {GOOD}; 127.0.0.1")
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
        replace_file(cache, buffer.getvalue())
    else:
        replace_file(cache, cache.read_bytes()[: cache.stat().st_size // 2])
    assert preview("again.png") == expected
    assert np.array_equal(np.load(cache), frames)


@pytest.mark.parametrize("command", ["eval", "eval-compare", "report"])
@pytest.mark.parametrize("where", ["the-store", "inside-it"])
def test_an_output_inside_a_demo_store_is_refused(pristine, tmp_path, command, where):
    store = fresh_copy(pristine.store, tmp_path / "door.zarr")
    out = store if where == "the-store" else store / "masks" / "results"
    args, out = {
        "eval": (["eval", pristine.run, "--episodes", "1", "--settings", "train", "--out", out], out),
        "eval-compare": (["eval", "compare", pristine.run, "--out", out / "compare.md"], out / "compare.md"),
        "report": (["report", store, "--name", "oracle", "--out", out], out),
    }[command]
    refused(args, [store, pristine.run], f"--out {out} is inside the store {store.resolve()}: choose an --out outside it")


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


