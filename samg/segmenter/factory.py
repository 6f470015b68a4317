"""Build a segmenter by name: `samg` (with its backends, prompt and PerSAM-F weights),
`oracle`, `none` or `student` (a file from `samg distill`, named as `student:PATH`)."""

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch

from samg.errors import UnknownNameError
from samg.segmenter.base import Segmenter
from samg.segmenter.method import DEFAULT_MASK_WEIGHTS, SamgOptions, SamgSegmenter
from samg.segmenter.simple import BlankSegmenter, NoneSegmenter, OracleSegmenter

DTYPES = {"fp32": torch.float32, "float32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}
# what samg did before these switches existed, for descriptions stored then
BEFORE_SWITCHES = {"target": "per-object", "round3_negative": "in-box", "regions": "exact", "prompt": "simulator"}


@dataclass(frozen=True)
class SegmenterConfig:
    kind: str = "samg"
    sam: str = "efficientvit-l1"  # the paper's choice
    dino: str = "dinov2-vitb14"
    options: SamgOptions = field(default_factory=SamgOptions)
    adapt: bool = True  # PerSAM-F weights; --no-adapt keeps 1/3 each
    device: str = "cpu"
    dtype: str = "fp32"
    prompt: str = "auto"  # auto: the paper's own prompt where it has one (door, hammer, pen), else the simulator's
    prompts_root: Path = Path("configs/prompts")  # the simulator's prompts
    sam_weights: Path | None = None  # default: $SAMG_HOME/weights/<official file>
    dino_weights: Path | None = None
    random_weights: bool = False  # seeded random weights, no checkpoint: for timing only
    tiny: bool = False  # tiny architectures of the same families: for tests and smoke runs
    batch_size: int | None = None  # frames per encoder/decoder pass (default: 1 on CPU, 64 on GPU)
    compile: bool = False  # the encoders through torch.compile, every pass padded to batch_size
    student: Path | None = None  # kind student: the file from `samg distill`
    student_sha256: str | None = None  # kind student rebuilt from a description: the file must match

    def describe(self) -> dict:
        """What determines the masks (not where they are computed), JSON-able."""
        about = {"kind": self.kind}
        if self.kind == "samg":
            about |= {
                "sam": self.sam,
                "dino": self.dino if self.options.use_dino else None,
                "prompt": self.prompt,
                **asdict(self.options),
                "adapt": self.adapt,
                "dtype": self.dtype,
                "random_weights": self.random_weights,
                "tiny": self.tiny,
            }
            if self.compile:  # recorded only when on: sets made before the switch resume as they were
                about["compile"] = True
        if self.kind == "student":
            from samg.segmenter.student import describe_student

            about |= describe_student(self.student)
        return about

    @classmethod
    def from_description(cls, described: dict, **where) -> "SegmenterConfig":
        """The config `describe()` wrote (e.g. with stored masks), plus where to run it."""
        if described["kind"] == "student":
            return cls(kind="student", student=Path(described["path"]), student_sha256=described["sha256"], **where)
        if described["kind"] != "samg":
            return cls(kind=described["kind"], **where)
        values = BEFORE_SWITCHES | described
        options = SamgOptions(**{name: values[name] for name in SamgOptions.__dataclass_fields__})
        return cls(
            kind="samg",
            sam=described["sam"],
            dino=described["dino"] or cls.dino,
            prompt=values["prompt"],
            options=options,
            adapt=described["adapt"],
            dtype=described["dtype"],
            random_weights=described["random_weights"],
            tiny=described["tiny"],
            compile=described.get("compile", False),
            **where,
        )


def _samg(task: str, config: SegmenterConfig) -> SamgSegmenter:
    from samg.segmenter.persam import adapted_mask_weights
    from samg.segmenter.weights import load_backend, random_backend

    try:
        dtype = DTYPES[config.dtype]
    except KeyError:
        raise UnknownNameError("dtype", config.dtype, DTYPES) from None

    def backend(model: str, path: Path | None):
        if config.random_weights:
            return random_backend(model, config.device, dtype, config.tiny)
        return load_backend(model, path, config.device, dtype, config.tiny)

    sam = backend(config.sam, config.sam_weights)
    dino = backend(config.dino, config.dino_weights) if config.options.use_dino else None
    prompt = task_prompt(task, config)
    segmenter = SamgSegmenter(
        prompt, sam, dino, DEFAULT_MASK_WEIGHTS, config.options, chunk=config.batch_size, compile=config.compile
    )
    if config.adapt:
        weights = adapted_mask_weights(segmenter, persam_cache_dir(task, prompt.source, config.prompts_root))
        segmenter.mask_weights = torch.tensor(weights, dtype=torch.float32)
    return segmenter


def persam_cache_dir(task: str, source: str, prompts_root: Path) -> Path:
    """Where PerSAM-F weights are cached: beside a simulator prompt (`configs/prompts/TASK`);
    for the paper's prompt, which lives among the verified benchmark files and needs no
    prompt folder, in `$SAMG_HOME/persam/TASK` (made on first use)."""
    from samg.paths import samg_home
    from samg.segmenter.prompts import prompt_dir

    if source == "simulator":
        return prompt_dir(task, prompts_root)
    directory = samg_home() / "persam" / task
    directory.mkdir(parents=True, exist_ok=True)
    return directory


def task_prompt(task: str, config: SegmenterConfig):
    """The prompt `config.prompt` names: the paper's files (official), `configs/prompts`
    (simulator), or auto: the paper's where it has one."""
    from samg.segmenter.official_prompt import PROMPT_SOURCES, has_official_prompt, load_official_prompt
    from samg.segmenter.prompts import load_prompt

    if config.prompt not in PROMPT_SOURCES:
        raise UnknownNameError("prompt", config.prompt, PROMPT_SOURCES)
    if config.prompt == "official" or (config.prompt == "auto" and has_official_prompt(task)):
        return load_official_prompt(task)
    return load_prompt(task, config.prompts_root)


def _student(task: str, config: SegmenterConfig) -> Segmenter:
    from samg.segmenter.student import StudentSegmenter

    return StudentSegmenter(config.student, task, config.device, config.dtype, config.batch_size, config.student_sha256)


SEGMENTERS: dict[str, Callable[[str, SegmenterConfig], Segmenter]] = {
    "samg": _samg,
    "oracle": lambda task, config: OracleSegmenter(),
    "none": lambda task, config: NoneSegmenter(),
    "blank": lambda task, config: BlankSegmenter(),
    "student": _student,
}


def parse_segmenter(name: str) -> tuple[str, Path | None]:
    """A --segmenter value: `samg`, `oracle`, `none` or `student:PATH` -> (kind, student file)."""
    from samg.segmenter.student import parse_student

    student = parse_student(name)
    if student is None and (name not in SEGMENTERS or name == "student"):
        valid = [kind for kind in SEGMENTERS if kind != "student"] + ["student:PATH"]
        raise UnknownNameError("segmenter", name, valid)
    return ("student", student) if student is not None else (name, None)


def make_segmenter(task: str, config: SegmenterConfig = SegmenterConfig()) -> Segmenter:
    try:
        build = SEGMENTERS[config.kind]
    except KeyError:
        raise UnknownNameError("segmenter", config.kind, SEGMENTERS) from None
    return build(task, config)
