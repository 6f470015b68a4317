"""A ring replay buffer of masked frames: each slot holds one observation frame (already
masked by the segmenter, so masking is paid once per environment step), the action taken
from it and the reward that followed. Frame stacks and n-step targets are built by index
at sampling time, DrQ-v2 style; an episode's last slot holds its final frame, no action."""

from pathlib import Path

import numpy as np


class ReplayBuffer:
    def __init__(self, capacity: int, frame_shape: tuple[int, ...], action_dim: int, stack: int, nstep: int, discount: float):
        self.capacity, self.stack, self.nstep, self.discount = capacity, stack, nstep, discount
        self.frames = np.zeros((capacity, *frame_shape), np.uint8)
        self.actions = np.zeros((capacity, action_dim), np.float32)
        self.rewards = np.zeros(capacity, np.float32)
        self.episode = np.full(capacity, -1, np.int64)  # episode id of each slot, -1: empty
        self.step = np.zeros(capacity, np.int64)  # index of the slot within its episode
        self.has_action = np.zeros(capacity, bool)
        self.cursor = 0
        self.episodes_started = 0

    def __len__(self) -> int:
        return int((self.episode >= 0).sum())

    def start_episode(self, frame: np.ndarray) -> None:
        self.episodes_started += 1
        self._write(frame, step=0)

    def add(self, action: np.ndarray, reward: float, next_frame: np.ndarray) -> None:
        """The action taken from the last frame, its reward, and the frame it led to."""
        last = (self.cursor - 1) % self.capacity
        self.actions[last], self.rewards[last], self.has_action[last] = action, reward, True
        self._write(next_frame, step=int(self.step[last]) + 1)

    def _write(self, frame: np.ndarray, step: int) -> None:
        at = self.cursor
        self.frames[at], self.episode[at], self.step[at] = frame, self.episodes_started - 1, step
        self.has_action[at] = False
        self.cursor = (at + 1) % self.capacity

    def _valid_starts(self) -> np.ndarray:
        """Slots whose whole frame stack and n actions ahead are of one episode, in the buffer."""
        slots = np.arange(self.capacity)
        ends = (slots + self.nstep) % self.capacity
        first = (slots - np.minimum(self.stack - 1, self.step)) % self.capacity  # oldest frame of the stack
        same = (self.episode >= 0) & (self.episode[ends] == self.episode) & (self.step[ends] == self.step + self.nstep)
        same &= self.episode[first] == self.episode  # not overwritten by a newer episode
        return np.flatnonzero(same & self.has_action)

    def _stacks(self, slots: np.ndarray) -> np.ndarray:
        back = np.minimum(np.arange(self.stack - 1, -1, -1)[None, :], self.step[slots][:, None])
        index = (slots[:, None] - back) % self.capacity  # (B, stack), oldest first
        stacked = self.frames[index]  # (B, stack, H, W, 3)
        batch, stack, height, width, channels = stacked.shape
        return stacked.transpose(0, 1, 4, 2, 3).reshape(batch, stack * channels, height, width)

    def sample(self, batch_size: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
        starts = self._valid_starts()
        if len(starts) == 0:
            raise ValueError("the replay buffer has no complete n-step transition yet")
        slots = rng.choice(starts, size=batch_size)
        offsets = (slots[:, None] + np.arange(self.nstep)[None, :]) % self.capacity
        reward = (self.rewards[offsets] * self.discount ** np.arange(self.nstep)[None, :]).sum(1)
        return {
            "obs": self._stacks(slots),
            "action": self.actions[slots],
            "reward": reward.astype(np.float32),
            "discount": np.full(batch_size, self.discount**self.nstep, np.float32),
            "next_obs": self._stacks((slots + self.nstep) % self.capacity),
        }

    # ---- resume ----------------------------------------------------------------------------

    FIELDS = ("frames", "actions", "rewards", "episode", "step", "has_action")

    def save(self, path: Path) -> None:
        arrays = {name: getattr(self, name) for name in self.FIELDS}
        np.savez(path, cursor=self.cursor, episodes_started=self.episodes_started, **arrays)

    def load(self, path: Path) -> None:
        with np.load(path, allow_pickle=False) as saved:
            for name in self.FIELDS:
                if saved[name].shape != getattr(self, name).shape:
                    raise ValueError(f"replay {name} has shape {saved[name].shape}, expected {getattr(self, name).shape}")
                setattr(self, name, saved[name].copy())
            self.cursor, self.episodes_started = int(saved["cursor"]), int(saved["episodes_started"])
