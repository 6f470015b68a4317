"""Checkpoints of an RL run, taken at every episode end (with N environments in lockstep,
when the N episodes end) and committed in one step.

    checkpoint/state.json                 the commit: counters, numpy random state, the run's config
                                          and parts (samg.rl.train), names below
    checkpoint/agent_<episodes>.pt        networks, optimisers, torch (and CUDA) random states
    checkpoint/replay/episode_<id>.npz    each finished episode, compressed, written once

Every file is written to a temporary name and renamed into place; `state.json` is renamed
last, so a crash at any point leaves the previous checkpoint whole. Files newer than the
commit (or no longer needed by it) are removed on the next save or load.
"""

import json
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from samg.il.config import read_json
from samg.rl.replay import ReplayBuffer
from samg.safe_load import safe_torch_load


def atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    """`write` to a temporary file beside `path`, flush it to disk, then rename it over `path`."""
    temporary = path.with_name(path.name + ".tmp")
    write(temporary)
    with open(temporary, "rb+") as handle:
        os.fsync(handle.fileno())
    os.replace(temporary, path)


class Checkpoint:
    def __init__(self, directory: Path):
        self.directory = directory
        self.replay_dir = directory / "replay"

    @property
    def state_file(self) -> Path:
        return self.directory / "state.json"

    def exists(self) -> bool:
        return self.state_file.is_file()

    def _episode_file(self, episode_id: int) -> Path:
        return self.replay_dir / f"episode_{episode_id:07d}.npz"

    def save(self, agent_state: dict, replay: ReplayBuffer, state: dict, episodes: list[dict]) -> None:
        """After episode ends: the new episodes (`replay.last_episode()` records), the agent,
        then the commit."""
        self.replay_dir.mkdir(parents=True, exist_ok=True)
        for record in episodes:
            atomic_write(self._episode_file(int(record["episode_id"])), lambda path, r=record: _write_npz(path, r))
        agent_file = f"agent_{replay.episodes_started:07d}.pt"
        atomic_write(self.directory / agent_file, lambda path: torch.save(agent_state, path))
        state = {**state, "agent_file": agent_file, "replay_episodes": [replay.oldest_episode_held(), replay.episodes_started]}
        atomic_write(self.state_file, lambda path: path.write_text(json.dumps(state, indent=1) + "\n"))
        self._remove_uncommitted(state)

    def state(self) -> dict:
        return read_json(self.state_file, "RL checkpoint state")

    def load(self, replay: ReplayBuffer, device: torch.device) -> tuple[dict, dict]:
        """(agent state, run state) of the commit; `replay` is rebuilt from its episodes."""
        state = self.state()
        self._remove_uncommitted(state)
        first, end = state["replay_episodes"]
        for episode_id in range(first, end):
            with np.load(self._episode_file(episode_id), allow_pickle=False) as saved:
                replay.restore_episode({name: saved[name] for name in saved.files})
        agent_state = safe_torch_load(self.directory / state["agent_file"], "RL agent checkpoint", map_location=device)
        return agent_state, state

    def _remove_uncommitted(self, state: dict) -> None:
        """Temporaries, older agents, episodes the replay no longer holds or that came after the commit."""
        first, end = state["replay_episodes"]
        for path in [*self.directory.glob("*"), *self.replay_dir.glob("*")]:
            if path.is_dir() or path == self.state_file or path.name == state["agent_file"]:
                continue
            if path.name.startswith("episode_") and path.suffix == ".npz" and first <= int(path.stem.split("_")[1]) < end:
                continue
            path.unlink()


def _write_npz(path: Path, record: dict) -> None:
    with open(path, "wb") as handle:
        np.savez_compressed(handle, **record)
