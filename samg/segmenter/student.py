"""The `student` segmenter: a network from `samg distill`, behind the Segmenter interface.

Selected as `--segmenter student:PATH`. Its description names the file and its sha256,
so masks stored with it (and a policy's evaluation) rebuild exactly this student, and a
changed file is refused instead of silently used.
"""

from pathlib import Path

import numpy as np
import torch

from samg.distill.model import StudentFileError, load_student
from samg.errors import SamgError
from samg.segmenter.base import Segmentation, check_frames

PREFIX = "student:"
DEFAULT_BATCH = 64


def parse_student(name: str) -> Path | None:
    """'student:PATH' -> PATH; any other segmenter name -> None."""
    if not name.startswith(PREFIX):
        return None
    path = name[len(PREFIX) :]
    if not path:
        raise SamgError(
            "--segmenter student:PATH needs the student file from 'samg distill', e.g. student:runs/s.safetensors"
        )
    return Path(path)


def describe_student(path: Path | None) -> dict:
    """What determines a student's masks: its file's checksum (and where it was)."""
    from samg.segmenter.weights import file_sha256

    if path is None:
        raise SamgError("the student segmenter needs its file: --segmenter student:PATH")
    if not Path(path).is_file():
        raise StudentFileError(f"no student file at {path}: train one with 'samg distill STORE --out {path}'")
    return {"path": str(path), "sha256": file_sha256(Path(path))}


class StudentSegmenter:
    name = "student"
    needs_ground_truth = False

    def __init__(
        self,
        path: Path,
        task: str | None = None,
        device: str = "cpu",
        dtype: str = "fp32",
        batch_size: int | None = None,
        expected_sha256: str | None = None,
    ):
        self.path = Path(path)
        self.identity = describe_student(self.path)
        if expected_sha256 is not None and self.identity["sha256"] != expected_sha256:
            raise StudentFileError(
                f"{self.path} is not the student these masks were made with (sha256 {self.identity['sha256'][:12]} "
                f"!= {expected_sha256[:12]}): restore that file, or segment again with this one"
            )
        net, self.about = load_student(self.path)
        if task is not None and self.about["task"] != task:
            raise StudentFileError(
                f"{self.path} was distilled for {self.about['task']!r}, not {task!r}: distil one on a {task} store"
            )
        if dtype not in ("fp32", "bf16") or (dtype == "bf16" and not device.startswith("cuda")):
            raise SamgError(f"the student runs in fp32, or bf16 on CUDA; got {dtype} on {device}")
        self.device = torch.device(device)
        self.net = net.fused().to(self.device, torch.bfloat16 if dtype == "bf16" else torch.float32)
        self.net = self.net.to(memory_format=torch.channels_last)
        self.batch_size = batch_size or DEFAULT_BATCH

    @torch.inference_mode()
    def segment(self, frames: np.ndarray, ground_truth: np.ndarray | None = None) -> Segmentation:
        check_frames(frames)
        masks = np.empty(frames.shape[:3], bool)
        for at in range(0, len(frames), self.batch_size):
            batch = torch.from_numpy(np.ascontiguousarray(frames[at : at + self.batch_size])).to(self.device)
            masks[at : at + len(batch)] = (self.net(batch) > 0).cpu().numpy()
        return Segmentation(masks=masks, diagnostics=[{} for _ in frames])

    def describe(self) -> dict:
        return {"kind": self.name, **self.identity}
