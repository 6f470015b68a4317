"""The BC policy: an image encoder (DrQ-v2 conv stack, or PIE-G's frozen ResNet-18 layers),
proprioception, an MLP head; MSE on normalised actions; random-shift augmentation."""

from pathlib import Path

import numpy as np
import pytorch_lightning as pl
import torch
import torch.nn.functional as F
from torch import nn

from samg.il.data import Normalizer

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def random_shift(frames: torch.Tensor, pad: int) -> torch.Tensor:
    """DrQ's augmentation: pad by repeating the border, crop back at a random integer offset
    per sample (float frames, (B, C, H, W), square)."""
    batch, _, size, _ = frames.shape
    padded = F.pad(frames, (pad,) * 4, mode="replicate")
    eps = 1.0 / (size + 2 * pad)
    base = torch.linspace(-1.0 + eps, 1.0 - eps, size + 2 * pad, device=frames.device)[:size]
    grid_x = base.view(1, size).expand(size, size)
    grid = torch.stack([grid_x, grid_x.t()], dim=-1)[None].expand(batch, -1, -1, -1)
    shift = torch.randint(0, 2 * pad + 1, (batch, 1, 1, 2), device=frames.device, dtype=frames.dtype) * 2 * eps
    return F.grid_sample(padded, grid + shift, padding_mode="zeros", align_corners=False)


class ConvEncoder(nn.Module):
    """DrQ-v2's encoder: 4 convs of 32 channels (the first with stride 2), trained from scratch."""

    def __init__(self, channels: int, size: int):
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(channels, 32, 3, stride=2), nn.ReLU(),
            nn.Conv2d(32, 32, 3, stride=1), nn.ReLU(),
            nn.Conv2d(32, 32, 3, stride=1), nn.ReLU(),
            nn.Conv2d(32, 32, 3, stride=1), nn.ReLU(),
        )  # fmt: skip
        self.net.to(memory_format=torch.channels_last)  # 1.5x faster on CPU (oneDNN), measured
        with torch.no_grad():
            self.out_dim = self.net(torch.zeros(1, channels, size, size)).numel()

    def forward(self, frames: torch.Tensor) -> torch.Tensor:
        images = (frames / 255.0 - 0.5).contiguous(memory_format=torch.channels_last)
        return self.net(images).flatten(1)


class ResNetEncoder(nn.Module):
    """PIE-G: ImageNet ResNet-18 up to layer2, frozen (eval-mode BatchNorm), applied to each
    frame of the stack; the features are concatenated."""

    def __init__(self, channels: int, size: int, weights: Path | None):
        super().__init__()
        import torchvision

        from samg.segmenter.weights import load_imagenet_resnet18

        resnet = torchvision.models.resnet18()
        resnet.load_state_dict(load_imagenet_resnet18(weights))
        self.layers = nn.Sequential(
            resnet.conv1, resnet.bn1, resnet.relu, resnet.maxpool, resnet.layer1, resnet.layer2
        ).eval()
        self.layers.requires_grad_(False)
        self.frames = channels // 3
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1))
        with torch.no_grad():
            self.out_dim = self.frames * self.layers(torch.zeros(1, 3, size, size)).numel()

    def train(self, mode: bool = True):
        super().train(mode)
        self.layers.eval()  # frozen statistics
        return self

    def forward(self, frames: torch.Tensor) -> torch.Tensor:
        batch, channels, height, width = frames.shape
        images = (frames.reshape(batch * self.frames, 3, height, width) / 255.0 - self.mean) / self.std
        return self.layers(images).reshape(batch, -1)


class BCPolicy(pl.LightningModule):
    def __init__(
        self,
        frame_channels: int,
        image_size: int,
        proprio_dim: int,
        action_dim: int,
        normalizer: dict,
        encoder: str = "conv",
        lr: float = 5e-5,
        shift_pad: int = 4,
        proprio_dropout: float = 0.0,
        feature_dim: int = 50,
        hidden_dim: int = 1024,
        resnet_weights: str | None = None,
    ):
        super().__init__()
        self.save_hyperparameters()
        if encoder == "conv":
            self.encoder = ConvEncoder(frame_channels, image_size)
        else:
            self.encoder = ResNetEncoder(frame_channels, image_size, Path(resnet_weights) if resnet_weights else None)
        self.trunk = nn.Sequential(nn.Linear(self.encoder.out_dim, feature_dim), nn.LayerNorm(feature_dim), nn.Tanh())
        self.head = nn.Sequential(
            nn.Linear(feature_dim + proprio_dim, hidden_dim), nn.ReLU(),
            nn.Linear(hidden_dim, hidden_dim), nn.ReLU(),
            nn.Linear(hidden_dim, action_dim),
        )  # fmt: skip
        stats = Normalizer.from_dict(normalizer)
        for name, value in stats.__dict__.items():
            self.register_buffer(name, torch.as_tensor(value, dtype=torch.float32))

    def forward(self, frames: torch.Tensor, proprio: torch.Tensor) -> torch.Tensor:
        """uint8-valued frames (B, C, H, W) and raw proprio -> normalised actions."""
        features = self.trunk(self.encoder(frames.float()))
        proprio = (proprio - self.proprio_mean) / self.proprio_std
        return self.head(torch.cat([features, proprio], dim=1))

    def act(self, frames: np.ndarray, proprio: np.ndarray) -> np.ndarray:
        """One observation -> an action in [-1, 1] (float32)."""
        return self.act_batch(frames[None], proprio[None])[0]

    @torch.inference_mode()
    def act_batch(self, frames: np.ndarray, proprio: np.ndarray) -> np.ndarray:
        """N observations (N, C, H, W) and (N, P) -> N actions in [-1, 1] (float32).

        On the CPU the rows go through one at a time on one thread, so that each gets the bits
        it gets alone in any process layout (`--envs`, `--workers`): oneDNN picks convolution
        and GEMM kernels by batch size and splits reductions by thread count, and a last-bit
        change in an action changes an episode's return (measured on door). The CPU gains
        little from batching or threading this small network; other devices take all rows in
        one pass."""
        device = self.action_mean.device
        frames_t = torch.as_tensor(frames, device=device)
        proprio_t = torch.as_tensor(proprio, dtype=torch.float32, device=device)
        if device.type == "cpu":
            threads = torch.get_num_threads()
            torch.set_num_threads(1)
            try:
                normalised = torch.cat([self(frames_t[i : i + 1], proprio_t[i : i + 1]) for i in range(len(frames_t))])
            finally:
                torch.set_num_threads(threads)
        else:
            normalised = self(frames_t, proprio_t)
        action = normalised * self.action_std + self.action_mean
        return action.clamp(-1.0, 1.0).cpu().numpy().astype(np.float32)

    def _loss(self, batch: dict) -> torch.Tensor:
        target = (batch["action"] - self.action_mean) / self.action_std
        return F.mse_loss(self(batch["frames"], batch["proprio"]), target)

    def drop_proprio(self, proprio: torch.Tensor) -> torch.Tensor:
        """Each row replaced by the training mean (zero after normalisation) with probability
        `proprio_dropout`: the action must then come from the image alone."""
        if not self.hparams.proprio_dropout:
            return proprio  # no draw: the random stream, and so the run, stays as without the switch
        dropped = torch.rand(len(proprio), 1, device=proprio.device) < self.hparams.proprio_dropout
        return torch.where(dropped, self.proprio_mean, proprio)

    def training_step(self, batch: dict, batch_index: int) -> torch.Tensor:
        frames = random_shift(batch["frames"].float(), self.hparams.shift_pad)
        loss = self._loss({**batch, "frames": frames, "proprio": self.drop_proprio(batch["proprio"])})
        self.log("train/loss", loss, prog_bar=True, on_step=True, on_epoch=True, batch_size=len(frames), sync_dist=True)
        return loss

    def validation_step(self, batch: dict, batch_index: int) -> torch.Tensor:
        loss = self._loss(batch)
        self.log("val/loss", loss, prog_bar=True, on_epoch=True, batch_size=len(batch["action"]), sync_dist=True)
        return loss

    def configure_optimizers(self):
        trainable = [p for p in self.parameters() if p.requires_grad]
        return torch.optim.Adam(trainable, lr=self.hparams.lr)


def load_policy(checkpoint: Path, device: str = "cpu") -> BCPolicy:
    """A policy from a Lightning checkpoint, read with `weights_only=True` (no code runs)."""
    from samg.il.config import RunError
    from samg.safe_load import safe_torch_load

    saved = safe_torch_load(checkpoint, "BC checkpoint", RunError, device)
    if not isinstance(saved, dict) or not isinstance(saved.get("hyper_parameters"), dict):
        raise RunError(f"{checkpoint} is not a checkpoint of 'samg bc train' (no hyper_parameters)")
    try:
        policy = BCPolicy(**saved["hyper_parameters"])
        policy.load_state_dict(saved.get("state_dict", {}))
    except (TypeError, ValueError, KeyError, RuntimeError) as error:  # RuntimeError: missing keys, shapes
        reason = (str(error).splitlines() or [""])[0][:200]
        raise RunError(f"{checkpoint} does not hold a BC policy samg can build ({type(error).__name__}: {reason})") from None
    return policy.to(device).eval()
