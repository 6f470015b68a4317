"""SAM's prompt encoder and mask decoder, run for B frames with B prompt sets in one call.

The stock `MaskDecoder.predict_masks` repeats one image's embedding once per prompt set,
so it cannot take B images with their own prompts. `decode` runs the decoder's own
submodules on (embedding_i, prompts_i) pairs instead; tests check it against the stock
per-image call.
"""

import functools

import torch
import torch.nn.functional as F
from torch import nn

PROMPT_FRAME = 1024  # SAM (and EfficientViT-SAM) take prompt coordinates in a 1024 frame
LOW_RES = 256


def preprocess_shape(height: int, width: int, long_side: int = PROMPT_FRAME) -> tuple[int, int]:
    """SAM's ResizeLongestSide: the size an (H, W) image has in the prompt frame."""
    scale = long_side / max(height, width)
    return int(height * scale + 0.5), int(width * scale + 0.5)


class PromptDecoder:
    def __init__(self, prompt_encoder: nn.Module, mask_decoder: nn.Module):
        self.prompt_encoder, self.mask_decoder = prompt_encoder, mask_decoder

    def to_prompt_frame(self, coords: torch.Tensor, image_size: tuple[int, int]) -> torch.Tensor:
        """(..., 2) pixel (x, y) -> the same points in the 1024 prompt frame."""
        height, width = image_size
        new_height, new_width = preprocess_shape(height, width)
        coords = coords.to(torch.float32)  # python scales: no host-to-device copy
        return torch.stack([coords[..., 0] * (new_width / width), coords[..., 1] * (new_height / height)], dim=-1)

    def decode(
        self,
        embeddings: torch.Tensor,
        points: torch.Tensor,
        labels: torch.Tensor,
        image_size: tuple[int, int],
        boxes: torch.Tensor | None = None,
        mask_input: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Multimask decode. embeddings (B, 256, 64, 64); points (B, N, 2) pixels; labels (B, N);
        boxes (B, 4) pixel xyxy; mask_input (B, 1, 256, 256) logits.
        Returns low-resolution logits (B, 3, 256, 256) and predicted IoU scores (B, 3)."""
        device = embeddings.device
        coords = self.to_prompt_frame(points, image_size).to(device)
        box_coords = None
        if boxes is not None:
            box_coords = self.to_prompt_frame(boxes.view(-1, 2, 2), image_size).view(-1, 4).to(device)
        sparse, dense = _encode_prompts(
            self.prompt_encoder, coords, labels.to(device), box_coords, None if mask_input is None else mask_input.to(device)
        )
        masks, scores = _predict_masks_per_image(
            self.mask_decoder, embeddings, self.prompt_encoder.get_dense_pe(), sparse, dense.to(embeddings.dtype)
        )
        return masks[:, 1:], scores[:, 1:]

    @staticmethod
    def to_image(low_res: torch.Tensor, image_size: tuple[int, int]) -> torch.Tensor:
        """(B, K, 256, 256) logits -> (B, K, H, W) logits at the frame's size, as SAM's
        `postprocess_masks` computes them (see `postprocess_matrix`)."""
        return postprocess(low_res, image_size)


def postprocess(maps: torch.Tensor, image_size: tuple[int, int]) -> torch.Tensor:
    """(B, K, S, S) -> (B, K, H, W): SAM's `postprocess_masks` (bilinear to 1024 x 1024,
    crop the padding, bilinear to the frame) for any square input S."""
    return resample_per_axis(maps, image_size, postprocess_matrix)


def resample_per_axis(maps: torch.Tensor, image_size: tuple[int, int], axis_matrix) -> torch.Tensor:
    """(B, K, S, S) -> (B, K, H, W) through `axis_matrix(output, valid, S)` along each axis,
    where `valid` is the axis's length inside SAM's padded 1024 frame."""
    height, width = image_size
    input_height, input_width = preprocess_shape(height, width)
    source = maps.shape[-1]
    rows = _placed(axis_matrix, height, input_height, source, maps.device, maps.dtype)
    columns = _placed(axis_matrix, width, input_width, source, maps.device, maps.dtype)
    return torch.einsum("hy,bkyx,wx->bkhw", rows, maps, columns)


@functools.lru_cache(maxsize=64)
def _placed(axis_matrix, output: int, valid: int, source: int, device: torch.device, dtype: torch.dtype):
    """`axis_matrix(output, valid, source)` on `device` in `dtype`, copied there once."""
    return axis_matrix(output, valid, source).to(device, dtype)


@functools.lru_cache(maxsize=32)
def postprocess_matrix(output: int, valid: int, source: int = LOW_RES) -> torch.Tensor:
    """(output, source) float64: `postprocess_masks` along one axis. Bilinear resampling is linear
    and separable, so the 1024 x 1024 chain is one small matrix per axis: the same values
    without the 1024 x 1024 intermediate (built in float64, so only the final product
    rounds differently from the chain)."""
    up = bilinear_matrix(PROMPT_FRAME, source)
    down = bilinear_matrix(output, valid)
    return down @ up[:valid]


def bilinear_matrix(output: int, source: int) -> torch.Tensor:
    """(output, source) float64: `F.interpolate(..., mode="bilinear", align_corners=False)`
    from `source` to `output` samples along one axis, as a matrix."""
    identity = torch.eye(source, dtype=torch.float64)[None, None]
    return F.interpolate(identity, (output, source), mode="bilinear", align_corners=False)[0, 0]


def _encode_prompts(
    encoder: nn.Module,
    coords: torch.Tensor,
    labels: torch.Tensor,
    boxes: torch.Tensor | None,
    masks: torch.Tensor | None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """`PromptEncoder.forward` with its point embedding written as `torch.where`: the stock
    `embedding[labels == k] += w` indexes by a boolean mask, which on a GPU waits for the
    device to count the mask; `where` gives the same values without waiting."""
    batch = coords.shape[0]
    points = coords + 0.5  # the centre of the pixel, as the stock encoder
    if boxes is None:  # the stock padding point, label -1
        points = torch.cat([points, torch.zeros_like(points[:, :1])], dim=1)
        labels = torch.cat([labels, torch.full_like(labels[:, :1], -1)], dim=1)
    embedding = encoder.pe_layer.forward_with_coords(points, encoder.input_image_size)
    embedding = torch.where((labels == -1)[..., None], encoder.not_a_point_embed.weight, embedding)
    for label in (0, 1):
        embedding = torch.where(
            (labels == label)[..., None], embedding + encoder.point_embeddings[label].weight, embedding
        )
    sparse = embedding if boxes is None else torch.cat([embedding, encoder._embed_boxes(boxes)], dim=1)
    if masks is not None:
        return sparse, encoder._embed_masks(masks)
    size = encoder.image_embedding_size
    return sparse, encoder.no_mask_embed.weight.reshape(1, -1, 1, 1).expand(batch, -1, size[0], size[1])


def _predict_masks_per_image(
    decoder: nn.Module,
    embeddings: torch.Tensor,
    image_pe: torch.Tensor,
    sparse: torch.Tensor,
    dense: torch.Tensor,
) -> tuple[torch.Tensor, torch.Tensor]:
    """`MaskDecoder.predict_masks` with image i paired with prompt set i (no repeat)."""
    batch = embeddings.shape[0]
    output_tokens = torch.cat([decoder.iou_token.weight, decoder.mask_tokens.weight], dim=0)
    tokens = torch.cat([output_tokens.unsqueeze(0).expand(batch, -1, -1), sparse], dim=1)
    source = embeddings + dense
    position = image_pe.expand(batch, -1, -1, -1)
    _, channels, height, width = source.shape
    hidden, source = decoder.transformer(source, position, tokens)
    iou_token_out = hidden[:, 0, :]
    mask_tokens_out = hidden[:, 1 : 1 + decoder.num_mask_tokens, :]
    upscaled = decoder.output_upscaling(source.transpose(1, 2).reshape(batch, channels, height, width))
    hyper_in = torch.stack(
        [mlp(mask_tokens_out[:, i, :]) for i, mlp in enumerate(decoder.output_hypernetworks_mlps)], dim=1
    )
    _, up_channels, up_height, up_width = upscaled.shape
    masks = (hyper_in @ upscaled.view(batch, up_channels, up_height * up_width)).view(batch, -1, up_height, up_width)
    return masks, decoder.iou_prediction_head(iou_token_out)
