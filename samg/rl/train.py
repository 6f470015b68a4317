"""`samg rl train`: DrQ-v2 on masked frames, periodic evaluation in the chosen settings,
checkpoints (agent, optimisers, replay buffer, counters, random states) for `--resume`.

    RUN/config.json, RUN/train.csv (frames, episode return), RUN/curve.csv and curve.png,
    RUN/eval/frames_<N>/{eval_info.json, eval.md}, RUN/checkpoint/{agent.pt, replay.npz, state.json}

Checkpoints are taken at episode ends, so a resumed run starts a fresh episode exactly
where the interrupted one would have.
"""

import csv
import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np
import torch

from samg.envs import FrameRenderer, get_task, make_env
from samg.errors import SamgError
from samg.il.evaluate import aggregate
from samg.il.report import write_eval_markdown
from samg.rl.agent import AgentConfig, DrQV2Agent
from samg.rl.env import MaskedEnv
from samg.rl.replay import ReplayBuffer
from samg.segmenter.factory import SegmenterConfig, make_segmenter

EVAL_SEED_START = 1_000_000_000  # training episodes use seed * 100_000 + episode index


class RLRunError(SamgError):
    """An RL run directory that cannot be started or resumed."""


@dataclass(frozen=True)
class RLConfig:
    task: str
    out: Path
    segmenter: SegmenterConfig = field(default_factory=lambda: SegmenterConfig(kind="oracle"))
    frames: int = 100_000  # environment frames (agent steps x action repeat)
    seed: int = 0
    eval_every: int = 10_000  # frames
    eval_episodes: int = 5
    settings: tuple[str, ...] = ("train",)
    action_repeat: int = 2
    frame_stack: int = 3
    batch_size: int = 256
    nstep: int = 3
    discount: float = 0.99
    seed_frames: int = 4_000  # random actions, no updates
    update_every: int = 2  # agent steps per update
    replay_capacity: int = 100_000  # agent steps
    image_size: int | None = None
    episode_frames: int | None = None  # shorter episodes than the task's (tests, smoke runs)
    agent: AgentConfig = field(default_factory=AgentConfig)

    def to_json(self) -> dict:
        values = asdict(self)
        values["out"] = str(self.out)
        values["segmenter"] = self.segmenter.describe()
        return values


@dataclass
class Counters:
    step: int = 0  # agent steps
    episode: int = 0
    next_eval: int = 0  # frames

    def frames(self, action_repeat: int) -> int:
        return self.step * action_repeat


class RLRun:
    """The environment, agent and replay of one run; `train()` runs it to `config.frames`."""

    def __init__(self, config: RLConfig, device: str = "cpu"):
        self.config = config
        task = get_task(config.task)
        if config.episode_frames is not None:
            task = replace(task, episode_length=config.episode_frames)
        self.env = make_env(task)
        self.env.task = task
        self.renderer = FrameRenderer(task, self.env.model, config.image_size)
        self.segmenter = make_segmenter(task.name, config.segmenter)
        size = self.renderer.image_size
        obs_shape = (3 * config.frame_stack, size, size)
        self.agent = DrQV2Agent(obs_shape, self.env.action_dim, config.agent, device)
        self.replay = ReplayBuffer(
            config.replay_capacity, (size, size, 3), self.env.action_dim, config.frame_stack, config.nstep, config.discount
        )
        self.counters = Counters(next_eval=config.eval_every)
        self.rng = np.random.default_rng(config.seed)
        torch.manual_seed(config.seed)

    def masked_env(self, setting: str) -> MaskedEnv:
        return MaskedEnv(self.env, self.renderer, self.segmenter, setting, self.config.action_repeat, self.config.frame_stack)

    # ---- checkpoints -----------------------------------------------------------------------

    @property
    def checkpoint_dir(self) -> Path:
        return self.config.out / "checkpoint"

    def save(self) -> None:
        self.checkpoint_dir.mkdir(parents=True, exist_ok=True)
        state = {**self.agent.state_dict(), "torch_rng": torch.get_rng_state()}
        torch.save(state, self.checkpoint_dir / "agent.pt.tmp")
        self.replay.save(self.checkpoint_dir / "replay.tmp.npz")
        counters = {**asdict(self.counters), "numpy_rng": self.rng.bit_generator.state}
        (self.checkpoint_dir / "state.json.tmp").write_text(json.dumps(counters) + "\n")
        for name, final in (("agent.pt.tmp", "agent.pt"), ("replay.tmp.npz", "replay.npz"), ("state.json.tmp", "state.json")):
            (self.checkpoint_dir / name).replace(self.checkpoint_dir / final)  # state.json last: the commit

    def load(self) -> None:
        state_file = self.checkpoint_dir / "state.json"
        if not state_file.is_file():
            raise RLRunError(f"nothing to resume in {self.config.out}: no checkpoint/state.json")
        saved = json.loads(state_file.read_text())
        agent = torch.load(self.checkpoint_dir / "agent.pt", map_location=self.agent.device, weights_only=True)
        self.agent.load_state_dict(agent)
        torch.set_rng_state(agent["torch_rng"])
        self.replay.load(self.checkpoint_dir / "replay.npz")
        self.rng.bit_generator.state = saved.pop("numpy_rng")
        self.counters = Counters(**saved)

    # ---- the loop ----------------------------------------------------------------------------

    def train(self, on_episode: Callable[[dict], None] | None = None) -> None:
        config, counters = self.config, self.counters
        env = self.masked_env("train")
        log = self.config.out / "train.csv"
        while counters.frames(config.action_repeat) < config.frames:
            frame = env.reset(config.seed * 100_000 + counters.episode)
            self.replay.start_episode(frame)
            episode_return, started, done = 0.0, time.perf_counter(), False
            while not done:
                frames = counters.frames(config.action_repeat)
                if frames < config.seed_frames:
                    action = self.rng.uniform(-1.0, 1.0, env.action_dim).astype(np.float32)
                else:
                    action = self.agent.act(env.observation(), counters.step, explore=True)
                    if counters.step % config.update_every == 0:
                        self.agent.update(self.replay.sample(config.batch_size, self.rng), counters.step)
                frame, reward, done = env.step(action)
                self.replay.add(action, reward, frame)
                episode_return += reward
                counters.step += 1
            counters.episode += 1
            record = {
                "frames": counters.frames(config.action_repeat),
                "episode": counters.episode,
                "return": round(episode_return, 3),
                "seconds": round(time.perf_counter() - started, 2),
            }
            _append_csv(log, record)
            if on_episode is not None:
                on_episode(record)
            if counters.frames(config.action_repeat) >= counters.next_eval or counters.frames(config.action_repeat) >= config.frames:
                self.evaluate()
                counters.next_eval += config.eval_every
                self.save()

    def evaluate(self) -> dict:
        config = self.config
        frames = self.counters.frames(config.action_repeat)
        episodes = []
        for setting in config.settings:
            env = self.masked_env(setting)
            for index in range(config.eval_episodes):
                seed = EVAL_SEED_START + index
                env.reset(seed)
                total, done = 0.0, False
                while not done:
                    _, reward, done = env.step(self.agent.act(env.observation(), self.counters.step, explore=False))
                    total += reward
                episodes.append({"setting": setting, "seed": seed, "success": env.success, "return": round(total, 3),
                                 "steps": env.max_steps * config.action_repeat})  # fmt: skip
        info = {
            "run": str(config.out),
            "task": config.task,
            "frames": frames,
            "policy_obs": f"DrQ-v2, masked ({config.segmenter.kind})",
            "segmenter": config.segmenter.describe(),
            "seeds": [EVAL_SEED_START, EVAL_SEED_START + config.eval_episodes - 1],
            "per_episode": episodes,
            "aggregate": aggregate(episodes, config.settings),
        }
        out = config.out / "eval" / f"frames_{frames}"
        out.mkdir(parents=True, exist_ok=True)
        (out / "eval_info.json").write_text(json.dumps(info, indent=2) + "\n")
        write_eval_markdown(info, out / "eval.md")
        for setting, values in info["aggregate"].items():
            _append_csv(config.out / "curve.csv", {"frames": frames, "setting": setting,
                                                   "mean_return": round(values["mean_return"], 3)})  # fmt: skip
        return info

    def close(self) -> None:
        self.renderer.close()
        self.env.close()


def _append_csv(path: Path, record: dict) -> None:
    new = not path.is_file()
    with open(path, "a", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(record))
        if new:
            writer.writeheader()
        writer.writerow(record)


def train_rl(config: RLConfig, resume: bool = False, on_episode: Callable[[dict], None] | None = None) -> Path:
    config_file = config.out / "config.json"
    if resume:
        if not config_file.is_file():
            raise RLRunError(f"nothing to resume in {config.out}: no config.json")
        saved = json.loads(config_file.read_text())
        wanted = json.loads(json.dumps(config.to_json()))  # tuples as JSON lists, like the saved one
        if {k: v for k, v in saved.items() if k != "frames"} != {k: v for k, v in wanted.items() if k != "frames"}:
            raise RLRunError(f"{config.out} was started with another config: resume with the same flags, or another --out")
    elif config_file.is_file():
        raise RLRunError(f"{config.out} already holds a run: pass --resume, or another --out")
    config.out.mkdir(parents=True, exist_ok=True)
    run = RLRun(config)
    try:
        if resume:
            run.load()
        config_file.write_text(json.dumps(config.to_json(), indent=2) + "\n")
        run.train(on_episode)
    finally:
        run.close()
    plot_curve(config.out)
    return config.out


def plot_curve(run: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    def read(name: str) -> list[dict]:
        path = run / name
        return list(csv.DictReader(path.read_text().splitlines())) if path.is_file() else []

    rows = read("curve.csv")
    if not rows:
        return
    figure, axis = plt.subplots(figsize=(5, 3.2))
    for setting in dict.fromkeys(r["setting"] for r in rows):
        mine = [r for r in rows if r["setting"] == setting]
        axis.plot([int(r["frames"]) for r in mine], [float(r["mean_return"]) for r in mine], marker="o", label=setting)
    training = read("train.csv")
    axis.plot([int(r["frames"]) for r in training], [float(r["return"]) for r in training], alpha=0.3, label="training")
    axis.set_xlabel("environment frames")
    axis.set_ylabel("episode return")
    axis.legend(fontsize=7)
    figure.tight_layout()
    figure.savefig(run / "curve.png", dpi=120)
    plt.close(figure)
