"""Costs of the online RL loop: environment frames/s (render + mask + step, action repeat
2) with each segmenter kind, and DrQ-v2 updates/s.

    python bench/rl.py [--task cartpole_swingup] [--steps 100] [--batch-size 256] [--image-size 84]

`samg` uses tiny random backends (full-size SAM-G costs ~3.6 s a frame on this CPU, see
bench/segment.py); updates are timed on a replay filled by the `none` run.
"""

import argparse
import os
import platform
import shutil
import tempfile
import time
from pathlib import Path

import samg.envs  # noqa: F401  (GL set-up first)
import numpy as np
import torch

from samg.envs import get_task
from samg.rl.train import RLConfig, RLRun
from samg.segmenter.factory import SegmenterConfig
from samg.segmenter.prompts import build_prompt, save_prompt


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--task", default="cartpole_swingup")
    parser.add_argument("--steps", type=int, default=100, help="agent steps per segmenter kind")
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--image-size", type=int, default=84)
    args = parser.parse_args()
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads; {args.task}, {args.image_size} px")
    scratch = Path(tempfile.mkdtemp())
    prompts = scratch / "prompts"
    save_prompt(build_prompt(get_task(args.task)), prompts)
    print("| segmenter | env frames/s |")
    print("|---|---|")
    filled = None
    for kind, extra in (("none", {}), ("oracle", {}), ("samg (tiny random)", {"tiny": True, "random_weights": True})):
        segmenter = SegmenterConfig(kind=kind.split()[0], prompts_root=prompts, **extra)
        config = RLConfig(task=args.task, out=scratch / kind, segmenter=segmenter, image_size=args.image_size,
                          replay_size=10_000)  # fmt: skip
        run = RLRun(config)
        env = run.masked_envs("train")
        rng = np.random.default_rng(0)
        run.replay.start_episode(env.reset([0])[0])
        start = time.perf_counter()
        for _ in range(args.steps):
            frames, rewards, done = env.step(rng.uniform(-1, 1, (1, env.action_dim)).astype(np.float32))
            run.replay.add(np.zeros(env.action_dim, np.float32), rewards[0], frames[0])
            if done:
                run.replay.finish_episode()
                run.replay.start_episode(env.reset([1])[0])
        run.replay.finish_episode()  # updates sample finished episodes only
        print(f"| {kind} | {args.steps * config.action_repeat / (time.perf_counter() - start):.1f} |")
        if filled is None:
            filled = run
        else:
            run.close()
    updates = 5
    filled.agent.update(filled.replay.sample(args.batch_size, rng), 0)  # warm-up
    start = time.perf_counter()
    for _ in range(updates):
        filled.agent.update(filled.replay.sample(args.batch_size, rng), 0)
    print(f"\nDrQ-v2 updates/s at batch {args.batch_size}: {updates / (time.perf_counter() - start):.2f}")
    filled.close()
    shutil.rmtree(scratch)


if __name__ == "__main__":
    main()
