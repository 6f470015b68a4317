"""`samg collect --noise` (DART): executed actions carry seeded noise, labels stay the expert's."""

import numpy as np
import pytest

from samg.envs import make_env
from samg.errors import SamgError
from samg.pipeline.store import DemoStore
from samg.rl_collect.collect import CollectConfig, PlanMismatchError, collect
from samg.rl_collect.experts import load_expert
from samg.rl_collect.rollout import action_noise
from tests.pipeline.helpers import random_expert_file

NOISE = 0.3


@pytest.fixture(scope="module")
def noisy_store(tmp_path_factory) -> DemoStore:
    tmp_path = tmp_path_factory.mktemp("noisy")
    config = CollectConfig(
        task="door", episodes=2, out=tmp_path / "door.zarr", settings=("train",), seed=3, workers=1, image_size=16,
        keep_failures=True, expert_path=random_expert_file(tmp_path), noise=NOISE,
    )  # fmt: skip
    return collect(config)


def test_the_store_keeps_clean_labels_and_the_executed_actions(noisy_store):
    store = noisy_store
    assert store.plan.action_noise == NOISE and store.attrs["action_noise"] == NOISE
    expert = load_expert("door", store.path.parent / "random-door-expert.npz")
    for index, seed in enumerate(store.episode_seeds):
        episode = store.episode(index)
        clean = np.stack([np.clip(expert.act(state), -1, 1) for state in episode["state"]]).astype(np.float32)
        np.testing.assert_array_equal(episode["action"], clean)  # the label: the expert at the visited state
        noise = action_noise(int(seed), 200, 28, NOISE)
        np.testing.assert_array_equal(episode["executed_action"], np.clip(clean + noise, -1, 1))
        assert np.abs(episode["executed_action"] - episode["action"]).mean() > NOISE / 4


def test_replaying_the_executed_actions_from_the_seed_gives_the_stored_states(noisy_store):
    episode = noisy_store.episode(1)
    env = make_env("door")
    step = env.reset(int(noisy_store.episode_seeds[1]))
    for t, action in enumerate(episode["executed_action"]):
        np.testing.assert_array_equal(step.sim_state, episode["sim_state"][t])
        step = env.step(action)
    env.close()
    # the clean labels would have led elsewhere: the noise really steered the episode
    env = make_env("door")
    step = env.reset(int(noisy_store.episode_seeds[1]))
    for action in episode["action"][:50]:
        step = env.step(action)
    assert not np.array_equal(step.sim_state, episode["sim_state"][50])
    env.close()


def test_resuming_with_another_noise_is_refused(noisy_store):
    config = CollectConfig(
        task="door", episodes=2, out=noisy_store.path, settings=("train",), seed=3, workers=1, image_size=16,
        keep_failures=True, expert_path=noisy_store.path.parent / "random-door-expert.npz", noise=0.1,
    )  # fmt: skip
    with pytest.raises(PlanMismatchError, match="action_noise: store 0.3 vs now 0.1"):
        collect(config)


def test_the_noise_is_a_function_of_the_episode_seed():
    np.testing.assert_array_equal(action_noise(7, 5, 3, 0.2), action_noise(7, 5, 3, 0.2))
    assert not np.array_equal(action_noise(7, 5, 3, 0.2), action_noise(8, 5, 3, 0.2))
    assert abs(action_noise(0, 2000, 20, 0.2).std() - 0.2) < 0.01


def test_a_store_without_noise_has_no_executed_actions(tmp_path):
    config = CollectConfig(
        task="door", episodes=1, out=tmp_path / "clean.zarr", settings=("train",), workers=1, image_size=16,
        keep_failures=True, expert_path=random_expert_file(tmp_path),
    )  # fmt: skip
    store = collect(config)
    assert store.plan.action_noise == 0.0 and "executed_action" not in store.episode(0)


@pytest.mark.parametrize("noise", [-0.1, float("nan"), float("inf")])
def test_a_bad_noise_is_one_line(tmp_path, noise):
    with pytest.raises(SamgError, match="--noise must be a finite number"):
        CollectConfig(task="door", out=tmp_path / "x.zarr", noise=noise)
