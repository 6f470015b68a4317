import numpy as np
import pytest
import torch

from samg.rl.agent import Actor, AgentConfig, DrQV2Agent, noisy
from samg.rl.replay import ReplayBuffer


def _frame(value: int, size: int = 4) -> np.ndarray:
    return np.full((size, size, 3), value % 256, np.uint8)


def _episode(replay: ReplayBuffer, first: int, actions: int, finish: bool = True) -> None:
    replay.start_episode(_frame(first))
    for t in range(1, actions + 1):
        replay.add(np.array([t], np.float32), reward=float(t), next_frame=_frame(first + t))
    if finish:
        replay.finish_episode()


def test_replay_builds_stacks_and_n_step_returns_within_episodes():
    replay = ReplayBuffer(capacity=32, frame_shape=(4, 4, 3), action_dim=1, stack=3, nstep=2, discount=0.5)
    for episode in range(2):
        _episode(replay, 100 * episode, actions=4)  # frames 0..4 of the episode
    assert len(replay) == 10
    batch = replay.sample(64, np.random.default_rng(0))
    first = batch["obs"][:, ::3, 0, 0].astype(int)  # the R channel of each stacked frame
    newest, action = first[:, -1], batch["action"][:, 0]
    assert np.all(newest % 100 == action - 1)  # the action was taken from the newest frame
    assert np.all(action <= 3)  # two steps must follow inside the episode (4 actions, n = 2)
    assert np.all(first[:, 0] <= first[:, 1]) and np.all(first[:, 0] // 100 == newest // 100)  # one episode
    assert np.allclose(batch["reward"], action + 0.5 * (action + 1))
    assert np.all(batch["next_obs"][:, -3, 0, 0] == newest + 2) and np.allclose(batch["discount"], 0.25)


def test_replay_samples_finished_episodes_only():
    replay = ReplayBuffer(capacity=64, frame_shape=(4, 4, 3), action_dim=1, stack=2, nstep=1, discount=0.9)
    _episode(replay, 0, actions=5, finish=False)
    with pytest.raises(ValueError, match="no finished episode"):
        replay.sample(1, np.random.default_rng(0))
    replay.finish_episode()
    _episode(replay, 100, actions=5, finish=False)  # running: never sampled
    batch = replay.sample(500, np.random.default_rng(0))
    assert batch["obs"][:, -3, 0, 0].max() < 100 and set(batch["action"][:, 0]) == {1, 2, 3, 4, 5}


def test_replay_drops_transitions_whose_frames_were_overwritten():
    replay = ReplayBuffer(capacity=8, frame_shape=(4, 4, 3), action_dim=1, stack=2, nstep=1, discount=0.9)
    _episode(replay, 0, actions=5)  # frames 0..5 in slots 0..5
    _episode(replay, 100, actions=4)  # frames 100..104 in slots 6, 7, 0, 1, 2: frames 0, 1, 2 are gone
    batch = replay.sample(500, np.random.default_rng(0))
    old = batch["obs"][:, 0, 0, 0] < 100
    assert batch["obs"][old, 0, 0, 0].min() >= 3  # stacks never reach into overwritten slots
    assert set(batch["action"][old, 0]) == {5}  # from frame 3 the stack would need frame 2, overwritten
    with pytest.raises(ValueError, match="longer than the replay"):
        _episode(replay, 200, actions=8)


def test_replay_is_rebuilt_exactly_from_the_episodes_it_still_holds():
    replay = ReplayBuffer(capacity=20, frame_shape=(4, 4, 3), action_dim=1, stack=3, nstep=2, discount=0.9)
    records = []
    for episode in range(6):  # 6 x 7 frames into 20 slots: the ring wraps twice
        _episode(replay, 10 * episode, actions=6)
        records.append(replay.last_episode())
    restored = ReplayBuffer(capacity=20, frame_shape=(4, 4, 3), action_dim=1, stack=3, nstep=2, discount=0.9)
    for record in records[replay.oldest_episode_held() :]:
        restored.restore_episode(record)
    for name in ("frames", "actions", "rewards", "episode", "step", "has_action", "sampleable"):
        np.testing.assert_array_equal(getattr(restored, name), getattr(replay, name), err_msg=name)
    assert (restored.cursor, restored.episodes_started) == (replay.cursor, replay.episodes_started)
    for name, array in replay.sample(32, np.random.default_rng(3)).items():
        np.testing.assert_array_equal(restored.sample(32, np.random.default_rng(3))[name], array)


def test_replay_memory_grows_with_use_up_to_its_capacity():
    replay = ReplayBuffer(capacity=1_000_000, frame_shape=(4, 4, 3), action_dim=1, stack=3, nstep=3, discount=0.99)
    assert len(replay.frames) <= 4096  # at 84 px, 1M slots would be 21 GB up front
    _episode(replay, 0, actions=5000)
    assert 5001 <= len(replay.frames) < 1_000_000 and len(replay) == 5001


def test_a_clipped_sample_still_passes_the_actors_gradient():
    torch.manual_seed(0)
    actor = Actor(repr_dim=8, action_dim=2, feature_dim=4, hidden_dim=16)
    action = noisy(actor(torch.randn(32, 8)), std=100.0)  # every sample far outside (-1, 1)
    assert action.abs().max() < 1 and torch.all(action.abs() > 0.99)
    action.sum().backward()
    assert actor.policy[-1].weight.grad.abs().sum() > 0  # straight-through, as DrQ-v2's TruncatedNormal


class _PrefersMinusOne(torch.nn.Module):
    """A critic whose Q falls as the action rises: the best action is -1 everywhere."""

    def forward(self, features: torch.Tensor, action: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        q = -action.sum(dim=-1, keepdim=True)
        return q, q


@pytest.mark.parametrize("penalty", [0.0, 1e-3])
def test_the_saturation_penalty_frees_an_actor_stuck_at_plus_one(penalty):
    torch.manual_seed(0)
    config = AgentConfig(hidden_dim=16, lr=1e-2, saturation_penalty=penalty)
    agent = DrQV2Agent((9, 16, 16), action_dim=1, config=config)
    agent.critic = _PrefersMinusOne()
    with torch.no_grad():
        agent.actor.policy[-1].bias.fill_(12.0)  # float32 tanh(12) == 1: its derivative is exactly 0
    features = torch.randn(64, agent.encoder.out_dim)
    assert torch.all(agent.actor(features) == 1.0)
    for _ in range(100):
        agent._update_actor(features, step=10**6)
    means = agent.actor(features).detach()
    if penalty:
        assert means.max() < 0.99  # back where the critic's gradient reaches it
    else:
        assert torch.all(means == 1.0)  # DrQ-v2's actor: stuck, though -1 is better everywhere


def test_weights_start_orthogonal_with_zero_biases():
    agent = DrQV2Agent((9, 32, 32), action_dim=2, config=AgentConfig(hidden_dim=32))
    for module in (agent.encoder, agent.actor, agent.critic):
        for layer in module.modules():
            if isinstance(layer, torch.nn.Linear | torch.nn.Conv2d):
                weight = layer.weight.detach().reshape(layer.weight.shape[0], -1)
                gain = 2.0 if isinstance(layer, torch.nn.Conv2d) else 1.0  # ReLU gain squared
                small = weight @ weight.T if weight.shape[0] <= weight.shape[1] else weight.T @ weight
                torch.testing.assert_close(small, gain * torch.eye(len(small)), atol=1e-4, rtol=0)
                assert torch.all(layer.bias == 0)


def test_agent_update_changes_weights_and_acts_in_bounds():
    torch.manual_seed(0)
    agent = DrQV2Agent((9, 32, 32), action_dim=2, config=AgentConfig(hidden_dim=32, expl_steps=10))
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
    for step in (0, 10):
        action = agent.act(batch["obs"][0], step=step, explore=True)
        assert action.shape == (2,) and action.dtype == np.float32 and np.all(np.abs(action) < 1)
    assert AgentConfig().std(0) == 1.0 and AgentConfig().std(10**9) == pytest.approx(0.1)


def test_the_first_expl_steps_act_uniformly_at_random():
    obs = np.zeros((9, 32, 32), np.uint8)
    agent = DrQV2Agent((9, 32, 32), action_dim=1, config=AgentConfig(hidden_dim=32, expl_steps=100, std_start=0.01))
    early = np.array([agent.act(obs, step=50, explore=True)[0] for _ in range(400)])
    late = np.array([agent.act(obs, step=100, explore=True)[0] for _ in range(50)])
    mean = agent.act(obs, step=50, explore=False)[0]
    assert early.min() < -0.9 and early.max() > 0.9 and abs(early.mean()) < 0.1  # uniform on (-1, 1)
    assert np.allclose(late, mean, atol=0.05)  # then the actor, with (here tiny) noise
