"""The comparison of several evaluated runs (`samg eval compare`): one row per run, or the
paper's Table 3 layout."""

from pathlib import Path

import numpy as np

from samg.il.config import RunError, read_json
from samg.results import success_cell, wilson_interval


def load_eval(run: Path) -> dict:
    path = run / "eval" / "eval_info.json"
    if not path.is_file():
        raise RunError(f"{run} has no eval/eval_info.json: run 'samg eval {run}' first")
    info = read_json(path, "evaluation record")
    aggregate = info.get("aggregate")
    complete = isinstance(aggregate, dict) and all(
        isinstance(v, dict) and {"success_rate", "ci95"} <= v.keys() for v in aggregate.values()
    )
    if not complete or not isinstance(info.get("policy_obs"), str):
        raise RunError(f"{path} lacks the per-setting results: evaluate again with 'samg eval {run} --overwrite'")
    return info


def _pooled(info: dict, settings: list[str]) -> dict:
    """The average over `settings`: successes and episodes pooled (with equal episodes per
    setting, the mean of the rates), its Wilson interval over all of them."""
    present = [info["aggregate"][s] for s in settings if s in info["aggregate"]]
    episodes = sum(values["episodes"] for values in present)
    wins = round(sum(values["success_rate"] * values["episodes"] for values in present))
    return {"success_rate": wins / episodes if episodes else float("nan"), "ci95": wilson_interval(wins, episodes)}


def compare_runs(runs: list[Path]) -> tuple[list[str], list[list[str]]]:
    """Header and rows (one per run) of success rates per setting, and their average."""
    infos = [load_eval(run) for run in runs]
    settings = list(dict.fromkeys(s for info in infos for s in info["aggregate"]))
    header = ["run", "observations", *settings, "Average"]
    rows = []
    for run, info in zip(runs, infos, strict=True):
        cells = [success_cell(info["aggregate"][s]) if s in info["aggregate"] else "-" for s in settings]
        rows.append([str(run), info["policy_obs"], *cells, success_cell(_pooled(info, settings))])
    return header, rows


def paper_table(runs: list[Path]) -> tuple[list[str], list[list[str]]]:
    """Table 3's layout: one row per task and policy, success in percent per setting and on
    average; runs of the same task and policy (training seeds) are pooled into mean +- std
    over runs, a single run shows its 95% interval."""
    infos = [load_eval(run) for run in runs]
    settings = list(dict.fromkeys(s for info in infos for s in info["aggregate"]))
    groups: dict[tuple[str, str], list[dict]] = {}
    for info in infos:
        groups.setdefault((info["task"], info["policy_obs"]), []).append(info)
    header = ["Task", "Policy", "Runs", *(s.replace("_", " ").capitalize() for s in settings), "Average"]
    rows = []
    for (task, policy), members in groups.items():
        cells = []
        for setting in [*settings, None]:
            values = [_pooled(info, settings) if setting is None else info["aggregate"].get(setting) for info in members]
            cells.append(_percent_cell([v for v in values if v is not None]))
        rows.append([task, policy, str(len(members)), *cells])
    return header, rows


def _percent_cell(values: list[dict]) -> str:
    if not values:
        return "-"
    rates = np.array([v["success_rate"] for v in values]) * 100
    if len(values) == 1:
        low, high = values[0]["ci95"]
        return f"{rates[0]:.1f} [{100 * low:.1f}, {100 * high:.1f}]"
    return f"{rates.mean():.1f} ± {rates.std(ddof=1):.1f}"


COMPARISON_LAYOUTS = {"runs": compare_runs, "paper": paper_table}
_NOTES = {
    "runs": "Success rate [95% Wilson interval] per setting; Average pools the episodes of all settings.",
    "paper": "Success rate in %: one run, [95% Wilson interval]; several runs (training seeds), mean ± "
    "standard deviation over runs. Average pools the episodes of all settings of a run.",
}


def write_comparison(header: list[str], rows: list[list[str]], path: Path, layout: str = "runs") -> None:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    path.write_text(_NOTES[layout] + "\n\n" + "\n".join(lines) + "\n")
