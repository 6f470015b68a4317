"""Live episodes of a BC policy in visual settings, the segmenter in the loop: render, mask
(the oracle reads the live ground truth), stack frames, act; several episodes in lockstep."""

from collections import deque
from dataclasses import dataclass, field

import numpy as np

from samg.envs import FrameRenderer, TaskEnv
from samg.envs.proprio import ProprioReader
from samg.il.policy import BCPolicy
from samg.segmenter.base import Segmenter, apply_masks
from samg.segmenter.live import render_and_segment


@dataclass(frozen=True)
class EpisodeJob:
    setting: str
    seed: int
    record: bool = False  # keep the frames for a video


@dataclass
class EpisodeResult:
    setting: str
    seed: int
    success: bool
    episode_return: float
    steps: int
    success_steps: int
    video: np.ndarray | None = None  # (T, H, 3W, 3): raw | mask | masked
    params: dict[str, float] = field(default_factory=dict)  # what the reset drew (TaskSpec.episode_params)


def run_episode(
    policy: BCPolicy,
    env: TaskEnv,
    renderer: FrameRenderer,
    segmenter: Segmenter,
    setting: str,
    seed: int,
    frame_stack: int,
    record: bool = False,
    max_steps: int | None = None,
) -> EpisodeResult:
    """`max_steps` cuts the episode short (benchmarks); success is judged on the steps run."""
    job = EpisodeJob(setting, seed, record)
    return run_episodes(policy, [env], renderer, segmenter, [job], frame_stack, max_steps)[0]


def run_episodes(
    policy: BCPolicy,
    envs: list[TaskEnv],
    renderer: FrameRenderer,
    segmenter: Segmenter,
    jobs: list[EpisodeJob],
    frame_stack: int,
    max_steps: int | None = None,
    proprio_reader: ProprioReader | None = None,
) -> list[EpisodeResult]:
    """One episode per job, the jobs' environments stepped in lockstep: one segmenter call
    and one policy call per step on all frames. Episodes have the task's fixed length, so
    none waits for another. A job's result does not depend on its companions: the renderer
    draws each state from (state, setting, seed, step) alone, and the oracle and the
    policy's `act_batch` give each row the bits it would get alone. `proprio_reader`: the
    policy's proprioception from the simulator state (default: the environment's own)."""
    if not jobs or len(jobs) > len(envs):
        raise ValueError(f"{len(jobs)} episodes need between 1 and {len(envs)} environments")
    envs = envs[: len(jobs)]
    steps = [env.reset(job.seed) for env, job in zip(envs, jobs, strict=True)]
    params = [env.task.episode_param_values(step.sim_state) for env, step in zip(envs, steps, strict=True)]
    stacks: list[deque[np.ndarray]] = [deque(maxlen=frame_stack) for _ in jobs]
    flags: list[list[bool]] = [[] for _ in jobs]
    totals = [0.0] * len(jobs)
    videos: list[list[np.ndarray]] = [[] for _ in jobs]
    for t in range(max_steps or envs[0].task.episode_length):
        views = [(step.sim_state, job.setting, job.seed) for step, job in zip(steps, jobs, strict=True)]
        frames, masks = render_and_segment(renderer, segmenter, views, t)
        observed = apply_masks(frames, masks)
        for stack, frame in zip(stacks, observed, strict=True):
            stack.extend([frame] * (frame_stack if not stack else 1))
        stacked = np.stack([np.concatenate([frame.transpose(2, 0, 1) for frame in stack]) for stack in stacks])
        proprio = [step.proprio if proprio_reader is None else proprio_reader(step.sim_state) for step in steps]
        actions = policy.act_batch(stacked, np.stack(proprio))
        steps = [env.step(action) for env, action in zip(envs, actions, strict=True)]
        for i, (step, job) in enumerate(zip(steps, jobs, strict=True)):
            totals[i] += step.reward
            flags[i].append(step.success)
            if job.record:
                mask_rgb = np.repeat(masks[i, ..., None] * np.uint8(255), 3, -1)
                videos[i].append(np.concatenate([frames[i], mask_rgb, observed[i]], 1))
    results = []
    for env, job, episode_flags, total, video, drawn in zip(envs, jobs, flags, totals, videos, params, strict=True):
        flags_array = np.asarray(episode_flags, bool)
        results.append(
            EpisodeResult(
                setting=job.setting,
                seed=int(job.seed),
                success=bool(env.task.episode_success(flags_array)),
                episode_return=float(total),
                steps=len(flags_array),
                success_steps=int(flags_array.sum()),
                video=np.stack(video) if job.record else None,
                params=drawn,
            )
        )
    return results
