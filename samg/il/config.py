"""Typed configs of `samg bc train` and `samg eval`, saved as JSON beside their outputs."""

import json
import math
from collections.abc import Callable
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from samg.errors import SamgError, UnknownNameError
from samg.files import write_json
from samg.run_record import check_against_record
from samg.typecheck import check_field_types

OBSERVATIONS = ("masked", "raw")
CONFIG_RECORD = "samg_bc_config"  # the key under which every checkpoint of `samg bc train` holds its run's config
# What config.json may say otherwise than a checkpoint's record: where the store and the run lie
# (moved ones are followed by editing config.json), and how long to train (a resume may go on
# past the length an earlier checkpoint was recorded with).
UNRECORDED_FIELDS = ("data", "out", "epochs", "max_steps")
# Fields added after runs were trained without them: a config.json that lacks one predates it
# and means the field's default (which is what those runs did).
LATER_FIELDS = ("proprio_dropout", "strategy")
ENCODERS = ("conv", "resnet18")
ACCELERATORS = ("auto", "cpu", "gpu", "cuda", "mps")
STRATEGIES = ("auto", "ddp", "ddp_spawn")  # Lightning's; ddp: one process per device (gloo on CPU, nccl on GPU)


class RunError(SamgError):
    """A run directory that is missing, incomplete or of another kind."""


@dataclass(frozen=True)
class BCConfig:
    data: Path
    out: Path
    obs: str = "masked"  # masked: rgb * the segmenter's stored masks; raw: the frames as rendered
    segmenter: str = "oracle"  # a mask set in the store (`samg segment --name`), oracle, or blank (no pixel)
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
    proprio: str = "hand"  # hand: RL-ViGen's proprioception; hand+arm adds the arm's joints; none (samg.envs.proprio)
    proprio_dropout: float = 0.0  # per training sample, the probability its proprioception is replaced by the mean
    select_episodes: int = 0  # >0: best.ckpt is the epoch with the most successes in this many train-setting rollouts
    devices: str = "auto"
    accelerator: str = "auto"
    strategy: str = "auto"  # with several devices, batch_size is the global batch, split evenly across them
    max_steps: int = -1  # stop early (tests, smoke runs); -1: epochs decide
    preset: str | None = None  # the preset (configs/bc/NAME.toml) the values came from, if any

    def __post_init__(self):
        check_field_types(self)
        if self.obs not in OBSERVATIONS:
            raise UnknownNameError("observation", self.obs, OBSERVATIONS)
        if self.encoder not in ENCODERS:
            raise UnknownNameError("encoder", self.encoder, ENCODERS)
        if self.accelerator not in ACCELERATORS:
            raise UnknownNameError("accelerator", self.accelerator, ACCELERATORS)
        if self.strategy not in STRATEGIES:
            raise UnknownNameError("strategy", self.strategy, STRATEGIES)
        from samg.envs.proprio import PROPRIO_INPUTS
        from samg.pipeline.masks import SIMPLE_VIEWS, check_mask_name

        if self.proprio not in PROPRIO_INPUTS:
            raise UnknownNameError("proprioception", self.proprio, PROPRIO_INPUTS)

        if self.segmenter not in SIMPLE_VIEWS:
            check_mask_name(self.segmenter)
        _require(math.isfinite(self.lr) and self.lr > 0, f"--lr must be a positive number, got {self.lr}")
        for name in ("epochs", "batch_size", "frame_stack"):
            _require(getattr(self, name) >= 1, f"--{name.replace('_', '-')} must be at least 1, got {getattr(self, name)}")
        _require(self.seed >= 0, f"--seed must be at least 0, got {self.seed}")
        _require(self.select_episodes >= 0, f"--select-episodes must be at least 0, got {self.select_episodes}")
        _require(self.shift_pad >= 0, f"--shift-pad must be at least 0, got {self.shift_pad}")
        _require(self.demos is None or self.demos >= 1, f"--demos must be at least 1, got {self.demos}")
        _require(self.max_steps == -1 or self.max_steps >= 1, f"--max-steps must be -1 or at least 1, got {self.max_steps}")
        _require(0 <= self.proprio_dropout <= 1, f"--proprio-dropout must be in [0, 1], got {self.proprio_dropout}")
        _require(0 <= self.val_fraction < 1, f"--val-fraction must be in [0, 1), got {self.val_fraction}")
        _require(
            self.devices == "auto" or all(d.strip().lstrip("-").isdigit() for d in self.devices.split(",")),
            f"--devices takes auto, a count or a comma list of device indices, got {self.devices!r}",
        )

    @property
    def mask_source(self) -> str:
        """What `DemoStore.frames` calls the view: 'none' for raw frames."""
        return "none" if self.obs == "raw" else self.segmenter

    @property
    def policy_obs(self) -> str:
        """What the policy sees, as reports name it."""
        if self.obs == "raw":
            return "raw"
        return "blank (proprioception only)" if self.segmenter == "blank" else f"masked ({self.segmenter})"

    def to_json(self) -> dict:
        values = asdict(self)
        return {key: str(value) if isinstance(value, Path) else value for key, value in values.items()}

    @classmethod
    def from_json(cls, values: dict) -> "BCConfig":
        known = {f.name for f in fields(cls)}
        values = {key: value for key, value in values.items() if key in known}
        return cls(**{**values, "data": Path(values["data"]), "out": Path(values["out"])})

    def save(self, path: Path) -> None:
        write_json(path, self.to_json())

    @classmethod
    def load(cls, run: Path, checkpoint_of: Callable[[Path], Path] | None = None) -> "BCConfig":
        """RUN/config.json, which holds every field. With `checkpoint_of` (which of the run's
        checkpoints, looked for once config.json is there), the config recorded in that
        checkpoint decides: config.json must agree with it but for UNRECORDED_FIELDS.
        Checkpoints written before samg recorded their config leave config.json alone to say."""
        path = run / "config.json"
        if not path.is_file():
            raise RunError(f"{run} is not a bc run (no config.json): train one with 'samg bc train'")
        values = read_json(path, "bc run config")
        checkpoint = checkpoint_of(run) if checkpoint_of is not None else None
        recorded = recorded_config(checkpoint) if checkpoint is not None else None
        if recorded is not None:
            check_against_record(path, values, recorded, checkpoint, UNRECORDED_FIELDS, "bc run config", RunError)
        missing = [f.name for f in fields(cls) if f.name not in values and f.name not in LATER_FIELDS]
        if missing:
            raise RunError(f"{path} is not a valid bc run config (it lacks {', '.join(missing)}): "
                           "train the run again with 'samg bc train'")  # fmt: skip
        try:
            return cls.from_json(values)
        except (SamgError, KeyError, TypeError, AttributeError) as error:
            reason = error if isinstance(error, SamgError) else f"{type(error).__name__}: {error}"
            raise RunError(f"{path} is not a valid bc run config ({reason}): train the run again with 'samg bc train'") from None


def recorded_config(checkpoint: Path) -> object:
    """The config a checkpoint of `samg bc train` records (checked by check_against_record),
    read without running code; None for a checkpoint without the record (one samg wrote before
    it kept one, or not a checkpoint of samg's, which loading the policy refuses)."""
    from samg.safe_load import safe_torch_load

    saved = safe_torch_load(checkpoint, "BC checkpoint", RunError)
    return saved.get(CONFIG_RECORD) if isinstance(saved, dict) else None


def read_json(path: Path, what: str) -> dict:
    """A JSON object from a run's file, or one line saying why not."""
    try:
        values = json.loads(path.read_text())
    except FileNotFoundError:
        raise RunError(f"no {what} at {path}") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise RunError(f"{path} is not a readable {what} ({type(error).__name__}: {error})") from None
    if not isinstance(values, dict):
        raise RunError(f"{path} is not a readable {what} (a JSON object was expected)")
    return values


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise SamgError(message)
