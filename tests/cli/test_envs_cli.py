import numpy as np
from PIL import Image
from typer.testing import CliRunner

from samg import __version__
from samg.cli import app

runner = CliRunner()


def test_version():
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0 and result.stdout.strip() == f"samg {__version__}"


def test_envs_list_shows_every_task_and_setting():
    result = runner.invoke(app, ["envs", "list"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    for name in ("door", "hammer", "pen", "AdroitHandDoor-v1", "walker_walk", "video_hard"):
        assert name in result.stdout


def test_preview_writes_a_row_per_setting_plus_the_mask(tmp_path):
    out = tmp_path / "door.png"
    result = runner.invoke(
        app, ["envs", "preview", "door", "--settings", "train,video_hard", "--steps", "3", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    picture = np.asarray(Image.open(out))
    tile = 168  # 84 px frames drawn at 2x
    assert picture.shape[0] == 18 + 3 * tile  # header + train, video_hard, gt mask
    assert picture.shape[1] == 96 + 3 * tile
    mask_row = picture[18 + 2 * tile : 18 + 3 * tile, 96:]
    assert len(np.unique(mask_row.reshape(-1, 3), axis=0)) == 3  # background, hand, door


def test_unknown_task_is_one_line_and_exit_2(tmp_path):
    result = runner.invoke(app, ["envs", "preview", "drawer", "--out", str(tmp_path / "x.png")])
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "unknown task 'drawer'" in lines[0] and "door, hammer, pen" in lines[0]
    assert not (tmp_path / "x.png").exists()


def test_unknown_setting_is_one_line_and_exit_2(tmp_path):
    result = runner.invoke(app, ["envs", "preview", "door", "--settings", "train,sepia"])
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "unknown setting 'sepia'" in lines[0] and "video_hard" in lines[0]
