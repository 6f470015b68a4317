"""DINOv2's position embeddings, resized as the torch-hub model the official code loads."""

import numpy as np
import torch

from samg.segmenter.backends import DINO_INPUT, build_backend

A = -0.75  # PyTorch's bicubic kernel (Keys, a = -0.75)


def _cubic(distance: np.ndarray) -> np.ndarray:
    d = np.abs(distance)
    near = ((A + 2) * d - (A + 3)) * d * d + 1
    far = ((A * d - 5 * A) * d + 8 * A) * d - 4 * A
    return np.where(d <= 1, near, np.where(d < 2, far, 0.0))


def _hub_bicubic_matrix(output: int, source: int, offset: float = 0.1) -> np.ndarray:
    """(output, source): torch-hub DINOv2's resize along one axis, from its formula. With
    `scale_factor = (output + offset) / source`, output pixel i samples the source at
    (i + 0.5) / scale - 0.5; neighbours beyond the border repeat the border sample."""
    scale = (output + offset) / source
    matrix = np.zeros((output, source))
    for i in range(output):
        position = (i + 0.5) / scale - 0.5
        base = int(np.floor(position))
        for k in range(base - 1, base + 3):
            matrix[i, min(max(k, 0), source - 1)] += _cubic(position - k)
    return matrix


def _smooth_positions(side: int, width: int) -> torch.Tensor:
    """(1, 1 + side^2, width): 2-D sinusoids, smooth as trained position embeddings are."""
    y, x = np.meshgrid(np.arange(side), np.arange(side), indexing="ij")
    rng = np.random.default_rng(0)
    frequencies = rng.uniform(0.05, 0.5, (width, 2))
    phases = rng.uniform(0, 2 * np.pi, width)
    grid = np.sin(frequencies[:, :1, None] * y + frequencies[:, 1:, None] * x + phases[:, None, None])
    tokens = np.concatenate([rng.normal(size=(1, width)), grid.reshape(width, -1).T])
    return torch.tensor(tokens[None], dtype=torch.float32)


def test_position_embeddings_resize_as_the_torch_hub_model():
    dino = build_backend("dinov2-vitb14", tiny=True)
    embeddings = dino.model.embeddings
    side, width = 37, embeddings.position_embeddings.shape[-1]  # 518 / 14
    with torch.no_grad():
        embeddings.position_embeddings.copy_(_smooth_positions(side, width))
    grid = DINO_INPUT // 14
    tokens = torch.zeros(1, 1 + grid * grid, width)
    ours = embeddings.interpolate_pos_encoding(tokens, DINO_INPUT, DINO_INPUT)[0].detach().double().numpy()

    source = embeddings.position_embeddings[0].detach().double().numpy()
    resize = _hub_bicubic_matrix(grid, side)
    patches = source[1:].reshape(side, side, width)
    expected = np.einsum("Yy,yxc,Xx->YXc", resize, patches, resize).reshape(-1, width)
    np.testing.assert_allclose(ours[0], source[0])  # the class token's embedding is kept
    np.testing.assert_allclose(ours[1:], expected, atol=1e-5)

    transformers_default = type(embeddings).interpolate_pos_encoding(embeddings, tokens, DINO_INPUT, DINO_INPUT)
    default = transformers_default[0, 1:].detach().double().numpy()  # size=(32, 32): another sampling
    relative = np.linalg.norm(default - expected) / np.linalg.norm(expected)
    assert relative > 0.01


def test_the_encoder_uses_the_hub_positions():
    dino = build_backend("dinov2-vitb14", tiny=True)
    embeddings = dino.model.embeddings
    pixels = torch.randn(1, 3, DINO_INPUT, DINO_INPUT, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        patches = embeddings.patch_embeddings(pixels)
        tokens = torch.cat([embeddings.cls_token, patches], dim=1)
        expected = tokens + embeddings.interpolate_pos_encoding(tokens, DINO_INPUT, DINO_INPUT)
        torch.testing.assert_close(embeddings(pixels), expected)
        default = tokens + type(embeddings).interpolate_pos_encoding(embeddings, tokens, DINO_INPUT, DINO_INPUT)
        assert not torch.allclose(embeddings(pixels), default)


def test_fused_attention_gives_what_the_eager_attention_gives():
    """DINOv2 runs its attention through torch's scaled_dot_product_attention; the same random
    weights through transformers' eager attention give the same features within 1e-5."""
    fused = build_backend("dinov2-vitb14", tiny=True)
    assert fused.model.config._attn_implementation == "sdpa"
    eager = build_backend("dinov2-vitb14", tiny=True)
    eager.model.set_attn_implementation("eager")
    assert eager.model.config._attn_implementation == "eager"
    frames = np.random.default_rng(0).integers(0, 256, (2, 84, 84, 3), dtype=np.uint8)
    features = fused.encode(frames)
    assert torch.allclose(features, eager.encode(frames), rtol=0, atol=1e-5)
    assert features.abs().max() > 0.1  # features that mean something
