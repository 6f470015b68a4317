"""The segmenter a BC policy's live rollouts use: the one its training frames were masked by."""

from dataclasses import replace
from pathlib import Path

from samg.il.config import BCConfig, RunError
from samg.segmenter.factory import SegmenterConfig


def live_segmenter_config(
    train: BCConfig, name: str | None, prompts_root: Path, switches: dict[str, str] | None = None
) -> SegmenterConfig:
    """The segmenter of the rollouts: `none`, `oracle`, `student:PATH`, or the mask set `name`
    (default: the one the policy trained on, whatever its name) rebuilt from the configuration
    stored with it. `switches` (SAM-G options) override the stored ones."""
    from samg.pipeline.masks import SIMPLE_VIEWS
    from samg.segmenter.student import parse_student

    name = name or train.mask_source
    if (student := parse_student(name)) is not None:
        config = SegmenterConfig(kind="student", student=student, prompts_root=prompts_root)
    elif name in SIMPLE_VIEWS:
        config = SegmenterConfig(kind=name, prompts_root=prompts_root)
    else:
        from samg.pipeline.masks import MaskSet
        from samg.pipeline.store import DemoStore

        mask_set = MaskSet(DemoStore(train.data), name)
        try:
            config = SegmenterConfig.from_description(mask_set.attrs["segmenter"], prompts_root=prompts_root)
        except (KeyError, TypeError, AttributeError) as error:
            raise RunError(
                f"masks {name!r} of {train.data} do not describe their segmenter ({type(error).__name__}: {error}): "
                f"segment again with 'samg segment {train.data} --name {name} --overwrite'"
            ) from None
    if switches:
        if config.kind != "samg":
            raise RunError(f"--{next(iter(switches)).replace('_', '-')} applies to SAM-G masks, not to {config.kind}")
        config = replace(config, options=replace(config.options, **switches))
    return config
