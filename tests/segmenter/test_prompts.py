import json

import numpy as np
import pytest
from typer.testing import CliRunner

from samg.cli import app
from samg.envs import get_task
from samg.segmenter.prompts import PromptError, build_prompt, load_prompt, save_prompt, spread_points


def test_spread_points_are_deep_inside_and_apart():
    region = np.zeros((40, 60), bool)
    region[10:30, 5:55] = True  # 20 x 50 rectangle
    points = spread_points(region, 3)
    assert len(set(points)) == 3
    for x, y in points:
        assert region[y, x] and 14 <= y <= 25  # at least half as deep as the centre line
    distances = [np.hypot(a[0] - b[0], a[1] - b[1]) for i, a in enumerate(points) for b in points[i + 1 :]]
    assert min(distances) >= 15
    assert points == spread_points(region, 3)


def test_spread_points_in_an_empty_region_is_an_error():
    with pytest.raises(PromptError):
        spread_points(np.zeros((5, 5), bool), 3)


@pytest.mark.parametrize("task", ["door", "hammer"])
def test_built_prompt_has_points_inside_every_object(task):
    prompt = build_prompt(get_task(task), image_size=48)
    assert [o.name for o in prompt.objects] == [o.name for o in get_task(task).objects]
    for obj in prompt.objects:
        assert len(obj.points) == 3
        assert all(prompt.mask[y, x] == obj.object_id for x, y in obj.points)
    assert prompt.image.shape == (48, 48, 3)


def test_prompt_round_trip_and_validation(tmp_path):
    prompt = build_prompt(get_task("pen"), image_size=48)
    directory = save_prompt(prompt, tmp_path)
    again = load_prompt("pen", tmp_path)
    assert again.objects == prompt.objects and np.array_equal(again.mask, prompt.mask)
    assert np.array_equal(again.image, prompt.image)
    meta = json.loads((directory / "prompt.json").read_text())
    meta["objects"][1]["points"][0] = [0, 0]  # an edit that leaves the pen
    (directory / "prompt.json").write_text(json.dumps(meta))
    with pytest.raises(PromptError, match="lies outside that object's mask"):
        load_prompt("pen", tmp_path)


def test_missing_prompt_names_the_command(tmp_path):
    with pytest.raises(PromptError, match="run 'samg prompt door'"):
        load_prompt("door", tmp_path)


def test_prompt_cli_builds_and_shows(tmp_path):
    runner = CliRunner()
    result = runner.invoke(app, ["prompt", "door", "--root", str(tmp_path), "--image-size", "48"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "door" / "prompt.json").is_file() and (tmp_path / "door" / "mask.png").is_file()
    result = runner.invoke(app, ["prompt", "door", "--root", str(tmp_path), "--show"])
    assert result.exit_code == 0 and (tmp_path / "door" / "prompt_points.png").is_file()
    result = runner.invoke(app, ["prompt", "hammer", "--root", str(tmp_path), "--show"])
    assert result.exit_code == 1 and "run 'samg prompt hammer'" in result.output


def test_committed_prompts_load():
    for task in ("door", "hammer", "pen"):
        prompt = load_prompt(task)
        assert prompt.image.shape == (84, 84, 3)
