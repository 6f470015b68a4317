"""Distillation on a tiny store: learns, refuses the shifted settings, reads any mask set."""

import pytest
import torch

from samg.distill.augment import AugmentConfig
from samg.distill.model import StudentArchitecture, StudentNet, load_student, read_description
from samg.distill.train import DistillConfig, DistillError, distill, student_iou
from samg.pipeline.masks import MasksError, MaskSet
from samg.pipeline.segment import SegmentConfig, segment_store
from samg.pipeline.store import DemoStore
from samg.segmenter.factory import SegmenterConfig
from tests.pipeline.helpers import synthetic_store

SMALL = StudentArchitecture(widths=(8, 16, 32))
FAST_AUGMENT = AugmentConfig(bank_size=64)


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> DemoStore:
    return synthetic_store(tmp_path_factory.mktemp("distill") / "door.zarr", episodes=4)


def _unseen(store: DemoStore, setting: str):
    at = store.episode_slice(3)
    return store.array(f"images/{setting}/rgb")[at], store.array("masks/gt")[at] > 0


@pytest.mark.slow
def test_a_few_hundred_steps_lift_iou_on_unseen_frames(store, tmp_path):
    config = DistillConfig(store=store.path, episodes=(0, 3), steps=300, batch_size=16, architecture=SMALL,
                           augment=FAST_AUGMENT, out=tmp_path / "s.safetensors")  # fmt: skip
    torch.manual_seed(config.seed)
    untrained = StudentNet(SMALL).eval()
    result = distill(config)
    trained, about = load_student(result.path)
    iou = {}
    for setting in ("train", "video_hard"):
        frames, truth = _unseen(store, setting)
        iou[setting] = (
            student_iou(untrained, frames, truth, "cpu"),
            student_iou(trained, frames, truth, "cpu"),
        )
    (before, after), (hard_before, hard_after) = iou["train"], iou["video_hard"]
    assert after > 0.8 and after > before + 0.4, iou
    # video_hard here is per-pixel uniform noise, unlike any augmentation background: a smaller gain
    assert hard_after > hard_before + 0.1, iou
    assert about == read_description(result.path)
    assert about["episodes"] == [0, 3] and about["frames"] == 60 and about["setting"] == "train"
    assert about["teacher"] == "oracle" and about["teacher_description"] == {"kind": "oracle"}
    assert about["training"]["steps"] == 300 and about["augmentation"]["bank_size"] == 64
    assert about["package_version"] and about["store"] == str(store.path)


def test_shifted_settings_are_never_training_input(store, tmp_path):
    config = DistillConfig(store=store.path, setting="video_hard", steps=1, out=tmp_path / "s.safetensors")
    with pytest.raises(DistillError, match="'video_hard' is a test setting of the benchmark"):
        distill(config)
    assert not (tmp_path / "s.safetensors").exists()


def test_teacher_is_any_mask_set(store, tmp_path):
    segment_store(SegmentConfig(store=store.path, segmenter=SegmenterConfig(kind="oracle"), name="teacher",
                                episodes=(0, 2)))  # fmt: skip
    config = DistillConfig(store=store.path, teacher="teacher", episodes=(0, 2), steps=2, batch_size=4,
                           architecture=SMALL, augment=FAST_AUGMENT, out=tmp_path / "s.safetensors")  # fmt: skip
    about = distill(config).description
    assert about["teacher"] == "teacher" and about["teacher_description"] == {"kind": "oracle"}
    with pytest.raises(MasksError, match="masks 'teacher' of episode 2 in train are not computed yet"):
        distill(DistillConfig(store=store.path, teacher="teacher", episodes=(0, 3), steps=1))
    assert MaskSet(store, "teacher").exists


def test_default_out_path_names_task_and_teacher(store):
    assert str(DistillConfig(store=store.path).out_path("door")) == "runs/student_door_oracle.safetensors"


@pytest.mark.parametrize("steps", [1, 2, 3, 20, 40])
def test_short_runs_have_a_learning_rate_schedule(store, tmp_path, steps):
    config = DistillConfig(store=store.path, episodes=(0, 1), steps=steps, batch_size=2, architecture=SMALL,
                           augment=AugmentConfig(bank_size=4, photo_share=0.0), out=tmp_path / "s.safetensors")  # fmt: skip
    assert distill(config).description["training"]["steps"] == steps
