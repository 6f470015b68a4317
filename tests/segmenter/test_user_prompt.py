import json

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from samg.cli import app
from samg.segmenter.prompts import PromptError, load_prompt
from samg.segmenter.user_prompt import user_prompt


def _frame_and_mask(tmp_path, size=16):
    image = np.random.default_rng(0).integers(0, 255, (size, size, 3), dtype=np.uint8)
    mask = np.zeros((size, size), np.uint8)
    mask[2:8, 2:9] = 255
    mask[10:15, 9:15] = 128
    Image.fromarray(image).save(tmp_path / "frame.png")
    Image.fromarray(mask).save(tmp_path / "mask.png")
    return image, mask


def test_points_are_chosen_inside_each_object(tmp_path):
    image, mask = _frame_and_mask(tmp_path)
    prompt = user_prompt("mine", image, mask)
    assert [o.object_id for o in prompt.objects] == [1, 2]
    for obj in prompt.objects:
        assert len(set(obj.points)) == 3
        assert all(prompt.mask[y, x] == obj.object_id for x, y in obj.points)
    assert (prompt.mask == 2).sum() == (mask == 255).sum()  # ids follow the values' order: 128 -> 1, 255 -> 2


def test_the_cli_writes_a_prompt_folder_that_loads(tmp_path):
    image, _ = _frame_and_mask(tmp_path)
    root = tmp_path / "prompts"
    args = ["prompt", "mine", "--from-image", str(tmp_path / "frame.png"), "--mask", str(tmp_path / "mask.png"),
            "--points", "10,11 12,12", "--points", "3,3 5,5 7,6", "--objects", "cube,lid", "--root", str(root), "--show"]  # fmt: skip
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert {p.name for p in (root / "mine").iterdir()} == {"image.png", "mask.png", "prompt.json", "prompt_points.png"}
    prompt = load_prompt("mine", root)
    np.testing.assert_array_equal(prompt.image, image)
    assert [(o.name, o.points) for o in prompt.objects] == [("cube", ((10, 11), (12, 12))), ("lid", ((3, 3), (5, 5), (7, 6)))]
    assert json.loads((root / "mine" / "prompt.json").read_text())["image_size"] == 16


@pytest.mark.parametrize(
    ("extra", "problem"),
    [
        (["--points", "0,0", "--points", "3,3"], "point (0, 0) of object1 lies outside that object's mask"),
        (["--points", "3,3", "--points", "11,11", "--points", "1,1"], "2 objects but 3 --points"),
        (["--points", "3;3"], "write pixel points as 'x,y x,y x,y'"),
    ],
)
def test_bad_points_are_one_line(tmp_path, extra, problem):
    _frame_and_mask(tmp_path)
    args = ["prompt", "mine", "--from-image", str(tmp_path / "frame.png"), "--mask", str(tmp_path / "mask.png"), "--root", str(tmp_path)]
    result = CliRunner().invoke(app, [*args, *extra])
    assert result.exit_code == 1 and problem in result.output, result.output
    assert len(result.output.strip().splitlines()) == 1


def test_a_mask_of_another_size_is_one_line(tmp_path):
    _frame_and_mask(tmp_path)
    Image.fromarray(np.full((12, 16), 255, np.uint8)).save(tmp_path / "small.png")
    args = ["prompt", "mine", "--from-image", str(tmp_path / "frame.png"), "--mask", str(tmp_path / "small.png"), "--root", str(tmp_path)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 1 and "the image is 16x16 but the mask 16x12" in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_an_empty_mask_is_refused():
    with pytest.raises(PromptError, match="the mask is empty"):
        user_prompt("mine", np.zeros((8, 8, 3), np.uint8), np.zeros((8, 8), np.uint8))
