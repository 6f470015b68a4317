"""A broken run folder (eval, eval compare, bc train --resume), and a run's config against its checkpoints."""

import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
import torch

from samg.cli import app
from tests.cli.hostile.helpers import (
    ENV,
    foreign_pickle,
    fresh_copy,
    refused,
    replace_file,
    runner,
    torch_file,
)

# ---- a run folder: eval, eval compare, bc train --resume ------------------------------------

RUN_BREAKS: dict[str, tuple[Callable[[Path], None], str]] = {
    "missing": (lambda r: shutil.rmtree(r), "no config.json"),
    "empty": (lambda r: (shutil.rmtree(r), r.mkdir()), "no config.json"),
    "config-empty": (lambda r: replace_file(r / "config.json", b""), "config.json is not a readable bc run config"),
    "config-truncated": (lambda r: replace_file(r / "config.json", (r / "config.json").read_bytes()[:40]), "not a readable"),
    "config-binary": (lambda r: replace_file(r / "config.json", b"\x80\x04\x95\xff"), "not a readable bc run config"),
    "config-a-list": (lambda r: replace_file(r / "config.json", b"[1, 2]"), "a JSON object was expected"),
    "config-missing-key": (
        lambda r: replace_file(r / "config.json", json.dumps({"out": "x"}).encode()), "not a valid bc run config"
    ),
    "config-wrong-type": (
        lambda r: replace_file(r / "config.json", (r / "config.json").read_bytes().replace(b'"epochs": 1', b'"epochs": "1"')),
        "epochs must be int",
    ),
    "demos-missing": (lambda r: (r / "demos.json").unlink(), "no demos record"),
    "demos-truncated": (lambda r: replace_file(r / "demos.json", b'{"task": "do'), "demos.json is not a readable"),
    "demos-wrong-keys": (lambda r: replace_file(r / "demos.json", b'{"task": "door"}'), "lacks the task or its episode_seeds"),
    "demos-unknown-task": (
        lambda r: replace_file(r / "demos.json", b'{"task": "drawer", "episode_seeds": [0]}'), "unknown task 'drawer'"
    ),
    "no-checkpoint": (lambda r: shutil.rmtree(r / "checkpoints"), "has no checkpoint"),
    "checkpoint-empty": (lambda r: replace_file(r / "checkpoints/best.ckpt", b""), "best.ckpt is corrupt, truncated"),
    "checkpoint-truncated": (
        lambda r: replace_file(r / "checkpoints/best.ckpt", (r / "checkpoints/best.ckpt").read_bytes()[:5000]), "corrupt, truncated"
    ),
    "checkpoint-text": (lambda r: replace_file(r / "checkpoints/best.ckpt", b"hello\n"), "best.ckpt is corrupt, truncated"),
    "checkpoint-foreign-pickle": (lambda r: foreign_pickle(r / "checkpoints/best.ckpt"), "is refused: it names posix.getcwd"),
    "checkpoint-wrong-keys": (
        lambda r: torch_file(r / "checkpoints/best.ckpt", {"weights": torch.zeros(3)}), "not a checkpoint of 'samg bc train'"
    ),
    "checkpoint-wrong-shapes": (
        lambda r: torch_file(r / "checkpoints/best.ckpt", _reshaped_checkpoint(r)), "does not hold a BC policy"
    ),
    "checkpoint-of-another-task": (
        lambda r: torch_file(r / "checkpoints/best.ckpt", _checkpoint_for(r, proprio_dim=5)), "proprio_dim 5"
    ),
    "checkpoint-broken-config-record": (
        lambda r: torch_file(r / "checkpoints/best.ckpt", _with_config_record(r, {"obs": torch.zeros(1)})),
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
    run = fresh_copy(pristine.run, tmp_path / "run", link=True)
    breaks, expect = RUN_BREAKS[variant]
    breaks(run)
    args = ["eval", run, "--episodes", "1", "--settings", "train", "--videos", "0"]
    refused(args, [run, pristine.store], expect)
    assert not (run / "eval").exists()


@pytest.mark.parametrize(
    "variant", ["config-truncated", "config-wrong-type", "checkpoint-foreign-pickle", "checkpoint-truncated",
                "checkpoint-wrong-keys", "checkpoint-wrong-shapes"]
)  # fmt: skip
def test_resume_of_a_broken_run(pristine, tmp_path, variant):
    run = fresh_copy(pristine.run, tmp_path / "run", link=True)
    breaks, expect = RUN_BREAKS[variant]
    breaks(run)
    if variant.startswith("checkpoint"):  # a resume reads last.ckpt: give it best.ckpt's broken bytes
        (run / "checkpoints/last.ckpt").unlink()
        os.link(run / "checkpoints/best.ckpt", run / "checkpoints/last.ckpt")
    args = ["bc", "train", "--data", pristine.store, "--out", run, "--epochs", "1", "--batch-size", "8",
            "--accelerator", "cpu", "--resume"]  # fmt: skip
    refused(args, [run, pristine.store], expect)


@pytest.mark.parametrize(
    "content, expect",
    [(None, "has no eval/eval_info.json"), (b"", "eval_info.json is not a readable"),
     (b'{"aggregate": {"train": ', "eval_info.json is not a readable"), (b'{"run": "x"}', "lacks")],
    ids=["missing", "empty", "truncated", "wrong-keys"],
)  # fmt: skip
def test_compare_of_a_broken_evaluation(pristine, tmp_path, content, expect):
    run = fresh_copy(pristine.run, tmp_path / "run", link=True)
    if content is not None:
        (run / "eval").mkdir()
        (run / "eval" / "eval_info.json").write_bytes(content)
    refused(["eval", "compare", run, "--out", tmp_path / "table.md"], [run], expect)
    assert not (tmp_path / "table.md").exists()


# ---- issue 24, runs: a run's config travels in its checkpoints; --resume keeps the history --


def _edited_config(run: Path, change: Callable[[dict], None]) -> None:
    values = json.loads((run / "config.json").read_text())
    change(values)
    replace_file(run / "config.json", json.dumps(values).encode())


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
    run = fresh_copy(pristine.run, tmp_path / "run", link=True)
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
    refused(args, [run, pristine.store], expect)
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
    run = fresh_copy(pristine.run, tmp_path / "run")  # not linked: this one trains again
    (run / "checkpoints" / "last.ckpt").unlink()  # killed after best.ckpt, before last.ckpt and training.json
    (run / "training.json").unlink()
    args = ["bc", "train", "--data", pristine.store, "--out", run, "--epochs", "1", "--batch-size", "8",
            "--accelerator", "cpu", "--max-steps", "2"]  # fmt: skip
    refused([*args, "--resume"], [run, pristine.store], "a run stopped before its first checkpoint starts again without --resume")
    started = runner.invoke(app, [str(a) for a in args], env=ENV)
    assert started.exit_code == 0, started.output
    assert f"{run} stopped before its first checkpoint: training it again from the beginning" in started.stdout
    training = json.loads((run / "training.json").read_text())
    assert training["global_step"] == 2 and [(p["from_step"], p["to_step"]) for p in training["parts"]] == [(0, 2)]

    (run / "checkpoints" / "last.ckpt").unlink()  # a finished run is never started over
    refused(args, [run, pristine.store], "holds a finished run whose checkpoints/last.ckpt is gone")


RL_SMALL = ["--episode-frames", "20", "--seed-frames", "20", "--eval-every", "40", "--eval-episodes", "1",
            "--image-size", "32", "--device", "cpu", "--hidden-dim", "64"]  # fmt: skip


def _rl_args(out: Path, *extra: str) -> list[str]:
    return ["rl", "train", "cartpole_swingup", "--out", str(out), *RL_SMALL, *extra]


def test_rl_resume_refuses_a_config_json_that_disagrees_with_the_checkpoint(tmp_path):
    run = tmp_path / "run"
    assert runner.invoke(app, _rl_args(run, "--frames", "20", "--batch-size", "8"), env=ENV).exit_code == 0
    _edited_config(run, lambda c: c.update(batch_size=16))
    expect = f'config.json says batch_size 16, but the run was trained with 8 (as {run / "checkpoint" / "state.json"} records)'
    refused(_rl_args(run, "--frames", "40", "--batch-size", "16", "--resume"), [run], expect)


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
