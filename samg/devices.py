"""Where models run: one `--device` resolver for every command that runs a model."""

import torch

from samg.errors import SamgError

DEVICE_HELP = "auto (CUDA when available, else the CPU), cpu, cuda, cuda:N."


class DeviceError(SamgError):
    """A --device this machine does not have."""


def resolve_device(name: str) -> str:
    """`auto` -> `cuda` when CUDA is available, else `cpu`; any other name must be a torch
    device this machine has (`cuda:N` within the device count)."""
    if name == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    try:
        device = torch.device(name)
    except RuntimeError:
        raise DeviceError(f"unknown device {name!r}: use auto, cpu, cuda or cuda:N") from None
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise DeviceError(f"--device {name}: this machine has no CUDA device; use --device cpu (or auto)")
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise DeviceError(f"--device {name}: this machine has {torch.cuda.device_count()} CUDA device(s)")
    if device.type == "mps" and not torch.backends.mps.is_available():
        raise DeviceError(f"--device {name}: MPS is not available on this machine; use --device cpu (or auto)")
    return name
