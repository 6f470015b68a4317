"""The episode parameters read from a reset are the values gymnasium-robotics drew."""

import math

import numpy as np
import pytest

from samg.envs import ADROIT_TASKS, TASKS, get_task, make_env
from samg.envs.params import pitch_deg, roll_deg, tilt_deg


@pytest.fixture(scope="module")
def envs():
    made = {}

    def get(task: str):
        if task not in made:
            made[task] = make_env(get_task(task))
        return made[task]

    yield get
    for env in made.values():
        env.close()


def test_hammer_board_height_is_the_nail_boards_z_as_drawn(envs):
    env = envs("hammer")
    heights = []
    for seed in (3, 4):
        params = env.task.episode_param_values(env.reset(seed).sim_state)
        assert params["board_height"] == env.model.body_pos[env.model.body("nail_board").id, 2]
        # gymnasium seeds np_random as default_rng(seed); reset_model's one draw is the height
        assert params["board_height"] == pytest.approx(np.random.default_rng(seed).uniform(0.1, 0.25), abs=1e-12)
        heights.append(params["board_height"])
    assert heights[0] != heights[1]


def test_door_position_is_the_frames_body_pos(envs):
    env = envs("door")
    for seed in (3, 4):
        params = env.task.episode_param_values(env.reset(seed).sim_state)
        frame = env.model.body_pos[env.model.body("frame").id]
        assert [params["door_x"], params["door_y"], params["door_z"]] == frame.tolist()


def test_pen_angles_are_the_euler_angles_gymnasium_drew(envs):
    env = envs("pen")
    for seed in (3, 4):
        params = env.task.episode_param_values(env.reset(seed).sim_state)
        rng = np.random.default_rng(seed)
        roll, pitch = rng.uniform(-1, 1), rng.uniform(-1, 1)  # reset_model: euler (roll, pitch, 0)
        assert params["target_roll"] == pytest.approx(math.degrees(roll), abs=1e-9)
        assert params["target_pitch"] == pytest.approx(math.degrees(pitch), abs=1e-9)
        top, bottom = (env.data.site_xpos[env.model.site(name).id] for name in ("target_top", "target_bottom"))
        upright = (top - bottom)[2] / np.linalg.norm(top - bottom)
        assert params["target_tilt"] == pytest.approx(math.degrees(math.acos(upright)), abs=1e-6)


def test_pen_readers_on_known_rotations():
    def about(axis, degrees):
        half = math.radians(degrees) / 2
        return np.array([math.cos(half), *(math.sin(half) * np.asarray(axis, float))])

    assert (tilt_deg(about((1, 0, 0), 0)), roll_deg(about((1, 0, 0), 0)), pitch_deg(about((1, 0, 0), 0))) == (0, 0, 0)
    assert roll_deg(about((1, 0, 0), 30)) == pytest.approx(30) and pitch_deg(about((1, 0, 0), 30)) == pytest.approx(0)
    assert pitch_deg(about((0, 1, 0), -40)) == pytest.approx(-40) and tilt_deg(about((0, 1, 0), -40)) == pytest.approx(40)
    assert tilt_deg(about((0, 0, 1), 90)) == pytest.approx(0)  # a turn about the pen's own axis leaves it upright


def test_every_adroit_task_names_its_parameters_and_dmc_tasks_none():
    for name in ADROIT_TASKS:
        task = get_task(name)
        assert task.episode_params and all(p.low < p.high and p.unit in ("m", "deg") for p in task.episode_params)
        assert {p.field for p in task.episode_params} == set(task.randomised_fields)
    assert [p.name for p in get_task("hammer").episode_params] == ["board_height"]
    assert get_task("pen").episode_params[0].name == "target_tilt"
    assert all(not task.episode_params for task in TASKS.values() if task.family == "dmc")
    assert get_task("walker_walk").episode_param_values(np.zeros(5)) == {}
