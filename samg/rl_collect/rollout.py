"""One expert episode: physics first (cheap), frames afterwards from the recorded states.

Step t records the observation before action t (state, proprio, simulator state, the
frames), action t, and the reward and success signal that action t produced.
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

    @property
    def length(self) -> int:
        return len(self.action)

    @property
    def episode_return(self) -> float:
        return float(self.reward.sum(dtype=np.float64))


def rollout_episode(env: TaskEnv, expert: Expert, seed: int) -> EpisodeRollout:
    length = env.task.episode_length
    step = env.reset(seed)
    records: dict[str, list] = {key: [] for key in ("action", "state", "proprio", "reward", "success", "sim_state")}
    for _ in range(length):
        # the float32 action is what the store keeps, so it is what the env gets: replays are exact
        action = np.clip(expert.act(step.state), -1.0, 1.0).astype(np.float32)
        records["state"].append(step.state)
        records["proprio"].append(step.proprio)
        records["sim_state"].append(step.sim_state)
        step = env.step(action)
        records["action"].append(action)
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
