import pytest

from samg.envs import ADROIT_TASKS, TASKS, get_task, parse_settings, SETTING_NAMES
from samg.envs.tasks import ADROIT_HAND_JOINTS
from samg.errors import UnknownNameError


def test_adroit_tasks_follow_the_paper_protocol():
    assert set(ADROIT_TASKS) >= {"door", "hammer", "pen"}
    for name in ADROIT_TASKS:
        task = get_task(name)
        assert task.episode_length == 200
        assert task.image_size == 84
        assert task.proprio_dim == 24
        assert task.objects[0].name == "hand"
    assert [o.name for o in get_task("door").objects] == ["hand", "door"]
    assert [o.name for o in get_task("hammer").objects] == ["hand", "hammer", "nail_board"]
    assert [o.name for o in get_task("pen").objects] == ["hand", "pen", "target"]  # the goal, as the official masks
    assert 160 in get_task("pen").image_sizes


def test_hand_joints_are_the_24_distinct_hand_joints():
    assert len(set(ADROIT_HAND_JOINTS)) == 24
    assert ADROIT_HAND_JOINTS[:2] == ("WRJ1", "WRJ0") and ADROIT_HAND_JOINTS[-1] == "THJ0"


@pytest.mark.parametrize(
    ("task", "steps_succeeded", "expected"),
    [("door", 25, False), ("door", 26, True), ("pen", 20, False), ("pen", 21, True), ("walker_walk", 500, False)],
)
def test_episode_success_needs_more_than_the_task_threshold(task, steps_succeeded, expected):
    flags = [True] * steps_succeeded + [False] * (200 - steps_succeeded)
    assert get_task(task).episode_success(flags) is expected


def test_unknown_task_names_the_valid_ones():
    with pytest.raises(UnknownNameError) as error:
        get_task("drawer")
    message = str(error.value)
    assert "unknown task 'drawer'" in message and "door" in message and "walker_walk" in message
    assert "\n" not in message and error.value.exit_code == 2


def test_dmc_family_is_registered():
    assert {"walker_walk", "cartpole_swingup", "finger_spin", "ball_in_cup_catch"} <= set(TASKS)


def test_parse_settings():
    assert parse_settings("all") == SETTING_NAMES
    assert parse_settings("video_hard,train") == ("train", "video_hard")
    assert parse_settings(["color_easy"]) == ("color_easy",)
    with pytest.raises(UnknownNameError, match="valid settings: train, color_easy"):
        parse_settings("train,sepia")
    with pytest.raises(UnknownNameError):
        parse_settings("")
