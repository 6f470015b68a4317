"""`samg info --check`: a whole-store validation that names the first problem it finds."""

from pathlib import Path

import numpy as np

from samg.envs import get_task
from samg.pipeline.store import DemoStore, StoreError, demo_arrays, meta_arrays


def disk_bytes(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def check_store(store: DemoStore) -> list[str]:
    """Checks in order; returns what was checked. Raises StoreError at the first problem."""
    plan, committed = store.plan, store.n_episodes
    done: list[str] = []
    if store.complete and committed != plan.episodes:
        raise StoreError(f"store says complete but has {committed} of {plan.episodes} episodes")
    store.check_episode_ends()
    steps = store.n_steps
    lengths = f"{plan.episode_length} steps" if not plan.imported else f"{steps} steps in all"
    done.append(f"episode_ends consistent ({committed} episodes of {lengths})")
    if len(np.unique(store.episode_seeds)) != committed:
        raise StoreError("meta/episode_seed repeats a seed")
    for key, _ in meta_arrays(plan):
        _read_all(store, key)
    for spec in demo_arrays(plan):  # store.array checks shapes and dtypes
        _read_all(store, spec.key, steps=steps)
    done.append(f"{len(demo_arrays(plan))} arrays: shapes, dtypes, every committed chunk decoded, floats finite")
    if plan.imported:
        done.append(f"no success signal to check: imported from {plan.source['format']}, no simulator")
        return done
    success_rule = get_task(plan.task).episode_success
    step_success = store.read("data/success", slice(steps)).reshape(committed, -1)
    recomputed = np.array([success_rule(flags) for flags in step_success], bool)
    if not np.array_equal(recomputed, store.episode_success):
        first = int(np.flatnonzero(recomputed != store.episode_success)[0])
        raise StoreError(f"meta/episode_success of episode {first} disagrees with data/success")
    done.append("episode_success agrees with the per-step success signal")
    return done


def _read_all(store: DemoStore, key: str, steps: int | None = None) -> None:
    """Decode every chunk up to `steps`, one at a time (the zstd checksum catches flipped bytes;
    `DemoStore.read` refuses NaN and infinity)."""
    array = store.array(key)
    limit = array.shape[0] if steps is None else steps
    for start in range(0, limit, array.chunks[0]):
        store.read(key, slice(start, min(start + array.chunks[0], limit)), hint="")
