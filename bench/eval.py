"""Env-steps/s of the `samg eval` rollout loop on this CPU at --envs 1, 4, 8 (one process).

    python bench/eval.py [--steps 50] [--envs 1,4,8] [--student PATH]

Door, `video_hard` (rendered backgrounds), 84 px, a BC policy of the default size with
random weights (its cost does not depend on the values), the oracle in the loop, and the
student too when --student names a file from `samg distill`. Each figure times
`run_episodes` (render + segment + act + step, the code `samg eval` runs) for --steps steps
after a one-step warm-up.
"""

import argparse
import os
import platform
import time
from pathlib import Path

import samg.envs  # noqa: F401  (GL set-up first)
import torch

from samg.envs import FrameRenderer, get_task, make_env
from samg.il.policy import BCPolicy
from samg.il.rollout import EpisodeJob, run_episodes
from samg.segmenter.factory import SegmenterConfig, make_segmenter


def env_steps_per_second(segmenter, envs: int, steps: int) -> float:
    task = get_task("door")
    environments = [make_env(task) for _ in range(envs)]
    renderer = FrameRenderer(task, environments[0].model)
    action_dim = environments[0].action_dim
    normalizer = {"proprio_mean": [0.0] * task.proprio_dim, "proprio_std": [1.0] * task.proprio_dim,
                  "action_mean": [0.0] * action_dim, "action_std": [1.0] * action_dim}  # fmt: skip
    policy = BCPolicy(9, renderer.image_size, task.proprio_dim, action_dim, normalizer).eval()
    jobs = [EpisodeJob("video_hard", 1_000_000 + i) for i in range(envs)]
    try:
        run_episodes(policy, environments, renderer, segmenter, jobs, 3, max_steps=1)
        started = time.perf_counter()
        run_episodes(policy, environments, renderer, segmenter, jobs, 3, max_steps=steps)
        return envs * steps / (time.perf_counter() - started)
    finally:
        renderer.close()
        for env in environments:
            env.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--envs", default="1,4,8")
    parser.add_argument("--student", type=Path, default=None)
    args = parser.parse_args()
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads; door video_hard, 84 px, {args.steps} steps")  # fmt: skip
    kinds = {"oracle": SegmenterConfig(kind="oracle")}
    if args.student is not None:
        kinds["student"] = SegmenterConfig(kind="student", student=args.student)
    print("| segmenter | --envs | env-steps/s |\n|---|---|---|")
    for name, config in kinds.items():
        segmenter = make_segmenter("door", config)
        for envs in (int(n) for n in args.envs.split(",")):
            print(f"| {name} | {envs} | {env_steps_per_second(segmenter, envs, args.steps):.1f} |", flush=True)


if __name__ == "__main__":
    main()
