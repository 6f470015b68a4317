import urllib.error
import urllib.request

import numpy as np
import pytest

from samg.envs import make_env
from samg.rl_collect.experts import ExpertUnavailableError, fetch_expert, import_expert, load_expert
from samg.rl_collect.rollout import rollout_episode
from tests.rl_collect.test_mjrl_pickle import SHARED_EXPERTS

needs_shared = pytest.mark.skipif(not SHARED_EXPERTS.is_dir(), reason="the shared DAPG files are not here")


@pytest.fixture
def samg_home(tmp_path, monkeypatch):
    monkeypatch.setenv("SAMG_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def test_missing_expert_names_the_fetch_command(samg_home):
    with pytest.raises(ExpertUnavailableError, match="run 'samg expert fetch door'"):
        load_expert("door")


def test_offline_fetch_is_a_clear_error(samg_home, monkeypatch):
    def offline(*args, **kwargs):
        raise urllib.error.URLError("Temporary failure in name resolution")

    monkeypatch.setattr(urllib.request, "urlopen", offline)
    with pytest.raises(ExpertUnavailableError, match="could not download .*samg expert import PATH"):
        fetch_expert("door")


def test_import_refuses_unknown_files(samg_home, tmp_path):
    stranger = tmp_path / "door-v0.pickle"
    stranger.write_bytes(b"not an expert")
    with pytest.raises(ExpertUnavailableError, match="none of the published experts"):
        import_expert(stranger)


@needs_shared
def test_import_then_load_and_checksum_mismatch(samg_home, tmp_path):
    task, path = import_expert(SHARED_EXPERTS / "door-v0.pickle")
    assert task == "door" and path == samg_home / "experts" / "door-v0.pickle"
    assert load_expert("door").weights.layer_sizes == (39, 32, 32, 28)
    tampered = bytearray(path.read_bytes())
    tampered[-100] ^= 0xFF
    path.write_bytes(bytes(tampered))
    with pytest.raises(ExpertUnavailableError, match="checksum mismatch"):
        load_expert("door")


@needs_shared
@pytest.mark.slow
@pytest.mark.parametrize(("task", "floor"), [("door", 0.95), ("hammer", 0.95), ("pen", 0.7)])
def test_published_experts_reach_the_documented_success(task, floor):
    expert = load_expert(task, SHARED_EXPERTS / f"{task}-v0.pickle")
    env = make_env(task)
    successes = [rollout_episode(env, expert, seed).episode_success for seed in range(30)]
    env.close()
    assert np.mean(successes) >= floor
