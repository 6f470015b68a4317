"""Why an RL run's actor sits at a bound: load a `samg rl train` checkpoint and its replay,
then print the actor's pre-tanh means, the critic's value of constant actions and the sign
of dQ/da at the actor's own action, on a batch of replay observations. With `--updates N`
it then continues N updates of the checkpoint on its replay (no environment), with the
saturation penalty of `--penalty` (0: DrQ-v2's actor), and prints where the actor goes.

    python bench/rl_stall_probe.py RUN [--updates 300] [--penalty 1e-3]

One CPU thread; ~0.3 s an update at 48 px, batch 128, hidden 1024.
"""

import argparse
import json
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

from samg.rl.agent import AgentConfig, DrQV2Agent
from samg.rl.checkpoint import Checkpoint
from samg.rl.replay import ReplayBuffer

PROBE_BATCH = 512


def load(run: Path, penalty: float) -> tuple[DrQV2Agent, ReplayBuffer, dict, dict]:
    """The run's committed checkpoint, read as `--resume` reads it (which also drops files
    newer than the commit)."""
    config = json.loads((run / "config.json").read_text())
    with np.load(next((run / "checkpoint" / "replay").glob("episode_*.npz")), allow_pickle=False) as episode:
        frame_shape, action_dim = episode["frames"].shape[1:], episode["actions"].shape[1]
    agent_config = replace(AgentConfig(**config["agent"]), saturation_penalty=penalty)
    agent = DrQV2Agent((3 * config["frame_stack"], *frame_shape[:2]), action_dim, agent_config)
    replay = ReplayBuffer(
        config["replay_size"], frame_shape, action_dim, config["frame_stack"], config["nstep"], config["discount"]
    )
    agent_state, state = Checkpoint(run / "checkpoint").load(replay, agent.device)
    agent.load_state_dict(agent_state)
    return agent, replay, config, state


@torch.no_grad()
def describe(agent: DrQV2Agent, obs: torch.Tensor) -> dict[str, float]:
    features = agent.encoder(obs)
    pre_tanh = agent.actor.pre_tanh(features)
    constant = {
        value: torch.min(*agent.critic(features, torch.full_like(pre_tanh, value))).mean().item() for value in (-1.0, 1.0)
    }
    with torch.enable_grad():
        action = torch.tanh(pre_tanh).requires_grad_(True)
        torch.min(*agent.critic(features, action)).sum().backward()
    return {
        "pre_tanh_mean": pre_tanh.mean().item(),
        "pre_tanh_median_abs": pre_tanh.abs().median().item(),
        "tanh_derivative_median": (1 - torch.tanh(pre_tanh) ** 2).median().item(),
        "action_mean": action.mean().item(),
        "q_minus_one": constant[-1.0],
        "q_plus_one": constant[1.0],
        "dq_da_negative": (action.grad < 0).float().mean().item(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path)
    parser.add_argument("--updates", type=int, default=0)
    parser.add_argument("--penalty", type=float, default=0.0)
    parser.add_argument("--every", type=int, default=50)
    args = parser.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    agent, replay, config, state = load(args.run, args.penalty)
    rng = np.random.default_rng(0)
    probe = torch.as_tensor(replay.sample(PROBE_BATCH, rng)["obs"]).float()
    print(f"{args.run} at agent step {state['step']}, penalty {args.penalty:g} (one CPU thread)\n")
    print("| updates | pre-tanh mean | median abs | median tanh' | action mean | Q(-1) | Q(+1) | dQ/da < 0 | s |")
    print("|---|---|---|---|---|---|---|---|---|")
    start = time.perf_counter()
    for update in range(args.updates + 1):
        if update % args.every == 0 or update == args.updates:
            row = describe(agent, probe)
            print(f"| {update} | {row['pre_tanh_mean']:.2f} | {row['pre_tanh_median_abs']:.2f} | "
                  f"{row['tanh_derivative_median']:.1e} | {row['action_mean']:+.3f} | {row['q_minus_one']:.2f} | "
                  f"{row['q_plus_one']:.2f} | {row['dq_da_negative']:.0%} | {time.perf_counter() - start:.0f} |",
                  flush=True)  # fmt: skip
        if update < args.updates:
            agent.update(replay.sample(config["batch_size"], rng), state["step"])


if __name__ == "__main__":
    main()
