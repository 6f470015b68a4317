"""`samg eval compare`: an Average column, and Table 3's layout with seeds pooled."""

import json
from pathlib import Path

from samg.il.report import compare_runs, paper_table
from samg.results import wilson_interval


def _evaluated_run(root: Path, name: str, task: str, policy: str, wins: dict[str, int], episodes: int = 20) -> Path:
    aggregate = {
        setting: {"episodes": episodes, "success_rate": won / episodes, "ci95": list(wilson_interval(won, episodes)),
                  "mean_return": 0.0}  # fmt: skip
        for setting, won in wins.items()
    }
    (root / name / "eval").mkdir(parents=True)
    info = {"task": task, "policy_obs": policy, "aggregate": aggregate, "per_episode": []}
    (root / name / "eval" / "eval_info.json").write_text(json.dumps(info))
    return root / name


def test_average_pools_the_episodes_of_every_setting(tmp_path):
    run = _evaluated_run(tmp_path, "a", "door", "raw", {"train": 20, "color_easy": 10, "video_hard": 3})
    header, rows = compare_runs([run])
    assert header == ["run", "observations", "train", "color_easy", "video_hard", "Average"]
    assert rows[0][-1] == "0.55 [0.42, 0.67]"  # 33 of 60 episodes; Wilson interval of 33/60


def test_paper_layout_pools_training_seeds_per_task_and_policy(tmp_path):
    settings = ("train", "color_easy", "color_hard", "video_easy", "video_hard")
    runs = [
        _evaluated_run(tmp_path, "s0", "door", "masked (oracle)", dict(zip(settings, (20, 18, 16, 14, 10)))),
        _evaluated_run(tmp_path, "raw", "door", "raw", dict(zip(settings, (20, 10, 4, 4, 2)))),
        _evaluated_run(tmp_path, "s1", "door", "masked (oracle)", dict(zip(settings, (20, 20, 18, 10, 6)))),
        _evaluated_run(tmp_path, "h", "hammer", "masked (oracle)", dict(zip(settings, (19, 19, 19, 19, 19)))),
    ]
    header, rows = paper_table(runs)
    assert header == ["Task", "Policy", "Runs", "Train", "Color easy", "Color hard", "Video easy", "Video hard", "Average"]
    assert [row[:3] for row in rows] == [["door", "masked (oracle)", "2"], ["door", "raw", "1"],
                                         ["hammer", "masked (oracle)", "1"]]  # fmt: skip
    oracle = rows[0]
    # color_easy 90% and 100%: mean 95.0, sample std 7.1; video_hard 50% and 30%: 40.0 +- 14.1
    assert oracle[3] == "100.0 ± 0.0" and oracle[4] == "95.0 ± 7.1" and oracle[7] == "40.0 ± 14.1"
    # averages 78/100 and 74/100: 76.0 +- 2.8
    assert oracle[8] == "76.0 ± 2.8"
    assert rows[1][3] == "100.0 [83.9, 100.0]" and rows[1][8] == "40.0 [30.9, 49.8]"  # one run: 95% interval


def test_the_cli_writes_the_paper_layout_and_refuses_a_run_twice(tmp_path):
    from typer.testing import CliRunner

    from samg.cli import app

    run = _evaluated_run(tmp_path, "a", "pen", "blank (proprioception only)", {"train": 5, "video_hard": 5})
    out = tmp_path / "table.md"
    result = CliRunner().invoke(app, ["eval", "compare", str(run), "--format", "paper", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "| pen | blank (proprioception only) | 1 | 25.0 [11.2, 46.9] | 25.0 [11.2, 46.9] | 25.0 [14.2, 40.2] |" in (
        out.read_text()
    )
    twice = CliRunner().invoke(app, ["eval", "compare", str(run), str(run), "--out", str(tmp_path / "t2.md")])
    assert twice.exit_code == 1 and "RUN twice" in twice.output
    unknown = CliRunner().invoke(app, ["eval", "compare", str(run), "--format", "latex", "--out", str(tmp_path / "t3.md")])
    assert unknown.exit_code == 2 and "valid comparison formats: runs, paper" in unknown.output


def test_the_average_of_one_setting_is_that_setting(tmp_path):
    run = _evaluated_run(tmp_path, "a", "door", "raw", {"video_hard": 7})
    header, rows = compare_runs([run])
    assert rows[0][-1] == rows[0][2] == "0.35 [0.18, 0.57]"
