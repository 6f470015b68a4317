"""What a policy observes besides the image: RL-ViGen's hand joints, or hand and arm."""

import numpy as np
import pytest

from samg.envs import ADROIT_TASKS, get_task, make_env
from samg.envs.proprio import proprio_reader
from samg.errors import UnknownNameError


@pytest.mark.parametrize("task", ["door", "hammer"])
def test_hand_is_the_environments_proprioception_and_arm_adds_the_arm_joints(task):
    env = make_env(get_task(task))
    env.reset(4)
    step = env.step(np.full(env.action_dim, 0.5, np.float32))
    hand = proprio_reader(env.task, env.model, "hand")
    both = proprio_reader(env.task, env.model, "hand+arm")
    np.testing.assert_array_equal(hand(step.sim_state), step.proprio)
    arm = [env.data.qpos[env.model.joint(name).qposadr[0]] for name in env.task.arm_joints]
    np.testing.assert_array_equal(both(step.sim_state), np.concatenate([arm, step.proprio]).astype(np.float32))
    assert both.dim == len(env.task.arm_joints) + 24 and np.abs(arm).sum() > 0  # the arm moved
    env.close()


def test_every_adroit_arm_joint_exists_and_comes_before_the_hand():
    for name in ADROIT_TASKS:
        env = make_env(get_task(name))
        reader = proprio_reader(env.task, env.model, "hand+arm")
        assert list(reader.qpos_at) == sorted(reader.qpos_at)  # the arm drives the first actuators
        assert env.action_dim == reader.dim  # Adroit: one actuator per observed joint
        env.close()


def test_an_unknown_proprioception_is_refused():
    env = make_env(get_task("pen"))
    with pytest.raises(UnknownNameError, match="hand\\+arm"):
        proprio_reader(env.task, env.model, "arm")
    env.close()


def test_none_reads_no_joint():
    env = make_env(get_task("hammer"))
    step = env.reset(2)
    reader = proprio_reader(env.task, env.model, "none")
    assert reader.dim == 0 and reader(step.sim_state).shape == (0,)
    env.close()
