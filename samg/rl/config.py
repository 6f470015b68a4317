"""What an RL run is: DrQ-v2's released configuration (`cfgs/config.yaml`) as defaults, with
its per-task overrides (`cfgs/task/`) for the tasks samg has."""

from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from samg.rl.agent import AgentConfig
from samg.segmenter.factory import SegmenterConfig


@dataclass(frozen=True)
class TaskSettings:
    """The settings DrQ-v2 varies per task."""

    nstep: int = 3
    batch_size: int = 256
    noise_steps: int = 100_000  # "easy": stddev linear(1.0, 0.1, 100000), in agent steps


_MEDIUM = TaskSettings(noise_steps=500_000)  # "medium": linear(1.0, 0.1, 500000)
_WALKER = TaskSettings(nstep=1, batch_size=512)
TASK_SETTINGS: dict[str, TaskSettings] = {
    "walker_walk": _WALKER,
    "walker_stand": _WALKER,
    "cheetah_run": _MEDIUM,
    "quadruped_walk": _MEDIUM,
}  # every other task (and the Adroit ones, which DrQ-v2 has no config for): TaskSettings()


@dataclass(frozen=True)
class RLConfig:
    task: str
    out: Path
    segmenter: SegmenterConfig = field(default_factory=lambda: SegmenterConfig(kind="oracle"))
    frames: int = 100_000  # environment frames (agent steps x action repeat)
    seed: int = 0
    envs: int = 1  # environments stepped in lockstep (one segmenter and actor call for all)
    eval_every: int = 10_000  # frames; and once at frame 0
    eval_episodes: int = 10
    settings: tuple[str, ...] = ("train",)
    action_repeat: int = 2
    frame_stack: int = 3
    batch_size: int = 256
    nstep: int = 3
    discount: float = 0.99
    seed_frames: int = 4_000  # no updates before this frame
    update_every: int = 2  # agent steps per update
    replay_size: int = 1_000_000  # frames held (one per agent step)
    image_size: int | None = None
    episode_frames: int | None = None  # shorter episodes than the task's (tests, smoke runs)
    agent: AgentConfig = field(default_factory=AgentConfig)

    @classmethod
    def for_task(cls, task: str, out: Path, noise_steps: int | None = None, **changes) -> "RLConfig":
        """DrQ-v2's settings for `task`, then `changes` (fields of RLConfig) on top."""
        preset = TASK_SETTINGS.get(task, TaskSettings())
        agent = changes.pop("agent", AgentConfig())
        agent = replace(agent, std_steps=noise_steps or preset.noise_steps)
        return cls(task=task, out=out, agent=agent, **{"nstep": preset.nstep, "batch_size": preset.batch_size, **changes})

    def to_json(self) -> dict:
        values = asdict(self)
        values["out"] = str(self.out)
        values["segmenter"] = self.segmenter.describe()
        return values
