"""A ring replay buffer of masked frames: each slot holds one observation frame (already
masked by the segmenter, so masking is paid once per environment step), the action taken
from it and the reward that followed. Frame stacks and n-step targets are built by index
at sampling time, DrQ-v2 style; an episode's last slot holds its final frame, no action.

As in DrQ-v2, only finished episodes are sampled. The ring keeps the newest `capacity`
frames (DrQ-v2 drops whole old episodes; here an old episode loses its oldest frames
first, and a transition is dropped as soon as any frame it needs is overwritten).
Memory grows with use, up to `capacity` slots, so a large capacity costs nothing until
it is filled."""

import numpy as np

_FIRST_ALLOCATION = 4096  # slots


class ReplayBuffer:
    def __init__(self, capacity: int, frame_shape: tuple[int, ...], action_dim: int, stack: int, nstep: int, discount: float):
        self.capacity, self.stack, self.nstep, self.discount = capacity, stack, nstep, discount
        self.frame_shape, self.action_dim = tuple(frame_shape), action_dim
        for name, array in self._empty(min(capacity, _FIRST_ALLOCATION)).items():
            setattr(self, name, array)
        self.cursor = 0
        self.episodes_started = 0
        self.running_start: int | None = None  # slot of the running episode's first frame

    def _empty(self, slots: int) -> dict[str, np.ndarray]:
        return {
            "frames": np.zeros((slots, *self.frame_shape), np.uint8),
            "actions": np.zeros((slots, self.action_dim), np.float32),
            "rewards": np.zeros(slots, np.float32),
            "episode": np.full(slots, -1, np.int64),  # episode id of each slot, -1: empty
            "step": np.zeros(slots, np.int64),  # index of the slot within its episode
            "has_action": np.zeros(slots, bool),
            "sampleable": np.zeros(slots, bool),  # start of an n-step transition of a finished episode
        }

    def __len__(self) -> int:
        """Frames held."""
        return int((self.episode >= 0).sum())

    def start_episode(self, frame: np.ndarray) -> None:
        self.episodes_started += 1
        self.running_start = self.cursor
        self._write(frame, step=0)

    def add(self, action: np.ndarray, reward: float, next_frame: np.ndarray) -> None:
        """The action taken from the last frame, its reward, and the frame it led to."""
        last = (self.cursor - 1) % self.capacity
        if self.cursor == self.running_start:
            raise ValueError(f"an episode is longer than the replay's {self.capacity} slots: raise the replay size")
        self.actions[last], self.rewards[last], self.has_action[last] = action, reward, True
        self._write(next_frame, step=int(self.step[last]) + 1)

    def finish_episode(self) -> None:
        """The running episode is over: its transitions may now be sampled."""
        slots = self._running_slots()
        self.sampleable[slots[: max(len(slots) - self.nstep, 0)]] = True
        self.running_start = None

    def _running_slots(self) -> np.ndarray:
        length = (self.cursor - self.running_start) % self.capacity or self.capacity
        return (self.running_start + np.arange(length)) % self.capacity

    def _write(self, frame: np.ndarray, step: int) -> None:
        at = self.cursor
        if at >= len(self.episode):
            self._grow(at + 1)
        if self.episode[at] >= 0:  # overwriting: drop the transitions that need this frame
            window = (at + np.arange(-self.nstep, self.stack)) % self.capacity
            window = window[window < len(self.episode)]
            self.sampleable[window[self.episode[window] == self.episode[at]]] = False
        self.frames[at], self.episode[at], self.step[at] = frame, self.episodes_started - 1, step
        self.actions[at], self.rewards[at] = 0.0, 0.0  # no stale values: a rebuilt buffer is the same
        self.has_action[at] = self.sampleable[at] = False
        self.cursor = (at + 1) % self.capacity

    def _grow(self, slots: int) -> None:
        extra = self._empty(min(self.capacity, max(2 * len(self.episode), slots)) - len(self.episode))
        for name, array in extra.items():
            setattr(self, name, np.concatenate([getattr(self, name), array]))

    def _stacks(self, slots: np.ndarray) -> np.ndarray:
        back = np.minimum(np.arange(self.stack - 1, -1, -1)[None, :], self.step[slots][:, None])
        index = (slots[:, None] - back) % self.capacity  # (B, stack), oldest first
        stacked = self.frames[index]  # (B, stack, H, W, 3)
        batch, stack, height, width, channels = stacked.shape
        return stacked.transpose(0, 1, 4, 2, 3).reshape(batch, stack * channels, height, width)

    def sample(self, batch_size: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
        starts = np.flatnonzero(self.sampleable)
        if len(starts) == 0:
            raise ValueError("the replay buffer has no finished episode with an n-step transition yet")
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

    # ---- resume: one record per finished episode, replayed in order --------------------------

    def last_episode(self) -> dict[str, np.ndarray]:
        """The episode that just finished, as `restore_episode` takes it."""
        last = (self.cursor - 1) % self.capacity
        slots = (last - np.arange(int(self.step[last]), -1, -1)) % self.capacity
        return {
            "episode_id": np.int64(self.episode[last]),
            "start": np.int64(slots[0]),
            "frames": self.frames[slots],
            "actions": self.actions[slots[:-1]],
            "rewards": self.rewards[slots[:-1]],
        }

    def restore_episode(self, record: dict[str, np.ndarray]) -> None:
        """Write a finished episode back where it was: replaying the records of every episode
        still (partly) held, oldest first, rebuilds the buffer exactly."""
        self.episodes_started, self.cursor = int(record["episode_id"]), int(record["start"])
        self.start_episode(record["frames"][0])
        for action, reward, frame in zip(record["actions"], record["rewards"], record["frames"][1:], strict=True):
            self.add(action, float(reward), frame)
        self.finish_episode()

    def oldest_episode_held(self) -> int:
        return int(self.episode[self.episode >= 0].min())
