"""The simulator state as one flat vector, enough to re-render a frame exactly.

Layout: qpos, qvel, act, then the task's randomised model entries (e.g. the door's
position), in the order the task lists them.
"""

from collections.abc import Sequence

import mujoco
import numpy as np

from samg.envs.tasks import ModelField

_OBJ_TYPES = {"body": mujoco.mjtObj.mjOBJ_BODY, "site": mujoco.mjtObj.mjOBJ_SITE}


class SimStateLayout:
    def __init__(self, model: mujoco.MjModel, fields: Sequence[ModelField]):
        self.nq, self.nv, self.na = model.nq, model.nv, model.na
        self._fields: list[tuple[str, int, int]] = []
        for field in fields:
            index = mujoco.mj_name2id(model, _OBJ_TYPES[field.obj_type], field.name)
            if index < 0:
                raise ValueError(f"model has no {field.obj_type} named {field.name!r}")
            width = getattr(model, field.array).shape[1]
            if width != field.width:  # TaskSpec.episode_param_values counts on it
                raise ValueError(f"model.{field.array} has {width} columns, the task's field says {field.width}")
            self._fields.append((field.array, index, width))
        self.size = self.nq + self.nv + self.na + sum(width for _, _, width in self._fields)

    def read(self, model: mujoco.MjModel, data: mujoco.MjData) -> np.ndarray:
        parts = [data.qpos, data.qvel, data.act]
        parts += [getattr(model, array)[index] for array, index, _ in self._fields]
        return np.concatenate(parts).astype(np.float64)

    def write(self, state: np.ndarray, model: mujoco.MjModel, data: mujoco.MjData) -> None:
        """Set `state` into model and data; the caller runs mj_forward if it needs poses."""
        state = np.asarray(state, dtype=np.float64)
        if state.shape != (self.size,):
            raise ValueError(f"simulator state has shape {state.shape}, expected ({self.size},)")
        qvel_at, act_at = self.nq, self.nq + self.nv
        data.qpos[:] = state[:qvel_at]
        data.qvel[:] = state[qvel_at:act_at]
        data.act[:] = state[act_at : act_at + self.na]
        at = act_at + self.na
        for array, index, width in self._fields:
            getattr(model, array)[index] = state[at : at + width]
            at += width
