"""One expert episode: physics first (cheap), frames afterwards from the recorded states.

Step t records the observation before action t (state, proprio, simulator state, the
frames), action t, and the reward and success signal that action t produced.

With action noise (DART, Laskey et al. 2017) the environment gets the expert's action plus
Gaussian noise, and the label stays the expert's clean action at the state it reached: the
demos then show how the expert recovers from the small errors a cloned policy makes. The
noise is drawn from the episode's seed alone, so an episode replays exactly from it.
"""

from dataclasses import dataclass

import numpy as np

from samg.envs import FrameRenderer, TaskEnv
from samg.rl_collect.experts import Expert


@dataclass(frozen=True)
class EpisodeRollout:
    seed: int
    action: np.ndarray  # (L, A) float32
    state: np.ndarray  # (L, S) float32
    proprio: np.ndarray  # (L, P) float32
    reward: np.ndarray  # (L,) float32
    success: np.ndarray  # (L,) bool
    sim_state: np.ndarray  # (L, Q) float64
    episode_success: bool
    executed_action: np.ndarray | None = None  # (L, A) float32: what the env got, when noise was added

    @property
    def length(self) -> int:
        return len(self.action)

    @property
    def episode_return(self) -> float:
        return float(self.reward.sum(dtype=np.float64))


NOISE_STREAM = 0xDA27  # the noise's random stream: (episode seed, this) seeds it


def action_noise(seed: int, length: int, action_dim: int, std: float) -> np.ndarray:
    """(length, action_dim) float32 noise of episode `seed`: a pure function of its arguments."""
    rng = np.random.default_rng([int(seed), NOISE_STREAM])
    return (rng.standard_normal((length, action_dim)) * std).astype(np.float32)


def rollout_episode(env: TaskEnv, expert: Expert, seed: int, noise: float = 0.0) -> EpisodeRollout:
    """One episode of the expert; with `noise` > 0 the executed actions carry seeded noise."""
    length = env.task.episode_length
    step = env.reset(seed)
    perturbation = action_noise(seed, length, env.action_dim, noise) if noise > 0 else None
    records: dict[str, list] = {key: [] for key in ("action", "executed", "state", "proprio", "reward", "success", "sim_state")}
    for t in range(length):
        # the float32 action is what the store keeps, so it is what the env gets: replays are exact
        action = np.clip(expert.act(step.state), -1.0, 1.0).astype(np.float32)
        executed = action if perturbation is None else np.clip(action + perturbation[t], -1.0, 1.0)
        records["state"].append(step.state)
        records["proprio"].append(step.proprio)
        records["sim_state"].append(step.sim_state)
        step = env.step(executed)
        records["action"].append(action)
        records["executed"].append(executed)
        records["reward"].append(step.reward)
        records["success"].append(step.success)
    success = np.array(records["success"], bool)
    return EpisodeRollout(
        seed=int(seed),
        action=np.asarray(records["action"], np.float32),
        state=np.asarray(records["state"], np.float32),
        proprio=np.asarray(records["proprio"], np.float32).reshape(length, -1),
        reward=np.asarray(records["reward"], np.float32),
        success=success,
        sim_state=np.asarray(records["sim_state"], np.float64),
        episode_success=env.task.episode_success(success),
        executed_action=None if perturbation is None else np.asarray(records["executed"], np.float32),
    )


def render_episode(
    renderer: FrameRenderer, rollout: EpisodeRollout, settings: tuple[str, ...]
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Frames of every setting and the ground-truth masks, from the recorded states."""
    size = renderer.image_size
    images = {name: np.empty((rollout.length, size, size, 3), np.uint8) for name in settings}
    masks = np.empty((rollout.length, size, size), np.uint8)
    for t, sim_state in enumerate(rollout.sim_state):
        for name, rgb in renderer.render_settings(sim_state, settings, rollout.seed, t).items():
            images[name][t] = rgb
        masks[t] = renderer.object_mask()
    return images, masks
