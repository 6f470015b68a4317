"""`samg rl train`: DrQ-v2 on masked frames, evaluations in the chosen settings at frame 0
and every K frames, and a checkpoint at every episode end for `--resume`.

With `envs` N > 1, N episodes run in lockstep (one segmenter call and one actor call per
agent step on all N frames); each agent step of each environment counts as one step of
data, so updates still come every `update_every` steps of data, as with one environment.
Episodes enter the replay when they end: it samples finished episodes only, as DrQ-v2,
whose replay also stores an episode when it is over.

    RUN/config.json, RUN/train.csv (frames, episode, return), RUN/curve.csv and curve.png,
    RUN/eval/frames_<N>/{eval_info.json, eval.md}, RUN/checkpoint/ (see samg.rl.checkpoint),
    RUN/training.json (frames, episodes, wall time, over every part of the run)

A resumed run starts a fresh episode exactly where the interrupted one would have, and
drops what the interrupted run logged after its last checkpoint: at the next checkpoint
its files are the same, byte for byte, as those of a run that was never interrupted, but
for the record of its parts (a part: from the start or a resume to its last checkpoint;
training.json and the checkpoint's "parts"), which says it was resumed and where.
"""

import csv
import json
import shutil
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np
import torch

from samg.devices import resolve_device
from samg.envs import FrameRenderer, get_task, make_env
from samg.errors import SamgError
from samg.files import write_json
from samg.il.config import read_json
from samg.results import aggregate, write_eval_markdown
from samg.rl.agent import DrQV2Agent
from samg.rl.checkpoint import Checkpoint, atomic_write
from samg.rl.config import RLConfig
from samg.rl.env import MaskedEnvs
from samg.rl.replay import ReplayBuffer
from samg.run_record import check_against_record
from samg.segmenter.factory import make_segmenter

EVAL_SEED_START = 1_000_000_000  # training episodes use seed * 100_000 + episode index


class RLRunError(SamgError):
    """An RL run directory that cannot be started or resumed."""


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
        steps_per_episode = task.episode_length // config.action_repeat
        if config.seed_frames < config.envs * task.episode_length:
            raise RLRunError(f"--seed-frames {config.seed_frames} is less than the first {config.envs} episode(s) "
                             f"({config.envs} x {task.episode_length} frames): updates sample finished episodes only, "
                             "so raise it (or use fewer --envs)")  # fmt: skip
        if config.replay_size <= steps_per_episode:
            raise RLRunError(f"--replay-size {config.replay_size} cannot hold one episode ({steps_per_episode + 1} "
                             "frames): raise it")  # fmt: skip
        self.envs = [make_env(task) for _ in range(config.envs)]
        for env in self.envs:
            env.task = task
        self.renderer = FrameRenderer(task, self.envs[0].model, config.image_size)
        self.segmenter = make_segmenter(task.name, config.segmenter)
        size = self.renderer.image_size
        torch.manual_seed(config.seed)  # CPU and CUDA; before the agent: the seed picks its initial weights
        self.agent = DrQV2Agent((3 * config.frame_stack, size, size), self.envs[0].action_dim, config.agent, device)
        self.replay = ReplayBuffer(
            config.replay_size, (size, size, 3), self.envs[0].action_dim, config.frame_stack, config.nstep, config.discount
        )
        self.counters = Counters()
        self.rng = np.random.default_rng(config.seed)
        self.checkpoint = Checkpoint(config.out / "checkpoint")
        self.earlier_parts: list[dict] = []  # of the run before the checkpoint it resumed
        self._part_start: tuple[float, int] | None = None  # wall clock and frames when train() began

    def masked_envs(self, setting: str, count: int | None = None) -> MaskedEnvs:
        """The first `count` environments (all by default) behind the segmenter."""
        envs = self.envs[: count or len(self.envs)]
        return MaskedEnvs(envs, self.renderer, self.segmenter, setting, self.config.action_repeat, self.config.frame_stack)

    # ---- checkpoints -----------------------------------------------------------------------

    def save(self, episodes: list[dict]) -> None:
        """After the episodes just finished (their replay records) were added."""
        agent = {**self.agent.state_dict(), "torch_rng": torch.get_rng_state()}
        if self.agent.device.type == "cuda":
            agent["cuda_rng"] = torch.cuda.get_rng_state_all()
        state = {**asdict(self.counters), "numpy_rng": self.rng.bit_generator.state,
                 "config": self.config.to_json(), "parts": self.parts()}  # fmt: skip
        self.checkpoint.save(agent, self.replay, state, episodes)

    def parts(self) -> list[dict]:
        """The parts of the run up to now: frames from and to, wall seconds."""
        started, from_frames = self._part_start
        now = {"from_frames": from_frames, "to_frames": self.counters.frames(self.config.action_repeat),
               "wall_seconds": round(time.perf_counter() - started, 2)}  # fmt: skip
        return [*self.earlier_parts, now]

    def load(self) -> None:
        """Back to the last checkpoint (or to the start when there is none yet), dropping what
        was logged after it."""
        if self.checkpoint.exists():
            agent, state = self.checkpoint.load(self.replay, self.agent.device)
            self.agent.load_state_dict(agent)
            torch.set_rng_state(agent["torch_rng"])
            if "cuda_rng" in agent and self.agent.device.type == "cuda":
                torch.cuda.set_rng_state_all(agent["cuda_rng"])
            self.rng.bit_generator.state = state["numpy_rng"]
            self.counters = Counters(**{name: state[name] for name in asdict(self.counters)})
            logged_until = self.counters.frames(self.config.action_repeat)
            self.earlier_parts = state.get("parts", [])  # none in checkpoints from before samg kept them
        else:
            logged_until = -1
        out = self.config.out
        for name in ("train.csv", "curve.csv"):
            _truncate_csv(out / name, logged_until)
        for evaluation in (out / "eval").glob("frames_*"):
            if int(evaluation.name.split("_")[1]) > logged_until:
                shutil.rmtree(evaluation)

    # ---- the loop ----------------------------------------------------------------------------

    def train(self, on_episode: Callable[[dict], None] | None = None) -> None:
        config, counters = self.config, self.counters
        self._part_start = (time.perf_counter(), counters.frames(config.action_repeat))
        if counters.step == 0 and counters.next_eval == 0:  # DrQ-v2 evaluates the untrained agent too
            self.evaluate()
            counters.next_eval = config.eval_every
        envs = self.masked_envs("train")
        while counters.frames(config.action_repeat) < config.frames:
            seeds = [config.seed * 100_000 + counters.episode + i for i in range(len(envs))]
            first_frames = envs.reset(seeds)
            steps: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []  # (actions, rewards, frames) of all N
            started, done = time.perf_counter(), False
            while not done:
                actions = self.agent.act_batch(envs.observation(), counters.step, explore=True)
                for step in range(counters.step, counters.step + len(envs)):
                    if step * config.action_repeat >= config.seed_frames and step % config.update_every == 0:
                        self.agent.update(self.replay.sample(config.batch_size, self.rng), step)
                frames, rewards, done = envs.step(actions)
                steps.append((actions, rewards, frames))
                counters.step += len(envs)
            records = []
            for i, first in enumerate(first_frames):
                self.replay.start_episode(first)
                for actions, rewards, frames in steps:
                    self.replay.add(actions[i], rewards[i], frames[i])
                self.replay.finish_episode()
                records.append(self.replay.last_episode())
                counters.episode += 1
                episode_return = sum(float(rewards[i]) for _, rewards, _ in steps)
                # one row per episode, at the frames of the whole batch; no wall time: a resumed run writes the same file
                row = {"frames": counters.frames(config.action_repeat), "episode": counters.episode,
                       "return": round(episode_return, 3)}  # fmt: skip
                _append_csv(config.out / "train.csv", row)
                if on_episode is not None:
                    on_episode(row | {"seconds": round(time.perf_counter() - started, 2)})
            frames_done = counters.frames(config.action_repeat)
            if frames_done >= counters.next_eval or frames_done >= config.frames:
                self.evaluate()
                counters.next_eval = (frames_done // config.eval_every + 1) * config.eval_every
            self.save(records)

    def evaluate(self) -> dict:
        config = self.config
        frames = self.counters.frames(config.action_repeat)
        episodes = []
        for setting in config.settings:
            for first in range(0, config.eval_episodes, len(self.envs)):
                seeds = [EVAL_SEED_START + index for index in range(first, min(first + len(self.envs), config.eval_episodes))]
                envs = self.masked_envs(setting, len(seeds))
                envs.reset(seeds)
                totals, done = np.zeros(len(seeds)), False
                while not done:
                    actions = self.agent.act_batch(envs.observation(), self.counters.step, explore=False)
                    _, rewards, done = envs.step(actions)
                    totals += rewards
                for seed, success, total in zip(seeds, envs.successes, totals, strict=True):
                    episodes.append({"setting": setting, "seed": seed, "success": success, "return": round(float(total), 3),
                                     "steps": envs.max_steps * config.action_repeat})  # fmt: skip
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
        write_json(out / "eval_info.json", info)
        write_eval_markdown(info, out / "eval.md")
        for setting, values in info["aggregate"].items():
            _append_csv(config.out / "curve.csv", {"frames": frames, "setting": setting,
                                                   "mean_return": round(values["mean_return"], 3)})  # fmt: skip
        return info

    def close(self) -> None:
        self.renderer.close()
        for env in self.envs:
            env.close()


def _truncate_csv(path: Path, last_frames: int) -> None:
    """Keep the rows logged up to `last_frames` (the file goes when none is left)."""
    if not path.is_file():
        return
    header, *rows = path.read_bytes().splitlines(keepends=True)  # bytes: the csv module's \r\n stays
    kept = [row for row in rows if int(row.split(b",", 1)[0]) <= last_frames]
    if not kept:
        path.unlink()
    elif len(kept) < len(rows):
        atomic_write(path, lambda temporary: temporary.write_bytes(header + b"".join(kept)))


def _append_csv(path: Path, record: dict) -> None:
    new = not path.is_file()
    with open(path, "a", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(record))
        if new:
            writer.writeheader()
        writer.writerow(record)


def train_rl(
    config: RLConfig, resume: bool = False, on_episode: Callable[[dict], None] | None = None, device: str = "cpu"
) -> Path:
    config_file = config.out / "config.json"
    if resume:
        _check_resume(config)
    elif config_file.is_file():
        raise RLRunError(f"{config.out} already holds a run: pass --resume, or another --out")
    config.out.mkdir(parents=True, exist_ok=True)
    run = RLRun(config, resolve_device(device))
    try:
        if resume:
            run.load()
        write_json(config_file, config.to_json())
        run.train(on_episode)
        parts = run.parts()
    finally:
        run.close()
    counters = run.counters
    write_json(config.out / "training.json", {
        "frames": counters.frames(config.action_repeat), "episodes": counters.episode, "agent_steps": counters.step,
        "wall_seconds": round(sum(part["wall_seconds"] for part in parts), 2),
        "parts": parts,  # more than one: the run was resumed (from_frames: where)
    })  # fmt: skip
    plot_curve(config.out)
    return config.out


def _check_resume(config: RLConfig) -> None:
    """The run's config.json agrees with the config its checkpoint records (if it has one yet),
    and `config` with it, but for the frames to train for."""
    config_file = config.out / "config.json"
    if not config_file.is_file():
        raise RLRunError(f"nothing to resume in {config.out}: no config.json")
    saved = read_json(config_file, "RL run config")
    checkpoint = Checkpoint(config.out / "checkpoint")
    recorded = checkpoint.state().get("config") if checkpoint.exists() else None  # none before samg kept it
    if recorded is not None:
        check_against_record(config_file, saved, recorded, checkpoint.state_file, ("frames",), "RL run config", RLRunError)
    wanted = json.loads(json.dumps(config.to_json()))  # tuples as JSON lists, like the saved one
    if {k: v for k, v in saved.items() if k != "frames"} != {k: v for k, v in wanted.items() if k != "frames"}:
        raise RLRunError(f"{config.out} was started with another config: resume with the same flags, or another --out")


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
