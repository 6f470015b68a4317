"""Training presets in configs/bc: loaded as data, overridden by flags, recorded with the run."""

from pathlib import Path

import pytest

from samg.errors import SamgError
from samg.il.presets import PresetError, available_presets, load_preset, resolve_config


def test_the_paper_preset_is_the_papers_recipe():
    assert {"default", "paper"} <= set(available_presets())
    paper = resolve_config("paper", {}, data=Path("d.zarr"), out=Path("runs/x"))
    assert (paper.epochs, paper.lr, paper.batch_size, paper.select_episodes) == (80, 5e-5, 256, 0)
    assert paper.preset == "paper" and paper.to_json()["preset"] == "paper"


def test_flags_that_were_given_override_the_preset():
    config = resolve_config("paper", {"epochs": 4, "lr": None, "proprio": "hand+arm"}, data=Path("d.zarr"), out=Path("o"))
    assert (config.epochs, config.lr, config.proprio) == (4, 5e-5, "hand+arm")


def test_a_preset_file_may_set_only_the_recipe(tmp_path):
    good = tmp_path / "mine.toml"
    good.write_text('epochs = 2\nproprio = "hand+arm"\n')
    assert load_preset(str(good)) == {"epochs": 2, "proprio": "hand+arm"}
    bad = tmp_path / "bad.toml"
    bad.write_text('data = "/etc"\nepochs = 2\n')
    with pytest.raises(PresetError, match="sets data, which a preset cannot"):
        load_preset(str(bad))


def test_a_wrong_type_or_an_unknown_preset_is_one_line(tmp_path):
    typed = tmp_path / "typed.toml"
    typed.write_text('epochs = "many"\n')
    with pytest.raises(SamgError, match="epochs"):
        resolve_config(str(typed), {}, data=Path("d.zarr"), out=Path("o"))
    with pytest.raises(PresetError, match="unknown preset 'fast'; valid presets: .*paper"):
        load_preset("fast")
    broken = tmp_path / "broken.toml"
    broken.write_text("epochs = = 2")
    with pytest.raises(PresetError, match="not readable TOML"):
        load_preset(str(broken))


def test_a_resume_keeps_the_runs_own_recipe_unless_a_preset_is_named():
    trained = resolve_config("paper", {"epochs": 2}, data=Path("d.zarr"), out=Path("o"))
    resumed = resolve_config(None, {"epochs": 5}, trained, data=Path("d.zarr"), out=Path("o"))
    assert (resumed.preset, resumed.lr, resumed.epochs) == ("paper", 5e-5, 5)
    assert resolve_config("default", {}, trained, data=Path("d.zarr"), out=Path("o")).lr == 3e-4
    assert resolve_config(None, {}, data=Path("d.zarr"), out=Path("o")).preset == "default"
