"""DeepMind Control Suite tasks behind the shared `TaskEnv` interface (for online RL)."""

import numpy as np

from samg.envs.base import Step
from samg.envs.sim_state import SimStateLayout
from samg.envs.tasks import TaskSpec


class DmcEnv:
    def __init__(self, task: TaskSpec):
        from dm_control import suite

        self._suite = suite
        self._domain, self._task_name = task.env_id.split("/")
        self.task = task
        self._load(seed=0)
        self.action_dim = int(self._env.action_spec().shape[0])

    def _load(self, seed: int) -> None:
        self._env = self._suite.load(
            self._domain, self._task_name, task_kwargs={"random": np.random.RandomState(seed)}
        )
        self.model = self._env.physics.model.ptr
        self.data = self._env.physics.data.ptr
        self.layout = SimStateLayout(self.model, self.task.randomised_fields)

    def reset(self, seed: int) -> Step:
        """A fresh task per episode: dm_control draws its randomness at load time."""
        self._load(seed=int(seed))
        return self._step(self._env.reset())

    def step(self, action: np.ndarray) -> Step:
        return self._step(self._env.step(np.asarray(action, dtype=np.float64)))

    def _step(self, time_step) -> Step:
        state = np.concatenate([np.ravel(v) for v in time_step.observation.values()])
        return Step(
            state=state.astype(np.float32),
            proprio=np.zeros(0, np.float32),
            reward=float(time_step.reward or 0.0),
            success=False,
            sim_state=self.layout.read(self.model, self.data),
        )

    def close(self) -> None:
        self._env.close()
