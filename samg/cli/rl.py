"""`samg rl train`: online DrQ-v2 behind the segmenter."""

from pathlib import Path

import typer

from samg.cli.common import RESUME_FLAG, allow_missing_assets_option, console, one_line_errors
from samg.devices import DEVICE_HELP

app = typer.Typer(help="Online RL (DrQ-v2) on masked frames.", no_args_is_help=True)


@app.command("train")
@one_line_errors(interrupted=RESUME_FLAG)
def rl_train(
    task: str = typer.Argument(..., help="DMC or Adroit task (see `samg envs list`)."),
    segmenter: str = typer.Option("oracle", help="samg, oracle, none or student:PATH (from `samg distill`)."),
    frames: int = typer.Option(100_000, min=1, help="Environment frames to train for."),
    seed: int = typer.Option(0, min=0),
    envs: int = typer.Option(
        1, min=1, help="Environments stepped in lockstep: one segmenter and one actor call per step on all of them."
    ),
    eval_every: int = typer.Option(10_000, min=1, help="Frames between evaluations (and one at frame 0)."),
    eval_episodes: int = typer.Option(10, min=1, help="Episodes per setting and evaluation."),
    settings: str = typer.Option("train", help="Evaluation settings: 'all' or comma-separated."),
    out: Path | None = typer.Option(None, help="Run directory (default runs/rl_<task>_<segmenter>_s<seed>)."),
    batch_size: int | None = typer.Option(None, min=1, help="Default: DrQ-v2's for the task (256, walker 512)."),
    nstep: int | None = typer.Option(None, min=1, help="n-step return. Default: DrQ-v2's (3, walker 1)."),
    seed_frames: int = typer.Option(4000, min=0, help="Frames before updates start."),
    random_frames: int | None = typer.Option(
        None, min=0, help="Frames of uniform random actions (default: DrQ-v2's 2000 agent steps)."
    ),
    replay_size: int = typer.Option(1_000_000, min=1, help="Frames the replay holds (one per agent step)."),
    action_repeat: int = typer.Option(2, min=1, help="Environment frames per agent step."),
    update_every: int = typer.Option(2, min=1, help="Agent steps per update."),
    hidden_dim: int = typer.Option(1024, min=1, help="Width of the actor's and critic's hidden layers."),
    episode_frames: int | None = typer.Option(None, min=2, help="Cut episodes to this many frames."),
    image_size: int | None = typer.Option(None, min=16, help="Frame size (default: the task's)."),
    noise_frames: int | None = typer.Option(
        None,
        min=1,
        help="Frames over which exploration noise decays 1.0 -> 0.1. Default: DrQ-v2's for the task "
        "(100k agent steps; 500k for cheetah_run and quadruped_walk).",
    ),
    saturation_penalty: float = typer.Option(
        0.0,
        min=0.0,
        help="Not DrQ-v2 (0): penalty on the actor's pre-tanh mean beyond +-3, which frees an actor stuck "
        "at +-1 (docs/fidelity.md). 1e-3 in the learning check.",
    ),
    device: str = typer.Option("auto", help=DEVICE_HELP),
    resume: bool = typer.Option(False, "--resume", help="Continue the run in --out from its checkpoint."),
    tiny: bool = typer.Option(False, "--tiny", hidden=True, help="Tiny samg architectures (tests)."),
    random_weights: bool = typer.Option(False, "--random-weights", help="Seeded random samg weights: timing only."),
    target: str = typer.Option("union", help="samg: type-1 features, negatives: union (official), per-object."),
    round3_negative: str = typer.Option("global", help="samg: round 3 negative: global (official) or in-box."),
    allow_missing_assets: bool = allow_missing_assets_option(),
) -> None:
    """Train DrQ-v2 with the segmenter in front of the agent; evaluate every K frames."""
    from dataclasses import replace

    from samg.benchmark.assets import allow_missing_assets as allow_missing

    allow_missing(allow_missing_assets)
    from samg.devices import resolve_device
    from samg.envs import get_task, parse_settings
    from samg.rl.agent import AgentConfig
    from samg.rl.config import RLConfig
    from samg.rl.train import train_rl
    from samg.segmenter.factory import SegmenterConfig, parse_segmenter
    from samg.segmenter.method import SamgOptions

    spec = get_task(task)
    kind, student = parse_segmenter(segmenter)
    device = resolve_device(device)
    given = {"batch_size": batch_size, "nstep": nstep}
    agent = AgentConfig(hidden_dim=hidden_dim, saturation_penalty=saturation_penalty)
    if random_frames is not None:
        agent = replace(agent, expl_steps=random_frames // action_repeat)
    config = RLConfig.for_task(
        spec.name,
        out or Path("runs") / f"rl_{spec.name}_{kind}_s{seed}",
        noise_steps=None if noise_frames is None else max(noise_frames // action_repeat, 1),
        segmenter=SegmenterConfig(
            kind=kind,
            student=student,
            device=device,
            tiny=tiny,
            random_weights=random_weights,
            options=SamgOptions(target=target, round3_negative=round3_negative),
        ),
        frames=frames,
        seed=seed,
        envs=envs,
        eval_every=eval_every,
        eval_episodes=eval_episodes,
        settings=parse_settings(settings),
        seed_frames=seed_frames,
        replay_size=replay_size,
        action_repeat=action_repeat,
        update_every=update_every,
        episode_frames=episode_frames,
        image_size=image_size,
        agent=agent,
        **{name: value for name, value in given.items() if value is not None},
    )

    def show(record: dict) -> None:
        console.print(f"frames {record['frames']:>8}  episode {record['episode']:>5}  return {record['return']:>9.2f}  "
                      f"({record['seconds']:.1f} s)")  # fmt: skip

    run = train_rl(config, resume=resume, on_episode=show, device=device)
    console.print(f"done: {run} (train.csv, curve.csv, curve.png, eval/, checkpoint/)")
