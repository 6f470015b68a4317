"""Augmentation: the teacher's foreground stays where the mask says, the background changes."""

import numpy as np
import torch

from samg.distill.augment import AugmentConfig, Augmenter, colour_matrices
from samg.distill.backgrounds import BackgroundBank, package_photographs

QUIET = {"jitter": 0.0, "tint": 0.0, "shift": 0, "blur": 0.0, "noise": 0.0, "bank_size": 16}


def _batch(count=8, size=16):
    rng = np.random.default_rng(0)
    frames = rng.integers(0, 256, (count, size, size, 3), dtype=np.uint8)
    masks = np.zeros((count, size, size), bool)
    masks[:, 4:10, 3:12] = True
    return torch.from_numpy(frames), torch.from_numpy(masks)


def test_background_replaced_foreground_kept():
    frames, masks = _batch()
    images, targets = Augmenter(AugmentConfig(background=1.0, photo_share=0.5, **QUIET), 16)(frames, masks)
    original = frames.permute(0, 3, 1, 2).float() / 255
    inside = masks[:, None].expand_as(original)
    assert torch.allclose(images[inside], original[inside])
    assert (images[~inside] - original[~inside]).abs().mean() > 0.1
    assert torch.equal(targets, masks.float())


def test_shift_moves_frame_and_mask_together():
    size = 16
    ys, xs = np.mgrid[0:size, 0:size]
    coded = np.stack([xs * 16, ys * 16, np.zeros_like(xs)], -1).astype(np.uint8)  # each pixel names its place
    frames = torch.from_numpy(np.repeat(coded[None], 8, axis=0))
    masks = torch.zeros(8, size, size, dtype=torch.bool)
    masks[:, 4:10, 3:12] = True
    images, targets = Augmenter(AugmentConfig(background=0.0, **(QUIET | {"shift": 3})), size)(frames, masks)
    assert not torch.equal(targets, masks.float())  # some frames moved (seeded)
    source_x = (images[:, 0] * 255 / 16).round().long()
    source_y = (images[:, 1] * 255 / 16).round().long()
    assert torch.equal(targets, masks[0][source_y, source_x].float())


def test_everything_on_stays_in_range():
    frames, masks = _batch()
    images, targets = Augmenter(AugmentConfig(bank_size=16), 16, seed=3)(frames, masks)
    assert images.dtype == torch.float32 and images.min() >= 0 and images.max() <= 1
    assert set(targets.unique().tolist()) <= {0.0, 1.0}


def test_colour_matrix_identity_and_grey_axis():
    identity = colour_matrices(torch.zeros(1), torch.ones(1))[0]
    assert torch.allclose(identity, torch.eye(3), atol=1e-6)
    rotated = colour_matrices(torch.tensor([0.3]), torch.ones(1))[0]
    grey = torch.full((3,), 0.5)
    assert torch.allclose(rotated @ grey, grey, atol=1e-6)  # greys keep their colour
    red = torch.tensor([1.0, 0.0, 0.0])
    assert not torch.allclose(rotated @ red, red, atol=0.1)  # colours turn


def test_backgrounds_come_from_packages_and_procedures():
    photos = package_photographs()
    assert len(photos) >= 15 and all(p.ndim == 3 and p.shape[2] == 3 and p.dtype == np.uint8 for p in photos)
    bank = BackgroundBank(32, 20, photo_share=0.5, seed=1)
    assert bank.images.shape == (32, 3, 20, 20) and 0 <= bank.images.min() and bank.images.max() <= 1
    before = bank.images.clone()
    bank.refresh(0.25)
    assert (before != bank.images).flatten(1).any(1).sum() >= 6
