"""Typed configs of `samg bc train` and `samg eval`, saved as JSON beside their outputs."""

import json
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from samg.errors import SamgError

OBSERVATIONS = ("masked", "raw")
ENCODERS = ("conv", "resnet18")


class RunError(SamgError):
    """A run directory that is missing, incomplete or of another kind."""


@dataclass(frozen=True)
class BCConfig:
    data: Path
    out: Path
    obs: str = "masked"  # masked: rgb * the segmenter's stored masks; raw: the frames as rendered
    segmenter: str = "oracle"  # a mask set in the store (`samg segment --name`), or oracle
    setting: str = "train"  # frames the policy learns from
    encoder: str = "conv"  # conv: DrQ-v2 stack from scratch; resnet18: PIE-G's frozen ImageNet layers
    epochs: int = 80
    batch_size: int = 256
    lr: float = 5e-5
    seed: int = 0
    demos: int | None = None  # the first N episodes (default: all)
    val_fraction: float = 0.1  # held-out episodes
    frame_stack: int = 3
    shift_pad: int = 4
    devices: str = "auto"
    accelerator: str = "auto"
    max_steps: int = -1  # stop early (tests, smoke runs); -1: epochs decide

    def __post_init__(self):
        if self.obs not in OBSERVATIONS:
            raise SamgError(f"unknown --obs {self.obs!r}; valid: {', '.join(OBSERVATIONS)}")
        if self.encoder not in ENCODERS:
            raise SamgError(f"unknown --encoder {self.encoder!r}; valid: {', '.join(ENCODERS)}")
        if not 0 <= self.val_fraction < 1:
            raise SamgError(f"--val-fraction must be in [0, 1), got {self.val_fraction}")

    @property
    def mask_source(self) -> str:
        """What `DemoStore.frames` calls the view: 'none' for raw frames."""
        return "none" if self.obs == "raw" else self.segmenter

    def to_json(self) -> dict:
        values = asdict(self)
        return {key: str(value) if isinstance(value, Path) else value for key, value in values.items()}

    @classmethod
    def from_json(cls, values: dict) -> "BCConfig":
        known = {f.name for f in fields(cls)}
        values = {key: value for key, value in values.items() if key in known}
        return cls(**{**values, "data": Path(values["data"]), "out": Path(values["out"])})

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(self.to_json(), indent=2) + "\n")

    @classmethod
    def load(cls, run: Path) -> "BCConfig":
        path = run / "config.json"
        if not path.is_file():
            raise RunError(f"{run} is not a bc run (no config.json): train one with 'samg bc train'")
        return cls.from_json(json.loads(path.read_text()))
