"""Rendering cost per visual setting against the plain MuJoCo render of the same frames,
and the cost and effect of each shadow-map size.

    python bench/render.py [--tasks door,hammer,pen] [--frames 100] [--size 84] [--repeats 7]

The floor is the bare render of an already-posed frame (update scene, draw, read
pixels) with the same tuned context, without shadows. A setting's cost includes
everything it adds: setting the stored state, posing, applying the look, compositing the
background, the task's shadows. The second table renders `train` at each shadow-map size
(0: off) and compares its pixels with the benchmark's 4096 map: the measurement behind
the task's default size.
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
from samg.envs.scene import BENCHMARK_SHADOW_MAP_SIZE, SceneRenderer

SHADOW_SIZES = (0, 128, 256, 512, 1024, 2048, BENCHMARK_SHADOW_MAP_SIZE)


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
    columns = [*SETTING_NAMES, *(f"train shadows {n}" for n in SHADOW_SIZES), "gt mask"]
    header = f"| task | floor fps | {' | '.join(f'{c} x floor' for c in columns)} |"
    print(header)
    print("|" + "---|" * (header.count("|") - 1))
    differing = {}
    for name in args.tasks.split(","):
        task = get_task(name)
        env, states = episode_states(name, args.frames)
        shadowed = {n: FrameRenderer(task, env.model, args.size, shadow_size=n) for n in SHADOW_SIZES}
        with FrameRenderer(task, env.model, args.size) as renderer:
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
                for size, other in shadowed.items():
                    variants[f"train shadows {size}"] = lambda s, t, r=other: r.render(s, "train", 0, t)
                variants["gt mask"] = lambda s, t: renderer.object_mask(s)
                ms = per_frame_ms(variants, states, args.repeats)
            differing[name] = _differing_pixels(shadowed, states)
        for other in shadowed.values():
            other.close()
        env.close()
        ratios = " | ".join(f"{ms[n] / ms['floor']:.2f}" for n in columns)
        print(f"| {name} (shadows {renderer.shadow_size}) | {1e3 / ms['floor']:.0f} | {ratios} |")
    print()
    print(f"Pixels of `train` differing by more than 1 level from the {BENCHMARK_SHADOW_MAP_SIZE} map:")
    print(f"| task | {' | '.join(str(n) for n in SHADOW_SIZES)} |")
    print("|" + "---|" * (len(SHADOW_SIZES) + 1))
    for name, fractions in differing.items():
        print(f"| {name} | {' | '.join(f'{100 * fractions[n]:.2f}%' for n in SHADOW_SIZES)} |")


def _differing_pixels(renderers: dict[int, FrameRenderer], states: list[np.ndarray]) -> dict[int, float]:
    frames = {n: np.stack([r.render(s, "train", 0, t) for t, s in enumerate(states)]).astype(int) for n, r in renderers.items()}
    reference = frames[BENCHMARK_SHADOW_MAP_SIZE]
    return {n: float((np.abs(f - reference) > 1).any(-1).mean()) for n, f in frames.items()}


if __name__ == "__main__":
    main()
