"""`samg distill` end to end through typer's runner: distil, segment with the student, report."""

import pytest
from typer.testing import CliRunner

from samg.cli import app
from samg.distill.model import read_description
from tests.distill.helpers import student_file
from tests.pipeline.helpers import synthetic_store

runner = CliRunner()


def _run(*args):
    return runner.invoke(app, [str(a) for a in args], env={"COLUMNS": "200"})


def _one_line_error(result, message, code=1):
    assert result.exit_code == code, result.output
    errors = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and message in errors[0], result.output


@pytest.mark.slow
def test_distill_then_segment_and_report_with_the_student(tmp_path):
    store = synthetic_store(tmp_path / "door.zarr", episodes=3)
    student = tmp_path / "student.safetensors"
    result = _run(
        "distill", store.path, "--episodes", "0:2", "--steps", "20", "--batch-size", "4", "--out", student
    )
    assert result.exit_code == 0, result.output
    assert f"wrote {student}" in result.output and f"use --segmenter student:{student}" in result.output
    about = read_description(student)
    assert about["episodes"] == [0, 2] and about["training"]["steps"] == 20
    segment = _run("segment", store.path, "--segmenter", f"student:{student}", "--episodes", "2:3")
    assert segment.exit_code == 0, segment.output
    assert "masks/student: 2 blocks segmented, 0 already done" in segment.output
    report = _run("report", store.path, "--name", "student", "--out", tmp_path / "report")
    assert report.exit_code == 0, report.output
    assert "| video_hard |" in (tmp_path / "report" / "report.md").read_text()


def test_bad_input_is_one_line(tmp_path):
    store = synthetic_store(tmp_path / "door.zarr", episodes=1)
    _one_line_error(
        _run("distill", store.path, "--setting", "video_hard"), "is a test setting of the benchmark"
    )
    _one_line_error(_run("distill", store.path, "--teacher", "absent"), "has no masks named 'absent'")
    _one_line_error(_run("distill", store.path, "--episodes", "0:5"), "episodes 0:5 out of range")
    _one_line_error(
        _run("segment", store.path, "--segmenter", "student"), "unknown segmenter 'student'", code=2
    )
    _one_line_error(
        _run("segment", store.path, "--segmenter", f"student:{tmp_path / 'x'}"), "no student file at"
    )
    broken = tmp_path / "broken.safetensors"
    broken.write_bytes(b"\x80\x04not a safetensors file")
    _one_line_error(
        _run("segment", store.path, "--segmenter", f"student:{broken}"), "is not a safetensors student"
    )
    other = student_file(tmp_path / "hammer.safetensors", task="hammer")
    _one_line_error(_run("segment", store.path, "--segmenter", f"student:{other}"), "distilled for 'hammer'")
