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
from samg.segmenter.preprocess import as_pixels
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
    """The backend's own transform (resize, normalise, pad) over a batch of (H, W, 3) uint8
    images: what the official code applies to its masked images."""
    return lambda images: sam.preprocess(as_pixels(images, sam.device))


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
        maps = upsample_maps(maps.float(), size)
        negative_map = maps[:, : points.n_negative].amax(dim=1)
        return cls(maps, negative_map, argmax_points(maps), negative_points(negative_map))

    def round_one(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Round-1 points (B, P + 1, 2) and labels (B, P + 1): every positive, then the negative."""
        points = torch.cat([self.positives, self.negative[:, None]], dim=1)
        labels = torch.ones(points.shape[:2], dtype=torch.long, device=points.device)
        labels[:, -1] = 0
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
        compile: bool = False,
    ):
        """`chunk`: frames per pass through encoders and decoder rounds. Default: one on a
        CPU (measured on 2 cores: 8 frames at once cost 1.3x per frame in the encoders and
        1.7x in the decoder), 64 on a GPU. `compile`: the encoders through torch.compile
        (after the reference is encoded), every pass padded to `chunk` frames so that one
        shape is compiled."""
        self.prompt, self.sam, self.options = prompt, sam, options
        self.chunk = chunk
        self.compiled = compile
        self.dino = dino if options.use_dino else None
        self.mask_weights = torch.tensor(mask_weights, dtype=torch.float32)
        image = prompt.image[None]  # the reference is encoded once, here (PerSAM-F reuses it)
        self.reference_sam = sam.encode(image)
        self.reference_dino = self.dino.encode(image) if self.dino is not None else None
        dino_grid = None if self.reference_dino is None else self.reference_dino[0]
        self.points = point_features(prompt, self.reference_sam[0], dino_grid, options, sam_transform(sam))
        if compile:
            for encoder in (sam, self.dino):
                if encoder is not None:
                    encoder.compile()

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
        parts = [self._segment_padded(frames[at : at + chunk], chunk) for at in range(0, len(frames), chunk)]
        return Segmentation(
            masks=np.concatenate([part.masks for part in parts]),
            diagnostics=[d for part in parts for d in part.diagnostics],
        )

    def _segment_padded(self, frames: np.ndarray, chunk: int) -> Segmentation:
        """Compiled encoders see `chunk` frames every time: a short last batch is padded
        with copies of its last frame, whose masks are dropped."""
        count = len(frames)
        if not self.compiled or count == chunk:
            return self._segment_chunk(frames)
        padded = self._segment_chunk(np.concatenate([frames, np.repeat(frames[-1:], chunk - count, axis=0)]))
        return Segmentation(masks=padded.masks[:count], diagnostics=padded.diagnostics[:count])

    @torch.inference_mode()
    def _segment_chunk(self, frames: np.ndarray) -> Segmentation:
        """Frames go to the device once, as uint8; everything after stays there until the
        answer (masks, prompts, boxes, scores) comes back in one copy per array."""
        size = frames.shape[1:3]
        started = time.perf_counter()
        pixels = as_pixels(frames, self.sam.device)
        sam_features = self.sam.encode(pixels)
        dino_features = self.dino.encode(pixels) if self.dino is not None else None
        _wait(sam_features.device)  # only so that encode_s / decode_s mean what they say
        encoded = time.perf_counter()
        prompts = FramePrompts.from_features(self.points, sam_features, dino_features, size)
        masks, rounds = self._decode(sam_features, prompts, size)
        masks, rounds = masks.cpu(), {key: value.cpu() for key, value in rounds.items()}
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
        """The three rounds, every step on the embeddings' device: nothing here waits for it."""
        state = self.first_round(embeddings, prompts, size)
        if self.options.refine:
            for round_ in (2, 3):
                state = self.refine_round(round_, embeddings, prompts, size, state)
        return state.mask, {"points": state.points, "labels": state.labels, "box": state.box, "score": state.score}

    def first_round(self, embeddings: torch.Tensor, prompts: FramePrompts, size) -> "RoundState":
        """Points only; the 3 mask logits combined with the mask weights."""
        decoder = self.sam.decoder
        weights = self.mask_weights.to(embeddings.device, non_blocking=True)
        points, labels = prompts.round_one()
        low, scores = decoder.decode(embeddings, points, labels, size)
        combined = torch.einsum("k,bkyx->byx", weights.to(low), low)[:, None]
        mask = decoder.to_image(combined, size)[:, 0] > 0
        score = (scores * weights.to(scores)).sum(dim=1)
        return RoundState(points, labels, combined, mask, mask_boxes(mask), score)

    def refine_round(
        self, round_: int, embeddings: torch.Tensor, prompts: FramePrompts, size, state: "RoundState"
    ) -> "RoundState":
        """Round 2 or 3: one more negative, the box and the mask logits of the round before."""
        decoder = self.sam.decoder
        if round_ == 3 and self.options.round3_negative == "global":
            negative = prompts.negative
        else:
            negative = negative_points(prompts.negative_map, state.box)
        points = torch.cat([state.points, negative[:, None]], dim=1)
        labels = torch.cat([state.labels, torch.zeros_like(state.labels[:, :1])], dim=1)
        low, scores = decoder.decode(embeddings, points, labels, size, boxes=state.box, mask_input=state.mask_input)
        best = scores.argmax(dim=1)
        frame = torch.arange(len(best), device=best.device)
        mask_input = low[frame, best][:, None]
        mask = decoder.to_image(mask_input, size)[:, 0] > 0
        return RoundState(points, labels, mask_input, mask, mask_boxes(mask), scores[frame, best])


@dataclass(frozen=True)
class RoundState:
    """What a decoder round leaves for the next, per frame, on the device."""

    points: torch.Tensor  # (B, N, 2) pixel (x, y) so far
    labels: torch.Tensor  # (B, N) 1 positive, 0 negative
    mask_input: torch.Tensor  # (B, 1, 256, 256) low-resolution logits
    mask: torch.Tensor  # (B, H, W) bool
    box: torch.Tensor  # (B, 4) inclusive xyxy of `mask`
    score: torch.Tensor  # (B,) the decoder's predicted IoU of `mask`


def _wait(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)
