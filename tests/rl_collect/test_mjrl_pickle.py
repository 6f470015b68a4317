import pickle
from pathlib import Path

import numpy as np
import pytest
import torch

from samg.rl_collect.experts import DapgExpert
from samg.rl_collect.mjrl_pickle import ExpertFormatError, MlpPolicyWeights, load_mlp_policy
from tests.rl_collect.fake_mjrl import mjrl_policy_pickle

SHARED_EXPERTS = Path(__file__).resolve().parents[3] / "shared" / "experts" / "dapg"


def test_reads_an_mjrl_policy_into_plain_arrays():
    data, expected = mjrl_policy_pickle(layer_sizes=(6, 5, 4, 3))
    weights = load_mlp_policy(data)
    assert weights.layer_sizes == (6, 5, 4, 3) and weights.nonlinearity == "tanh"
    for ours, theirs in zip(weights.weights, expected["weights"]):
        np.testing.assert_array_equal(ours, theirs)
    for name in ("in_shift", "in_scale", "out_shift", "out_scale", "log_std"):
        np.testing.assert_allclose(getattr(weights, name), expected[name])


def test_mean_action_matches_mjrl_forward():
    data, expected = mjrl_policy_pickle(layer_sizes=(6, 5, 3), seed=4)
    expert = DapgExpert(load_mlp_policy(data), name="test", sha256="-")
    obs = np.random.default_rng(1).normal(size=6)
    hidden = torch.tensor((obs - expected["in_shift"]) / (expected["in_scale"] + 1e-8))
    for i, (w, b) in enumerate(zip(expected["weights"], expected["biases"])):
        hidden = hidden @ torch.tensor(w).T + torch.tensor(b)
        if i < len(expected["weights"]) - 1:
            hidden = torch.tanh(hidden)
    reference = hidden.numpy() * expected["out_scale"] + expected["out_shift"]
    np.testing.assert_allclose(expert.act(obs), reference, rtol=1e-12)


class _Exploit:
    def __reduce__(self):
        import os

        return (os.system, ("touch /tmp/samg-pwned",))


def test_pickle_naming_os_system_is_refused(tmp_path):
    marker = Path("/tmp/samg-pwned")
    marker.unlink(missing_ok=True)
    with pytest.raises(ExpertFormatError, match="refused to load (os|posix).system"):
        load_mlp_policy(pickle.dumps(_Exploit()))
    assert not marker.exists()


def test_getattr_is_limited_to_nonlinearities():
    data, _ = mjrl_policy_pickle()
    tampered = data.replace(b"tanh", b"exec")
    with pytest.raises(ExpertFormatError, match="refused getattr"):
        load_mlp_policy(tampered)


def test_truncated_file_is_refused():
    data, _ = mjrl_policy_pickle()
    with pytest.raises(ExpertFormatError, match="not a readable policy pickle"):
        load_mlp_policy(data[: len(data) // 2])


def test_npz_round_trip(tmp_path):
    data, _ = mjrl_policy_pickle()
    weights = load_mlp_policy(data)
    weights.save_npz(tmp_path / "expert.npz")
    again = MlpPolicyWeights.load_npz(tmp_path / "expert.npz")
    assert again.layer_sizes == weights.layer_sizes and again.nonlinearity == "tanh"
    np.testing.assert_array_equal(again.weights[1], weights.weights[1])


@pytest.mark.skipif(not SHARED_EXPERTS.is_dir(), reason="the shared DAPG files are not beside this checkout")
@pytest.mark.parametrize(
    ("task", "sizes"), [("door", (39, 32, 32, 28)), ("hammer", (46, 32, 32, 26)), ("pen", (45, 64, 64, 24))]
)
def test_published_files_have_the_documented_layers(task, sizes):
    weights = load_mlp_policy((SHARED_EXPERTS / f"{task}-v0.pickle").read_bytes())
    assert weights.layer_sizes == sizes
