"""Student files for tests: tiny, untrained, of a known architecture."""

from pathlib import Path

import torch

from samg.distill.model import StudentArchitecture, StudentNet, save_student

TINY = StudentArchitecture(widths=(4, 8))


def student_file(path: Path, task: str = "door", seed: int = 0) -> Path:
    torch.manual_seed(seed)
    save_student(StudentNet(TINY), path, {"task": task, "image_size": 16, "teacher": "oracle"})
    return path
