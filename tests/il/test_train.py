import json

import pytest
import torch

from samg.il.config import CONFIG_RECORD, BCConfig, RunError


def _run_with_record(tmp_path, **edits):
    """A run folder whose config.json is its checkpoint's record with `edits`."""
    recorded = BCConfig(data=tmp_path / "door.zarr", out=tmp_path / "run", epochs=5).to_json()
    (tmp_path / "run").mkdir()
    torch.save({CONFIG_RECORD: recorded}, tmp_path / "run" / "best.ckpt")
    (tmp_path / "run" / "config.json").write_text(json.dumps(recorded | edits))
    return tmp_path / "run"


def test_config_json_may_follow_a_moved_store_or_run_and_a_longer_run_only(tmp_path):
    run = _run_with_record(tmp_path, data="/elsewhere/door.zarr", out="/elsewhere/run", epochs=9, max_steps=3)
    config = BCConfig.load(run, lambda run: run / "best.ckpt")
    assert str(config.data) == "/elsewhere/door.zarr" and config.epochs == 9


@pytest.mark.parametrize("edit", [{"lr": 0.1}, {"segmenter": "blank"}, {"frame_stack": 1}, {"proprio": "hand+arm"}])
def test_config_json_may_not_change_what_the_policy_is(tmp_path, edit):
    run = _run_with_record(tmp_path, **edit)
    name = next(iter(edit))
    with pytest.raises(RunError, match=f"config.json says {name} .*, but the run was trained with"):
        BCConfig.load(run, lambda run: run / "best.ckpt")
    torch.save({"state_dict": {}}, run / "best.ckpt")  # from before samg recorded the config: config.json says
    assert BCConfig.load(run, lambda run: run / "best.ckpt") == BCConfig.load(run)
