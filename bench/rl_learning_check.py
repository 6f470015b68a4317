"""The RL learning check: evaluation returns of `samg rl train` runs against two baselines
on the same evaluation seeds, a uniform random policy (one draw per agent step, held for
the action repeat) and the best constant action (a grid over [-1, 1], refined around its
best point). Baselines need no rendering: their returns come from the simulator alone.

    python bench/rl_learning_check.py RUN [RUN ...] [--plot docs/rl_learning_check.png]

Prints a markdown table (mean +- std over the evaluation episodes, per run and frame).
"""

import argparse
import json
from dataclasses import replace
from pathlib import Path

import samg.envs  # noqa: F401  (GL set-up first)
import numpy as np

from samg.envs import get_task, make_env
from samg.rl.train import EVAL_SEED_START


def episode_return(env, seed: int, action_repeat: int, policy) -> float:
    env.reset(seed)
    total = 0.0
    for _ in range(env.task.episode_length // action_repeat):
        action = policy()
        for _ in range(action_repeat):
            total += env.step(action).reward
    return total


def baselines(task: str, episodes: int, action_repeat: int, episode_frames: int | None) -> dict[str, list[float]]:
    spec = get_task(task)
    if episode_frames is not None:
        spec = replace(spec, episode_length=episode_frames)
    env = make_env(spec)
    env.task = spec
    seeds = [EVAL_SEED_START + index for index in range(episodes)]

    def constant(value: float) -> list[float]:
        action = np.full(env.action_dim, value, np.float32)
        return [episode_return(env, seed, action_repeat, lambda: action) for seed in seeds]

    scores = {round(value, 3): constant(value) for value in np.linspace(-1, 1, 21)}
    best = max(scores, key=lambda value: np.mean(scores[value]))
    for value in (best - 0.05, best + 0.05):
        if -1 <= value <= 1:
            scores[round(value, 3)] = constant(value)
    best = max(scores, key=lambda value: np.mean(scores[value]))
    random_returns = []
    for seed in seeds:
        rng = np.random.default_rng(seed)
        draw = lambda rng=rng: rng.uniform(-1, 1, env.action_dim).astype(np.float32)
        random_returns.append(episode_return(env, seed, action_repeat, draw))
    env.close()
    return {"uniform random": random_returns, f"best constant ({best:+.2f})": scores[best]}


def evaluations(run: Path) -> dict[int, list[float]]:
    found = {}
    for info_file in (run / "eval").glob("frames_*/eval_info.json"):
        info = json.loads(info_file.read_text())
        found[info["frames"]] = [e["return"] for e in info["per_episode"] if e["setting"] == "train"]
    return dict(sorted(found.items()))


def run_label(config: dict) -> str:
    penalty = config["agent"].get("saturation_penalty", 0.0)
    return f"seed {config['seed']}" + (f", saturation penalty {penalty:g}" if penalty else "")


def plot(runs: dict[str, dict[int, list[float]]], lines: dict[str, list[float]], task: str, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(6, 3.6))
    for name, curve in runs.items():
        frames = list(curve)
        means = np.array([np.mean(curve[f]) for f in frames])
        stds = np.array([np.std(curve[f]) for f in frames])
        axis.plot(frames, means, marker="o", label=f"DrQ-v2, {name}")
        axis.fill_between(frames, means - stds, means + stds, alpha=0.15)
    for (name, returns), style in zip(lines.items(), ("--", ":"), strict=True):
        axis.axhline(np.mean(returns), color="gray", linestyle=style, label=f"{name}: {np.mean(returns):.0f}")
    axis.set_xlabel("environment frames")
    axis.set_ylabel(f"evaluation return (mean +- std, {len(next(iter(lines.values())))} episodes)")
    axis.set_title(task, fontsize=9)
    axis.legend(fontsize=7)
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs", nargs="+", type=Path)
    parser.add_argument("--plot", type=Path, default=Path("docs/rl_learning_check.png"))
    args = parser.parse_args()
    configs = [json.loads((run / "config.json").read_text()) for run in args.runs]
    same = {(c["task"], c["action_repeat"], c["eval_episodes"], c["episode_frames"]) for c in configs}
    if len(same) != 1:
        raise SystemExit("the runs differ in task, action repeat, evaluation episodes or episode length")
    task, action_repeat, episodes, episode_frames = same.pop()
    lines = baselines(task, episodes, action_repeat, episode_frames)
    runs = {run_label(c): evaluations(run) for c, run in zip(configs, args.runs, strict=True)}
    print("| frames | " + " | ".join(runs) + " |")
    print("|---|" + "---|" * len(runs))
    for frames in sorted({f for curve in runs.values() for f in curve}):
        cells = [f"{np.mean(c[frames]):.1f} +- {np.std(c[frames]):.1f}" if frames in c else "" for c in runs.values()]
        print(f"| {frames:,} | " + " | ".join(cells) + " |")
    for name, returns in lines.items():
        print(f"\n{name}: {np.mean(returns):.1f} +- {np.std(returns):.1f} ({len(returns)} episodes)")
    plot(runs, lines, task, args.plot)
    print(f"\nplot: {args.plot}")


if __name__ == "__main__":
    main()
