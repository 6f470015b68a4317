"""The `student` segmenter: same interface, named as student:PATH, rebuilt from its description."""

from pathlib import Path

import numpy as np
import pytest

from samg.distill.model import StudentFileError
from samg.errors import SamgError, UnknownNameError
from samg.il.config import BCConfig
from samg.il.live_segmenter import live_segmenter_config
from samg.pipeline.masks import MaskSet
from samg.pipeline.segment import SegmentConfig, segment_store
from samg.segmenter.factory import SegmenterConfig, make_segmenter, parse_segmenter
from samg.segmenter.student import StudentSegmenter
from tests.distill.helpers import student_file
from tests.pipeline.helpers import synthetic_store


def test_names():
    assert parse_segmenter("student:runs/s.safetensors") == ("student", Path("runs/s.safetensors"))
    assert parse_segmenter("oracle") == ("oracle", None)
    with pytest.raises(UnknownNameError, match="valid segmenters: samg, oracle, none, blank, student:PATH"):
        parse_segmenter("student")
    with pytest.raises(SamgError, match="needs the student file"):
        parse_segmenter("student:")


def test_segments_frames_through_the_interface(tmp_path):
    path = student_file(tmp_path / "s.safetensors")
    segmenter = make_segmenter("door", SegmenterConfig(kind="student", student=path, batch_size=3))
    frames = np.random.default_rng(0).integers(0, 256, (7, 16, 16, 3), dtype=np.uint8)
    result = segmenter.segment(frames)
    assert result.masks.shape == (7, 16, 16) and result.masks.dtype == bool and len(result.diagnostics) == 7
    assert not segmenter.needs_ground_truth
    whole = StudentSegmenter(path, batch_size=64).segment(frames).masks
    assert np.array_equal(result.masks, whole)  # batching does not change the masks


def test_description_rebuilds_the_same_student_and_refuses_another(tmp_path):
    path = student_file(tmp_path / "s.safetensors")
    config = SegmenterConfig(kind="student", student=path)
    described = config.describe()
    assert described == make_segmenter("door", config).describe()
    assert (
        described["kind"] == "student" and described["path"] == str(path) and len(described["sha256"]) == 64
    )
    rebuilt = SegmenterConfig.from_description(described)
    assert rebuilt.student == path and rebuilt.describe() == described
    make_segmenter("door", rebuilt)
    student_file(path, seed=1)  # another student under the same name
    with pytest.raises(StudentFileError, match="is not the student these masks were made with"):
        make_segmenter("door", rebuilt)


def test_wrong_task_and_dtype_are_refused(tmp_path):
    path = student_file(tmp_path / "s.safetensors", task="hammer")
    with pytest.raises(StudentFileError, match="was distilled for 'hammer', not 'door'"):
        make_segmenter("door", SegmenterConfig(kind="student", student=path))
    with pytest.raises(SamgError, match="fp32, or bf16 on CUDA"):
        StudentSegmenter(path, dtype="bf16")


def test_segment_store_writes_masks_whose_description_rebuilds_the_student(tmp_path):
    store = synthetic_store(tmp_path / "door.zarr", episodes=2)
    path = student_file(tmp_path / "s.safetensors")
    config = SegmentConfig(store=store.path, segmenter=SegmenterConfig(kind="student", student=path))
    result = segment_store(config)
    assert result.name == "student"
    stored = MaskSet(store, "student")
    rebuilt = make_segmenter("door", SegmenterConfig.from_description(stored.attrs["segmenter"]))
    frames = store.array("images/video_hard/rgb")[:]
    assert np.array_equal(rebuilt.segment(frames).masks, stored.masks("video_hard")[:])
    # evaluation of a policy trained on these masks rebuilds the same student, or takes one by path
    train = BCConfig(data=store.path, out=tmp_path / "run", segmenter="student")
    assert live_segmenter_config(train, None, tmp_path).describe() == stored.attrs["segmenter"]
    named = live_segmenter_config(train, f"student:{path}", tmp_path)
    assert named.kind == "student" and named.student == path
