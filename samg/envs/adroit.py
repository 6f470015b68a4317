"""Adroit hand tasks (gymnasium-robotics v1) behind the shared `TaskEnv` interface."""

import contextlib
import io
import warnings

import gymnasium as gym
import mujoco
import numpy as np

from samg.envs.base import Step
from samg.envs.sim_state import SimStateLayout
from samg.envs.tasks import TaskSpec


class AdroitEnv:
    def __init__(self, task: TaskSpec):
        # gymnasium-robotics prints a notice at import: the dense reward changed in 1.2.1.
        # We pin 1.4.2 and record that reward as it is; success does not depend on it.
        with warnings.catch_warnings(), contextlib.redirect_stderr(io.StringIO()):
            warnings.simplefilter("ignore")
            import gymnasium_robotics

            gym.register_envs(gymnasium_robotics)
            self._env = gym.make(task.env_id).unwrapped
        self.task = task
        self.model: mujoco.MjModel = self._env.model
        self.data: mujoco.MjData = self._env.data
        self.layout = SimStateLayout(self.model, task.randomised_fields)
        self.action_dim = int(self._env.action_space.shape[0])
        self._proprio_at = np.array(
            [self.model.jnt_qposadr[self.model.joint(name).id] for name in task.proprio_joints]
        )

    def reset(self, seed: int) -> Step:
        state, _ = self._env.reset(seed=int(seed))
        return self._step(state, 0.0, False)

    def step(self, action: np.ndarray) -> Step:
        state, reward, _, _, info = self._env.step(np.asarray(action, dtype=np.float64))
        return self._step(state, float(reward), bool(info["success"]))

    def _step(self, state: np.ndarray, reward: float, success: bool) -> Step:
        return Step(
            state=np.asarray(state, np.float32),
            proprio=self.data.qpos[self._proprio_at].astype(np.float32),
            reward=reward,
            success=success,
            sim_state=self.layout.read(self.model, self.data),
        )

    def close(self) -> None:
        self._env.close()
