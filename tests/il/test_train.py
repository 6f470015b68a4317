import json

import pytest
import pytorch_lightning as pl
import torch

from samg.il.config import CONFIG_RECORD, BCConfig, RunError
from samg.il.train import _keep_metrics


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


def test_metrics_rows_logged_after_the_checkpoint_or_cut_by_a_kill_are_dropped(tmp_path):
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "metrics.csv").write_text("epoch,step,train/loss\r\n0,7,1.0\r\n1,15,0.5\r\n2,16,0.4\r\n2,1")
    logger = pl.loggers.CSVLogger(logs, name="", version="")
    _keep_metrics(logger, before_step=16)
    assert (logs / "metrics.csv").read_bytes() == b"epoch,step,train/loss\r\n0,7,1.0\r\n1,15,0.5\r\n"
    logger.log_metrics({"train/loss": 0.3, "val/loss": 0.2, "epoch": 2}, step=19)  # a new column: Lightning rewrites
    logger.save()
    rows = (logs / "metrics.csv").read_text().splitlines()
    assert rows == ["epoch,step,train/loss,val/loss", "0,7,1.0,", "1,15,0.5,", "2,19,0.3,0.2"]


def test_a_config_from_before_a_later_field_means_its_default_and_other_gaps_are_refused(tmp_path):
    values = BCConfig(data=tmp_path / "door.zarr", out=tmp_path / "run").to_json()
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "config.json").write_text(json.dumps({k: v for k, v in values.items() if k != "proprio_dropout"}))
    assert BCConfig.load(tmp_path / "run").proprio_dropout == 0.0
    (tmp_path / "run" / "config.json").write_text(json.dumps({k: v for k, v in values.items() if k != "frame_stack"}))
    with pytest.raises(RunError, match="lacks frame_stack"):
        BCConfig.load(tmp_path / "run")
