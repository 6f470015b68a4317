"""The SAM-G procedure, batched over frames (paper section 4, appendix A; SPEC section 6).

Per batch: encoder features once; similarity maps of every point feature (SAM and DINOv2
maps averaged); a positive prompt at each map's maximum and a negative at the minimum of
the target's type-1 map; then up to three decoder rounds, all frames at once, each frame
with its own prompts:
1. points only; the 3 mask logits combined with the PerSAM weights; its box; one more
   negative at the type-1 minimum inside that box;
2. points + box + the combined low-resolution logits; the best-scoring mask, its box, one
   more negative (`round3_negative`: the global minimum again, as the official code, or
   the minimum inside the box, as the paper's text reads);
3. points + box + that mask's logits; the best-scoring mask is the answer.
With several objects, all their points go into the same call (one union mask). `target`
decides the type-1 features: "union" (official) one for the whole target plus one per
object, negatives from the whole target's map; "per-object" one per object, negatives
from the maximum of their maps. docs/fidelity.md lists every difference from the
official code.
"""

import time
from dataclasses import asdict, dataclass

import numpy as np
import torch

from samg.errors import UnknownNameError
from samg.segmenter.backends import DinoEncoder, SamBackend
from samg.segmenter.base import Segmentation, check_frames
from samg.segmenter.features import (
    argmax_points,
    mask_boxes,
    mask_on_grid,
    negative_points,
    similarity_maps,
    type1_feature,
    type2_feature,
    upsample_maps,
)
from samg.segmenter.official_prompt import REGION_RULES, thresholded_regions
from samg.segmenter.prompts import Prompt

DEFAULT_MASK_WEIGHTS = (1 / 3, 1 / 3, 1 / 3)  # PerSAM's start, in decoder output order
TARGETS = ("union", "per-object")
ROUND3_NEGATIVES = ("global", "in-box")


@dataclass(frozen=True)
class SamgOptions:
    """The ablation switches of the paper's Table 4, and two choices where the official
    code and the paper's text differ (the official code's behaviour first, the default)."""

    use_dino: bool = True  # --no-dino: SAM features alone
    extra_points: bool = True  # --no-extra-points: type-1 features alone
    refine: bool = True  # --no-refine: round 1 only
    target: str = "union"  # type-1 features and negatives: "union" or "per-object"
    round3_negative: str = "global"  # round 3's extra negative: "global" or "in-box"
    regions: str = "official"  # type-1 regions: "official" (thresholded masked images) or "exact"

    def __post_init__(self):
        if self.target not in TARGETS:
            raise UnknownNameError("target", self.target, TARGETS)
        if self.round3_negative not in ROUND3_NEGATIVES:
            raise UnknownNameError("round-3 negative", self.round3_negative, ROUND3_NEGATIVES)
        if self.regions not in REGION_RULES:
            raise UnknownNameError("region rule", self.regions, REGION_RULES)


def sam_transform(sam: SamBackend):
    """The backend's own per-image transform (resize, normalise, pad) over a batch of
    (H, W, 3) uint8 images: what the official code applies to its masked images."""
    return lambda images: torch.stack([sam._transform(image) for image in images])


@dataclass(frozen=True)
class PointFeatures:
    """Unit point features of the reference, one (P, C) matrix per encoder; the first
    `n_type1` rows are type 1, the rest type 2 (extra points). Negatives come from the
    maximum of the first `n_negative` rows' maps."""

    sam: torch.Tensor
    dino: torch.Tensor | None
    n_type1: int
    n_negative: int


def point_features(
    prompt: Prompt,
    sam_features: torch.Tensor,
    dino_features: torch.Tensor | None,
    options: SamgOptions,
    sam_preprocess=None,
) -> PointFeatures:
    """Point features from the reference image's (C, G, G) encoder features; the official
    region rule needs the SAM backend's image transform (`sam_preprocess`)."""
    encoders = {"sam": sam_features}
    if dino_features is not None and options.use_dino:
        encoders["dino"] = dino_features
    size = prompt.mask.shape
    if options.regions == "official":
        whole, regions = thresholded_regions(prompt, sam_preprocess)
    else:
        whole = mask_on_grid(prompt.mask > 0)
        regions = [mask_on_grid(prompt.mask == obj.object_id) for obj in prompt.objects]
    n_negative = len(regions)
    if options.target == "union":
        # the official code's reference mask is the whole target; with several objects,
        # each one is an extra part mask (its `extra_masked_images_list`)
        regions = [whole] + (regions if len(regions) > 1 else [])
        n_negative = 1
    matrices = {}
    for name, features in encoders.items():
        rows = [type1_feature(features, region) for region in regions]
        if options.extra_points:
            rows += [type2_feature(features, point, size) for obj in prompt.objects for point in obj.points]
        matrices[name] = torch.stack(rows)
    return PointFeatures(matrices["sam"], matrices.get("dino"), len(regions), n_negative)


def reference_point_features(
    prompt: Prompt, sam: SamBackend, dino: DinoEncoder | None, options: SamgOptions
) -> PointFeatures:
    image = prompt.image[None]
    dino_features = dino.encode(image)[0] if dino is not None and options.use_dino else None
    return point_features(prompt, sam.encode(image)[0], dino_features, options, sam_transform(sam))


@dataclass(frozen=True)
class FramePrompts:
    """Similarity maps of a batch at frame size, and the prompts they give."""

    maps: torch.Tensor  # (B, P, H, W)
    negative_map: torch.Tensor  # (B, H, W): the type-1 map(s) negatives come from
    positives: torch.Tensor  # (B, P, 2) (x, y) of each map's maximum
    negative: torch.Tensor  # (B, 2) (x, y) of the negative map's minimum

    @classmethod
    def from_features(
        cls, points: PointFeatures, sam_features: torch.Tensor, dino_features: torch.Tensor | None, size
    ) -> "FramePrompts":
        maps = similarity_maps(points.sam.to(sam_features), sam_features)
        if points.dino is not None and dino_features is not None:
            maps = (maps + similarity_maps(points.dino.to(dino_features), dino_features)) / 2
        maps = upsample_maps(maps.float().cpu(), size)
        negative_map = maps[:, : points.n_negative].amax(dim=1)
        return cls(maps, negative_map, argmax_points(maps), negative_points(negative_map))

    def round_one(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Round-1 points (B, P + 1, 2) and labels (B, P + 1): every positive, then the negative."""
        batch, count = self.positives.shape[:2]
        points = torch.cat([self.positives, self.negative[:, None]], dim=1)
        labels = torch.cat([torch.ones(batch, count, dtype=torch.long), torch.zeros(batch, 1, dtype=torch.long)], 1)
        return points, labels


class SamgSegmenter:
    """SAM-G masks for batches of frames; the same object serves the pipeline, evaluation
    rollouts and online RL."""

    name = "samg"
    needs_ground_truth = False

    def __init__(
        self,
        prompt: Prompt,
        sam: SamBackend,
        dino: DinoEncoder | None,
        mask_weights: tuple[float, float, float] = DEFAULT_MASK_WEIGHTS,
        options: SamgOptions = SamgOptions(),
        chunk: int | None = None,
    ):
        """`chunk`: frames per pass through encoders and decoder rounds. Default: one on a
        CPU (measured on 2 cores: 8 frames at once cost 1.3x per frame in the encoders and
        1.7x in the decoder), 64 on a GPU."""
        self.prompt, self.sam, self.options = prompt, sam, options
        self.chunk = chunk
        self.dino = dino if options.use_dino else None
        self.mask_weights = torch.tensor(mask_weights, dtype=torch.float32)
        image = prompt.image[None]  # the reference is encoded once, here (PerSAM-F reuses it)
        self.reference_sam = sam.encode(image)
        self.reference_dino = self.dino.encode(image) if self.dino is not None else None
        dino_grid = None if self.reference_dino is None else self.reference_dino[0]
        self.points = point_features(prompt, self.reference_sam[0], dino_grid, options, sam_transform(sam))

    def describe(self) -> dict:
        return {
            "kind": self.name,
            "sam": self.sam.name,
            "dino": None if self.dino is None else self.dino.name,
            "mask_weights": [float(w) for w in self.mask_weights],
            **asdict(self.options),
        }

    def segment(self, frames: np.ndarray, ground_truth: np.ndarray | None = None) -> Segmentation:
        check_frames(frames)
        chunk = self.chunk or (1 if self.sam.device.type == "cpu" else 64)
        parts = [self._segment_chunk(frames[at : at + chunk]) for at in range(0, len(frames), chunk)]
        return Segmentation(
            masks=np.concatenate([part.masks for part in parts]),
            diagnostics=[d for part in parts for d in part.diagnostics],
        )

    @torch.inference_mode()
    def _segment_chunk(self, frames: np.ndarray) -> Segmentation:
        size = frames.shape[1:3]
        started = time.perf_counter()
        sam_features = self.sam.encode(frames)
        dino_features = self.dino.encode(frames) if self.dino is not None else None
        encoded = time.perf_counter()
        prompts = FramePrompts.from_features(self.points, sam_features, dino_features, size)
        masks, rounds = self._decode(sam_features, prompts, size)
        finished = time.perf_counter()
        per_frame = {"encode_s": (encoded - started) / len(frames), "decode_s": (finished - encoded) / len(frames)}
        diagnostics = [
            {
                "points": rounds["points"][i].tolist(),
                "labels": rounds["labels"][i].tolist(),
                "box": rounds["box"][i].tolist(),
                "score": float(rounds["score"][i]),
                **per_frame,
            }
            for i in range(len(frames))
        ]
        return Segmentation(masks=masks.numpy(), diagnostics=diagnostics)

    def _decode(self, embeddings: torch.Tensor, prompts: FramePrompts, size) -> tuple[torch.Tensor, dict]:
        decoder = self.sam.decoder
        batch = embeddings.shape[0]
        points, labels = prompts.round_one()
        low, scores = decoder.decode(embeddings, points, labels, size)
        combined = torch.einsum("k,bkyx->byx", self.mask_weights.to(low), low)[:, None]
        mask = decoder.to_image(combined, size)[:, 0].cpu() > 0
        score = (scores * self.mask_weights.to(scores)).sum(dim=1).cpu()
        box = mask_boxes(mask)
        if self.options.refine:
            mask_input = combined
            for round_ in (2, 3):
                if round_ == 3 and self.options.round3_negative == "global":
                    negative = prompts.negative
                else:
                    negative = negative_points(prompts.negative_map, box)
                points = torch.cat([points, negative[:, None]], dim=1)
                labels = torch.cat([labels, torch.zeros(batch, 1, dtype=torch.long)], dim=1)
                low, scores = decoder.decode(embeddings, points, labels, size, boxes=box, mask_input=mask_input)
                best = scores.argmax(dim=1)
                mask_input = low[torch.arange(batch), best][:, None]
                score = scores[torch.arange(batch), best].cpu()
                mask = decoder.to_image(mask_input, size)[:, 0].cpu() > 0
                box = mask_boxes(mask)
        return mask, {"points": points, "labels": labels, "box": box, "score": score}
