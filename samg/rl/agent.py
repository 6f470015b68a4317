"""DrQ-v2 (Yarats et al. 2021): a conv encoder trained through the critic, a deterministic
actor with scheduled Gaussian exploration noise, double Q with a target network, n-step
returns and random-shift augmentation. Small and flat, as the original."""

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from samg.il.policy import ConvEncoder, random_shift


@dataclass(frozen=True)
class AgentConfig:
    lr: float = 1e-4
    feature_dim: int = 50
    hidden_dim: int = 1024
    tau: float = 0.01  # target network update rate
    std_start: float = 1.0
    std_end: float = 0.1
    std_steps: int = 100_000  # agent steps over which exploration noise decays (DrQ-v2 "easy")
    std_clip: float = 0.3
    shift_pad: int = 4
    expl_steps: int = 2_000  # agent steps of uniform random actions (DrQ-v2's num_expl_steps)
    # Not DrQ-v2 (0 there): weight of a penalty on the actor's pre-tanh mean beyond
    # +-saturation_bound. A saturated actor (pre-tanh ~9: float32 tanh is exactly 1, its
    # derivative exactly 0) gets no gradient from the critic and stays at the bound whatever
    # the critic prefers; the penalty is zero for actions inside +-tanh(bound) = +-0.995.
    saturation_penalty: float = 0.0
    saturation_bound: float = 3.0

    def std(self, step: int) -> float:
        mix = min(step / self.std_steps, 1.0)
        return (1 - mix) * self.std_start + mix * self.std_end


def weight_init(module: nn.Module) -> None:
    """DrQ-v2's initialisation: orthogonal weights (ReLU gain for convolutions), zero biases."""
    if isinstance(module, nn.Linear | nn.Conv2d):
        gain = nn.init.calculate_gain("relu") if isinstance(module, nn.Conv2d) else 1.0
        with torch.no_grad():  # written through copy_: the encoder's weights are channels-last
            module.weight.copy_(nn.init.orthogonal_(torch.empty(module.weight.shape), gain))
            if module.bias is not None:
                module.bias.zero_()


def _mlp(inputs: int, hidden: int, outputs: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Linear(inputs, hidden), nn.ReLU(inplace=True),
        nn.Linear(hidden, hidden), nn.ReLU(inplace=True),
        nn.Linear(hidden, outputs),
    )  # fmt: skip


class Actor(nn.Module):
    def __init__(self, repr_dim: int, action_dim: int, feature_dim: int, hidden_dim: int):
        super().__init__()
        self.trunk = nn.Sequential(nn.Linear(repr_dim, feature_dim), nn.LayerNorm(feature_dim), nn.Tanh())
        self.policy = _mlp(feature_dim, hidden_dim, action_dim)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return torch.tanh(self.pre_tanh(features))

    def pre_tanh(self, features: torch.Tensor) -> torch.Tensor:
        return self.policy(self.trunk(features))


class Critic(nn.Module):
    def __init__(self, repr_dim: int, action_dim: int, feature_dim: int, hidden_dim: int):
        super().__init__()
        self.trunk = nn.Sequential(nn.Linear(repr_dim, feature_dim), nn.LayerNorm(feature_dim), nn.Tanh())
        self.q1 = _mlp(feature_dim + action_dim, hidden_dim, 1)
        self.q2 = _mlp(feature_dim + action_dim, hidden_dim, 1)

    def forward(self, features: torch.Tensor, action: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        joined = torch.cat([self.trunk(features), action], dim=-1)
        return self.q1(joined), self.q2(joined)


def noisy(mean: torch.Tensor, std: float, clip: float | None = None) -> torch.Tensor:
    """mean + N(0, std) noise (clipped to +-clip when given), kept inside (-1, 1).

    The bound is applied straight-through (DrQ-v2's TruncatedNormal): the value is clamped,
    the gradient is that of the unclamped sample, so a sample that leaves (-1, 1) still
    teaches the actor."""
    noise = torch.randn_like(mean) * std
    if clip is not None:
        noise = noise.clamp(-clip, clip)
    sample = mean + noise
    bounded = sample.clamp(-1.0 + 1e-6, 1.0 - 1e-6)
    return sample - sample.detach() + bounded.detach()  # exact zero first: the value stays in bounds


class DrQV2Agent:
    def __init__(self, obs_shape: tuple[int, int, int], action_dim: int, config: AgentConfig, device: str = "cpu"):
        self.config, self.device, self.action_dim = config, torch.device(device), action_dim
        channels, size, _ = obs_shape
        self.encoder = ConvEncoder(channels, size).to(self.device)
        dims = (self.encoder.out_dim, action_dim, config.feature_dim, config.hidden_dim)
        self.actor = Actor(*dims).to(self.device)
        self.critic = Critic(*dims).to(self.device)
        self.critic_target = Critic(*dims).to(self.device)
        for module in (self.encoder, self.actor, self.critic):
            module.apply(weight_init)
        self.critic_target.load_state_dict(self.critic.state_dict())
        self._staging: dict[str, torch.Tensor] = {}  # page-locked replay samples (GPU only)
        self.optimizers = {
            name: torch.optim.Adam(module.parameters(), lr=config.lr)
            for name, module in (("encoder", self.encoder), ("actor", self.actor), ("critic", self.critic))
        }

    def act(self, obs: np.ndarray, step: int, explore: bool) -> np.ndarray:
        """One observation (stack x 3, H, W) -> one action; see `act_batch`."""
        return self.act_batch(obs[None], step, explore)[0]

    @torch.no_grad()
    def act_batch(self, obs: np.ndarray, step: int, explore: bool) -> np.ndarray:
        """(N, stack x 3, H, W) -> (N, action_dim): the actor's mean, or when exploring a noisy
        action: uniform in the first `expl_steps` agent steps, then mean + scheduled noise."""
        if explore and step < self.config.expl_steps:
            return torch.empty(len(obs), self.action_dim).uniform_(-1.0, 1.0).numpy()
        features = self.encoder(torch.as_tensor(obs, device=self.device).float())
        mean = self.actor(features)
        action = noisy(mean, self.config.std(step)) if explore else mean
        return action.cpu().numpy().astype(np.float32)

    def to_device(self, batch: dict[str, np.ndarray]) -> dict[str, torch.Tensor]:
        """A replay sample on the agent's device. On a GPU through page-locked staging
        buffers (one per array, reused), so the copies run asynchronously; `update`'s one
        wait at its end guarantees the last copies are done before a buffer is refilled."""
        if self.device.type != "cuda":
            return {key: torch.as_tensor(value, device=self.device) for key, value in batch.items()}
        staging, tensors = self._staging, {}
        for key, value in batch.items():
            source = torch.from_numpy(np.ascontiguousarray(value))
            if key not in staging or staging[key].shape != source.shape or staging[key].dtype != source.dtype:
                staging[key] = torch.empty(source.shape, dtype=source.dtype).pin_memory()
            tensors[key] = staging[key].copy_(source).to(self.device, non_blocking=True)
        return tensors

    def update(self, batch: dict[str, np.ndarray], step: int) -> dict[str, float]:
        """One critic and one actor step; waits for the device once (its metrics)."""
        tensors = self.to_device(batch)
        frames = torch.cat([tensors["obs"], tensors["next_obs"]]).float()  # one augmentation call for both
        obs, next_obs = random_shift(frames, self.config.shift_pad).chunk(2)
        features = self.encoder(obs)
        with torch.no_grad():
            next_features = self.encoder(next_obs)
        metrics = self._update_critic(features, tensors, next_features, step)
        metrics |= self._update_actor(features.detach(), step)
        with torch.no_grad():
            for target, source in zip(self.critic_target.parameters(), self.critic.parameters(), strict=True):
                target.lerp_(source, self.config.tau)
        return dict(zip(metrics, torch.stack(list(metrics.values())).tolist(), strict=True))

    def _update_critic(self, features, tensors, next_features, step) -> dict[str, torch.Tensor]:
        std = self.config.std(step)
        with torch.no_grad():
            next_action = noisy(self.actor(next_features), std, self.config.std_clip)
            target_q = torch.min(*self.critic_target(next_features, next_action))
            target = tensors["reward"][:, None] + tensors["discount"][:, None] * target_q
        q1, q2 = self.critic(features, tensors["action"])
        loss = F.mse_loss(q1, target) + F.mse_loss(q2, target)
        for name in ("encoder", "critic"):
            self.optimizers[name].zero_grad(set_to_none=True)
        loss.backward()
        for name in ("encoder", "critic"):
            self.optimizers[name].step()
        return {"critic_loss": loss.detach(), "q": q1.mean().detach()}

    def _update_actor(self, features, step) -> dict[str, torch.Tensor]:
        pre_tanh = self.actor.pre_tanh(features)
        action = noisy(torch.tanh(pre_tanh), self.config.std(step), self.config.std_clip)
        loss = -torch.min(*self.critic(features, action)).mean()
        if self.config.saturation_penalty:
            excess = (pre_tanh.abs() - self.config.saturation_bound).clamp(min=0)
            loss = loss + self.config.saturation_penalty * (excess**2).mean()
        self.optimizers["actor"].zero_grad(set_to_none=True)
        loss.backward()
        self.optimizers["actor"].step()
        return {"actor_loss": loss.detach()}

    # ---- checkpoints -----------------------------------------------------------------------

    MODULES = ("encoder", "actor", "critic", "critic_target")

    def state_dict(self) -> dict:
        state = {name: getattr(self, name).state_dict() for name in self.MODULES}
        state["optimizers"] = {name: opt.state_dict() for name, opt in self.optimizers.items()}
        return state

    def load_state_dict(self, state: dict) -> None:
        for name in self.MODULES:
            getattr(self, name).load_state_dict(state[name])
        for name, optimizer in self.optimizers.items():
            optimizer.load_state_dict(state["optimizers"][name])
