import numpy as np
import pytest

from samg.segmenter import NoneSegmenter, OracleSegmenter, apply_masks


def _frames(batch=2, size=8):
    return np.random.default_rng(0).integers(1, 255, (batch, size, size, 3), dtype=np.uint8)


def test_oracle_returns_the_ground_truth_foreground():
    truth = np.zeros((2, 8, 8), np.uint8)
    truth[0, 2:4, 2:4] = 1
    truth[1, 5:, :] = 2
    result = OracleSegmenter().segment(_frames(), truth)
    assert result.masks.dtype == bool and np.array_equal(result.masks, truth > 0)
    with pytest.raises(ValueError, match="needs ground-truth masks"):
        OracleSegmenter().segment(_frames())


def test_none_keeps_every_pixel_and_masking_blacks_out_background():
    frames = _frames()
    assert NoneSegmenter().segment(frames).masks.all()
    masks = np.zeros((2, 8, 8), bool)
    masks[:, :4] = True
    masked = apply_masks(frames, masks)
    assert np.array_equal(masked[:, :4], frames[:, :4]) and not masked[:, 4:].any()


def test_frames_are_checked():
    with pytest.raises(ValueError, match="uint8"):
        NoneSegmenter().segment(np.zeros((2, 8, 8, 3), np.float32))
