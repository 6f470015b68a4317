"""The README's Python examples must keep working."""

import re
from pathlib import Path

from samg.rl_collect.collect import CollectConfig, collect
from tests.pipeline.helpers import random_expert_file

README = (Path(__file__).parents[1] / "README.md").read_text()
BLOCKS = re.findall(r"```python\n(.*?)```", README, flags=re.S)


def test_rendering_example_runs():
    namespace: dict = {}
    exec(compile(BLOCKS[0], "README.md", "exec"), namespace)
    assert namespace["mask"].shape == (84, 84) and set(namespace["frames"]) == set(namespace["SETTING_NAMES"])


def test_store_example_runs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    collect(
        CollectConfig(
            "door", episodes=1, settings=("train", "video_hard"), workers=1, image_size=16,
            keep_failures=True, expert_path=random_expert_file(tmp_path),
        )  # fmt: skip
    )
    namespace: dict = {}
    exec(compile(BLOCKS[1], "README.md", "exec"), namespace)
    assert namespace["episode"]["rgb/video_hard"].shape == (200, 16, 16, 3)
    exec(compile(BLOCKS[2], "README.md", "exec"), namespace)  # the segmenter, on that episode
    assert namespace["result"].masks.shape == (200, 16, 16)
    assert len(BLOCKS) == 3
