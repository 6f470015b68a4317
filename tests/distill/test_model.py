"""The student network and its file: one safetensors file, strict loading, no unpickling."""

import json
import pickle
from dataclasses import asdict

import pytest
import torch
from safetensors.torch import load_file, save_file

from samg.distill.model import (
    METADATA_KEY,
    StudentArchitecture,
    StudentFileError,
    StudentNet,
    load_student,
    parameter_count,
    read_description,
)
from tests.distill.helpers import TINY, student_file


def test_default_student_is_small_and_maps_frames_to_logits_of_their_size():
    net = StudentNet().eval()
    assert parameter_count(net) <= 2_000_000
    for size in (84, 16, 15):  # odd sizes are padded, then cropped back
        frames = torch.randint(0, 256, (3, size, size, 3), dtype=torch.uint8)
        assert net(frames).shape == (3, size, size)


def test_fused_network_gives_the_same_logits():
    torch.manual_seed(0)
    net = StudentNet(TINY)
    net.train()
    for _ in range(3):  # move the batch-norm statistics away from their initial values
        net(torch.rand(8, 3, 16, 16) * 0.5)
    net.eval()
    frames = torch.randint(0, 256, (4, 16, 16, 3), dtype=torch.uint8)
    with torch.inference_mode():
        assert torch.allclose(net(frames), net.fused()(frames), atol=1e-4)


def test_save_and_load_round_trip(tmp_path):
    path = student_file(tmp_path / "s.safetensors")
    net, about = load_student(path)
    assert about["architecture"] == {"widths": [4, 8], "blocks": 1} and about["task"] == "door"
    assert about == read_description(path)
    torch.manual_seed(0)
    original = StudentNet(TINY).eval()
    frames = torch.randint(0, 256, (2, 16, 16, 3), dtype=torch.uint8)
    with torch.inference_mode():
        assert torch.equal(net(frames), original(frames))


def _rewrite(path, change):
    state, metadata = load_file(str(path)), None
    from safetensors import safe_open

    with safe_open(str(path), framework="pt") as handle:
        metadata = handle.metadata()
    state, metadata = change(state, metadata)
    save_file(state, str(path), metadata=metadata)


def _renamed_key(state, metadata):
    state["head.extra"] = state.pop("head.bias")
    return state, metadata


def _changed_shape(state, metadata):
    state["head.bias"] = torch.zeros(5)
    return state, metadata


def _other_architecture(state, metadata):
    about = json.loads(metadata[METADATA_KEY])
    about["architecture"]["widths"] = [4, 16]
    return state, {METADATA_KEY: json.dumps(about)}


def _no_description(state, metadata):
    return state, {}


@pytest.mark.parametrize(
    "change, message",
    [
        (_renamed_key, "does not match its architecture (missing ['head.bias'], unexpected ['head.extra'])"),
        (_changed_shape, "head.bias is (5,) torch.float32, the architecture needs (4,)"),
        (
            _other_architecture,
            "down.0.0.0.weight is (8, 4, 3, 3) torch.float32, the architecture needs (16, 4, 3, 3)",
        ),
        (_no_description, "has no samg student description"),
    ],
)
def test_a_changed_file_is_refused_with_one_line(tmp_path, change, message):
    path = student_file(tmp_path / "s.safetensors")
    _rewrite(path, change)
    with pytest.raises(StudentFileError) as refused:
        load_student(path)
    assert message in str(refused.value) and "\n" not in str(refused.value)


class _Planted:
    """Unpickling this would create the marker file."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


@pytest.mark.parametrize("writer", ["torch.save", "pickle"])
def test_a_pickle_is_refused_and_never_unpickled(tmp_path, writer):
    marker = tmp_path / "unpickled"
    path = tmp_path / "s.safetensors"
    payload = {"head.bias": torch.zeros(4), "trap": _Planted(marker)}
    if writer == "torch.save":
        torch.save(payload, path)
    else:
        path.write_bytes(pickle.dumps(payload))
    with pytest.raises(StudentFileError, match="is not a safetensors student file") as refused:
        load_student(path)
    assert "\n" not in str(refused.value)
    assert not marker.exists()


def test_missing_file_names_the_command(tmp_path):
    with pytest.raises(StudentFileError, match="train one with 'samg distill STORE --out"):
        load_student(tmp_path / "absent.safetensors")


def test_architecture_round_trips_through_json():
    architecture = StudentArchitecture(widths=(8, 16, 32), blocks=2)
    assert StudentArchitecture.from_dict(json.loads(json.dumps(asdict(architecture)))) == architecture
