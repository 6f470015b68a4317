"""The observation interface every task family shares."""

from dataclasses import dataclass
from typing import Protocol

import mujoco
import numpy as np

from samg.envs.sim_state import SimStateLayout
from samg.envs.tasks import TaskSpec


@dataclass(frozen=True)
class Step:
    """What the simulator reports after a reset or a step (images come from FrameRenderer)."""

    state: np.ndarray  # the environment's low-dimensional observation, float32
    proprio: np.ndarray  # hand joint positions (Adroit, 24), empty for DMC
    reward: float
    success: bool  # the task's per-step success signal (always False for DMC)
    sim_state: np.ndarray  # enough to re-render this exact frame (see SimStateLayout)


class TaskEnv(Protocol):
    task: TaskSpec
    model: mujoco.MjModel
    data: mujoco.MjData
    layout: SimStateLayout
    action_dim: int

    def reset(self, seed: int) -> Step: ...

    def step(self, action: np.ndarray) -> Step: ...

    def close(self) -> None: ...
