"""Rendering cost per visual setting against the plain MuJoCo render of the same frames.

    python bench/render.py [--tasks door,hammer,pen] [--frames 100] [--size 84] [--repeats 7]

The floor is the bare render of an already-posed frame (update scene, draw, read
pixels) with the same tuned context, without shadows. A setting's cost includes
everything it adds: setting the stored state, posing, applying the look, compositing the
background. Each setting is timed without shadows (samg's default) and with the
benchmark's shadows (4096 shadow map), the measurement behind that default.
Missing benchmark files are allowed here (SAMG_ALLOW_MISSING_ASSETS=1).
"""

import argparse
import copy
import os
import platform
import time

os.environ.setdefault("SAMG_ALLOW_MISSING_ASSETS", "1")

import samg.envs  # noqa: F401  (GL set-up first)
import mujoco
import numpy as np

from samg.envs import SETTING_NAMES, FrameRenderer, get_task, make_env
from samg.envs.preview import smooth_random_actions
from samg.envs.scene import SceneRenderer


def episode_states(task: str, frames: int, seed: int = 0) -> tuple[object, list[np.ndarray]]:
    env = make_env(task)
    step = env.reset(seed)
    states = [step.sim_state]
    for action in smooth_random_actions(env.action_dim, frames - 1, seed):
        states.append(env.step(action).sim_state)
    return env, states


def per_frame_ms(variants: dict, states: list[np.ndarray], repeats: int) -> dict[str, float]:
    """Best time per frame of each variant; passes interleave so machine noise hits all alike."""
    best = dict.fromkeys(variants, float("inf"))
    for _ in range(repeats):
        for name, render in variants.items():
            start = time.perf_counter()
            for t, state in enumerate(states):
                render(state, t)
            best[name] = min(best[name], (time.perf_counter() - start) / len(states))
    return {name: seconds * 1e3 for name, seconds in best.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tasks", default="door,hammer,pen")
    parser.add_argument("--frames", type=int, default=100)
    parser.add_argument("--size", type=int, default=84)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"MUJOCO_GL={os.environ['MUJOCO_GL']}, {args.size}x{args.size}, {args.frames} frames")
    columns = [*SETTING_NAMES, *(f"{s} +shadows" for s in SETTING_NAMES), "gt mask"]
    header = f"| task | floor fps | {' | '.join(f'{c} x floor' for c in columns)} |"
    print(header)
    print("|" + "---|" * (header.count("|") - 1))
    for name in args.tasks.split(","):
        task = get_task(name)
        env, states = episode_states(name, args.frames)
        with FrameRenderer(task, env.model, args.size) as renderer, FrameRenderer(
            task, env.model, args.size, shadows=True
        ) as shadowed:
            floor_model = copy.copy(renderer.model)
            floor_data = mujoco.MjData(floor_model)
            posed = []
            for state in states:
                renderer.layout.write(state, floor_model, floor_data)
                mujoco.mj_forward(floor_model, floor_data)
                posed.append(copy.copy(floor_data))
            with SceneRenderer(floor_model, args.size, task.camera) as plain:
                variants = {"floor": lambda _, t, posed=posed: plain.render(posed[t])}
                for setting in SETTING_NAMES:
                    variants[setting] = lambda s, t, n=setting: renderer.render(s, n, 0, t)
                    variants[f"{setting} +shadows"] = lambda s, t, n=setting: shadowed.render(s, n, 0, t)
                variants["gt mask"] = lambda s, t: renderer.object_mask(s)
                ms = per_frame_ms(variants, states, args.repeats)
        env.close()
        ratios = " | ".join(f"{ms[n] / ms['floor']:.2f}" for n in columns)
        print(f"| {name} | {1e3 / ms['floor']:.0f} | {ratios} |")


if __name__ == "__main__":
    main()
