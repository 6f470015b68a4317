import numpy as np
import pytest

from samg.pipeline.quality import frame_metrics, mask_counts, summarize


def test_counts_and_metrics_on_a_known_frame():
    ids = np.zeros((1, 4, 4), np.uint8)
    ids[0, 0, :2] = 1  # object 1: 2 pixels
    ids[0, 3, :] = 2  # object 2: 4 pixels
    predicted = np.zeros((1, 4, 4), bool)
    predicted[0, 0, 0] = True  # 1 of object 1
    predicted[0, 3, :] = True  # all of object 2
    predicted[0, 1, 1] = True  # 1 background pixel
    counts = mask_counts(predicted, ids, n_objects=2)
    assert counts[0].tolist() == [[5, 6, 6], [1, 2, 2], [4, 5, 4]]
    metrics = frame_metrics(counts)
    assert metrics["iou"][0] == pytest.approx([5 / 7, 1 / 3, 4 / 5])
    assert metrics["precision"][0] == pytest.approx([5 / 6, 1 / 2, 4 / 5])
    assert metrics["recall"][0] == pytest.approx([5 / 6, 1 / 2, 1.0])


def test_empty_sets_score_one_only_when_both_are_empty():
    ids = np.zeros((3, 2, 2), np.uint8)
    ids[1, 0, 0] = 1
    predicted = np.zeros((3, 2, 2), bool)
    predicted[2, 1, 1] = True
    metrics = frame_metrics(mask_counts(predicted, ids, n_objects=1))
    assert metrics["iou"][:, 0].tolist() == [1.0, 0.0, 0.0]  # both empty, missed, hallucinated
    assert metrics["precision"][:, 0].tolist() == [1.0, 0.0, 0.0]
    assert metrics["recall"][:, 0].tolist() == [1.0, 0.0, 0.0]


def test_summary_averages_frames_and_counts_low_iou():
    ids = np.ones((4, 2, 2), np.uint8)
    predicted = np.ones((4, 2, 2), bool)
    predicted[0] = False  # one frame with IoU 0
    summary = summarize(mask_counts(predicted, ids, 1), ("cube",))
    assert summary["all"]["iou"] == pytest.approx(0.75)
    assert summary["cube"]["low_iou_fraction"] == pytest.approx(0.25)
    assert summary["all"]["frames"] == 4
