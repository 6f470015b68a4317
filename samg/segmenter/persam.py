"""PerSAM-F: learn how to mix SAM's three mask outputs, once per (task, backend).

Only two numbers are trained (w1, w2; the weights of the decoder's three outputs are
[1 - w1 - w2, w1, w2] in output order, as in the official code), on the reference image
with its mask as the target: dice + sigmoid focal loss (alpha 0.25, gamma 2), AdamW
(lr 1e-3, eps 1e-4), cosine schedule, 1000 steps. The decoder's three logits for the
reference's round-1 prompts are computed once; the official code re-draws the type-2
prompts with small noise at every step, which we leave out (deterministic, and 1000
decoder calls cheaper). The result is cached beside the prompt, keyed by the backends'
weights and compute dtypes, the prompt (image, mask, points), the options and the step count.
"""

import hashlib
import json
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from samg.segmenter.method import FramePrompts, SamgSegmenter

STEPS = 1000


def dice_loss(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    probability = logits.sigmoid()
    return 1 - (2 * (probability * target).sum() + 1) / (probability.sum() + target.sum() + 1)


def focal_loss(logits: torch.Tensor, target: torch.Tensor, alpha: float = 0.25, gamma: float = 2.0) -> torch.Tensor:
    probability = logits.sigmoid()
    cross_entropy = F.binary_cross_entropy_with_logits(logits, target, reduction="none")
    p_t = probability * target + (1 - probability) * (1 - target)
    alpha_t = alpha * target + (1 - alpha) * (1 - target)
    return (alpha_t * cross_entropy * (1 - p_t) ** gamma).mean()


def fit_mask_weights(logits: torch.Tensor, target: torch.Tensor, steps: int = STEPS) -> tuple[float, float, float]:
    """logits (3, H, W) of the decoder's outputs, target (H, W) bool -> output weights."""
    logits, target = logits.detach().float().clone(), target.float().clone()  # leave inference mode
    mix = torch.nn.Parameter(torch.full((2,), 1 / 3))
    optimizer = torch.optim.AdamW([mix], lr=1e-3, eps=1e-4)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=steps)
    for _ in range(steps):
        weights = torch.cat([1 - mix.sum(0, keepdim=True), mix])
        combined = torch.einsum("k,khw->hw", weights, logits)
        loss = dice_loss(combined, target) + focal_loss(combined, target)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        schedule.step()
    final = torch.cat([1 - mix.sum(0, keepdim=True), mix]).detach()
    return tuple(float(w) for w in final)


@torch.inference_mode()
def reference_logits(segmenter: SamgSegmenter) -> torch.Tensor:
    """The decoder's three logits on the reference image for its own round-1 prompts."""
    size = segmenter.prompt.mask.shape
    embeddings = segmenter.reference_sam
    prompts = FramePrompts.from_features(segmenter.points, embeddings, segmenter.reference_dino, size)
    low, _ = segmenter.sam.decoder.decode(embeddings, *prompts.round_one(), size)
    return segmenter.sam.decoder.to_image(low, size)[0].float().cpu()


def backend_fingerprint(*modules: torch.nn.Module) -> str:
    digest = hashlib.sha256()
    for module in modules:
        for name, tensor in sorted(module.state_dict().items()):
            digest.update(name.encode())
            digest.update(tensor.detach().cpu().contiguous().flatten().view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()


def adapted_mask_weights(segmenter: SamgSegmenter, prompt_dir: Path, steps: int = STEPS) -> tuple[float, float, float]:
    """Cached PerSAM-F weights for this segmenter's prompt and backends (fitted on a miss)."""
    sam, dino = segmenter.sam, segmenter.dino
    modules = [sam.model] + ([dino.model] if dino is not None else [])
    digest = hashlib.sha256(backend_fingerprint(*modules).encode())
    digest.update(segmenter.prompt.checksum().encode())
    dtypes = [str(encoder.dtype) for encoder in (sam, dino) if encoder is not None]
    digest.update(json.dumps([asdict(segmenter.options), steps, dtypes], sort_keys=True).encode())
    key = digest.hexdigest()[:16]
    variant = sam.name if dino is None else f"{sam.name}+{dino.name}"
    cache = prompt_dir / f"persam_{variant}_{key}.json"
    if cache.is_file():
        return tuple(json.loads(cache.read_text())["mask_weights"])
    target = torch.as_tensor(np.asarray(segmenter.prompt.adaptation_target()))
    weights = fit_mask_weights(reference_logits(segmenter), target, steps)
    cache.write_text(json.dumps(
            {
                "mask_weights": weights,
                "sam": sam.name,
                "dino": None if dino is None else dino.name,
                "key": key,
                "steps": steps,
                "dtypes": dtypes,
                "options": asdict(segmenter.options),
                "prompt_sha256": segmenter.prompt.checksum(),
            }
        ) + "\n")
    return weights
