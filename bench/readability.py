"""Can the stored image tell the task's random parameter? A probe (the BC policy's own conv
encoder and an MLP head, trained from scratch) regresses the episode's first parameter, or
`--param` (hammer: the nail board's height; pen: the target's tilt, roll or pitch; door: its
position) from single frames of the
first steps of each episode, and is scored on held-out episodes. If the probe reads it well,
the image carries it and a policy that fails to use it fails at learning; if not, the image
(size, crop, camera) is what limits it.

    python bench/readability.py --data data/hammer.zarr --obs oracle
    python bench/readability.py --data data/hammer.zarr --obs oracle --size 42
    python bench/readability.py --data data/hammer.zarr --obs oracle --crop 20:64,10:74 --size 84
"""

import argparse
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from samg.envs import get_task
from samg.il.policy import ConvEncoder, random_shift
from samg.pipeline.masks import masked_episodes
from samg.pipeline.store import DemoStore


def frames_and_targets(store: DemoStore, obs: str, steps: range, name: str | None) -> tuple[np.ndarray, np.ndarray, str]:
    task = get_task(store.plan.task)
    params = {param.name: param for param in task.episode_params}
    if name is not None and name not in params:
        raise SystemExit(f"{task.name} has no episode parameter {name!r}; it has {', '.join(params)}")
    param = params[name] if name else task.episode_params[0]
    frames, targets = [], []
    for episode, episode_frames in enumerate(masked_episodes(store, "train", obs)):
        start = store.episode_slice(episode).start
        frames.append(episode_frames[steps.start : steps.stop])
        state = store.read("data/sim_state", slice(start, start + 1))[0]
        targets.append(task.episode_param_values(state)[param.name])
    label = f"{param.name} ({param.unit}), drawn from {param.low:.4g} to {param.high:.4g}"
    return np.stack(frames), np.asarray(targets), label


def prepare(frames: np.ndarray, crop: str | None, size: int | None) -> torch.Tensor:
    """(E, S, H, W, 3) uint8 -> (E, S, 3, size, size) float in [0, 255], cropped then resized
    by area averaging (how a smaller render would blur, roughly)."""
    x = torch.as_tensor(frames).permute(0, 1, 4, 2, 3).float()
    if crop:
        (top, bottom), (left, right) = (map(int, part.split(":")) for part in crop.split(","))
        x = x[..., top:bottom, left:right]
    if size:
        episodes, steps = x.shape[:2]
        x = F.interpolate(x.flatten(0, 1), size=(size, size), mode="area").unflatten(0, (episodes, steps))
    return x


def fit(x: torch.Tensor, y: torch.Tensor, epochs: int, seed: int, shift: int) -> nn.Module:
    torch.manual_seed(seed)
    encoder = ConvEncoder(3, x.shape[-1])
    net = nn.Sequential(encoder, nn.Linear(encoder.out_dim, 256), nn.ReLU(), nn.Linear(256, 1))
    optimiser = torch.optim.Adam(net.parameters(), lr=3e-4)
    generator = torch.Generator().manual_seed(seed)
    for _ in range(epochs):
        for rows in torch.randperm(len(x), generator=generator).split(64):
            images = random_shift(x[rows], shift) if shift else x[rows]
            loss = F.mse_loss(net(images)[:, 0], y[rows])
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
    return net.eval()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True)
    parser.add_argument("--obs", default="none", help="none (raw frames), oracle, blank or a mask set's name")
    parser.add_argument("--param", default=None, help="the episode parameter to read (default: the task's first)")
    parser.add_argument("--steps", default="0:10", help="A:B: the steps of each episode used (single frames)")
    parser.add_argument("--crop", default=None, help="TOP:BOTTOM,LEFT:RIGHT in stored pixels, before --size")
    parser.add_argument("--size", type=int, default=None, help="resize to this size (default: as stored or cropped)")
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--shift", type=int, default=4, help="random-shift pad, as BC's augmentation (0: off)")
    parser.add_argument("--held-out", type=float, default=0.2, help="fraction of episodes (the last ones) scored")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    torch.set_num_threads(2)
    store = DemoStore(args.data)
    first, last = (int(v) for v in args.steps.split(":"))
    frames, targets, label = frames_and_targets(store, args.obs, range(first, last), args.param)
    x = prepare(frames, args.crop, args.size)
    split = len(x) - max(1, round(len(x) * args.held_out))
    mean, std = targets[:split].mean(), targets[:split].std()
    y = torch.as_tensor((targets - mean) / std, dtype=torch.float32)
    steps = x.shape[1]
    started = time.perf_counter()
    net = fit(x[:split].flatten(0, 1), y[:split].repeat_interleave(steps), args.epochs, args.seed, args.shift)
    seconds = time.perf_counter() - started
    with torch.no_grad():
        predicted = net(x[split:].flatten(0, 1))[:, 0].view(-1, steps).mean(1).numpy() * std + mean
    truth = targets[split:]
    error = predicted - truth
    rmse, baseline = np.sqrt(np.mean(error**2)), np.sqrt(np.mean((truth - mean) ** 2))
    print(f"{store.plan.task} {args.data}: {label}; obs {args.obs}, steps {args.steps}, crop {args.crop}, "
          f"{x.shape[-1]} px; {split} episodes trained ({seconds:.0f} s, {args.epochs} epochs), {len(truth)} scored")  # fmt: skip
    print("| probe RMSE | predict-the-mean RMSE | R^2 | max abs error | corr(pred, truth) |")
    print("|---|---|---|---|---|")
    r2 = 1 - rmse**2 / baseline**2
    print(f"| {rmse:.4g} | {baseline:.4g} | {r2:.2f} | {np.abs(error).max():.4g} | {np.corrcoef(predicted, truth)[0, 1]:.2f} |")


if __name__ == "__main__":
    main()
