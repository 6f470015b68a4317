"""Tasks seen through the segmenter, N at a time in lockstep: action repeat, one render per
environment and one segmenter call on all N frames per agent step, frame stacks of masked
frames. Episodes have the task's fixed length, so the N episodes start and end together."""

from collections import deque

import numpy as np

from samg.envs import FrameRenderer, Step, TaskEnv
from samg.segmenter.base import Segmenter, apply_masks
from samg.segmenter.live import render_and_segment


class MaskedEnvs:
    def __init__(
        self,
        envs: list[TaskEnv],
        renderer: FrameRenderer,
        segmenter: Segmenter,
        setting: str = "train",
        action_repeat: int = 2,
        frame_stack: int = 3,
    ):
        if not envs:
            raise ValueError("MaskedEnvs needs at least one environment")
        self.envs, self.renderer, self.segmenter = envs, renderer, segmenter
        self.setting, self.action_repeat = setting, action_repeat
        self.stacks: list[deque[np.ndarray]] = [deque(maxlen=frame_stack) for _ in envs]
        self.max_steps = envs[0].task.episode_length // action_repeat
        self._seeds: list[int] = []
        self._steps: list[Step] = []
        self._t = 0  # environment frames into the episodes
        self.success_flags: list[list[bool]] = []

    def __len__(self) -> int:
        return len(self.envs)

    @property
    def action_dim(self) -> int:
        return self.envs[0].action_dim

    def _masked_frames(self) -> np.ndarray:
        views = [(step.sim_state, self.setting, seed) for step, seed in zip(self._steps, self._seeds, strict=True)]
        return apply_masks(*render_and_segment(self.renderer, self.segmenter, views, self._t))

    def observation(self) -> np.ndarray:
        """(N, stack x 3, H, W) uint8, oldest frame first."""
        return np.stack([np.concatenate([frame.transpose(2, 0, 1) for frame in stack]) for stack in self.stacks])

    def reset(self, seeds: list[int]) -> np.ndarray:
        """(N, H, W, 3): the first masked frames; each stack starts as copies of its frame."""
        if len(seeds) != len(self.envs):
            raise ValueError(f"{len(seeds)} seeds for {len(self.envs)} environments")
        self._seeds, self._t = [int(seed) for seed in seeds], 0
        self.success_flags = [[] for _ in self.envs]
        self._steps = [env.reset(seed) for env, seed in zip(self.envs, self._seeds, strict=True)]
        frames = self._masked_frames()
        for stack, frame in zip(self.stacks, frames, strict=True):
            stack.extend([frame] * stack.maxlen)
        return frames

    def step(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray, bool]:
        """(N new masked frames, N summed rewards, episodes over)."""
        rewards = np.zeros(len(self.envs))
        for _ in range(self.action_repeat):
            self._steps = [env.step(action) for env, action in zip(self.envs, actions, strict=True)]
            for i, step in enumerate(self._steps):
                rewards[i] += step.reward
                self.success_flags[i].append(step.success)
            self._t += 1
        frames = self._masked_frames()
        for stack, frame in zip(self.stacks, frames, strict=True):
            stack.append(frame)
        return frames, rewards, self._t >= self.max_steps * self.action_repeat

    @property
    def successes(self) -> list[bool]:
        task = self.envs[0].task
        return [bool(task.episode_success(np.asarray(flags, bool))) for flags in self.success_flags]
