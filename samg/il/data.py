"""Demo frames for behaviour cloning, held in memory as uint8 (300 door demos at 84 px:
1.3 GB), with frame stacks built by index and batches gathered in one indexing op."""

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pytorch_lightning as pl
import torch
from rich.progress import track
from torch.utils.data import DataLoader, Dataset

from samg.envs import get_task, make_env
from samg.envs.proprio import ProprioReader, policy_proprio_reader
from samg.il.config import BCConfig
from samg.pipeline.masks import SIMPLE_VIEWS, MaskSet, masked_episodes
from samg.pipeline.store import DemoStore, StoreError, require_chunks


def stack_indices(lengths: Sequence[int], stack: int) -> np.ndarray:
    """(N, stack) step indices of consecutive episodes of `lengths` steps: each step with its
    `stack - 1` predecessors, the episode's first frame repeated at its start (as the
    evaluation's frame stack does)."""
    offsets = np.arange(-(stack - 1), 1)
    starts = np.cumsum((0, *lengths))[:-1]
    parts = [start + np.clip(np.arange(n)[:, None] + offsets[None, :], 0, None) for start, n in zip(starts, lengths)]
    return np.concatenate(parts).reshape(-1, stack) if parts else np.zeros((0, stack), np.int64)


@dataclass(frozen=True)
class Normalizer:
    """Mean and std of proprioception and actions, saved with the policy."""

    proprio_mean: np.ndarray
    proprio_std: np.ndarray
    action_mean: np.ndarray
    action_std: np.ndarray

    @classmethod
    def fit(cls, proprio: np.ndarray, action: np.ndarray) -> "Normalizer":
        def std(x):
            return np.maximum(x.std(0), 1e-3)

        return cls(proprio.mean(0), std(proprio), action.mean(0), std(action))

    def to_dict(self) -> dict[str, list[float]]:
        return {key: np.asarray(value, float).tolist() for key, value in self.__dict__.items()}

    @classmethod
    def from_dict(cls, values: dict) -> "Normalizer":
        return cls(**{key: np.asarray(value, np.float32) for key, value in values.items()})


class DemoFrames(Dataset):
    """Episodes of one store: (stack x 3, H, W) uint8 frames, proprio and action per step."""

    def __init__(self, frames: np.ndarray, proprio: np.ndarray, action: np.ndarray, lengths: Sequence[int], stack: int):
        self.frames = torch.from_numpy(frames)  # (T, H, W, 3) uint8
        self.proprio = torch.from_numpy(proprio.astype(np.float32))
        self.action = torch.from_numpy(action.astype(np.float32))
        self.index = torch.from_numpy(stack_indices(lengths, stack))

    def __len__(self) -> int:
        return len(self.index)

    def __getitems__(self, indices: list[int]) -> dict[str, torch.Tensor]:
        """A whole batch in one gather (the DataLoader calls this instead of per-item access)."""
        rows = torch.as_tensor(indices)
        stacks = self.frames[self.index[rows]]  # (B, S, H, W, 3)
        batch, stack, height, width, _ = stacks.shape
        return {
            "frames": stacks.permute(0, 1, 4, 2, 3).reshape(batch, stack * 3, height, width),
            "proprio": self.proprio[rows],
            "action": self.action[rows],
        }

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        return {key: value[0] for key, value in self.__getitems__([index]).items()}


def _whole_batch(batch):
    return batch


def stored_proprio_reader(store: DemoStore, config: BCConfig) -> ProprioReader | None:
    """What reads the policy's proprioception from simulator states; None: the stored `data/proprio`
    (RL-ViGen's, which `hand` reads too)."""
    if config.proprio == "hand":
        return None  # no environment needed
    if store.plan.imported:
        raise StoreError(
            f"{store.path} is imported: it has no simulator states to read --proprio {config.proprio} from; "
            f"use --proprio hand (its stored proprio)"
        )
    task = get_task(store.plan.task)
    env = make_env(task)
    try:
        return policy_proprio_reader(task, env.model, config.proprio)
    finally:
        env.close()


def load_episodes(
    store: DemoStore, config: BCConfig, episodes: range, reader: ProprioReader | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    steps = np.concatenate([np.arange(*store.episode_slice(e).indices(store.n_steps)) for e in episodes])
    # low-dimensional arrays before the frames: NaN is refused early
    proprio = store.read("data/proprio", steps) if reader is None else reader(store.read("data/sim_state", steps))
    action = store.read("data/action", steps)
    frames = list(
        track(
            masked_episodes(store, config.setting, config.mask_source, episodes),
            total=len(episodes),
            description=f"loading {config.setting} frames ({config.mask_source})",
            transient=True,
        )
    )
    return np.concatenate(frames), proprio, action


class DemoDataModule(pl.LightningDataModule):
    """Episodes split into training and validation (the last `val_fraction` of them)."""

    def __init__(self, config: BCConfig):
        super().__init__()
        self.config = config
        self.store = DemoStore(config.data)
        available = self.store.n_episodes
        count = config.demos or available
        if count > available:
            raise StoreError(f"--demos {count}: {config.data} has {available} episodes")
        n_val = int(round(count * config.val_fraction))
        if count - n_val < 1:
            raise StoreError(f"--demos {count} leaves no episode to train on")
        self.train_episodes, self.val_episodes = range(count - n_val), range(count - n_val, count)
        self._require_inputs(count)
        self.normalizer: Normalizer | None = None
        self.train_set = self.val_set = None
        self.proprio_reader = stored_proprio_reader(self.store, config)

    @property
    def proprio_dim(self) -> int:
        return self.store.plan.proprio_dim if self.proprio_reader is None else self.proprio_reader.dim

    def _require_inputs(self, count: int) -> None:
        """Refuse missing chunks, an unknown setting or mask set before any frame is loaded."""
        config, store = self.config, self.store
        if config.setting not in store.plan.settings:
            raise StoreError(f"{config.data} has no setting {config.setting!r}; it has {', '.join(store.plan.settings)}")
        keys = ["data/proprio" if config.proprio == "hand" else "data/sim_state", "data/action", f"images/{config.setting}/rgb"]
        if config.mask_source == "oracle":
            keys.append("masks/gt")
        elif config.mask_source not in SIMPLE_VIEWS:
            mask_set = MaskSet(store, config.mask_source)
            for episode in range(count):
                mask_set.require_episode(config.setting, episode)
        store.check_episode_ends()
        for key in keys:
            require_chunks(store.array(key), slice(store.episode_slice(count - 1).stop))

    @property
    def episode_seeds(self) -> list[int]:
        return [int(s) for s in self.store.episode_seeds[: self.val_episodes.stop]]

    def setup(self, stage: str | None = None) -> None:
        if self.train_set is not None:
            return
        lengths, stack = self.store.episode_lengths, self.config.frame_stack
        train = load_episodes(self.store, self.config, self.train_episodes, self.proprio_reader)
        self.normalizer = Normalizer.fit(train[1], train[2])
        self.train_set = DemoFrames(*train, lengths[self.train_episodes.start : self.train_episodes.stop], stack)
        if len(self.val_episodes):
            val = load_episodes(self.store, self.config, self.val_episodes, self.proprio_reader)
            self.val_set = DemoFrames(*val, lengths[self.val_episodes.start : self.val_episodes.stop], stack)

    def _loader(self, dataset: DemoFrames, shuffle: bool) -> DataLoader:
        generator = torch.Generator().manual_seed(self.config.seed)
        devices = self.trainer.world_size if self.trainer is not None else 1
        batch_size = self.config.batch_size // devices  # the global batch, split (samg.il.train)
        return DataLoader(dataset, batch_size=batch_size, shuffle=shuffle, collate_fn=_whole_batch, generator=generator)

    def train_dataloader(self) -> DataLoader:
        return self._loader(self.train_set, shuffle=True)

    def val_dataloader(self) -> DataLoader | list:
        return [] if self.val_set is None else self._loader(self.val_set, shuffle=False)
