"""Evaluation records that BC's `samg eval` and RL's periodic evaluations share: success
rates per setting with their Wilson intervals, `eval.md` (a table like the paper's Table 3)
and `success.png`."""

import math
from pathlib import Path

import numpy as np


def wilson_interval(successes: int, trials: int, z: float = 1.96) -> tuple[float, float]:
    if trials == 0:
        return (0.0, 1.0)
    p = successes / trials
    centre = (p + z * z / (2 * trials)) / (1 + z * z / trials)
    half = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / (1 + z * z / trials)
    return (max(0.0, centre - half), min(1.0, centre + half))


def aggregate(episodes: list[dict], settings: tuple[str, ...]) -> dict:
    summary = {}
    for setting in settings:
        mine = [e for e in episodes if e["setting"] == setting]
        wins = sum(e["success"] for e in mine)
        low, high = wilson_interval(wins, len(mine))
        summary[setting] = {
            "episodes": len(mine),
            "success_rate": wins / len(mine) if mine else float("nan"),
            "ci95": [round(low, 4), round(high, 4)],
            "mean_return": float(np.mean([e["return"] for e in mine])) if mine else float("nan"),
        }
    return summary


def success_cell(values: dict) -> str:
    low, high = values["ci95"]
    return f"{values['success_rate']:.2f} [{low:.2f}, {high:.2f}]"


def _benchmark_line(benchmark: dict | None) -> str:
    if benchmark is None:
        return "Benchmark: not recorded."
    missing = ", ".join(benchmark["missing"])
    return f"Benchmark: {benchmark['name']} ({len(benchmark['files'])} files verified" + (
        f"; missing, replaced by the next file of their pool: {missing})." if missing else ")."
    )


def write_eval_markdown(info: dict, path: Path) -> None:
    aggregate = info["aggregate"]
    settings = list(aggregate)
    lines = [
        f"# Evaluation of `{info['run']}` ({info['task']})",
        "",
        f"Policy observations: {info['policy_obs']}; segmenter in the loop: "
        f"`{', '.join(f'{k}={v}' for k, v in info['segmenter'].items())}`; seeds {info['seeds'][0]}-{info['seeds'][1]}.",
        "Success rate [95% Wilson interval] over the episodes of each setting.",
        _benchmark_line(info.get("benchmark")),
        "",
        "| " + " | ".join(settings) + " |",
        "|" + "---|" * len(settings),
        "| " + " | ".join(success_cell(aggregate[s]) for s in settings) + " |",
        "",
        "| setting | episodes | success rate | 95% interval | mean return |",
        "|---|---|---|---|---|",
    ]
    for setting, values in aggregate.items():
        low, high = values["ci95"]
        lines.append(
            f"| {setting} | {values['episodes']} | {values['success_rate']:.3f} | [{low:.3f}, {high:.3f}] | "
            f"{values['mean_return']:.1f} |"
        )
    path.write_text("\n".join(lines) + "\n")


def write_success_plot(info: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    aggregate = info["aggregate"]
    settings = list(aggregate)
    rates = [aggregate[s]["success_rate"] for s in settings]
    errors = [
        [r - aggregate[s]["ci95"][0] for s, r in zip(settings, rates, strict=True)],
        [aggregate[s]["ci95"][1] - r for s, r in zip(settings, rates, strict=True)],
    ]
    figure, axis = plt.subplots(figsize=(1.3 * len(settings) + 1.5, 3.2))
    axis.bar(settings, rates, yerr=errors, capsize=4, color="#4878a8")
    axis.set_ylim(0, 1.05)
    axis.set_ylabel("success rate (95% CI)")
    axis.set_title(f"{info['task']}: {info['policy_obs']}")
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)
