"""Where a SAM-G batch and a DrQ-v2 update spend their time: a Markdown table per stage.

    python bench/gpu_profile.py [--batch 64] [--dtype bf16] [--compile] [--out FILE]
    python bench/gpu_profile.py --tiny     tiny models on the CPU (the test suite runs it)

Each stage runs as the segmenter / agent run it, one after the other, bracketed by CUDA
events (device time) and the host clock (host time: what Python spends launching, and
waiting where a stage waits). A stage whose device time is far below its host time is
launch-bound; the sum of device times against the wall time of the whole step shows the
gaps. On a GPU the decoder rounds also run under `torch.cuda.set_sync_debug_mode("error")`:
the "host syncs in the rounds" row says whether any step there waits for the device.
SAM-G: full-size models with seeded random weights on 84 px frames (speed does not depend
on the values); DrQ-v2: the agent's update at batch 256 on a replay of random episodes.
"""

import argparse
import os
import platform
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

os.environ.setdefault("SAMG_ALLOW_MISSING_ASSETS", "1")

import numpy as np
import torch

TASK = "door"
SIZE = 84


class Stages:
    """Host and device milliseconds per named stage, summed over the timed repeats."""

    def __init__(self, device: torch.device):
        self.cuda = device.type == "cuda"
        self.host: dict[str, float] = defaultdict(float)
        self.events: list[tuple[str, object, object]] = []
        self.wall = 0.0
        self.repeats = 0

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        if self.cuda:
            start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            start.record()
        began = time.perf_counter()
        yield
        self.host[name] += (time.perf_counter() - began) * 1e3
        if self.cuda:
            end.record()
            self.events.append((name, start, end))

    def repeat(self, step: Callable[[], None]) -> None:
        if self.cuda:
            torch.cuda.synchronize()
        began = time.perf_counter()
        step()
        if self.cuda:
            torch.cuda.synchronize()
        self.wall += (time.perf_counter() - began) * 1e3
        self.repeats += 1

    def rows(self) -> list[tuple[str, float, float]]:
        """(stage, host ms, device ms) per repeat; on a CPU the device time is the host time."""
        device: dict[str, float] = defaultdict(float)
        for name, start, end in self.events:
            device[name] += start.elapsed_time(end)
        source = device if self.cuda else self.host
        return [(name, self.host[name] / self.repeats, source[name] / self.repeats) for name in self.host]


def table(title: str, stages: Stages, unit: str, per_step: int) -> str:
    rows = stages.rows()
    total = sum(device for _, _, device in rows)
    wall = stages.wall / stages.repeats
    lines = [f"**{title}**", "", "| stage | host ms | device ms | share of device time |", "|---|---|---|---|"]
    lines += [f"| {name} | {host:.2f} | {device:.2f} | {device / total:.0%} |" for name, host, device in rows]
    lines += [f"| sum of stages | {sum(h for _, h, _ in rows):.2f} | {total:.2f} | |",
              f"| wall per step (synchronised) | {wall:.2f} | | {per_step * 1e3 / wall:.1f} {unit} |"]  # fmt: skip
    return "\n".join(lines)


# ---- SAM-G -----------------------------------------------------------------------------------


def samg_segmenter(device: str, dtype: str, batch: int, tiny: bool, compile: bool):
    from samg.segmenter.factory import SegmenterConfig, make_segmenter

    config = SegmenterConfig(kind="samg", device=device, dtype=dtype, random_weights=True, tiny=tiny, adapt=False,
                             batch_size=batch, compile=compile)  # fmt: skip
    return make_segmenter(TASK, config)


def samg_step(segmenter, frames: np.ndarray, stages: Stages, check_syncs: bool) -> Callable[[], None]:
    """`SamgSegmenter._segment_chunk`, stage by stage."""
    from samg.segmenter.method import FramePrompts
    from samg.segmenter.preprocess import as_pixels

    sam, dino, size = segmenter.sam, segmenter.dino, frames.shape[1:3]

    def step() -> None:
        with stages.stage("host-to-device (uint8 frames)"):
            pixels = as_pixels(frames, sam.device)
        with stages.stage("SAM preprocess (resize, normalise, pad)"):
            batch = sam.preprocess(pixels)
        with stages.stage("SAM image encoder"):
            embeddings = sam.embed(batch)
        with stages.stage("DINOv2 (preprocess + encoder)"):
            dino_features = dino.encode(pixels) if dino is not None else None
        with torch.inference_mode():
            with stages.stage("similarity + prompt selection"):
                prompts = FramePrompts.from_features(segmenter.points, embeddings, dino_features, size)
            with stages.stage("decoder round 1"), sync_check(check_syncs):
                state = segmenter.first_round(embeddings, prompts, size)
            for round_ in (2, 3):
                with stages.stage(f"decoder round {round_}"), sync_check(check_syncs):
                    state = segmenter.refine_round(round_, embeddings, prompts, size, state)
        with stages.stage("device-to-host (masks, prompts)"):
            state.mask.cpu(), state.points.cpu(), state.box.cpu(), state.score.cpu()

    return step


@contextmanager
def sync_check(enabled: bool) -> Iterator[None]:
    """On a GPU: any operation in the block that waits for the device raises."""
    if not enabled:
        yield
        return
    torch.cuda.set_sync_debug_mode("error")
    try:
        yield
    finally:
        torch.cuda.set_sync_debug_mode("default")


def profile_samg(device: str, dtype: str, batch: int, tiny: bool, compile: bool, repeats: int) -> str:
    segmenter = samg_segmenter(device, dtype, batch, tiny, compile)
    frames = np.random.default_rng(0).integers(0, 256, (batch, SIZE, SIZE, 3), dtype=np.uint8)
    cuda = device.startswith("cuda")
    syncs = "not checked (CPU)"
    if cuda:
        try:
            samg_step(segmenter, frames, Stages(torch.device(device)), check_syncs=True)()
            syncs = "none"
        except RuntimeError as error:  # the first operation that waited, named
            syncs = f"yes: {str(error).splitlines()[0][:120]}"
    warm = Stages(torch.device(device))
    warm.repeat(samg_step(segmenter, frames, warm, check_syncs=False))  # warm-up (and compilation)
    stages = Stages(torch.device(device))
    step = samg_step(segmenter, frames, stages, check_syncs=False)
    for _ in range(repeats):
        stages.repeat(step)
    model = "tiny" if tiny else "full-size"
    title = f"SAM-G {model} {dtype}{' compiled' if compile else ''}, batch {batch}, {SIZE} px"
    return table(title, stages, "frames/s", batch) + f"\n\nhost syncs in the decoder rounds: {syncs}"


# ---- DrQ-v2 ----------------------------------------------------------------------------------


def filled_replay(batch: int, size: int, action_dim: int, episodes: int, length: int):
    from samg.rl.replay import ReplayBuffer

    replay = ReplayBuffer(episodes * (length + 1), (size, size, 3), action_dim, stack=3, nstep=3, discount=0.99)
    rng = np.random.default_rng(0)
    for _ in range(episodes):
        replay.start_episode(rng.integers(0, 256, (size, size, 3), dtype=np.uint8))
        for _ in range(length):
            replay.add(rng.uniform(-1, 1, action_dim).astype(np.float32), float(rng.normal()),
                       rng.integers(0, 256, (size, size, 3), dtype=np.uint8))  # fmt: skip
        replay.finish_episode()
    return replay


def drqv2_step(agent, replay, batch: int, stages: Stages, rng: np.random.Generator) -> Callable[[], None]:
    """`DrQV2Agent.update` stage by stage, after the replay sample it is given."""
    from samg.il.policy import random_shift

    def step() -> None:
        with stages.stage("replay sampling (host)"):
            sample = replay.sample(batch, rng)
        with stages.stage("host-to-device (pinned on a GPU)"):
            tensors = agent.to_device(sample)
        with stages.stage("augmentation (random shift, both stacks)"):
            frames = torch.cat([tensors["obs"], tensors["next_obs"]]).float()
            obs, next_obs = random_shift(frames, agent.config.shift_pad).chunk(2)
        with stages.stage("critic (encoder, targets, backward, Adam)"):
            features = agent.encoder(obs)
            with torch.no_grad():
                next_features = agent.encoder(next_obs)
            metrics = agent._update_critic(features, tensors, next_features, 10_000)
        with stages.stage("actor (forward, backward, Adam)"):
            metrics |= agent._update_actor(features.detach(), 10_000)
        with stages.stage("target critic (lerp)"), torch.no_grad():
            for target, source in zip(agent.critic_target.parameters(), agent.critic.parameters(), strict=True):
                target.lerp_(source, agent.config.tau)
        with stages.stage("metrics (the one host sync)"):
            torch.stack(list(metrics.values())).tolist()

    return step


def profile_drqv2(device: str, batch: int, size: int, repeats: int) -> str:
    from samg.rl.agent import AgentConfig, DrQV2Agent

    action_dim = 28
    agent = DrQV2Agent((9, size, size), action_dim, AgentConfig(), device)
    replay = filled_replay(batch, size, action_dim, episodes=8, length=max(batch // 4, 8))
    rng = np.random.default_rng(0)
    warm = Stages(torch.device(device))
    warm.repeat(drqv2_step(agent, replay, batch, warm, rng))
    stages = Stages(torch.device(device))
    step = drqv2_step(agent, replay, batch, stages, rng)
    for _ in range(repeats):
        stages.repeat(step)
    return table(f"DrQ-v2 update, batch {batch}, {size} px, 3-frame stacks", stages, "updates/s", 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tiny", action="store_true", help="tiny models, small batches, on the CPU")
    parser.add_argument("--batch", type=int, default=64, help="SAM-G frames per batch")
    parser.add_argument("--dtype", default="bf16", help="SAM-G encoders' dtype (fp32, bf16)")
    parser.add_argument("--compile", action="store_true", help="SAM-G encoders through torch.compile")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--out", type=Path, default=None, help="also write the tables here")
    args = parser.parse_args()
    device = "cpu" if args.tiny else "cuda"
    if device == "cuda" and not torch.cuda.is_available():
        sys.exit("no CUDA device: run with --tiny")
    name = torch.cuda.get_device_name(0) if device == "cuda" else platform.processor() or platform.machine()
    header = f"{name}, torch {torch.__version__}, python {platform.python_version()}"
    print(header, flush=True)
    batch, repeats = (2, 1) if args.tiny else (args.batch, args.repeats)
    tables = [profile_samg(device, "fp32" if args.tiny else args.dtype, batch, args.tiny, args.compile, repeats)]
    print(tables[-1] + "\n", flush=True)
    tables.append(profile_drqv2(device, 8 if args.tiny else 256, 32 if args.tiny else SIZE, repeats))
    print(tables[-1] + "\n", flush=True)
    if args.out is not None:
        args.out.write_text("\n\n".join([header, *tables]) + "\n")


if __name__ == "__main__":
    main()
