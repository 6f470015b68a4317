"""Collection throughput against the render floor, and its scaling with workers.

    python bench/collect.py [--task door] [--episodes 6] [--settings all] [--expert PATH]

The floor is the cost of rendering the same frames alone (every setting and the mask of
each recorded state, in one process on one core, no physics, no compression, no writes). Collection
is timed end to end (`samg.rl_collect.collect`, pool start included) with 1 and 2 workers.
Frames are states x settings, as the progress bar counts them.
"""

import argparse
import os
import platform
import tempfile
import time
from pathlib import Path

os.environ.setdefault("LP_NUM_THREADS", "1")  # the floor on one core, as each worker renders

import samg.envs  # noqa: F401  (GL set-up first)
from samg.envs import FrameRenderer, get_task, make_env, parse_settings
from samg.rl_collect.collect import CollectConfig, collect
from samg.rl_collect.experts import load_expert
from samg.rl_collect.rollout import render_episode, rollout_episode


def render_floor(task: str, episodes: int, settings: tuple[str, ...], expert_path: Path | None) -> float:
    """Frames per second of rendering alone, for the episodes collection will keep."""
    env = make_env(task)
    expert = load_expert(task, expert_path)
    rollouts = [rollout_episode(env, expert, seed) for seed in range(episodes)]
    with FrameRenderer(get_task(task), env.model) as renderer:
        start = time.perf_counter()
        for rollout in rollouts:
            render_episode(renderer, rollout, settings)
        seconds = time.perf_counter() - start
    env.close()
    return sum(r.length for r in rollouts) * len(settings) / seconds


def collect_fps(task: str, episodes: int, settings: tuple[str, ...], workers: int, expert_path: Path | None) -> float:
    with tempfile.TemporaryDirectory() as directory:
        config = CollectConfig(
            task=task, episodes=episodes, out=Path(directory) / "bench.zarr", settings=settings,
            workers=workers, keep_failures=True, expert_path=expert_path,
        )  # fmt: skip
        start = time.perf_counter()
        collect(config)
        seconds = time.perf_counter() - start
    return episodes * get_task(task).episode_length * len(settings) / seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--task", default="door")
    parser.add_argument("--episodes", type=int, default=6)
    parser.add_argument("--settings", default="all")
    parser.add_argument("--expert", type=Path, default=None)
    args = parser.parse_args()
    settings = parse_settings(args.settings)
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores; {args.task}, {args.episodes} episodes, "
          f"{len(settings)} settings, 84x84")
    floor = render_floor(args.task, args.episodes, settings, args.expert)
    one = collect_fps(args.task, args.episodes, settings, 1, args.expert)
    two = collect_fps(args.task, args.episodes, settings, 2, args.expert)
    print("| run | frames/s | per worker vs floor | vs 1 worker |")
    print("|---|---|---|---|")
    print(f"| render floor (1 process) | {floor:.0f} | 1.00 | - |")
    print(f"| collect, 1 worker | {one:.0f} | {one / floor:.2f} | 1.00 |")
    print(f"| collect, 2 workers | {two:.0f} | {two / 2 / floor:.2f} | {two / one:.2f} |")


if __name__ == "__main__":
    main()
