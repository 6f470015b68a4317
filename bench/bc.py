"""Behaviour cloning and evaluation costs.

    python bench/bc.py STORE [--demos 20] [--steps 20] [--eval-steps 100]

Training: `train_bc` for STEPS optimiser steps (batch 256, DrQ-v2 encoder, masked by the
oracle) on the first DEMOS episodes; samples/s over the training steps and the share of
step time spent waiting for the next batch (goal < 10%). Evaluation: environment steps/s
of a live episode (render, segment, stack, act, step) with each segmenter kind in the
loop; `samg` with tiny random backends (real ones: GPU work, see bench/segment.py).
"""

import argparse
import json
import os
import platform
import shutil
import tempfile
import time
from pathlib import Path

import samg.envs  # noqa: F401  (GL set-up before Lightning imports triton)
import torch

from samg.envs import FrameRenderer, make_env
from samg.il.config import BCConfig
from samg.il.policy import load_policy
from samg.il.rollout import run_episode
from samg.il.train import train_bc
from samg.segmenter.factory import SegmenterConfig, make_segmenter


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("store", type=Path)
    parser.add_argument("--demos", type=int, default=20)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--eval-steps", type=int, default=100)
    args = parser.parse_args()
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads")

    out = Path(tempfile.mkdtemp()) / "run"
    config = BCConfig(data=args.store, out=out, demos=args.demos, epochs=100, max_steps=args.steps, accelerator="cpu")
    train_bc(config, progress=False)
    training = json.loads((out / "training.json").read_text())
    print("| training | samples/s | data wait share |")
    print("|---|---|---|")
    print(f"| batch 256, {args.steps} steps | {training['samples_per_second']} | {training['data_wait_fraction']:.1%} |")

    policy = load_policy(out / "checkpoints" / "last.ckpt")
    env = make_env("door")
    print("\n| segmenter in the loop | env steps/s |")
    print("|---|---|")
    with FrameRenderer(env.task, env.model) as renderer:
        for kind, extra in (("none", {}), ("oracle", {}), ("samg (tiny random)", {"tiny": True, "random_weights": True})):
            segmenter = make_segmenter("door", SegmenterConfig(kind=kind.split()[0], adapt=False, **extra))
            start = time.perf_counter()
            run_episode(policy, env, renderer, segmenter, "video_hard", 1_000_000, 3, max_steps=args.eval_steps)
            print(f"| {kind} | {args.eval_steps / (time.perf_counter() - start):.1f} |")
    env.close()
    shutil.rmtree(out.parent)


if __name__ == "__main__":
    main()
