"""Mask quality against the simulator's ground truth, from per-frame pixel counts.

Predicted masks are one union over the task's objects. Per frame we count, for the union
("all") and for each object k: true positives, predicted pixels, ground-truth pixels. For
object k the predicted pixels are those not on another object (predictions on the
background count against every object), so the per-object figures answer "is this object
found, and how much background comes with it". Metrics are computed per frame and then
averaged over frames. Empty sets: nothing to find and nothing found scores 1 on every
metric; an empty prediction of a present object scores precision 0 (a miss, not a success),
and a prediction where nothing is present scores recall 0.
"""

import numpy as np

TRUE_POSITIVE, PREDICTED, GROUND_TRUTH = range(3)
LOW_IOU = 0.5


def mask_counts(predicted: np.ndarray, ground_truth: np.ndarray | None, n_objects: int) -> np.ndarray:
    """(B, H, W) bool and (B, H, W) object ids -> (B, 1 + n_objects, 3) int32 counts; without
    ground truth, (B, 1, 3) with the predicted pixels only."""
    flat_pred = predicted.reshape(len(predicted), -1)
    flat_ids = None if ground_truth is None else ground_truth.reshape(len(ground_truth), -1)
    counts = np.zeros((len(predicted), 1 + n_objects, 3), np.int32)
    if ground_truth is None:  # no ground truth: predicted pixels only
        counts[:, 0, PREDICTED] = flat_pred.sum(1)
        return counts
    counts[:, 0, TRUE_POSITIVE] = (flat_pred & (flat_ids > 0)).sum(1)
    counts[:, 0, PREDICTED] = flat_pred.sum(1)
    counts[:, 0, GROUND_TRUTH] = (flat_ids > 0).sum(1)
    for k in range(1, n_objects + 1):
        on_object = flat_ids == k
        counts[:, k, TRUE_POSITIVE] = (flat_pred & on_object).sum(1)
        counts[:, k, PREDICTED] = (flat_pred & ((flat_ids == 0) | on_object)).sum(1)
        counts[:, k, GROUND_TRUTH] = on_object.sum(1)
    return counts


def _ratio(numerator: np.ndarray, denominator: np.ndarray, both_empty: np.ndarray) -> np.ndarray:
    """numerator / denominator; where the denominator is 0: 1 if `both_empty`, else 0."""
    out = both_empty.astype(np.float64)
    np.divide(numerator, denominator, out=out, where=denominator > 0)
    return out


def frame_metrics(counts: np.ndarray) -> dict[str, np.ndarray]:
    """Per-frame IoU, precision and recall, each (B, 1 + n_objects)."""
    tp = counts[..., TRUE_POSITIVE].astype(np.int64)
    predicted = counts[..., PREDICTED].astype(np.int64)
    truth = counts[..., GROUND_TRUTH].astype(np.int64)
    both_empty = (predicted == 0) & (truth == 0)
    return {
        "iou": _ratio(tp, predicted + truth - tp, both_empty),
        "precision": _ratio(tp, predicted, both_empty),
        "recall": _ratio(tp, truth, both_empty),
    }


def summarize_without_truth(counts: np.ndarray, pixels: int) -> dict[str, dict[str, float]]:
    """No ground truth (an imported store): what can be said is how much of each frame the
    masks keep, and on how many frames they keep nothing."""
    kept = counts[:, 0, PREDICTED] / pixels
    return {
        "all": {
            "ground_truth": False,
            "kept_fraction": float(kept.mean()) if len(kept) else float("nan"),
            "empty_fraction": float((kept == 0).mean()) if len(kept) else float("nan"),
            "frames": len(kept),
        }
    }


def summarize(counts: np.ndarray, object_names: tuple[str, ...]) -> dict[str, dict[str, float]]:
    """Mean IoU, precision, recall and the fraction of frames with IoU < 0.5, for 'all'
    and per object, over the frames of `counts`."""
    metrics = frame_metrics(counts)
    summary = {}
    for column, name in enumerate(("all", *object_names)):
        iou = metrics["iou"][:, column]
        summary[name] = {
            "iou": float(iou.mean()),
            "precision": float(metrics["precision"][:, column].mean()),
            "recall": float(metrics["recall"][:, column].mean()),
            "low_iou_fraction": float((iou < LOW_IOU).mean()),
            "frames": len(iou),
        }
    return summary
