"""Model backends: SAM-family image encoders with SAM's prompt encoder / mask decoder, and
DINOv2. Each can be built at full size (the paper's architectures) or as a tiny model of
the same architecture for tests; weights are loaded separately (see `weights.py`).
"""

import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from types import MethodType

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from samg.errors import UnknownNameError
from samg.segmenter.decoder import PromptDecoder
from samg.segmenter.features import GRID
from samg.segmenter.preprocess import SamPreprocess, as_pixels

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
SAM_PIXEL_MEAN = (123.675, 116.28, 103.53)
SAM_PIXEL_STD = (58.395, 57.12, 57.375)
DINO_INPUT = 448  # 32 x 32 patches of 14 px
HUB_INTERPOLATE_OFFSET = 0.1  # torch-hub DINOv2's `interpolate_offset`


class _Encoder:
    """A model that encodes frames on a device, its heavy part (`network`) under autocast in
    `dtype`; `compile()` puts that part through torch.compile for static batch shapes."""

    def __init__(self, name: str, model: nn.Module, network: Callable):
        self.name, self.model = name, model.eval()
        self.network = network
        self.dtype = torch.float32

    def compile(self) -> None:
        """Compiled once per batch shape (`dynamic=False`): callers pad the last batch."""
        self.network = torch.compile(self.network, dynamic=False)

    def to(self, device: str, dtype: torch.dtype = torch.float32):
        self.model.to(device)
        self.dtype = dtype
        return self

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    def _autocast(self):
        return torch.autocast(self.device.type, dtype=self.dtype, enabled=self.dtype != torch.float32)


class SamBackend(_Encoder):
    """A SAM-family model: batched `encode`, batched `decoder`, and the package's own
    per-image predictor (used by the reference implementation). Only the image encoder
    runs under autocast: SAM computes its prompt encodings in float32."""

    def __init__(self, name: str, model: nn.Module, predictor_class: Callable, preprocess: SamPreprocess):
        super().__init__(name, model, model.image_encoder)
        self.decoder = PromptDecoder(model.prompt_encoder, model.mask_decoder)
        self._predictor_class = predictor_class
        self.preprocess = preprocess  # the predictor's own transform, batched on the frames' device

    def predictor(self):
        return self._predictor_class(self.model)

    @torch.inference_mode()
    def encode(self, frames: np.ndarray | torch.Tensor) -> torch.Tensor:
        """(B, H, W, 3) uint8 -> (B, 256, 64, 64) float32, preprocessed as the predictor does."""
        return self.embed(self.preprocess(as_pixels(frames, self.device)))

    @torch.inference_mode()
    def embed(self, batch: torch.Tensor) -> torch.Tensor:
        """(B, 3, S, S) preprocessed -> (B, 256, 64, 64) float32: the image encoder alone."""
        with self._autocast():
            return self.network(batch).float()


class DinoEncoder(_Encoder):
    """DINOv2 patch features (after the final norm) on a 64 x 64 grid."""

    def __init__(self, name: str, model: nn.Module):
        super().__init__(name, model, lambda pixels: model(pixel_values=pixels).last_hidden_state)

    @torch.inference_mode()
    def encode(self, frames: np.ndarray | torch.Tensor) -> torch.Tensor:
        """(B, H, W, 3) uint8 -> (B, C, 64, 64) float32."""
        device = self.device
        images = as_pixels(frames, device).permute(0, 3, 1, 2).float() / 255.0
        images = F.interpolate(images, size=(DINO_INPUT, DINO_INPUT), mode="bilinear", align_corners=False)
        mean = torch.tensor(IMAGENET_MEAN, device=device).view(1, 3, 1, 1)
        std = torch.tensor(IMAGENET_STD, device=device).view(1, 3, 1, 1)
        with self._autocast():
            tokens = self.network((images - mean) / std)[:, 1:].float()
        side = DINO_INPUT // 14
        grid = tokens.reshape(len(frames), side, side, -1).permute(0, 3, 1, 2)
        return F.interpolate(grid, size=(GRID, GRID), mode="bilinear", align_corners=False)


# ---- SAM family ----------------------------------------------------------------------------


def _efficientvit(name: str, tiny: bool) -> SamBackend:
    from efficientsam.models.efficientvit.backbone import EfficientViTLargeBackbone
    from efficientsam.models.efficientvit.sam import (
        EfficientViTSamImageEncoder,
        EfficientViTSamPredictor,
        SamNeck,
        build_efficientvit_sam,
    )
    from efficientsam.models.nn.norm import set_norm_eps

    if tiny:
        widths, depths, head_width, head_depth = [8, 8, 16, 16, 32], [1, 1, 1, 1, 1], 16, 1
    else:
        widths = [32, 64, 128, 256, 512]
        depths = {"efficientvit-l0": [1, 1, 1, 4, 4], "efficientvit-l1": [1, 1, 1, 6, 6]}[name]
        head_width, head_depth = 256, {"efficientvit-l0": 4, "efficientvit-l1": 8}[name]
    backbone = EfficientViTLargeBackbone(width_list=widths, depth_list=depths)
    neck = SamNeck(
        fid_list=["stage4", "stage3", "stage2"],
        in_channel_list=widths[4:1:-1],
        head_width=head_width,
        head_depth=head_depth,
        expand_ratio=1,
        middle_op="fmb",
    )
    model = build_efficientvit_sam(EfficientViTSamImageEncoder(backbone, neck), 512)
    set_norm_eps(model, 1e-6)  # as the official model zoo does
    preprocess = SamPreprocess(model.image_size[1], SAM_PIXEL_MEAN, SAM_PIXEL_STD, unit_scale=True)
    return SamBackend(name, model, EfficientViTSamPredictor, preprocess)


def _segment_anything(name: str, tiny: bool) -> SamBackend:
    from segment_anything import SamPredictor
    from segment_anything.modeling import ImageEncoderViT, MaskDecoder, PromptEncoder, Sam, TwoWayTransformer

    embed_dim, depth, heads, global_attn = (32, 2, 2, [1]) if tiny else (768, 12, 12, [2, 5, 8, 11])
    encoder = ImageEncoderViT(
        depth=depth,
        embed_dim=embed_dim,
        img_size=1024,
        mlp_ratio=4,
        norm_layer=partial(nn.LayerNorm, eps=1e-6),
        num_heads=heads,
        patch_size=16,
        qkv_bias=True,
        use_rel_pos=True,
        global_attn_indexes=global_attn,
        window_size=14,
        out_chans=256,
    )
    model = Sam(
        image_encoder=encoder,
        prompt_encoder=PromptEncoder(
            embed_dim=256, image_embedding_size=(64, 64), input_image_size=(1024, 1024), mask_in_chans=16
        ),
        mask_decoder=MaskDecoder(
            num_multimask_outputs=3,
            transformer=TwoWayTransformer(depth=2, embedding_dim=256, mlp_dim=2048, num_heads=8),
            transformer_dim=256,
            iou_head_depth=3,
            iou_head_hidden_dim=256,
        ),
        pixel_mean=list(SAM_PIXEL_MEAN),
        pixel_std=list(SAM_PIXEL_STD),
    )
    preprocess = SamPreprocess(encoder.img_size, SAM_PIXEL_MEAN, SAM_PIXEL_STD, unit_scale=False)
    return SamBackend(name, model, SamPredictor, preprocess)


# ---- DINOv2 ----------------------------------------------------------------------------------


def _dinov2(name: str, tiny: bool) -> DinoEncoder:
    from transformers import Dinov2Config, Dinov2Model

    width, depth, heads = (32, 2, 2) if tiny else {"dinov2-vits14": (384, 12, 6), "dinov2-vitb14": (768, 12, 12)}[name]
    config = Dinov2Config(
        hidden_size=width,
        num_hidden_layers=depth,
        num_attention_heads=heads,
        image_size=518,
        patch_size=14,
        layer_norm_eps=1e-6,
        attn_implementation="sdpa",  # fused attention (torch's scaled_dot_product_attention)
    )
    model = Dinov2Model(config)
    model.embeddings.interpolate_pos_encoding = MethodType(_hub_position_embeddings, model.embeddings)
    return DinoEncoder(name, model)


def hub_position_grid(grid: torch.Tensor, rows: int, columns: int) -> torch.Tensor:
    """(1, C, M, M) position embeddings -> (1, C, rows, columns) as torch-hub DINOv2 (which
    the official code loads) resizes them: bicubic with `scale_factor = (n + 0.1) / M`, no
    antialias, in float32. transformers asks for `size=(rows, columns)` instead, which
    samples at other positions (scale M / n rather than M / (n + 0.1))."""
    side = grid.shape[-1]
    scale = ((rows + HUB_INTERPOLATE_OFFSET) / side, (columns + HUB_INTERPOLATE_OFFSET) / side)
    return F.interpolate(grid.float(), scale_factor=scale, mode="bicubic", antialias=False)


def _hub_position_embeddings(embeddings: nn.Module, tokens: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """`Dinov2Embeddings.interpolate_pos_encoding` computed as the torch-hub model does."""
    positions = embeddings.position_embeddings
    side = math.isqrt(positions.shape[1] - 1)
    rows, columns = height // embeddings.patch_size, width // embeddings.patch_size
    if rows == columns == side:
        return positions
    grid = positions[:, 1:].reshape(1, side, side, -1).permute(0, 3, 1, 2)
    resized = hub_position_grid(grid, rows, columns).flatten(2).transpose(1, 2)
    return torch.cat([positions[:, :1].float(), resized], dim=1).to(tokens.dtype)


@dataclass(frozen=True)
class BackendSpec:
    name: str
    kind: str  # "sam" (encoder + prompt decoder) or "dino" (features only)
    build: Callable[[str, bool], SamBackend | DinoEncoder]


BACKENDS: dict[str, BackendSpec] = {
    spec.name: spec
    for spec in (
        BackendSpec("efficientvit-l0", "sam", _efficientvit),
        BackendSpec("efficientvit-l1", "sam", _efficientvit),
        BackendSpec("sam-vit-b", "sam", _segment_anything),
        BackendSpec("dinov2-vits14", "dino", _dinov2),
        BackendSpec("dinov2-vitb14", "dino", _dinov2),
    )
}


def build_backend(name: str, tiny: bool = False):
    """The architecture with random weights (`tiny`: same architecture, tiny widths/depths)."""
    try:
        spec = BACKENDS[name]
    except KeyError:
        raise UnknownNameError("backend", name, BACKENDS) from None
    torch.manual_seed(0)
    return spec.build(name, tiny)
