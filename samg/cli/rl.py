"""`samg rl train`: online DrQ-v2 behind the segmenter."""

from pathlib import Path

import typer

from samg.cli.common import console, one_line_errors

app = typer.Typer(help="Online RL (DrQ-v2) on masked frames.", no_args_is_help=True)


@app.command("train")
@one_line_errors
def rl_train(
    task: str = typer.Argument(..., help="DMC or Adroit task (see `samg envs list`)."),
    segmenter: str = typer.Option("oracle", help="samg, oracle or none."),
    frames: int = typer.Option(100_000, min=1, help="Environment frames to train for."),
    seed: int = typer.Option(0, min=0),
    eval_every: int = typer.Option(10_000, min=1, help="Frames between evaluations."),
    eval_episodes: int = typer.Option(5, min=1, help="Episodes per setting and evaluation."),
    settings: str = typer.Option("train", help="Evaluation settings: 'all' or comma-separated."),
    out: Path | None = typer.Option(None, help="Run directory (default runs/rl_<task>_<segmenter>_s<seed>)."),
    batch_size: int = typer.Option(256, min=1),
    seed_frames: int = typer.Option(4000, min=0, help="Frames of random actions before updates start."),
    episode_frames: int | None = typer.Option(None, min=2, help="Cut episodes to this many frames."),
    image_size: int | None = typer.Option(None, min=16, help="Frame size (default: the task's)."),
    noise_frames: int = typer.Option(200_000, min=1, help="Frames over which exploration noise decays 1.0 -> 0.1."),
    device: str = typer.Option("cpu"),
    resume: bool = typer.Option(False, "--resume", help="Continue the run in --out from its checkpoint."),
    tiny: bool = typer.Option(False, "--tiny", hidden=True, help="Tiny samg architectures (tests)."),
    random_weights: bool = typer.Option(False, "--random-weights", help="Seeded random samg weights: timing only."),
    target: str = typer.Option("union", help="samg: type-1 features, negatives: union (official), per-object."),
    round3_negative: str = typer.Option("global", help="samg: round 3 negative: global (official) or in-box."),
) -> None:
    """Train DrQ-v2 with the segmenter in front of the agent; evaluate every K frames."""
    from samg.envs import get_task, parse_settings
    from samg.rl.agent import AgentConfig
    from samg.rl.train import RLConfig, train_rl
    from samg.segmenter.factory import SEGMENTERS, SegmenterConfig
    from samg.segmenter.method import SamgOptions

    spec = get_task(task)
    if segmenter not in SEGMENTERS:
        from samg.errors import UnknownNameError

        raise UnknownNameError("segmenter", segmenter, SEGMENTERS)
    config = RLConfig(
        task=spec.name,
        out=out or Path("runs") / f"rl_{spec.name}_{segmenter}_s{seed}",
        segmenter=SegmenterConfig(
            kind=segmenter,
            device=device,
            tiny=tiny,
            random_weights=random_weights,
            options=SamgOptions(target=target, round3_negative=round3_negative),
        ),
        frames=frames,
        seed=seed,
        eval_every=eval_every,
        eval_episodes=eval_episodes,
        settings=parse_settings(settings),
        batch_size=batch_size,
        seed_frames=seed_frames,
        episode_frames=episode_frames,
        image_size=image_size,
        agent=AgentConfig(std_steps=max(noise_frames // RLConfig.action_repeat, 1)),
    )

    def show(record: dict) -> None:
        console.print(f"frames {record['frames']:>8}  episode {record['episode']:>5}  return {record['return']:>9.2f}  "
                      f"({record['seconds']:.1f} s)")  # fmt: skip

    run = train_rl(config, resume=resume, on_episode=show)
    console.print(f"done: {run} (train.csv, curve.csv, curve.png, eval/, checkpoint/)")
