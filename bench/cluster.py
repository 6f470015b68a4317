"""Collection on dask with 1 and 2 workers: end-to-end seconds (cluster start included).

    python bench/cluster.py [--task door] [--episodes 4] [--settings train] [--image-size 84]
                            [--expert PATH] [--scheduler processes|tcp://HOST:PORT]

With `processes` the workers are a local dask cluster of one-thread worker processes; with
an address, the command measures the workers already attached (start them yourself).
"""

import argparse
import os
import platform
import tempfile
import time
from pathlib import Path

import samg.envs  # noqa: F401  (GL set-up first)
from samg.envs import parse_settings
from samg.rl_collect.collect import CollectConfig, collect


def seconds(config: CollectConfig) -> float:
    started = time.perf_counter()
    collect(config)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", default="door")
    parser.add_argument("--episodes", type=int, default=4)
    parser.add_argument("--settings", default="train")
    parser.add_argument("--image-size", type=int, default=84)
    parser.add_argument("--expert", type=Path, default=None)
    parser.add_argument("--workers", default="1,2")
    args = parser.parse_args()
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}")
    print(f"{args.task}: {args.episodes} episodes, settings {args.settings}, {args.image_size} px, keep failures")
    print("| dask workers | seconds | episodes/s | speed-up |\n| --- | --- | --- | --- |")
    base = None
    for workers in (int(w) for w in args.workers.split(",")):
        with tempfile.TemporaryDirectory() as folder:
            config = CollectConfig(task=args.task, episodes=args.episodes, out=Path(folder) / "s.zarr",
                                   settings=parse_settings(args.settings), workers=workers, image_size=args.image_size,
                                   keep_failures=True, expert_path=args.expert, scheduler="processes")  # fmt: skip
            took = seconds(config)
        base = base or took
        print(f"| {workers} | {took:.1f} | {args.episodes / took:.3f} | {base / took:.2f} |", flush=True)


if __name__ == "__main__":
    main()
