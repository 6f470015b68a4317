"""Frames per second of the student, the oracle and full-size SAM-G on the same frames, and
the student's training samples per second.

    python bench/student.py [--student runs/student/door_oracle.safetensors] [--frames 64]
                            [--samg-frames 64] [--repeats 5] [--train-steps 50]

84x84 door frames in video_hard (one per reset seed), CPU float32, torch's default
threads. Each figure is the best of `--repeats` passes (the machine is shared: the best
pass is the least disturbed one). Beside wall-clock frames/s, the process's CPU time per
frame: on a busy machine it says what a quiet core would do (frames per CPU-second).
SAM-G runs with full-size architectures and seeded random weights (its cost does not
depend on the values), without PerSAM-F fitting, on the first `--samg-frames` frames.
Without a student file the default architecture runs untrained: its speed does not depend
on the weights.
"""

import argparse
import os
import platform
import time
from pathlib import Path

import numpy as np
import torch

import samg.envs  # noqa: F401  (GL set-up first)
from samg.distill.model import StudentNet, save_student
from samg.distill.train import DistillConfig, train_student
from samg.envs import FrameRenderer, make_env
from samg.segmenter.factory import SegmenterConfig, make_segmenter


def door_frames(count: int, setting: str = "video_hard") -> tuple[np.ndarray, np.ndarray]:
    env = make_env("door")
    frames, masks = [], []
    with FrameRenderer(env.task, env.model) as renderer:
        for seed in range(count):
            state = env.reset(seed).sim_state
            frames.append(renderer.render(state, setting, seed, 0))
            masks.append(renderer.object_mask(state, setting, 0))
    env.close()
    return np.stack(frames), np.stack(masks)


def timed(segmenter, frames: np.ndarray, truth: np.ndarray, batch: int, repeats: int) -> tuple[float, float]:
    """(frames per wall second, frames per CPU second of this process), each of the best pass."""
    wall = cpu = float("inf")
    for _ in range(repeats):
        started, cpu_started = time.perf_counter(), time.process_time()
        for at in range(0, len(frames), batch):
            segmenter.segment(frames[at : at + batch], truth[at : at + batch])
        wall = min(wall, time.perf_counter() - started)
        cpu = min(cpu, time.process_time() - cpu_started)
    return len(frames) / wall, len(frames) / cpu


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--student", type=Path, default=Path("runs/student/door_oracle.safetensors"))
    parser.add_argument("--frames", type=int, default=64)
    parser.add_argument("--samg-frames", type=int, default=64, help="frames for SAM-G (batch at most this)")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--train-steps", type=int, default=50, help="more than 10: the first 10 are warm-up")
    args = parser.parse_args()
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads; load average {os.getloadavg()[0]:.1f}")  # fmt: skip
    frames, truth = door_frames(args.frames)
    student_path = args.student
    if not student_path.is_file():
        student_path = Path("/tmp/samg_bench_student.safetensors")
        save_student(
            StudentNet(), student_path, {"task": "door", "image_size": 84, "teacher": "none (untrained)"}
        )
        print(f"{args.student} absent: an untrained student of the default architecture")
    student = make_segmenter("door", SegmenterConfig(kind="student", student=student_path))
    print(f"student: {student_path}, {student.about['parameters']:,} parameters")
    samg = make_segmenter("door", SegmenterConfig(kind="samg", random_weights=True, adapt=False))
    oracle = make_segmenter("door", SegmenterConfig(kind="oracle"))
    for segmenter in (student, samg, oracle):
        segmenter.segment(frames[:1], truth[:1])  # warm-up

    rows = []
    samg_name = "SAM-G (efficientvit-l1 + dinov2-vitb14)"
    for name, segmenter, batch, count, repeats in (
        ("student", student, 1, args.frames, args.repeats),
        ("student", student, 64, args.frames, args.repeats),
        ("oracle", oracle, 1, args.frames, args.repeats),
        ("oracle", oracle, 64, args.frames, args.repeats),
        (samg_name, samg, 1, args.samg_frames, 1),
        (samg_name, samg, min(64, args.samg_frames), args.samg_frames, 1),
    ):
        rows.append((name, batch, count, *timed(segmenter, frames[:count], truth[:count], batch, repeats)))
    samg_wall, samg_cpu = rows[-1][3:]
    print("| segmenter | batch | frames | frames/s | x SAM-G | frames per CPU-second | x SAM-G |")
    print("|---|---|---|---|---|---|---|")
    for name, batch, count, wall, cpu in rows:
        print(
            f"| {name} | {batch} | {count} | {wall:,.3g} | {wall / samg_wall:,.0f} | {cpu:,.3g} | {cpu / samg_cpu:,.0f} |"
        )

    masks = truth > 0
    config = DistillConfig(store=Path("-"), steps=args.train_steps, log_every=10)
    cpu_at: dict[int, float] = {}  # CPU time at steps 10 and last: bank building and warm-up excluded
    _, figures, _ = train_student(
        config, frames, masks, lambda record: cpu_at.update({record["step"]: time.process_time()})
    )
    samples = (config.steps - 10) * config.batch_size
    print(
        f"training: {figures['samples_per_second']} samples/s, {samples / (cpu_at[config.steps] - cpu_at[10]):.1f} "
        f"per CPU-second (batch {config.batch_size}, {config.steps} steps, augmentation included); "
        f"load average {os.getloadavg()[0]:.1f}"
    )


if __name__ == "__main__":
    main()
