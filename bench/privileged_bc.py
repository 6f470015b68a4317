"""What behaviour cloning can reach when the policy sees what the expert saw: an MLP cloned
from a store's `data/state` (the environment's full observation, the DAPG expert's input) to
`data/action`, rolled out live without rendering. `--hide A:B` removes observation columns
(e.g. hammer's nail position, 42:45) to show how much the task's random parameter matters.
Prints success overall and per quarter of the task's first episode parameter.

    python bench/privileged_bc.py --data data/hammer.zarr --episodes 50
    python bench/privileged_bc.py --data data/hammer.zarr --episodes 50 --hide 42:45
"""

import argparse
import time

import numpy as np
import torch
from torch import nn

from samg.envs import get_task, make_env
from samg.il.evaluate import EVAL_SEED_START
from samg.pipeline.store import DemoStore


def train(states: np.ndarray, actions: np.ndarray, steps: int, seed: int) -> nn.Module:
    torch.manual_seed(seed)
    mean, std = states.mean(0), np.maximum(states.std(0), 1e-3)
    x = torch.as_tensor((states - mean) / std, dtype=torch.float32)
    y = torch.as_tensor(actions, dtype=torch.float32)
    net = nn.Sequential(nn.Linear(x.shape[1], 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(), nn.Linear(256, y.shape[1]))
    optimiser = torch.optim.Adam(net.parameters(), lr=1e-3)
    generator = torch.Generator().manual_seed(seed)
    for _ in range(steps):
        rows = torch.randint(0, len(x), (256,), generator=generator)
        loss = ((net(x[rows]) - y[rows]) ** 2).mean()
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
    net.register_buffer("mean", torch.as_tensor(mean, dtype=torch.float32))
    net.register_buffer("std", torch.as_tensor(std, dtype=torch.float32))
    return net.eval()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True)
    parser.add_argument("--episodes", type=int, default=50)
    parser.add_argument("--steps", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--hide", default=None, help="A:B: observation columns the policy does not see")
    args = parser.parse_args()
    torch.set_num_threads(1)
    store = DemoStore(args.data)
    held_out = max(1, round(store.n_episodes * 0.1))  # as samg bc train: the last 10% are not trained on
    steps = slice(0, (store.n_episodes - held_out) * store.plan.episode_length)
    states, actions = store.read("data/state", steps), store.read("data/action", steps)
    keep = np.arange(states.shape[1])
    if args.hide:
        start, stop = (int(v) for v in args.hide.split(":"))
        keep = np.setdiff1d(keep, np.arange(start, stop))
    started = time.perf_counter()
    net = train(states[:, keep], actions, args.steps, args.seed)
    trained = time.perf_counter() - started
    task = get_task(store.plan.task)
    env = make_env(task)
    param = task.episode_params[0]
    edges = np.linspace(param.low, param.high, 5)
    wins, counts = np.zeros(4, int), np.zeros(4, int)
    for seed in range(EVAL_SEED_START, EVAL_SEED_START + args.episodes):
        step = env.reset(seed)
        value = task.episode_param_values(step.sim_state)[param.name]
        flags = []
        for _ in range(task.episode_length):
            with torch.no_grad():
                x = (torch.as_tensor(step.state[keep]) - net.mean) / net.std
                action = net(x[None])[0].clamp(-1, 1).numpy()
            step = env.step(action)
            flags.append(step.success)
        quarter = min(int(np.searchsorted(edges, value, side="right")) - 1, 3)
        counts[quarter] += 1
        wins[quarter] += task.episode_success(flags)
    env.close()
    hidden = f"hidden columns {args.hide}" if args.hide else "full observation"
    print(f"{store.plan.task}, {store.n_episodes - held_out} demos of {args.data}, {hidden}, {args.steps} steps "
          f"({trained:.0f} s), {args.episodes} episodes from seed {EVAL_SEED_START}")  # fmt: skip
    bins = [f"{edges[i]:.4g} to {edges[i + 1]:.4g}" for i in range(4)]
    print(f"| success | {' | '.join(bins)} |")
    print(f"|---|{'---|' * 4}")
    print(f"| {wins.sum() / counts.sum():.2f} ({wins.sum()}/{counts.sum()}) | {' | '.join(f'{w}/{c}' for w, c in zip(wins, counts))} |")


if __name__ == "__main__":
    main()
