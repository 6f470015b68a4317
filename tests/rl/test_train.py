import torch

from samg.rl.config import RLConfig
from samg.rl.train import RLRun


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
