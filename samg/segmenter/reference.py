"""A deliberately simple, per-frame SAM-G, written on the packages' own predictor API
(`set_image`, `predict`, the model's `postprocess_masks`) step by step as the official
code (wadiuvatzy/SAM-G `wrappers/dmc_sam.py`, `persam_utils.py`) does.

It exists to check the batched `SamgSegmenter`: both must give the same masks. It shares
only the reference's point features, the mask weights and the DINOv2 encoder with it;
similarity maps, prompt points and boxes are computed here again, the official way.
"""

import time

import numpy as np
import torch
import torch.nn.functional as F

from samg.segmenter.base import Segmentation, check_frames
from samg.segmenter.method import SamgSegmenter


def reference_segment(segmenter: SamgSegmenter, frames: np.ndarray) -> Segmentation:
    check_frames(frames)
    predictor = segmenter.sam.predictor()
    weights = segmenter.mask_weights.numpy()
    options, features = segmenter.options, segmenter.points
    masks, diagnostics = [], []
    for frame in frames:
        started = time.perf_counter()
        predictor.set_image(frame)
        dino = segmenter.dino.encode(frame[None]) if segmenter.dino is not None else None
        encoded = time.perf_counter()
        maps = _similarity(features.sam, predictor.features, predictor)
        if dino is not None:
            maps = (maps + _similarity(features.dino, dino, predictor)) / 2
        negative_map = maps[: features.n_negative].amax(dim=0)
        first_negative = _minimum_in_slice(negative_map, None)
        points = np.array([_maximum(m) for m in maps] + [first_negative], dtype=np.float64)
        labels = np.array([1] * len(maps) + [0])
        logits, _, low = predictor.predict(
            point_coords=points, point_labels=labels, multimask_output=True, return_logits=True
        )
        logit = np.tensordot(weights, _numpy(logits), axes=1)
        mask = logit > 0
        mask_input = np.tensordot(weights, _numpy(low), axes=1)[None]
        if options.refine:
            for round_ in (2, 3):
                box = _box(mask)
                if round_ == 3 and options.round3_negative == "global":
                    negative = first_negative
                else:
                    negative = _minimum_in_slice(negative_map, box)
                points, labels = np.concatenate([points, [negative]]), np.append(labels, 0)
                logits, scores, low = predictor.predict(
                    point_coords=points,
                    point_labels=labels,
                    box=np.array(box, dtype=np.float64),
                    mask_input=mask_input,
                    multimask_output=True,
                    return_logits=True,
                )
                best = int(np.argmax(_numpy(scores)))
                logit, mask_input = _numpy(logits)[best], _numpy(low)[best][None]
                mask = logit > 0
        masks.append(mask)
        diagnostics.append(
            {
                "points": points.astype(int).tolist(),
                "labels": labels.tolist(),
                "logits": logit,  # (H, W): what `mask` thresholds at 0, to tell ties at 0 from real differences
                "encode_s": encoded - started,
                "decode_s": time.perf_counter() - encoded,
            }
        )
    return Segmentation(masks=np.stack(masks), diagnostics=diagnostics)


def _similarity(point_features: torch.Tensor, features: torch.Tensor, predictor) -> torch.Tensor:
    """(P, C) unit features, (1, C, 64, 64) frame features -> (P, H, W): cosine maps, bilinear
    x4, then the model's own `postprocess_masks` with the predictor's sizes."""
    grid = F.normalize(features[0].float(), dim=0)
    maps = torch.einsum("pc,cyx->pyx", point_features.to(grid), grid)[None]
    maps = F.interpolate(maps, scale_factor=4, mode="bilinear", align_corners=False)
    return predictor.model.postprocess_masks(maps, predictor.input_size, predictor.original_size)[0].cpu()


def _maximum(score: torch.Tensor) -> tuple[int, int]:
    index = int(score.flatten().argmax())
    return index % score.shape[1], index // score.shape[1]


def _minimum_in_slice(score: torch.Tensor, box: tuple[int, int, int, int] | None) -> tuple[int, int]:
    """The official `negative_point_selection`: the minimum of score[y0:y1, x0:x1]."""
    height, width = score.shape
    x0, y0, x1, y1 = box if box is not None else (0, 0, width - 1, height - 1)
    region = score[y0:y1, x0:x1]
    if region.numel() == 0:
        return 0, 0
    index = int(region.flatten().argmin())
    return x0 + index % region.shape[1], y0 + index // region.shape[1]


def _box(mask: np.ndarray) -> tuple[int, int, int, int]:
    """Inclusive xyxy box of a mask; the official fallback for an empty one."""
    ys, xs = np.nonzero(mask)
    if len(ys) == 0:
        return 1, 1, mask.shape[1], mask.shape[0]
    return int(xs.min()), int(ys.min()), int(xs.max()), int(ys.max())


def _numpy(value) -> np.ndarray:
    return value.detach().cpu().numpy() if isinstance(value, torch.Tensor) else np.asarray(value)
