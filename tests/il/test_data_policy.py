import numpy as np
import pytest
import torch

from samg.il.data import DemoFrames, Normalizer, stack_indices
from samg.il.policy import BCPolicy, ResNetEncoder, random_shift
from samg.segmenter.weights import WeightsError


def test_stack_indices_repeat_the_first_frame_within_each_episode():
    index = stack_indices([4, 4], stack=3)
    assert index[:4].tolist() == [[0, 0, 0], [0, 0, 1], [0, 1, 2], [1, 2, 3]]
    assert index[4:6].tolist() == [[4, 4, 4], [4, 4, 5]]


def test_batches_stack_frames_oldest_first_in_rgb_order():
    frames = np.zeros((4, 2, 2, 3), np.uint8)
    for t in range(4):
        frames[t] = [10 * t + 1, 10 * t + 2, 10 * t + 3]
    data = DemoFrames(frames, np.zeros((4, 1)), np.arange(4, dtype=np.float32)[:, None], lengths=[4], stack=3)
    batch = data.__getitems__([3, 1])
    assert batch["frames"].shape == (2, 9, 2, 2)
    assert batch["frames"][0, :, 0, 0].tolist() == [11, 12, 13, 21, 22, 23, 31, 32, 33]
    assert batch["frames"][1, :, 0, 0].tolist() == [1, 2, 3, 1, 2, 3, 11, 12, 13]
    assert batch["action"][:, 0].tolist() == [3.0, 1.0]


def test_random_shift_moves_whole_images_by_at_most_pad():
    torch.manual_seed(0)
    frames = torch.zeros(16, 1, 12, 12)
    frames[:, :, 5, 5] = 1.0
    shifted = random_shift(frames, pad=2)
    assert torch.equal(random_shift(frames, pad=0), frames)
    for image in shifted[:, 0]:
        ys, xs = torch.nonzero(image == 1.0, as_tuple=True)
        assert len(ys) == 1 and abs(int(ys[0]) - 5) <= 2 and abs(int(xs[0]) - 5) <= 2
    assert len({tuple(torch.nonzero(image[0]).flatten().tolist()) for image in shifted}) > 1


def _policy(encoder: str = "conv", **extra) -> BCPolicy:
    stats = Normalizer.fit(np.random.default_rng(0).normal(size=(50, 4)), np.random.default_rng(1).normal(size=(50, 3)))
    return BCPolicy(9, 32, 4, 3, stats.to_dict(), encoder=encoder, **extra)


def test_policy_acts_in_bounds_from_uint8_frames():
    action = _policy().act(np.full((9, 32, 32), 200, np.uint8), np.zeros(4, np.float32))
    assert action.shape == (3,) and action.dtype == np.float32 and np.all(np.abs(action) <= 1)


def test_resnet18_encoder_needs_imagenet_weights(tmp_path, monkeypatch):
    import torchvision

    monkeypatch.setenv("SAMG_HOME", str(tmp_path))
    with pytest.raises(WeightsError, match="samg weights download resnet18"):
        _policy("resnet18")
    torch.save(torchvision.models.resnet18().state_dict(), tmp_path / "resnet18.pth")  # torchvision's layout
    policy = _policy("resnet18", resnet_weights=str(tmp_path / "resnet18.pth"))
    assert isinstance(policy.encoder, ResNetEncoder) and policy.encoder.out_dim == 3 * 128 * 4 * 4
    assert not any(p.requires_grad for p in policy.encoder.parameters())
    policy.train()
    assert not policy.encoder.layers.training  # frozen BatchNorm statistics
    assert policy(torch.zeros(2, 9, 32, 32), torch.zeros(2, 4)).shape == (2, 3)


def test_proprio_dropout_replaces_whole_rows_by_the_mean_at_its_rate():
    torch.manual_seed(0)
    proprio = torch.full((4000, 4), 7.0)
    off = _policy()
    assert off.drop_proprio(proprio) is proprio
    dropped = _policy(proprio_dropout=0.25).drop_proprio(proprio)
    rows = (dropped != 7.0).all(1)
    assert ((dropped != 7.0).any(1) == rows).all()  # a row is dropped whole or not at all
    assert torch.equal(dropped[rows], _policy().proprio_mean.expand(int(rows.sum()), 4))
    assert abs(rows.float().mean().item() - 0.25) < 0.03


def test_a_policy_without_proprioception_acts_from_the_image():
    stats = Normalizer.fit(np.zeros((50, 0)), np.random.default_rng(1).normal(size=(50, 3)))
    policy = BCPolicy(9, 32, 0, 3, stats.to_dict())
    first = policy.act(np.full((9, 32, 32), 200, np.uint8), np.zeros(0, np.float32))
    second = policy.act(np.zeros((9, 32, 32), np.uint8), np.zeros(0, np.float32))
    assert first.shape == (3,) and not np.array_equal(first, second)


def test_stack_indices_follow_episodes_of_their_own_lengths():
    index = stack_indices([2, 3], stack=2)
    assert index.tolist() == [[0, 0], [0, 1], [2, 2], [2, 3], [3, 4]]
