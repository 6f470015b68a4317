"""`samg distill`: a small student segmenter learned from any mask set (or the oracle).

>>> from samg.distill import DistillConfig, distill
>>> result = distill(DistillConfig(store=Path("data/door.zarr"), teacher="oracle", episodes=(0, 270)))
>>> result.path  # runs/student_door_oracle.safetensors: use it as `--segmenter student:PATH`
"""

from samg.distill.augment import AugmentConfig
from samg.distill.model import StudentArchitecture, StudentFileError, StudentNet, load_student
from samg.distill.train import DistillConfig, DistillError, DistillResult, distill

__all__ = [
    "AugmentConfig",
    "DistillConfig",
    "DistillError",
    "DistillResult",
    "StudentArchitecture",
    "StudentFileError",
    "StudentNet",
    "distill",
    "load_student",
]
