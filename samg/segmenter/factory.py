"""Build a segmenter by name: `samg` (with its backends, prompt and PerSAM-F weights),
`oracle` or `none`."""

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import torch

from samg.errors import UnknownNameError
from samg.segmenter.base import Segmenter
from samg.segmenter.method import DEFAULT_MASK_WEIGHTS, SamgOptions, SamgSegmenter
from samg.segmenter.simple import NoneSegmenter, OracleSegmenter

DTYPES = {"fp32": torch.float32, "float32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}


@dataclass(frozen=True)
class SegmenterConfig:
    kind: str = "samg"
    sam: str = "efficientvit-l1"  # the paper's choice
    dino: str = "dinov2-vitb14"
    options: SamgOptions = field(default_factory=SamgOptions)
    adapt: bool = True  # PerSAM-F weights; --no-adapt keeps 1/3 each
    device: str = "cpu"
    dtype: str = "fp32"
    prompts_root: Path = Path("configs/prompts")
    sam_weights: Path | None = None  # default: $SAMG_HOME/weights/<official file>
    dino_weights: Path | None = None


def _samg(task: str, config: SegmenterConfig) -> SamgSegmenter:
    from samg.segmenter.persam import adapted_mask_weights
    from samg.segmenter.prompts import load_prompt, prompt_dir
    from samg.segmenter.weights import load_backend

    try:
        dtype = DTYPES[config.dtype]
    except KeyError:
        raise UnknownNameError("dtype", config.dtype, DTYPES) from None
    prompt = load_prompt(task, config.prompts_root)
    sam = load_backend(config.sam, config.sam_weights, config.device, dtype)
    dino = load_backend(config.dino, config.dino_weights, config.device, dtype) if config.options.use_dino else None
    segmenter = SamgSegmenter(prompt, sam, dino, DEFAULT_MASK_WEIGHTS, config.options)
    if config.adapt:
        weights = adapted_mask_weights(segmenter, prompt_dir(task, config.prompts_root))
        segmenter.mask_weights = torch.tensor(weights, dtype=torch.float32)
    return segmenter


SEGMENTERS: dict[str, Callable[[str, SegmenterConfig], Segmenter]] = {
    "samg": _samg,
    "oracle": lambda task, config: OracleSegmenter(),
    "none": lambda task, config: NoneSegmenter(),
}


def make_segmenter(task: str, config: SegmenterConfig = SegmenterConfig()) -> Segmenter:
    try:
        build = SEGMENTERS[config.kind]
    except KeyError:
        raise UnknownNameError("segmenter", config.kind, SEGMENTERS) from None
    return build(task, config)
