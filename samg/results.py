"""Evaluation records that BC's `samg eval` and RL's periodic evaluations share: success
rates per setting with their Wilson intervals, success by the episode parameters a reset
draws (the nail board's height), `eval.md` (a table like the paper's Table 3) and `success.png`."""

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


PARAM_BINS = 4


def bin_counts(values, successes, low: float, high: float, bins: int = PARAM_BINS) -> list[list[int]]:
    """[successes, episodes] in each of `bins` equal-width bins of [low, high]: a bin holds its
    lower edge, the last one `high` too; a value outside the range counts in the end bin nearest it."""
    values, successes = np.asarray(values, np.float64), np.asarray(successes, bool)
    index = np.clip(np.floor((values - low) / (high - low) * bins).astype(int), 0, bins - 1)
    return [[int(successes[index == b].sum()), int((index == b).sum())] for b in range(bins)]


def success_by_param(episodes: list[dict], settings: tuple[str, ...], params: dict) -> dict:
    """For each parameter (`params`: name -> {"range": [low, high], ...}), the bins' edges and,
    per setting, [successes, episodes] per bin, from the episodes' `params` values."""
    table = {}
    for name, about in params.items():
        low, high = about["range"]
        by_setting = {}
        for setting in settings:
            mine = [e for e in episodes if e["setting"] == setting]
            values, successes = [e["params"][name] for e in mine], [e["success"] for e in mine]
            by_setting[setting] = bin_counts(values, successes, low, high)
        edges = np.linspace(low, high, PARAM_BINS + 1).round(6).tolist()
        table[name] = {"edges": edges, "by_setting": by_setting}
    return table


def _param_lines(info: dict) -> list[str]:
    """eval.md's tables of success by parameter bin; none for a task whose reset draws nothing."""
    params, binned = info.get("episode_params") or {}, info.get("success_by_param") or {}
    if not binned:
        return []
    lines = [
        "",
        "## Success by episode parameter",
        "",
        "Successful / all episodes, per quarter of the range each parameter is drawn from; `params` in "
        "eval_info.json's `per_episode` holds each episode's values.",
    ]
    for name, table in binned.items():
        edges = table["edges"]
        bins = [f"{low:.4g} to {high:.4g}" for low, high in zip(edges, edges[1:])]
        lines += ["", f"**{name}** ({params[name]['unit']}): {params[name]['about']}", ""]
        lines += ["| setting | " + " | ".join(bins) + " |", "|---|" + "---|" * len(bins)]
        for setting, cells in table["by_setting"].items():
            lines.append(f"| {setting} | " + " | ".join(f"{wins}/{count}" for wins, count in cells) + " |")
    return lines


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
    path.write_text("\n".join(lines + _param_lines(info)) + "\n")


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
