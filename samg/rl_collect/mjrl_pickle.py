"""Read the published DAPG expert pickles (mjrl `MLP` policies) without running their code.

The files are pickles of mjrl/torch objects. A normal unpickle imports mjrl and torch
classes and calls whatever the file names. Here an allow-list maps each class or
function the format uses to plain data (records, numpy arrays); any other name in the
file stops the load with an error naming it.
"""

import io
import pickle
import warnings
import zipfile
from dataclasses import dataclass

import numpy as np

from samg.errors import SamgError


class ExpertFormatError(SamgError):
    """The file is not an mjrl policy pickle we can read safely."""


class _Record:
    """Stands in for an mjrl/torch object: keeps the state the pickle gives it."""

    kind = "record"

    def __init__(self, *args):
        self.state: dict = {}

    def __setstate__(self, state) -> None:
        if isinstance(state, tuple):  # (dict state, slot state)
            state = {**(state[0] or {}), **(state[1] or {})}
        if not isinstance(state, dict):
            raise ExpertFormatError(f"unexpected state for {self.kind}: {type(state).__name__}")
        self.state = state


def _record_class(kind: str) -> type:
    return type(kind, (_Record,), {"kind": kind})


class _TorchFunctions:
    """Stands in for torch._C._VariableFunctions; only nonlinearity names come out of it."""


_NONLINEARITIES = ("tanh", "relu")


def _safe_getattr(owner, name: str):
    if owner is _TorchFunctions and name in _NONLINEARITIES:
        return name
    raise ExpertFormatError(f"refused getattr({getattr(owner, '__name__', owner)!r}, {name!r})")


def _storage_from_bytes(blob: bytes) -> np.ndarray:
    """A torch storage saved in torch's legacy format; torch's weights-only loader reads it."""
    import torch

    with warnings.catch_warnings():  # TypedStorage deprecation: it is what the file holds
        warnings.simplefilter("ignore", UserWarning)
        storage = torch.load(io.BytesIO(blob), weights_only=True)
    if not isinstance(storage, torch.TypedStorage):
        raise ExpertFormatError(f"expected a tensor storage, found {type(storage).__name__}")
    return torch.tensor([], dtype=storage.dtype).set_(storage).numpy().copy()


def _rebuild_tensor(storage: np.ndarray, offset: int, size, stride, *_ignored) -> np.ndarray:
    if len(size) == 0:
        return np.array(storage[offset])
    strides = [s * storage.itemsize for s in stride]
    view = np.lib.stride_tricks.as_strided(storage[offset:], shape=tuple(size), strides=strides)
    return np.array(view)


def _rebuild_parameter(data, *_ignored):
    return data


def _numpy_reconstruct(*args):
    from numpy._core.multiarray import _reconstruct

    return _reconstruct(*args)


def _numpy_scalar(*args):
    from numpy._core.multiarray import scalar

    return scalar(*args)


_ALLOWED = {
    ("mjrl.policies.gaussian_mlp", "MLP"): _record_class("MLP"),
    ("mjrl.utils.fc_network", "FCNetwork"): _record_class("FCNetwork"),
    ("torch.nn.modules.container", "ModuleList"): _record_class("ModuleList"),
    ("torch.nn.modules.linear", "Linear"): _record_class("Linear"),
    ("torch.nn.backends.thnn", "_get_thnn_function_backend"): lambda: None,
    ("torch._utils", "_rebuild_parameter"): _rebuild_parameter,
    ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor,
    ("torch.storage", "_load_from_bytes"): _storage_from_bytes,
    ("torch._C", "_VariableFunctions"): _TorchFunctions,
    ("torch._C", "_VariableFunctionsClass"): _TorchFunctions,  # newer torch writes this name
    ("builtins", "set"): set,  # newer torch modules keep a set of non-persistent buffers
    ("builtins", "getattr"): _safe_getattr,
    ("collections", "OrderedDict"): dict,
    ("numpy.core.multiarray", "_reconstruct"): _numpy_reconstruct,
    ("numpy._core.multiarray", "_reconstruct"): _numpy_reconstruct,
    ("numpy.core.multiarray", "scalar"): _numpy_scalar,
    ("numpy._core.multiarray", "scalar"): _numpy_scalar,
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
}


class _AllowListUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str):
        try:
            return _ALLOWED[(module, name)]
        except KeyError:
            raise ExpertFormatError(
                f"refused to load {module}.{name}: not part of an mjrl MLP policy pickle"
            ) from None

    def persistent_load(self, pid):
        raise ExpertFormatError("refused a persistent reference: not an mjrl MLP policy pickle")


@dataclass(frozen=True)
class MlpPolicyWeights:
    """An mjrl Gaussian MLP policy as plain arrays.

    mean action = MLP((obs - in_shift) / (in_scale + 1e-8)) * out_scale + out_shift,
    with `nonlinearity` between layers and none after the last.
    """

    weights: tuple[np.ndarray, ...]  # (out, in) per layer
    biases: tuple[np.ndarray, ...]
    in_shift: np.ndarray
    in_scale: np.ndarray
    out_shift: np.ndarray
    out_scale: np.ndarray
    log_std: np.ndarray
    nonlinearity: str

    def __post_init__(self):
        """Shapes that chain, a known nonlinearity: a tampered file is refused here, not mid-rollout."""
        if self.nonlinearity not in ("tanh", "relu"):
            raise ExpertFormatError(f"unknown nonlinearity {self.nonlinearity!r} (tanh or relu)")
        if not len(self.weights) == len(self.biases) >= 1 or any(np.ndim(w) != 2 for w in self.weights):
            raise ExpertFormatError("the policy needs one 2-d weight matrix and one bias per layer")
        sizes = self.layer_sizes
        chained = all(w.shape[1] == n for w, n in zip(self.weights, sizes[:-1], strict=True))
        chained &= all(np.shape(b) == (w.shape[0],) for w, b in zip(self.weights, self.biases, strict=True))
        chained &= np.shape(self.in_shift) == np.shape(self.in_scale) == (sizes[0],)
        chained &= np.shape(self.out_shift) == np.shape(self.out_scale) == np.shape(self.log_std) == (sizes[-1],)
        if not chained:
            raise ExpertFormatError(f"the policy's array shapes do not chain (layers {sizes})")

    @property
    def layer_sizes(self) -> tuple[int, ...]:
        return (self.weights[0].shape[1], *(w.shape[0] for w in self.weights))

    def save_npz(self, path) -> None:
        """Plain arrays, loadable without pickle: how a self-trained MLP expert is shipped."""
        arrays = {f"weight_{i}": w for i, w in enumerate(self.weights)}
        arrays |= {f"bias_{i}": b for i, b in enumerate(self.biases)}
        np.savez(
            path,
            **arrays,
            in_shift=self.in_shift,
            in_scale=self.in_scale,
            out_shift=self.out_shift,
            out_scale=self.out_scale,
            log_std=self.log_std,
            nonlinearity=np.array(self.nonlinearity),
        )

    @classmethod
    def load_npz(cls, path) -> "MlpPolicyWeights":
        try:
            with np.load(path, allow_pickle=False) as arrays:
                layers = sum(1 for key in arrays.files if key.startswith("weight_"))
                return cls(
                    weights=tuple(arrays[f"weight_{i}"] for i in range(layers)),
                    biases=tuple(arrays[f"bias_{i}"] for i in range(layers)),
                    in_shift=arrays["in_shift"],
                    in_scale=arrays["in_scale"],
                    out_shift=arrays["out_shift"],
                    out_scale=arrays["out_scale"],
                    log_std=arrays["log_std"],
                    nonlinearity=str(arrays["nonlinearity"]),
                )
        except (KeyError, ValueError, OSError, EOFError, zipfile.BadZipFile) as error:
            raise ExpertFormatError(f"{path} is not an MLP expert .npz ({type(error).__name__}: {error})") from None
        except ExpertFormatError as error:
            raise ExpertFormatError(f"{path}: {error}") from None


def load_mlp_policy(data: bytes) -> MlpPolicyWeights:
    try:
        policy = _AllowListUnpickler(io.BytesIO(data)).load()
    except ExpertFormatError:
        raise
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError, IndexError) as error:
        raise ExpertFormatError(f"not a readable policy pickle ({type(error).__name__}: {error})") from None
    if not isinstance(policy, _Record) or policy.kind != "MLP":
        raise ExpertFormatError(f"the pickle holds {type(policy).__name__}, not an mjrl MLP policy")
    return _weights_of(policy)


def _weights_of(policy: _Record) -> MlpPolicyWeights:
    try:
        network = policy.state["model"].state
        layers = network["_modules"]["fc_layers"].state["_modules"]
        linear = [layers[key].state["_parameters"] for key in sorted(layers, key=int)]
        action_dim = linear[-1]["weight"].shape[0]
        obs_dim = linear[0]["weight"].shape[1]

        def vector(name: str, size: int, default: float) -> np.ndarray:
            value = network.get(name)
            if value is None:
                value = network.get("transformations", {}).get(name)
            return np.full(size, default) if value is None else np.asarray(value, np.float64).reshape(size)

        return MlpPolicyWeights(
            weights=tuple(np.asarray(p["weight"], np.float64) for p in linear),
            biases=tuple(np.asarray(p["bias"], np.float64) for p in linear),
            in_shift=vector("in_shift", obs_dim, 0.0),
            in_scale=vector("in_scale", obs_dim, 1.0),
            out_shift=vector("out_shift", action_dim, 0.0),
            out_scale=vector("out_scale", action_dim, 1.0),
            log_std=np.asarray(policy.state["log_std"], np.float64).reshape(action_dim),
            nonlinearity=str(network.get("nonlinearity", "tanh")),
        )
    except (KeyError, AttributeError, TypeError, ValueError) as error:
        raise ExpertFormatError(f"mjrl MLP policy without the expected fields ({error!r})") from None
