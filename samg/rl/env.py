"""A task seen through the segmenter: action repeat, one render and one mask per agent step,
frame stacks of masked frames."""

from collections import deque

import numpy as np

from samg.envs import FrameRenderer, TaskEnv
from samg.segmenter.base import Segmenter, apply_masks


class MaskedEnv:
    def __init__(
        self,
        env: TaskEnv,
        renderer: FrameRenderer,
        segmenter: Segmenter,
        setting: str = "train",
        action_repeat: int = 2,
        frame_stack: int = 3,
    ):
        self.env, self.renderer, self.segmenter = env, renderer, segmenter
        self.setting, self.action_repeat = setting, action_repeat
        self.stack: deque[np.ndarray] = deque(maxlen=frame_stack)
        self.max_steps = env.task.episode_length // action_repeat
        self._seed = self._t = self._step = None
        self.success_flags: list[bool] = []

    @property
    def action_dim(self) -> int:
        return self.env.action_dim

    def _masked_frame(self) -> np.ndarray:
        rgb = self.renderer.render(self._step.sim_state, self.setting, self._seed, self._t)
        truth = self.renderer.object_mask()[None] if self.segmenter.needs_ground_truth else None
        return apply_masks(rgb[None], self.segmenter.segment(rgb[None], truth).masks)[0]

    def observation(self) -> np.ndarray:
        """(stack x 3, H, W) uint8, oldest frame first."""
        return np.concatenate([frame.transpose(2, 0, 1) for frame in self.stack])

    def reset(self, seed: int) -> np.ndarray:
        """The first masked frame; the stack starts as copies of it."""
        self._seed, self._t, self.success_flags = int(seed), 0, []
        self._step = self.env.reset(seed)
        frame = self._masked_frame()
        self.stack.extend([frame] * self.stack.maxlen)
        return frame

    def step(self, action: np.ndarray) -> tuple[np.ndarray, float, bool]:
        """(new masked frame, summed reward, episode over)."""
        reward = 0.0
        for _ in range(self.action_repeat):
            self._step = self.env.step(action)
            reward += self._step.reward
            self.success_flags.append(self._step.success)
            self._t += 1
        frame = self._masked_frame()
        self.stack.append(frame)
        return frame, reward, self._t >= self.max_steps * self.action_repeat

    @property
    def success(self) -> bool:
        return bool(self.env.task.episode_success(np.asarray(self.success_flags, bool)))
