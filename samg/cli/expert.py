"""`samg expert ...`: fetch, import and evaluate the expert policies."""

from pathlib import Path

import typer
from rich.table import Table

from samg.cli.common import console, one_line_errors

app = typer.Typer(help="Expert policies (published DAPG experts for Adroit).", no_args_is_help=True)


@app.command("list")
@one_line_errors
def list_experts() -> None:
    """The published experts and whether a verified copy is in the cache."""
    from samg.rl_collect.experts import PUBLISHED_EXPERTS, expert_path, sha256_of

    table = Table(title="published experts")
    for column in ("task", "file", "sha256", "cached"):
        table.add_column(column)
    for task, expert in PUBLISHED_EXPERTS.items():
        path = expert_path(task)
        cached = path.is_file() and sha256_of(path.read_bytes()) == expert.sha256
        table.add_row(task, expert.file_name, expert.sha256[:16] + "...", str(path) if cached else "no")
    console.print(table)


@app.command()
@one_line_errors
def fetch(task: str = typer.Argument("all", help="Task name, or 'all'.")) -> None:
    """Download published experts into $SAMG_HOME/experts (checksum-verified)."""
    from samg.rl_collect.experts import PUBLISHED_EXPERTS, fetch_expert, published_expert

    tasks = list(PUBLISHED_EXPERTS) if task == "all" else [published_expert(task).task]
    for name in tasks:
        console.print(f"{name}: {fetch_expert(name)}")


@app.command("import")
@one_line_errors
def import_(path: Path = typer.Argument(..., help="A downloaded <task>-v0.pickle.")) -> None:
    """Copy a local expert file into the cache after the same checks as fetch."""
    from samg.rl_collect.experts import import_expert

    task, target = import_expert(path)
    console.print(f"{task}: {target}")


@app.command("eval")
@one_line_errors
def eval_(
    task: str = typer.Argument(..., help="Task name."),
    episodes: int = typer.Option(30, min=1, help="Episodes (seeds seed..seed+N-1)."),
    seed: int = typer.Option(0, min=0, help="First episode seed."),
    expert: Path | None = typer.Option(None, help="Expert file (default: the cached published one)."),
) -> None:
    """Success rate of the expert's mean action (no rendering)."""
    from rich.progress import track

    from samg.envs import get_task, make_env
    from samg.rl_collect.experts import check_fits, load_expert
    from samg.rl_collect.rollout import rollout_episode

    spec = get_task(task)
    policy = load_expert(spec.name, expert)
    env = make_env(spec)
    try:
        check_fits(policy, env.reset(seed).state, env.action_dim)
        results = [
            rollout_episode(env, policy, s) for s in track(range(seed, seed + episodes), description=f"{task} episodes")
        ]
    finally:
        env.close()
    successes = sum(r.episode_success for r in results)
    mean_return = sum(r.episode_return for r in results) / len(results)
    console.print(
        f"{task}: success {successes}/{episodes} = {successes / episodes:.2f}, mean return {mean_return:.1f} "
        f"({policy.name}, success rule: > {spec.success_min_steps} steps)"
    )
