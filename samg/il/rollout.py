"""One live episode of a BC policy in a visual setting, the segmenter in the loop: render,
mask (the oracle reads the live ground truth), stack frames, act."""

from collections import deque
from dataclasses import dataclass

import numpy as np

from samg.envs import FrameRenderer, TaskEnv
from samg.il.policy import BCPolicy
from samg.segmenter.base import Segmenter, apply_masks


@dataclass
class EpisodeResult:
    setting: str
    seed: int
    success: bool
    episode_return: float
    steps: int
    success_steps: int
    video: np.ndarray | None = None  # (T, H, 3W, 3): raw | mask | masked


def run_episode(
    policy: BCPolicy,
    env: TaskEnv,
    renderer: FrameRenderer,
    segmenter: Segmenter,
    setting: str,
    seed: int,
    frame_stack: int,
    record: bool = False,
    max_steps: int | None = None,
) -> EpisodeResult:
    """`max_steps` cuts the episode short (benchmarks); success is judged on the steps run."""
    step = env.reset(seed)
    stack: deque[np.ndarray] = deque(maxlen=frame_stack)
    flags, total, video = [], 0.0, []
    for t in range(max_steps or env.task.episode_length):
        rgb = renderer.render(step.sim_state, setting, seed, t)
        truth = renderer.object_mask()[None] if segmenter.needs_ground_truth else None
        mask = segmenter.segment(rgb[None], truth).masks
        observed = apply_masks(rgb[None], mask)[0]
        if not stack:
            stack.extend([observed] * frame_stack)
        else:
            stack.append(observed)
        frames = np.concatenate([frame.transpose(2, 0, 1) for frame in stack])
        step = env.step(policy.act(frames, step.proprio))
        total += step.reward
        flags.append(step.success)
        if record:
            video.append(np.concatenate([rgb, np.repeat(mask[0, ..., None] * np.uint8(255), 3, -1), observed], 1))
    flags_array = np.asarray(flags, bool)
    return EpisodeResult(
        setting=setting,
        seed=int(seed),
        success=bool(env.task.episode_success(flags_array)),
        episode_return=float(total),
        steps=len(flags),
        success_steps=int(flags_array.sum()),
        video=np.stack(video) if record else None,
    )
