"""Helpers shared by every segmenter."""

import numpy as np

from samg.segmenter.base import frame_iou


def test_frame_iou_per_frame_with_empty_pairs_agreeing():
    first = np.zeros((3, 4, 4), bool)
    second = np.zeros((3, 4, 4), bool)
    first[0, :2], second[0, 1:3] = True, True  # 4 shared of 12 pixels
    first[1, 0, 0] = True  # one empty, one not
    np.testing.assert_allclose(frame_iou(first, second), [4 / 12, 0.0, 1.0])
