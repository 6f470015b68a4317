"""Live frames for a policy in the loop (BC rollouts and RL's environments alike): simulator
states rendered, then one segmenter call on all of them."""

import numpy as np

from samg.envs import FrameRenderer
from samg.segmenter.base import Segmenter


def render_and_segment(
    renderer: FrameRenderer, segmenter: Segmenter, views: list[tuple[np.ndarray, str, int]], step: int
) -> tuple[np.ndarray, np.ndarray]:
    """Each (simulator state, setting, episode seed) rendered at `step`, then one segmenter
    call on all the frames (the oracle reads each frame's live ground truth): (frames, masks)."""
    rgb, truth = [], []
    for sim_state, setting, seed in views:
        rgb.append(renderer.render(sim_state, setting, seed, step))
        if segmenter.needs_ground_truth:
            truth.append(renderer.object_mask())
    frames = np.stack(rgb)
    return frames, segmenter.segment(frames, np.stack(truth) if truth else None).masks
