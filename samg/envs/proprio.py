"""Which joint positions a policy observes besides the image.

`hand` is RL-ViGen's proprioception (the hand's 24 joints, what the paper's agents saw);
`hand+arm` adds the joints of the arm that carries the hand (hammer: 2, door: 4, pen: none),
a named departure from the paper (docs/fidelity.md): the arm's pose tells a policy where
its swing is going, which the hand joints tell only once the motion is under way. `none`:
images only, no joint at all (also a departure): a policy that cannot take the task's
variable from its own joints has to take it from the image.

Both are read from a simulator state, whose first entries are qpos (samg.envs.sim_state),
so stored episodes and live rollouts give the policy the same numbers.
"""

from dataclasses import dataclass

import mujoco
import numpy as np

from samg.envs.tasks import TaskSpec
from samg.errors import UnknownNameError

PROPRIO_INPUTS = {
    "hand": lambda task: task.proprio_joints,
    "hand+arm": lambda task: task.arm_joints + task.proprio_joints,
    "none": lambda task: (),
}


@dataclass(frozen=True)
class ProprioReader:
    """Proprioception from simulator states: the qpos entries of the chosen joints."""

    qpos_at: tuple[int, ...]

    @property
    def dim(self) -> int:
        return len(self.qpos_at)

    def __call__(self, sim_state: np.ndarray) -> np.ndarray:
        """(..., Q) simulator states -> (..., dim) float32 joint positions."""
        return np.asarray(sim_state)[..., list(self.qpos_at)].astype(np.float32)


def proprio_reader(task: TaskSpec, model: mujoco.MjModel, which: str) -> ProprioReader:
    if which not in PROPRIO_INPUTS:
        raise UnknownNameError("proprioception", which, PROPRIO_INPUTS)
    joints = PROPRIO_INPUTS[which](task)
    return ProprioReader(tuple(int(model.jnt_qposadr[model.joint(name).id]) for name in joints))


def policy_proprio_reader(task: TaskSpec, model: mujoco.MjModel, which: str) -> ProprioReader | None:
    """The reader a policy's proprioception needs; None for `hand`: the environment's own
    `proprio` (and a store's `data/proprio`) already hold those joints."""
    return None if which == "hand" else proprio_reader(task, model, which)
