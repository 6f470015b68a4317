"""Checkpoint files of the backends: where they come from, where they live, how they load.

Files live in $SAMG_HOME/weights (default ~/.cache/samg/weights). Downloads are checked
against the sha256 of the official release; `import_weights` takes a file the user has
instead (e.g. the September 2023 EfficientViT-SAM L1 the paper used), checked by loading
it. Loading never unpickles objects (`torch.load(weights_only=True)` or safetensors) and
checks every key (strict).
"""

import hashlib
import json
import shutil
import tempfile
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch

from samg.errors import SamgError, UnknownNameError
from samg.paths import samg_home
from samg.safe_load import safe_torch_load
from samg.segmenter.backends import BACKENDS, build_backend


class WeightsError(SamgError):
    """A checkpoint that is missing, corrupt, or does not fit its model."""


@dataclass(frozen=True)
class WeightsFile:
    model: str
    file_name: str
    url: str
    sha256: str
    layout: str  # how keys map onto our module: "sam", "dinov2-hub"


WEIGHTS: dict[str, WeightsFile] = {
    w.model: w
    for w in (
        WeightsFile(
            "efficientvit-l0",
            "efficientvit_sam_l0.pt",
            "https://huggingface.co/mit-han-lab/efficientvit-sam/resolve/main/efficientvit_sam_l0.pt",
            "c4f994b01a16d48bcf2fbbb089448cfbf58fae5811edfa8113c953b8b8cc64b8",
            "sam",
        ),
        WeightsFile(
            "efficientvit-l1",
            "efficientvit_sam_l1.pt",
            "https://huggingface.co/mit-han-lab/efficientvit-sam/resolve/main/efficientvit_sam_l1.pt",
            "fa151df2b9b96896accd505470755cdd293a4c50cdabac95478f3fbd86d9152b",
            "sam",
        ),
        WeightsFile(
            "sam-vit-b",
            "sam_vit_b_01ec64.pth",
            "https://dl.fbaipublicfiles.com/segment_anything/sam_vit_b_01ec64.pth",
            "ec2df62732614e57411cdcf32a23ffdf28910380d03139ee0f4fcbe91eb8c912",
            "sam",
        ),
        WeightsFile(
            "dinov2-vits14",
            "dinov2_vits14_pretrain.pth",
            "https://dl.fbaipublicfiles.com/dinov2/dinov2_vits14/dinov2_vits14_pretrain.pth",
            "b938bf1bc15cd2ec0feacfe3a1bb553fe8ea9ca46a7e1d8d00217f29aef60cd9",
            "dinov2-hub",
        ),
        WeightsFile(
            "dinov2-vitb14",
            "dinov2_vitb14_pretrain.pth",
            "https://dl.fbaipublicfiles.com/dinov2/dinov2_vitb14/dinov2_vitb14_pretrain.pth",
            "0b8b82f85de91b424aded121c7e1dcc2b7bc6d0adeea651bf73a13307fad8c73",
            "dinov2-hub",
        ),
        WeightsFile(  # PIE-G's encoder for `samg bc train --encoder resnet18`
            "resnet18",
            "resnet18-f37072fd.pth",
            "https://download.pytorch.org/models/resnet18-f37072fd.pth",
            "f37072fd",  # torchvision publishes the sha256's first 8 hex digits, in the file name
            "torchvision",
        ),
    )
}


def weights_file(model: str) -> WeightsFile:
    try:
        return WEIGHTS[model]
    except KeyError:
        raise UnknownNameError("model", model, WEIGHTS) from None


def weights_path(model: str) -> Path:
    return samg_home() / "weights" / weights_file(model).file_name


def download_weights(model: str, on_progress: Callable[[int, int], None] | None = None) -> Path:
    """Fetch the official file into the cache, checksum-verified, written atomically."""
    spec = weights_file(model)
    target = weights_path(model)
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        with urllib.request.urlopen(spec.url, timeout=60) as response:
            total = int(response.headers.get("Content-Length") or 0)
            digest = hashlib.sha256()
            with tempfile.NamedTemporaryFile(dir=target.parent, delete=False) as tmp:
                done = 0
                while block := response.read(1 << 20):
                    tmp.write(block)
                    digest.update(block)
                    done += len(block)
                    if on_progress is not None:
                        on_progress(done, total)
    except (urllib.error.URLError, TimeoutError, OSError) as error:
        raise WeightsError(f"could not download {spec.url} ({getattr(error, 'reason', error)})") from None
    if not digest.hexdigest().startswith(spec.sha256):
        Path(tmp.name).unlink(missing_ok=True)
        raise WeightsError(f"checksum mismatch for {spec.url}: got {digest.hexdigest()[:12]}..., expected {spec.sha256[:12]}...")
    Path(tmp.name).replace(target)
    import_record(model).unlink(missing_ok=True)
    return target


def import_record(model: str) -> Path:
    """Where `import_weights` notes the source and sha256 of an imported file."""
    path = weights_path(model)
    return path.with_name(path.name + ".import.json")


def import_weights(model: str, source: str | Path, tiny: bool = False) -> tuple[Path, str]:
    """Put a checkpoint the user has in the cache as `model`'s file, after checking that it
    loads into the model with every key (`tiny`: into the tiny architecture, for tests).
    Returns the cached path and its sha256, which `samg segment` records with the masks."""
    if model not in BACKENDS:
        raise UnknownNameError("segmenter model", model, BACKENDS)
    source = Path(source)
    if not source.is_file():
        raise WeightsError(f"no file at {source}")
    load_backend(model, source, tiny=tiny)
    target = weights_path(model)
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=target.parent, delete=False) as tmp, open(source, "rb") as handle:
        shutil.copyfileobj(handle, tmp, 1 << 22)
    Path(tmp.name).replace(target)
    digest = file_sha256(target)
    record = {"source": str(source.resolve()), "sha256": digest}
    import_record(model).write_text(json.dumps(record) + "\n")
    return target, digest


def file_sha256(path: Path) -> str:
    """sha256 of a (large) file, read in 4 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(1 << 22):
            digest.update(block)
    return digest.hexdigest()


def read_state_dict(path: Path) -> dict[str, torch.Tensor]:
    """Tensors of a checkpoint file, without unpickling objects; unwraps {'state_dict': ...}."""
    if path.suffix == ".safetensors":
        from safetensors import SafetensorError
        from safetensors.torch import load_file

        try:
            state = load_file(path)
        except (SafetensorError, OSError, ValueError) as error:
            raise WeightsError(f"{path} is corrupt, truncated or not a weights file ({type(error).__name__}: {error})") from None
    else:
        state = safe_torch_load(path, "weights file", WeightsError)  # its refusals never advise weights_only=False
    for wrapper in ("state_dict", "model"):
        if isinstance(state, dict) and isinstance(state.get(wrapper), dict):
            state = state[wrapper]
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise WeightsError(f"{path} holds no state dict of tensors")
    return state


def dinov2_hub_to_hf(state: dict[str, torch.Tensor], target_keys: set[str]) -> dict[str, torch.Tensor]:
    """torch-hub DINOv2 keys (blocks.N.attn.qkv, ls1.gamma, ...) -> transformers' Dinov2Model.

    transformers 5 names the attention projections q/k/v/o_proj, 4.x query/key/value and
    output.dense: `target_keys` (the model's own) decides."""
    new_names = "encoder.layer.0.attention.q_proj.weight" in target_keys
    qkv_names = ("q_proj", "k_proj", "v_proj") if new_names else ("attention.query", "attention.key", "attention.value")
    renames = {
        "cls_token": "embeddings.cls_token",
        "mask_token": "embeddings.mask_token",
        "pos_embed": "embeddings.position_embeddings",
        "patch_embed.proj.weight": "embeddings.patch_embeddings.projection.weight",
        "patch_embed.proj.bias": "embeddings.patch_embeddings.projection.bias",
        "norm.weight": "layernorm.weight",
        "norm.bias": "layernorm.bias",
    }
    block_parts = {
        "norm1": "norm1",
        "norm2": "norm2",
        "attn.proj": "attention.o_proj" if new_names else "attention.output.dense",
        "mlp.fc1": "mlp.fc1",
        "mlp.fc2": "mlp.fc2",
    }
    mapped: dict[str, torch.Tensor] = {}
    for key, value in state.items():
        if key in renames:
            mapped[renames[key]] = value
            continue
        parts = key.split(".")
        if parts[0] != "blocks":
            raise WeightsError(f"unexpected key {key!r} in a DINOv2 torch-hub checkpoint")
        prefix, rest = f"encoder.layer.{parts[1]}", ".".join(parts[2:])
        if rest.startswith("attn.qkv."):
            for name, chunk in zip(qkv_names, value.chunk(3, dim=0)):
                mapped[f"{prefix}.attention.{name}.{parts[-1]}"] = chunk
        elif rest in ("ls1.gamma", "ls2.gamma"):
            mapped[f"{prefix}.layer_scale{rest[2]}.lambda1"] = value
        else:
            module, leaf = rest.rsplit(".", 1)
            if module not in block_parts:
                raise WeightsError(f"unexpected key {key!r} in a DINOv2 torch-hub checkpoint")
            mapped[f"{prefix}.{block_parts[module]}.{leaf}"] = value
    return mapped


def _hf_dinov2_names(state: dict[str, torch.Tensor], target_keys: set[str]) -> dict[str, torch.Tensor]:
    """A Hugging Face DINOv2 file (model.safetensors) onto the installed transformers:
    drop a `dinov2.` prefix; transformers 5 renamed attention.attention.query/key/value
    and attention.output.dense to q/k/v_proj and o_proj."""
    renamed = {}
    modern = "encoder.layer.0.attention.q_proj.weight" in target_keys
    for key, value in state.items():
        key = key.removeprefix("dinov2.")
        if modern:
            for old, new in (
                ("attention.attention.query", "attention.q_proj"),
                ("attention.attention.key", "attention.k_proj"),
                ("attention.attention.value", "attention.v_proj"),
                ("attention.output.dense", "attention.o_proj"),
            ):
                key = key.replace(old, new)
        renamed[key] = value
    return renamed


def load_backend(
    model: str,
    path: str | Path | None = None,
    device: str = "cpu",
    dtype: torch.dtype = torch.float32,
    tiny: bool = False,
):
    """The backend with its official weights (from the cache, or an explicit file).
    `tiny` builds the tiny architecture of the same family (for files the tests write)."""
    spec = weights_file(model)
    source = Path(path) if path is not None else weights_path(model)
    if not source.is_file():
        raise WeightsError(f"no weights for {model} at {source}: run 'samg weights download {model}'")
    state = read_state_dict(source)
    backend = build_backend(model, tiny=tiny)
    if spec.layout == "dinov2-hub" and "cls_token" in state:
        state = dinov2_hub_to_hf(state, set(backend.model.state_dict()))
    if spec.layout == "dinov2-hub":
        state = _hf_dinov2_names(state, set(backend.model.state_dict()))
    try:
        result = backend.model.load_state_dict(state, strict=False)
    except RuntimeError as error:  # shape mismatches
        raise WeightsError(f"{source} does not fit {model}: {str(error).splitlines()[-1].strip()}") from None
    problems = [*result.missing_keys, *result.unexpected_keys]
    if problems:
        raise WeightsError(
            f"{source} does not fit {model}: {len(result.missing_keys)} missing and "
            f"{len(result.unexpected_keys)} unexpected keys (first: {problems[0]!r})"
        )
    return backend.to(device, dtype)


def random_backend(
    model: str, device: str = "cpu", dtype: torch.dtype = torch.float32, tiny: bool = False, seed: int = 0
):
    """The architecture with seeded random weights (the same in every process): for timing
    runs without checkpoints and for tests. Its masks mean nothing. Matrices are drawn with
    variance 1/fan_in in the encoders and 0.5/fan_in in SAM's prompt encoder and decoder:
    the default inits (and He scaling) give tiny models all-empty or all-full masks."""
    with torch.random.fork_rng(devices=[]):
        backend = build_backend(model, tiny=tiny)
        parts = [(getattr(backend.model, "image_encoder", backend.model), 1.0)]
        if hasattr(backend.model, "mask_decoder"):
            parts += [(backend.model.mask_decoder, 0.5), (backend.model.prompt_encoder, 0.5)]
        generator = torch.Generator().manual_seed(seed)
        with torch.no_grad():
            for module, gain in parts:
                for parameter in module.parameters():
                    if parameter.ndim >= 2:
                        fan_in = parameter[0].numel()
                        parameter.copy_(torch.randn(parameter.shape, generator=generator) * (gain / fan_in) ** 0.5)
    return backend.to(device, dtype)


def load_imagenet_resnet18(path: Path | None = None) -> dict[str, torch.Tensor]:
    """torchvision's ImageNet ResNet-18 state dict (for PIE-G's frozen encoder)."""
    source = path if path is not None else weights_path("resnet18")
    if not source.is_file():
        raise WeightsError(f"no ImageNet ResNet-18 weights at {source}: run 'samg weights download resnet18'")
    return read_state_dict(source)
