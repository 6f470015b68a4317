"""Checkpoint files in the official formats, written by the tests with tiny models."""

import json
import os

import pytest
import torch

from samg.segmenter.backends import build_backend
from samg.segmenter.weights import WeightsError, load_backend, read_state_dict


def _hf_to_hub(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """The torch-hub DINOv2 layout, written independently of the loader's mapping."""
    hub = {
        "cls_token": state["embeddings.cls_token"],
        "mask_token": state["embeddings.mask_token"],
        "pos_embed": state["embeddings.position_embeddings"],
        "patch_embed.proj.weight": state["embeddings.patch_embeddings.projection.weight"],
        "patch_embed.proj.bias": state["embeddings.patch_embeddings.projection.bias"],
        "norm.weight": state["layernorm.weight"],
        "norm.bias": state["layernorm.bias"],
    }
    layers = {key.split(".")[2] for key in state if key.startswith("encoder.layer.")}
    new_names = "encoder.layer.0.attention.q_proj.weight" in state  # transformers 5
    parts = ("q_proj", "k_proj", "v_proj") if new_names else ("attention.query", "attention.key", "attention.value")
    output = "attention.o_proj" if new_names else "attention.output.dense"
    for n in sorted(layers):
        layer = f"encoder.layer.{n}."
        for leaf in ("weight", "bias"):
            hub[f"blocks.{n}.attn.qkv.{leaf}"] = torch.cat([state[f"{layer}attention.{p}.{leaf}"] for p in parts])
            hub[f"blocks.{n}.attn.proj.{leaf}"] = state[f"{layer}{output}.{leaf}"]
            for module in ("norm1", "norm2", "mlp.fc1", "mlp.fc2"):
                hub[f"blocks.{n}.{module}.{leaf}"] = state[f"{layer}{module}.{leaf}"]
        hub[f"blocks.{n}.ls1.gamma"] = state[f"{layer}layer_scale1.lambda1"]
        hub[f"blocks.{n}.ls2.gamma"] = state[f"{layer}layer_scale2.lambda1"]
    return hub


def _perturbed_state(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    generator = torch.Generator().manual_seed(3)
    return {k: v + torch.randn(v.shape, generator=generator) if v.is_floating_point() else v for k, v in model.state_dict().items()}


def _assert_loaded(backend, state: dict[str, torch.Tensor]) -> None:
    loaded = backend.model.state_dict()
    for key, value in state.items():
        assert torch.equal(loaded[key], value), key


def test_sam_checkpoint_loads_strictly(tmp_path):
    state = _perturbed_state(build_backend("sam-vit-b", tiny=True).model)
    assert any(k.startswith("image_encoder.blocks.0.attn.rel_pos_h") for k in state)
    torch.save(state, tmp_path / "sam_vit_b_01ec64.pth")
    _assert_loaded(load_backend("sam-vit-b", tmp_path / "sam_vit_b_01ec64.pth", tiny=True), state)


def test_efficientvit_checkpoint_with_wrapper_key_loads(tmp_path):
    state = _perturbed_state(build_backend("efficientvit-l1", tiny=True).model)
    torch.save({"state_dict": state}, tmp_path / "efficientvit_sam_l1.pt")
    _assert_loaded(load_backend("efficientvit-l1", tmp_path / "efficientvit_sam_l1.pt", tiny=True), state)


def test_dinov2_torch_hub_file_maps_onto_transformers(tmp_path):
    reference = build_backend("dinov2-vitb14", tiny=True)
    state = _perturbed_state(reference.model)
    torch.save(_hf_to_hub(state), tmp_path / "dinov2_vitb14_pretrain.pth")
    loaded = load_backend("dinov2-vitb14", tmp_path / "dinov2_vitb14_pretrain.pth", tiny=True)
    _assert_loaded(loaded, state)
    reference.model.load_state_dict(state)
    frames = torch.randint(0, 255, (1, 30, 30, 3), dtype=torch.uint8).numpy()
    assert torch.allclose(loaded.encode(frames), reference.encode(frames))


def test_wrong_architecture_is_refused(tmp_path):
    torch.save(build_backend("sam-vit-b", tiny=True).model.state_dict(), tmp_path / "x.pth")
    with pytest.raises(WeightsError, match="does not fit efficientvit-l1"):
        load_backend("efficientvit-l1", tmp_path / "x.pth", tiny=True)


def test_truncated_and_malicious_files_are_refused(tmp_path):
    torch.save(build_backend("sam-vit-b", tiny=True).model.state_dict(), tmp_path / "full.pth")
    data = (tmp_path / "full.pth").read_bytes()
    (tmp_path / "cut.pth").write_bytes(data[: len(data) // 3])
    with pytest.raises(WeightsError, match="corrupt, truncated"):
        read_state_dict(tmp_path / "cut.pth")

    class Exploit:
        def __reduce__(self):
            return (os.system, ("touch /tmp/samg-weights-pwned",))

    torch.save({"state_dict": Exploit()}, tmp_path / "evil.pth")
    with pytest.raises(WeightsError, match="is refused: it names posix.system") as refused:
        read_state_dict(tmp_path / "evil.pth")
    assert "weights_only=False" not in str(refused.value) and "\n" not in str(refused.value)
    assert not os.path.exists("/tmp/samg-weights-pwned")


def test_missing_file_names_the_download_command(tmp_path, monkeypatch):
    monkeypatch.setenv("SAMG_HOME", str(tmp_path))
    with pytest.raises(WeightsError, match="run 'samg weights download efficientvit-l1'"):
        load_backend("efficientvit-l1")


def test_weights_cli(tmp_path, monkeypatch):
    import urllib.error
    import urllib.request

    from typer.testing import CliRunner

    from samg.cli import app

    monkeypatch.setenv("SAMG_HOME", str(tmp_path))
    runner = CliRunner()
    result = runner.invoke(app, ["weights", "list"], env={"COLUMNS": "200"})
    assert result.exit_code == 0 and "efficientvit_sam_l1.pt" in result.output and "dinov2_vitb14" in result.output

    def offline(*args, **kwargs):
        raise urllib.error.URLError("network unreachable")

    monkeypatch.setattr(urllib.request, "urlopen", offline)
    result = runner.invoke(app, ["weights", "download", "sam-vit-b"])
    assert result.exit_code == 1 and "could not download" in result.output
    result = runner.invoke(app, ["weights", "download", "sam-vit-z"])
    assert result.exit_code == 2 and "unknown model 'sam-vit-z'" in result.output


def test_dinov2_hugging_face_safetensors_layout_loads(tmp_path):
    from safetensors.torch import save_file

    reference = build_backend("dinov2-vitb14", tiny=True)
    state = _perturbed_state(reference.model)
    old_names = {}  # the names the Hub's files carry (transformers 4.x), with the model prefix
    for key, value in state.items():
        for new, old in (
            ("attention.q_proj", "attention.attention.query"),
            ("attention.k_proj", "attention.attention.key"),
            ("attention.v_proj", "attention.attention.value"),
            ("attention.o_proj", "attention.output.dense"),
        ):
            key = key.replace(new, old)
        old_names[f"dinov2.{key}"] = value.contiguous()
    save_file(old_names, tmp_path / "model.safetensors")
    _assert_loaded(load_backend("dinov2-vitb14", tmp_path / "model.safetensors", tiny=True), state)


def test_import_checks_keys_copies_the_file_and_records_its_sha256(tmp_path, monkeypatch):
    from samg.segmenter.weights import file_sha256, import_record, import_weights, weights_path

    monkeypatch.setenv("SAMG_HOME", str(tmp_path / "home"))
    state = _perturbed_state(build_backend("efficientvit-l1", tiny=True).model)
    torch.save(state, tmp_path / "l1.pt")  # as a user's own file (e.g. the September 2023 release)
    path, digest = import_weights("efficientvit-l1", tmp_path / "l1.pt", tiny=True)
    assert path == weights_path("efficientvit-l1") and path.read_bytes() == (tmp_path / "l1.pt").read_bytes()
    assert digest == file_sha256(tmp_path / "l1.pt")
    assert json.loads(import_record("efficientvit-l1").read_text())["sha256"] == digest
    _assert_loaded(load_backend("efficientvit-l1", tiny=True), state)

    torch.save(build_backend("sam-vit-b", tiny=True).model.state_dict(), tmp_path / "other.pt")
    with pytest.raises(WeightsError, match="does not fit efficientvit-l1"):
        import_weights("efficientvit-l1", tmp_path / "other.pt", tiny=True)
    assert path.read_bytes() == (tmp_path / "l1.pt").read_bytes()  # a refused file replaces nothing


def test_import_cli_and_the_sha256_stored_with_masks(tmp_path, monkeypatch):
    import shutil

    from typer.testing import CliRunner

    from samg.cli import app
    from samg.pipeline.masks import MaskSet
    from samg.pipeline.segment import SegmentConfig, segment_store
    from samg.pipeline.store import DemoStore
    from samg.segmenter.factory import SegmenterConfig
    from samg.segmenter.method import SamgOptions
    from samg.segmenter.weights import file_sha256
    from tests.pipeline.helpers import synthetic_store

    monkeypatch.setenv("SAMG_HOME", str(tmp_path / "home"))
    torch.save(_perturbed_state(build_backend("efficientvit-l1", tiny=True).model), tmp_path / "l1.pt")
    runner = CliRunner()
    result = runner.invoke(app, ["weights", "import", "efficientvit-l1", str(tmp_path / "l1.pt"), "--tiny"])
    assert result.exit_code == 0, result.output
    digest = file_sha256(tmp_path / "l1.pt")
    assert digest in result.output.replace("\n", "")
    listed = runner.invoke(app, ["weights", "list"], env={"COLUMNS": "250"})
    assert "imported from l1.pt" in listed.output and digest[:16] in listed.output
    refused = runner.invoke(app, ["weights", "import", "efficientvit-l1", str(tmp_path / "missing.pt")])
    assert refused.exit_code == 1 and "no file at" in refused.output
    unknown = runner.invoke(app, ["weights", "import", "resnet18", str(tmp_path / "l1.pt")])
    assert unknown.exit_code == 2 and "unknown segmenter model 'resnet18'" in unknown.output

    store = synthetic_store(tmp_path / "door.zarr", episodes=1)
    shutil.copytree("configs/prompts/door", tmp_path / "prompts" / "door")
    config = SegmenterConfig(  # simulator prompt: this test's $SAMG_HOME holds no benchmark files
        tiny=True, adapt=False, options=SamgOptions(use_dino=False), prompt="simulator", prompts_root=tmp_path / "prompts"
    )
    segment_store(SegmentConfig(store.path, config, settings=("train",)))
    assert MaskSet(DemoStore(store.path), "samg").attrs["sam_weights_sha256"] == digest
