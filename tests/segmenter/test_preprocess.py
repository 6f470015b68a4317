"""The batched preprocessing against the official per-image transforms (PIL resize)."""

import numpy as np
import pytest
import torch
from PIL import Image

from samg.envs import FrameRenderer, make_env
from samg.segmenter.backends import build_backend
from samg.segmenter.preprocess import as_pixels, pil_resize


def _images(height: int, width: int, count: int = 2, seed: int = 0) -> np.ndarray:
    """Random pixels with a few flat squares and hard edges (where rounding shows)."""
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, (count, height, width, 3), dtype=np.uint8)
    images[:, height // 4 : height // 2, width // 4 : width // 2] = (255, 0, 128)
    return images


@pytest.fixture(scope="module")
def door_frames() -> np.ndarray:
    env = make_env("door")
    with FrameRenderer(env.task, env.model) as renderer:
        frames = [renderer.render(env.reset(seed).sim_state, setting, seed, 0) for seed, setting in
                  ((1, "train"), (2, "color_hard"))]  # fmt: skip
    env.close()
    return np.stack(frames)


@pytest.mark.parametrize("size, output", [((84, 84), (512, 512)), ((84, 84), (1024, 1024)),
                                          ((100, 61), (512, 312)), ((600, 400), (96, 64)), ((30, 30), (30, 45))])  # fmt: skip
def test_resize_gives_the_bytes_pil_gives(size, output):
    images = _images(*size)
    expected = np.stack([np.asarray(Image.fromarray(image).resize(output[::-1], Image.BILINEAR)) for image in images])
    ours = pil_resize(torch.from_numpy(images).permute(0, 3, 1, 2), output).permute(0, 2, 3, 1).numpy()
    assert ours.dtype == np.uint8 and np.array_equal(ours, expected)


def _official_sam_inputs(backend, images: np.ndarray) -> torch.Tensor:
    """The packages' own per-image transform: EfficientViT-SAM's `model.transform`,
    segment-anything's `ResizeLongestSide.apply_image` + `Sam.preprocess`."""
    model = backend.model
    if hasattr(model, "transform"):
        return torch.stack([model.transform(image) for image in images])
    from segment_anything.utils.transforms import ResizeLongestSide

    resize = ResizeLongestSide(model.image_encoder.img_size)
    resized = [torch.as_tensor(resize.apply_image(image)).permute(2, 0, 1).contiguous() for image in images]
    return torch.cat([model.preprocess(image[None].float()) for image in resized])


@pytest.mark.parametrize("sam_name", ["efficientvit-l1", "sam-vit-b"])
def test_batched_sam_preprocessing_equals_the_official_transform(sam_name, door_frames):
    backend = build_backend(sam_name, tiny=True)
    for images in (door_frames, _images(84, 84), _images(160, 120, seed=1)):
        expected = _official_sam_inputs(backend, images)
        ours = backend.preprocess(as_pixels(images, backend.device))
        assert ours.shape == expected.shape and ours.dtype == torch.float32
        assert torch.equal(ours, expected)  # the same floats: tolerance 0


def test_dino_encodes_numpy_and_device_frames_alike(door_frames):
    dino = build_backend("dinov2-vitb14", tiny=True)
    assert torch.equal(dino.encode(door_frames), dino.encode(torch.from_numpy(door_frames)))
