"""`samg distill`: train a student segmenter on a teacher's masks of the train frames.

The training input is the `train` setting only (the benchmark's shifted settings are for
testing) and the teacher's masks of those frames: the simulator's (`oracle`) or a mask set
from `samg segment`. Generalisation to the shifted settings comes from augmentation
(`augment.py`), never from their frames or the benchmark's asset files.
"""

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from samg import __version__
from samg.distill.augment import AugmentConfig, Augmenter
from samg.distill.model import StudentArchitecture, StudentNet, save_student
from samg.errors import SamgError
from samg.pipeline.store import DemoStore, StoreError

TRAIN_SETTING = "train"
CHECK_FRAMES = 512  # un-augmented training frames scored at the end (a sanity check, not a test)


class DistillError(SamgError):
    """A distillation request the benchmark's rules or the store cannot satisfy."""


@dataclass(frozen=True)
class DistillConfig:
    store: Path
    teacher: str = "oracle"  # or the name of a mask set from `samg segment`
    episodes: tuple[int, int] | None = None  # [start, stop); default: all committed
    setting: str = TRAIN_SETTING  # anything else is refused
    steps: int = 3000
    batch_size: int = 32
    lr: float = 2e-3
    weight_decay: float = 1e-4
    architecture: StudentArchitecture = field(default_factory=StudentArchitecture)
    augment: AugmentConfig = field(default_factory=AugmentConfig)
    device: str = "cpu"
    seed: int = 0
    out: Path | None = None  # default: runs/student_<task>_<teacher>.safetensors
    log_every: int = 50

    def out_path(self, task: str) -> Path:
        return self.out or Path("runs") / f"student_{task}_{self.teacher}.safetensors"


@dataclass
class DistillResult:
    path: Path
    description: dict


def episode_range(store: DemoStore, episodes: tuple[int, int] | None) -> tuple[int, int]:
    start, stop = episodes if episodes is not None else (0, store.n_episodes)
    if not 0 <= start < stop <= store.n_episodes:
        raise StoreError(
            f"episodes {start}:{stop} out of range: {store.path} has {store.n_episodes} committed"
        )
    return start, stop


def training_data(
    store: DemoStore, teacher: str, episodes: tuple[int, int], setting: str = TRAIN_SETTING
) -> tuple[np.ndarray, np.ndarray, dict]:
    """Frames (N, H, W, 3) uint8 of `setting` (only `train` is allowed), the teacher's masks
    (N, H, W) bool, and the teacher's description."""
    if setting != TRAIN_SETTING:
        raise DistillError(
            f"the student trains on {TRAIN_SETTING!r} frames only; {setting!r} is a test setting of the "
            "benchmark (shifts are for testing): drop it"
        )
    if TRAIN_SETTING not in store.plan.settings:
        raise StoreError(f"{store.path} has no {TRAIN_SETTING!r} frames to train on")
    start, stop = episodes
    steps = slice(store.episode_slice(start).start, store.episode_slice(stop - 1).stop)
    frames = store.read(f"images/{TRAIN_SETTING}/rgb", steps)  # refuses missing chunks (zarr reads zeros)
    if teacher == "oracle":
        return frames, store.read("masks/gt", steps) > 0, {"kind": "oracle"}
    from samg.pipeline.masks import MaskSet

    mask_set = MaskSet(store, teacher)
    for episode in range(start, stop):
        mask_set.require_episode(TRAIN_SETTING, episode)
    return frames, mask_set.read(TRAIN_SETTING, steps).astype(bool), mask_set.attrs["segmenter"]


def mask_loss(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Binary cross-entropy plus a soft Dice term (the Dice term speaks for IoU)."""
    probabilities = torch.sigmoid(logits)
    overlap = (probabilities * targets).sum()
    dice = 1 - (2 * overlap + 1) / (probabilities.sum() + targets.sum() + 1)
    return F.binary_cross_entropy_with_logits(logits, targets) + dice


@torch.inference_mode()
def student_iou(
    net: StudentNet, frames: np.ndarray, masks: np.ndarray, device: str, batch: int = 64
) -> float:
    """Intersection over union of the student's masks against `masks`, over all frames."""
    net.eval()
    intersection = union = 0
    for at in range(0, len(frames), batch):
        predicted = (net(torch.from_numpy(frames[at : at + batch]).to(device)) > 0).cpu().numpy()
        truth = masks[at : at + batch]
        intersection += int((predicted & truth).sum())
        union += int((predicted | truth).sum())
    return intersection / union if union else 1.0


def _one_cycle(
    optimizer: torch.optim.Optimizer, config: DistillConfig
) -> torch.optim.lr_scheduler.LRScheduler:
    """Warm-up over 5% of the steps (at least 2), then cosine decay; constant for tiny runs."""
    if config.steps < 3:
        return torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: 1.0)
    warm_up = max(0.05, 2 / config.steps)
    return torch.optim.lr_scheduler.OneCycleLR(
        optimizer, config.lr, total_steps=config.steps, pct_start=warm_up
    )


def train_student(
    config: DistillConfig,
    frames: np.ndarray,
    masks: np.ndarray,
    on_progress: Callable[[dict], None] | None = None,
) -> tuple[StudentNet, dict, dict]:
    """The trained network, training figures and the augmentation's description, from train
    frames (N, H, W, 3) uint8 and the teacher's masks (N, H, W) bool."""
    torch.manual_seed(config.seed)
    net = StudentNet(config.architecture).to(config.device).to(memory_format=torch.channels_last)
    augmenter = Augmenter(config.augment, frames.shape[1], config.seed)
    optimizer = torch.optim.AdamW(net.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    schedule = _one_cycle(optimizer, config)
    picker = np.random.default_rng(config.seed)
    frames_t, masks_t = torch.from_numpy(frames), torch.from_numpy(masks)
    started = time.perf_counter()
    losses: list[float] = []
    net.train()
    for step in range(1, config.steps + 1):
        chosen = torch.from_numpy(picker.integers(len(frames), size=config.batch_size))
        images, targets = augmenter(frames_t[chosen], masks_t[chosen])
        loss = mask_loss(net(images.to(config.device)), targets.to(config.device))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        schedule.step()
        losses.append(loss.item())
        if on_progress is not None and (step % config.log_every == 0 or step == config.steps):
            seconds = time.perf_counter() - started
            on_progress({"step": step, "steps": config.steps, "loss": float(np.mean(losses[-config.log_every :])),
                         "seconds": seconds, "samples_per_second": step * config.batch_size / seconds})  # fmt: skip
    seconds = time.perf_counter() - started
    check = np.sort(picker.choice(len(frames), size=min(CHECK_FRAMES, len(frames)), replace=False))
    figures = {
        "steps": config.steps,
        "batch_size": config.batch_size,
        "lr": config.lr,
        "weight_decay": config.weight_decay,
        "seed": config.seed,
        "device": config.device,
        "seconds": round(seconds, 1),
        "samples_per_second": round(config.steps * config.batch_size / seconds, 1),
        "final_loss": round(float(np.mean(losses[-config.log_every :])), 4),
        "train_frames_iou": round(student_iou(net, frames[check], masks[check], config.device), 4),
    }
    return net.cpu(), figures, augmenter.describe()


def distill(config: DistillConfig, on_progress: Callable[[dict], None] | None = None) -> DistillResult:
    """Train a student on the teacher's masks of the train frames; write it to `out_path`."""
    store = DemoStore(config.store)
    episodes = episode_range(store, config.episodes)
    frames, masks, teacher_description = training_data(store, config.teacher, episodes, config.setting)
    net, figures, augmentation = train_student(config, frames, masks, on_progress)
    description = {
        "task": store.plan.task,
        "image_size": store.plan.image_size,
        "teacher": config.teacher,
        "teacher_description": teacher_description,
        "store": str(store.path),
        "episodes": list(episodes),
        "setting": TRAIN_SETTING,
        "frames": len(frames),
        "training": figures,
        "augmentation": augmentation,
        "package_version": __version__,
    }
    path = config.out_path(store.plan.task)
    return DistillResult(path, save_student(net, path, description))
