"""Every GPU path of samg, timed once: a Markdown table (stdout, and --out FILE).

    python bench/gpu_check.py [--out gpu_check.md] [--dry-run]

Pure-GPU figures first: full-size SAM-G with seeded random weights
(its cost does not depend on the values; no PerSAM-F fitting) on 84x84 frames at batch 1, 16
and 64 in fp32 and bf16, the bf16 masks' IoU against the fp32 ones (256 rendered door frames,
the same weights); the distilled student's default architecture (untrained); one BC
training step (the policy's own augmentation and loss, batch 256, Adam) on a synthetic
in-memory batch; DrQ-v2 updates at batch 256. Then the rollout loop of `samg eval` (door,
`train` setting, SAM-G in the loop, a random policy) at --envs 1 and 16: that row needs
mujoco, gymnasium-robotics and EGL, and says so instead of failing when they are missing.
Last, SAM-G bf16 with compiled encoders (torch.compile, static shapes) at batch 16 and 64,
skipped when the rows before took over COMPILE_AFTER_S (compilation takes minutes).
--dry-run: the same code at tiny sizes on the CPU (the test suite runs it).
"""

import argparse
import os
import platform
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("SAMG_ALLOW_MISSING_ASSETS", "1")  # the `train` setting reads no benchmark file

import numpy as np
import torch

TASK = "door"  # 84x84 frames, 24 proprio, 28 actions
ROWS: list[tuple[str, str, str]] = []
COMPILE_AFTER_S = 180  # the compiled rows take about 3-4 minutes; the whole check stays under 8


def row(what: str, figure: str, note: str = "") -> None:
    ROWS.append((what, figure, note))
    print(f"| {what} | {figure} | {note} |", flush=True)


def timed(call: Callable[[], object], repeats: int, device: str) -> float:
    """Seconds per call, after one warm-up call."""
    call()
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    started = time.perf_counter()
    for _ in range(repeats):
        call()
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    return (time.perf_counter() - started) / repeats


def guarded(what: str, check: Callable[[], None]) -> None:
    try:
        check()
    except Exception as error:  # one failing path must not hide the others' figures
        traceback.print_exc(file=sys.stderr)
        row(what, "failed", f"{type(error).__name__}: {str(error).splitlines()[0][:150] if str(error) else ''}")


def samg_segmenter(device: str, dtype: str, batch: int, tiny: bool, compile: bool = False):
    from samg.segmenter.factory import SegmenterConfig, make_segmenter

    config = SegmenterConfig(kind="samg", device=device, dtype=dtype, random_weights=True, tiny=tiny, adapt=False,
                             batch_size=batch, compile=compile)  # fmt: skip
    return make_segmenter(TASK, config)


def check_samg(device: str, dtypes: tuple[str, ...], batches: tuple[int, ...], size: int, tiny: bool, repeats: int,
               compile: bool = False) -> None:  # fmt: skip
    rng = np.random.default_rng(0)
    for dtype in dtypes:
        for batch in batches:  # compiled: one segmenter per batch shape
            if compile or batch == batches[0]:
                segmenter = samg_segmenter(device, dtype, batch, tiny, compile)
            segmenter.chunk = batch
            frames = rng.integers(0, 256, (batch, size, size, 3), dtype=np.uint8)
            began = time.perf_counter()
            segmenter.segment(frames)  # compiles, when compiled
            warm_up = time.perf_counter() - began
            seconds = timed(lambda: segmenter.segment(frames), repeats, device)
            name = f"SAM-G {'tiny' if tiny else 'full-size'} {dtype}{' compiled' if compile else ''}, batch {batch}"
            row(name, f"{batch / seconds:.1f} frames/s", f"first call {warm_up:.0f} s (compilation)" if compile else "")
        del segmenter
        if device.startswith("cuda"):
            torch.cuda.empty_cache()


def door_frames(count: int, size: int) -> tuple[np.ndarray, str]:
    """Rendered door frames (train setting, one per episode seed), else random pixels."""
    try:
        from samg.envs import FrameRenderer, make_env
    except ImportError as error:
        pixels = np.random.default_rng(0).integers(0, 256, (count, size, size, 3), dtype=np.uint8)
        return pixels, f"random pixels ({error.name} missing)"
    env = make_env(TASK)
    with FrameRenderer(env.task, env.model) as renderer:
        frames = np.stack([renderer.render(env.reset(seed).sim_state, "train", seed, 0) for seed in range(count)])
    env.close()
    return frames, "rendered door frames"


def check_dtype_agreement(device: str, frames: int, batch: int, tiny: bool) -> None:
    """Masks of bf16 encoders against fp32 ones on the same frames, same random weights."""
    from samg.segmenter.base import frame_iou

    images, source = door_frames(frames, 84)
    masks = {}
    for dtype in ("fp32", "bf16"):
        masks[dtype] = samg_segmenter(device, dtype, batch, tiny).segment(images).masks
    iou = frame_iou(masks["fp32"], masks["bf16"])
    covered = masks["fp32"].mean()
    row(f"SAM-G bf16 vs fp32 mask IoU, {frames} frames", f"{iou.mean():.4f} mean IoU",
        f"min {iou.min():.3f}, 5th percentile {np.percentile(iou, 5):.3f}, {(iou == 1).mean():.0%} identical; "
        f"{source}, random weights (fp32 masks cover {covered:.0%} of pixels)")  # fmt: skip


def check_student(device: str, dtypes: tuple[str, ...], batch: int, size: int) -> None:
    from samg.distill.model import StudentNet

    frames = torch.randint(0, 256, (batch, size, size, 3), dtype=torch.uint8, device=device)
    for dtype in dtypes:
        net = StudentNet().fused().to(device, torch.bfloat16 if dtype == "bf16" else torch.float32).eval()
        net = net.to(memory_format=torch.channels_last)
        with torch.inference_mode():
            seconds = timed(lambda: (net(frames) > 0).cpu(), 5, device)
        row(f"student (default architecture) {dtype}, batch {batch}", f"{batch / seconds:.0f} frames/s")


def check_bc(device: str, batch: int, size: int, steps: int) -> None:
    from samg.il.policy import BCPolicy, random_shift

    normalizer = {"proprio_mean": [0.0] * 24, "proprio_std": [1.0] * 24, "action_mean": [0.0] * 28,
                  "action_std": [1.0] * 28}  # fmt: skip
    policy = BCPolicy(9, size, 24, 28, normalizer).to(device).train()
    optimizer = policy.configure_optimizers()
    data = {
        "frames": torch.randint(0, 256, (batch, 9, size, size), dtype=torch.uint8, device=device),
        "proprio": torch.randn(batch, 24, device=device),
        "action": torch.randn(batch, 28, device=device),
    }

    def step() -> None:  # BCPolicy.training_step without Lightning's logging
        frames = random_shift(data["frames"].float(), policy.hparams.shift_pad)
        loss = policy._loss({**data, "frames": frames})
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    seconds = timed(step, steps, device)
    row(f"BC training step, batch {batch}", f"{batch / seconds:.0f} samples/s", "synthetic in-memory batch, fp32")


def check_drqv2(device: str, batch: int, size: int, updates: int) -> None:
    from samg.rl.agent import AgentConfig, DrQV2Agent

    agent = DrQV2Agent((9, size, size), 6, AgentConfig(), device)
    rng = np.random.default_rng(0)
    data = {
        "obs": rng.integers(0, 256, (batch, 9, size, size), dtype=np.uint8),
        "action": rng.uniform(-1, 1, (batch, 6)).astype(np.float32),
        "reward": rng.normal(size=batch).astype(np.float32),
        "discount": np.full(batch, 0.97, np.float32),
        "next_obs": rng.integers(0, 256, (batch, 9, size, size), dtype=np.uint8),
    }
    seconds = timed(lambda: agent.update(data, 10_000), updates, device)
    row(f"DrQ-v2 update, batch {batch}", f"{1 / seconds:.1f} updates/s", "replay sampling not included")


def check_eval_loop(device: str, envs: int, steps: int, tiny: bool) -> None:
    try:
        import gymnasium_robotics  # noqa: F401
        import mujoco  # noqa: F401

        from samg.envs import FrameRenderer, get_task, make_env
    except ImportError as error:
        row(f"eval loop, SAM-G, --envs {envs}", "skipped", f"missing {error.name}")
        return
    from samg.il.policy import BCPolicy
    from samg.il.rollout import EpisodeJob, run_episodes

    task = get_task(TASK)
    environments = [make_env(task) for _ in range(envs)]
    renderer = FrameRenderer(task, environments[0].model)
    normalizer = {"proprio_mean": [0.0] * task.proprio_dim, "proprio_std": [1.0] * task.proprio_dim,
                  "action_mean": [0.0] * environments[0].action_dim, "action_std": [1.0] * environments[0].action_dim}  # fmt: skip
    policy = BCPolicy(9, renderer.image_size, task.proprio_dim, environments[0].action_dim, normalizer).to(device).eval()
    dtype = "bf16" if device.startswith("cuda") else "fp32"
    segmenter = samg_segmenter(device, dtype, envs, tiny)
    jobs = [EpisodeJob("train", 1_000_000 + i) for i in range(envs)]
    try:
        run_episodes(policy, environments, renderer, segmenter, jobs, 3, max_steps=1)  # warm-up
        started = time.perf_counter()
        run_episodes(policy, environments, renderer, segmenter, jobs, 3, max_steps=steps)
        seconds = time.perf_counter() - started
    finally:
        renderer.close()
        for env in environments:
            env.close()
    row(f"eval loop, SAM-G {'tiny' if tiny else 'full-size'} {dtype}, --envs {envs}", f"{envs * steps / seconds:.1f} env-steps/s",
        f"door 84 px, render + segment + act + step, {steps} steps")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=None, help="also write the table here")
    parser.add_argument("--dry-run", action="store_true", help="tiny sizes on the CPU")
    args = parser.parse_args()
    dry = args.dry_run
    device = "cpu" if dry else "cuda"
    if not dry and not torch.cuda.is_available():
        sys.exit("no CUDA device: run with --dry-run")
    name = torch.cuda.get_device_name(0) if device == "cuda" else platform.processor() or platform.machine()
    print(f"{name}, torch {torch.__version__}, python {platform.python_version()}", flush=True)
    print("| what | figure | note |\n|---|---|---|", flush=True)
    size = 84
    started = time.perf_counter()
    guarded("SAM-G", lambda: check_samg(device, ("fp32",) if dry else ("fp32", "bf16"), (1,) if dry else (1, 16, 64),
                                        size, tiny=dry, repeats=1 if dry else 2))  # fmt: skip
    guarded("SAM-G dtypes", lambda: check_dtype_agreement(device, 4 if dry else 256, 2 if dry else 64, tiny=dry))
    if Path(__file__).resolve().parents[1].joinpath("samg", "distill", "model.py").is_file():
        guarded("student", lambda: check_student(device, ("fp32",) if dry else ("fp32", "bf16"), 4 if dry else 256, size))
    guarded("BC training", lambda: check_bc(device, 8 if dry else 256, 32 if dry else size, 2 if dry else 20))
    guarded("DrQ-v2", lambda: check_drqv2(device, 8 if dry else 256, 32 if dry else size, 2 if dry else 20))
    for envs in (1, 2) if dry else (1, 16):
        guarded(f"eval loop --envs {envs}", lambda envs=envs: check_eval_loop(device, envs, 1 if dry else 20, tiny=dry))
    # last, as compilation takes minutes (on a CPU too: not in the dry run); skipped when the
    # rest took long, so that the check stays under 8 minutes
    if not dry and time.perf_counter() - started < COMPILE_AFTER_S:
        guarded("SAM-G compiled", lambda: check_samg(device, ("bf16",), (16, 64), size, tiny=False, repeats=3, compile=True))
    elif not dry:
        row("SAM-G compiled", "skipped", f"the rows before took over {COMPILE_AFTER_S} s")
    if args.out is not None:
        lines = [f"{name}, torch {torch.__version__}", "", "| what | figure | note |", "|---|---|---|"]
        args.out.write_text("\n".join(lines + [f"| {a} | {b} | {c} |" for a, b, c in ROWS]) + "\n")
    if any(figure == "failed" for _, figure, _ in ROWS):
        sys.exit(1)


if __name__ == "__main__":
    main()
