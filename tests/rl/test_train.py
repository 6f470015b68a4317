import pytest
import torch

from samg.rl.config import RLConfig
from samg.rl.agent import AgentConfig
from samg.rl.train import RLRun, RLRunError


def test_the_seed_picks_the_initial_weights(tmp_path):
    def actor_weights(seed: int) -> list[torch.Tensor]:
        config = RLConfig.for_task("cartpole_swingup", tmp_path, seed=seed, image_size=32, episode_frames=20,
                                   seed_frames=20)  # fmt: skip
        run = RLRun(config)
        run.close()
        return [p.detach().clone() for p in [*run.agent.encoder.parameters(), *run.agent.actor.parameters()]]

    first, second, again = actor_weights(1), actor_weights(2), actor_weights(1)
    assert all(torch.equal(a, b) for a, b in zip(first, again, strict=True))
    weights = [(a, b) for a, b in zip(first, second, strict=True) if a.dim() > 1]  # biases 0, LayerNorm 1
    assert len(weights) == 8 and not any(torch.equal(a, b) for a, b in weights)



def _recording(method, sizes: list[int]):
    """`method`, noting the batch size (rows of its first argument) of every call."""

    def recorded(first, *args, **kwargs):
        sizes.append(len(first))
        return method(first, *args, **kwargs)

    return recorded


def _config(tmp_path, envs: int, **changes) -> RLConfig:
    settings = {"image_size": 32, "episode_frames": 20, "seed_frames": 40, "batch_size": 8, "eval_episodes": 2,
                "frames": 80, "agent": AgentConfig(hidden_dim=32, expl_steps=0)}  # fmt: skip
    return RLConfig.for_task("cartpole_swingup", tmp_path / f"envs{envs}", envs=envs, **(settings | changes))


def test_lockstep_environments_batch_the_calls_and_keep_the_update_ratio(tmp_path, monkeypatch):
    counts = {}
    for envs in (1, 2):
        run = RLRun(_config(tmp_path, envs))
        calls = {"update": [], "act": [], "segment": []}
        for owner, name in ((run.agent, "update"), (run.agent, "act_batch"), (run.segmenter, "segment")):
            monkeypatch.setattr(owner, name, _recording(getattr(owner, name), calls[name.removesuffix("_batch")]))
        run.train()
        run.close()
        counts[envs] = calls
        assert run.counters.step == 40 and run.counters.episode == 4 and run.replay.episodes_started == 4
        assert len(run.replay) == 4 * 11  # 10 agent steps an episode, plus its first frame
    # 40 agent steps of data in both; from step 20 (frame 40) an update every 2nd step of data
    assert len(counts[1]["update"]) == len(counts[2]["update"]) == 10
    # training 40 steps of data, 2 evaluations (frame 0, the end) x 2 episodes x 10 steps
    assert counts[1]["act"] == [1] * 80 and counts[2]["act"] == [2] * 40
    assert counts[2]["segment"] == [2] * (2 * 11 + 2 * 11)  # a reset and 10 steps per episode pair


def test_lockstep_evaluation_gives_each_seed_the_same_episode(tmp_path):
    """3 evaluation episodes with 2 environments: a pair, then one alone; each seed's episode
    is the one it gets alone."""
    episodes = {}
    for envs in (1, 2):
        run = RLRun(_config(tmp_path, envs, eval_episodes=3))
        episodes[envs] = run.evaluate()["per_episode"]
        run.close()
    assert [e["seed"] for e in episodes[2]] == [e["seed"] for e in episodes[1]] and len(episodes[1]) == 3
    assert episodes[2] == episodes[1]
    assert len({e["return"] for e in episodes[1]}) == 3  # the seeds give different episodes


def test_seed_frames_must_cover_the_first_batch_of_episodes(tmp_path):
    with pytest.raises(RLRunError, match="fewer --envs"):
        RLRun(_config(tmp_path, 3, seed_frames=40))
