"""A deliberately simple, per-frame SAM-G, written on the packages' own predictor API
(`set_image`, then `predict` with points, box and mask input), as the official code is.

It exists to check the batched `SamgSegmenter`: both must give the same masks.
"""

import time

import numpy as np
import torch

from samg.segmenter.base import Segmentation, check_frames
from samg.segmenter.features import argmin_in_boxes, mask_boxes
from samg.segmenter.method import FramePrompts, SamgSegmenter


def reference_segment(segmenter: SamgSegmenter, frames: np.ndarray) -> Segmentation:
    check_frames(frames)
    predictor = segmenter.sam.predictor()
    weights = segmenter.mask_weights.numpy()
    masks, diagnostics = [], []
    for frame in frames:
        started = time.perf_counter()
        predictor.set_image(frame)
        dino = segmenter.dino.encode(frame[None]) if segmenter.dino is not None else None
        encoded = time.perf_counter()
        prompts = FramePrompts.from_features(segmenter.points, predictor.features, dino, frame.shape[:2])
        union = prompts.type1_union
        points, labels = (value[0].numpy() for value in prompts.round_one())
        logits, _, low = predictor.predict(
            point_coords=points.astype(np.float64), point_labels=labels, multimask_output=True, return_logits=True
        )
        mask = np.tensordot(weights, _numpy(logits), axes=1) > 0
        mask_input = np.tensordot(weights, _numpy(low), axes=1)[None]
        if segmenter.options.refine:
            for _ in range(2):
                box = mask_boxes(torch.as_tensor(mask)[None])
                negative = argmin_in_boxes(union, box).numpy()
                points, labels = np.concatenate([points, negative]), np.append(labels, 0)
                logits, scores, low = predictor.predict(
                    point_coords=points.astype(np.float64),
                    point_labels=labels,
                    box=box[0].numpy().astype(np.float64),
                    mask_input=mask_input,
                    multimask_output=True,
                    return_logits=True,
                )
                best = int(np.argmax(_numpy(scores)))
                mask, mask_input = _numpy(logits)[best] > 0, _numpy(low)[best][None]
        masks.append(mask)
        diagnostics.append({"encode_s": encoded - started, "decode_s": time.perf_counter() - encoded})
    return Segmentation(masks=np.stack(masks), diagnostics=diagnostics)


def _numpy(value) -> np.ndarray:
    return value.detach().cpu().numpy() if isinstance(value, torch.Tensor) else np.asarray(value)
