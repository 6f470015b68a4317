"""The student: a small U-Net from RGB frames to mask logits, and its file.

The frame is folded 2x2 into channels first (space-to-depth), so no layer runs at full
resolution; the last layer predicts the 2x2 sub-pixels of every cell back (pixel
shuffle). Measured on 2 CPU cores this is ~3x faster than the same U-Net with a
full-resolution stem and head, at the same output resolution (docs/benchmarks.md).

A student file is one safetensors file: the weights, and in its metadata (key
`samg_student`) the JSON description: architecture, teacher, store, episodes, training
settings, package version. Loading never unpickles and checks names and shapes strictly.
"""

import json
from dataclasses import asdict, dataclass
from itertools import pairwise
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from samg.errors import SamgError

FORMAT_NAME = "samg.student"
FORMAT_VERSION = 1
METADATA_KEY = "samg_student"
MEAN, STD = 0.45, 0.25  # input scaling of frames in [0, 1]


class StudentFileError(SamgError):
    """A student file that is missing, not a samg student, or does not match its architecture."""


@dataclass(frozen=True)
class StudentArchitecture:
    widths: tuple[int, ...] = (16, 32, 64, 128)  # channels at 1/2, 1/4, ... of the frame (docs/benchmarks.md)
    blocks: int = 1  # extra 3x3 convolutions per encoder stage

    def __post_init__(self):
        if len(self.widths) < 2 or min(self.widths) < 1 or self.blocks < 0:
            raise ValueError(f"bad student architecture {self}")

    @classmethod
    def from_dict(cls, values: dict) -> "StudentArchitecture":
        return cls(widths=tuple(values["widths"]), blocks=int(values["blocks"]))


def _conv(channels_in: int, channels_out: int, stride: int = 1) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(channels_in, channels_out, 3, stride, 1, bias=False),
        nn.BatchNorm2d(channels_out),
        nn.ReLU(inplace=True),
    )


class StudentNet(nn.Module):
    """(B, H, W, 3) uint8 frames (or (B, 3, H, W) floats in [0, 1]) -> (B, H, W) logits."""

    def __init__(self, architecture: StudentArchitecture = StudentArchitecture()):
        super().__init__()
        self.architecture = architecture
        widths = architecture.widths
        self.stem = _conv(12, widths[0])
        self.down = nn.ModuleList(
            nn.Sequential(_conv(a, b, stride=2), *(_conv(b, b) for _ in range(architecture.blocks)))
            for a, b in pairwise(widths)
        )
        self.up = nn.ModuleList(_conv(deep + skip, skip) for deep, skip in pairwise(reversed(widths)))
        self.head = nn.Conv2d(widths[0] + 12, 4, 3, 1, 1)

    def forward(self, frames: torch.Tensor) -> torch.Tensor:
        if frames.dtype == torch.uint8:
            frames = frames.permute(0, 3, 1, 2).float() / 255
        height, width = frames.shape[-2:]
        frames = F.pad(frames, (0, width % 2, 0, height % 2), mode="replicate")
        folded = F.pixel_unshuffle((frames - MEAN) / STD, 2).contiguous(memory_format=torch.channels_last)
        features = self.stem(folded.to(self.head.weight.dtype))
        skips = [features]
        for stage in self.down:
            features = stage(features)
            skips.append(features)
        skips.pop()
        for stage in self.up:
            skip = skips.pop()
            features = F.interpolate(features, size=skip.shape[-2:], mode="nearest")
            features = stage(torch.cat([features, skip], 1))
        logits = self.head(torch.cat([features, folded.to(features.dtype)], 1))
        return F.pixel_shuffle(logits, 2)[:, 0, :height, :width].float()

    def fused(self) -> "StudentNet":
        """An inference copy with every batch norm folded into its convolution."""
        from copy import deepcopy

        from torch.nn.utils.fusion import fuse_conv_bn_eval

        net = deepcopy(self).eval()
        for block in net.modules():
            if isinstance(block, nn.Sequential) and len(block) == 3 and isinstance(block[1], nn.BatchNorm2d):
                block[0] = fuse_conv_bn_eval(block[0], block[1])
                block[1] = nn.Identity()
        return net


def parameter_count(net: nn.Module) -> int:
    return sum(p.numel() for p in net.parameters())


def save_student(net: StudentNet, path: Path, description: dict) -> dict:
    """Weights and description in one safetensors file (written whole, then renamed); the
    full description written."""
    from safetensors.torch import save_file

    about = {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "architecture": asdict(net.architecture),
        "parameters": parameter_count(net),
        **description,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    state = {name: tensor.detach().cpu().contiguous() for name, tensor in net.state_dict().items()}
    save_file(state, str(partial), metadata={METADATA_KEY: json.dumps(about)})
    partial.replace(path)
    return about


def read_description(path: Path) -> dict:
    """The JSON description in a student file's header (the weights are not read)."""
    from safetensors import SafetensorError, safe_open

    path = Path(path)
    if not path.is_file():
        raise StudentFileError(f"no student file at {path}: train one with 'samg distill STORE --out {path}'")
    try:
        with safe_open(str(path), framework="pt") as handle:
            metadata = handle.metadata() or {}
    except (SafetensorError, OSError, ValueError) as error:
        raise StudentFileError(
            f"{path} is not a safetensors student file ({error}): retrain it with 'samg distill'"
        )
    try:
        about = json.loads(metadata[METADATA_KEY])
    except (KeyError, json.JSONDecodeError):
        raise StudentFileError(
            f"{path} has no samg student description: retrain it with 'samg distill'"
        ) from None
    if about.get("format") != FORMAT_NAME or about.get("format_version") != FORMAT_VERSION:
        raise StudentFileError(
            f"{path} is a {about.get('format')!r} file, version {about.get('format_version')!r}; this samg reads "
            f"{FORMAT_NAME} version {FORMAT_VERSION}: retrain it with 'samg distill'"
        )
    return about


def load_student(path: Path) -> tuple[StudentNet, dict]:
    """The student network (eval mode, on CPU) and its description; names and shapes must
    match the described architecture exactly."""
    from safetensors.torch import load_file

    about = read_description(path)
    net = StudentNet(StudentArchitecture.from_dict(about["architecture"]))
    state = load_file(str(path))
    expected = net.state_dict()
    missing, unexpected = sorted(set(expected) - set(state)), sorted(set(state) - set(expected))
    if missing or unexpected:
        raise StudentFileError(
            f"{path} does not match its architecture (missing {missing[:3]}, unexpected {unexpected[:3]}): "
            "retrain it with 'samg distill'"
        )
    for name, tensor in state.items():
        if tensor.shape != expected[name].shape or tensor.dtype != expected[name].dtype:
            raise StudentFileError(
                f"{path}: {name} is {tuple(tensor.shape)} {tensor.dtype}, the architecture needs "
                f"{tuple(expected[name].shape)} {expected[name].dtype}: retrain it with 'samg distill'"
            )
    net.load_state_dict(state, strict=True)
    return net.eval(), about
