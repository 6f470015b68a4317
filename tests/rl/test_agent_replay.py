import numpy as np
import pytest
import torch

from samg.rl.agent import AgentConfig, DrQV2Agent
from samg.rl.replay import ReplayBuffer


def _frame(value: int, size: int = 4) -> np.ndarray:
    return np.full((size, size, 3), value, np.uint8)


def test_replay_builds_stacks_and_n_step_returns_within_episodes():
    replay = ReplayBuffer(capacity=32, frame_shape=(4, 4, 3), action_dim=1, stack=3, nstep=2, discount=0.5)
    for episode in range(2):
        replay.start_episode(_frame(100 * episode))
        for t in range(1, 5):  # 4 actions: frames 1..4 of the episode
            replay.add(np.array([t], np.float32), reward=float(t), next_frame=_frame(100 * episode + t))
    assert len(replay) == 10
    batch = replay.sample(64, np.random.default_rng(0))
    first = batch["obs"][:, ::3, 0, 0].astype(int)  # the R channel of each stacked frame
    newest, action = first[:, -1], batch["action"][:, 0]
    assert np.all(newest % 100 == action - 1)  # the action was taken from the newest frame
    assert np.all(action <= 3)  # two steps must follow inside the episode (4 actions, n = 2)
    assert np.all(first[:, 0] <= first[:, 1]) and np.all(first[:, 0] // 100 == newest // 100)  # one episode
    assert np.allclose(batch["reward"], action + 0.5 * (action + 1))
    assert np.all(batch["next_obs"][:, -3, 0, 0] == newest + 2) and np.allclose(batch["discount"], 0.25)


def test_replay_drops_transitions_whose_frames_were_overwritten(tmp_path):
    replay = ReplayBuffer(capacity=6, frame_shape=(4, 4, 3), action_dim=1, stack=2, nstep=1, discount=0.9)
    replay.start_episode(_frame(0))
    for t in range(1, 9):  # 9 frames into 6 slots: the oldest 3 are gone
        replay.add(np.array([t], np.float32), 0.0, _frame(t))
    batch = replay.sample(200, np.random.default_rng(0))
    assert batch["obs"][:, 0, 0, 0].min() >= 3  # stacks never reach into overwritten slots
    replay.save(tmp_path / "replay.npz")
    restored = ReplayBuffer(capacity=6, frame_shape=(4, 4, 3), action_dim=1, stack=2, nstep=1, discount=0.9)
    restored.load(tmp_path / "replay.npz")
    assert restored.cursor == replay.cursor and np.array_equal(restored.frames, replay.frames)
    with pytest.raises(ValueError, match="no complete n-step"):
        ReplayBuffer(8, (4, 4, 3), 1, 2, 1, 0.9).sample(1, np.random.default_rng(0))


def test_agent_update_changes_weights_and_acts_in_bounds():
    torch.manual_seed(0)
    agent = DrQV2Agent((9, 32, 32), action_dim=2, config=AgentConfig(hidden_dim=32))
    rng = np.random.default_rng(0)
    batch = {
        "obs": rng.integers(0, 255, (8, 9, 32, 32), dtype=np.uint8),
        "next_obs": rng.integers(0, 255, (8, 9, 32, 32), dtype=np.uint8),
        "action": rng.uniform(-1, 1, (8, 2)).astype(np.float32),
        "reward": rng.normal(size=8).astype(np.float32),
        "discount": np.full(8, 0.97, np.float32),
    }
    before = {name: [p.clone() for p in getattr(agent, name).parameters()] for name in ("encoder", "actor", "critic")}
    target_before = [p.clone() for p in agent.critic_target.parameters()]
    metrics = agent.update(batch, step=0)
    assert set(metrics) == {"critic_loss", "q", "actor_loss"} and np.isfinite(list(metrics.values())).all()
    for name, params in before.items():
        assert any(not torch.equal(a, b) for a, b in zip(params, getattr(agent, name).parameters(), strict=True)), name
    assert any(not torch.equal(a, b) for a, b in zip(target_before, agent.critic_target.parameters(), strict=True))
    action = agent.act(batch["obs"][0], step=0, explore=True)
    assert action.shape == (2,) and action.dtype == np.float32 and np.all(np.abs(action) < 1)
    assert AgentConfig().std(0) == 1.0 and AgentConfig().std(10**9) == pytest.approx(0.1)
