"""Expert policies that roll out the demos: the published DAPG policies by default.

`Expert` is the interface collection uses; `DapgExpert` runs an mjrl MLP policy with
numpy. Published files are fetched into $SAMG_HOME/experts, always checksum-verified.
"""

import hashlib
import tempfile
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from samg.errors import SamgError, UnknownNameError
from samg.paths import samg_home
from samg.rl_collect.mjrl_pickle import ExpertFormatError, MlpPolicyWeights, load_mlp_policy


class ExpertUnavailableError(SamgError):
    """An expert file is missing, cannot be downloaded, or fails its checksum."""


class Expert(Protocol):
    name: str
    sha256: str

    def act(self, state: np.ndarray) -> np.ndarray:
        """The action for the environment's low-dimensional observation."""


@dataclass(frozen=True)
class PublishedExpert:
    task: str
    file_name: str
    sha256: str

    @property
    def url(self) -> str:
        return f"https://github.com/aravindr93/hand_dapg/raw/master/dapg/policies/{self.file_name}"


PUBLISHED_EXPERTS: dict[str, PublishedExpert] = {
    expert.task: expert
    for expert in (
        PublishedExpert("door", "door-v0.pickle", "288dd2131b905e40852d9eb032595bb9b3aa90b0502e9341e6b0e128b803478f"),
        PublishedExpert("hammer", "hammer-v0.pickle", "14c6b603af09acf87247f8b45d58f9671790d8e4ca0c48c8db5e1f7c98126ef4"),
        PublishedExpert("pen", "pen-v0.pickle", "061dba4907a76b83139ae5a8d0809faa9774dd028d12ce869036b620bd728740"),
        PublishedExpert(
            "relocate", "relocate-v0.pickle", "41432c3125c97a8eb101d5d482f062b1f9bb72239a3abccae7428ef0e66413fc"
        ),
    )
}


class DapgExpert:
    """Mean action of a DAPG (mjrl Gaussian MLP) policy."""

    def __init__(self, weights: MlpPolicyWeights, name: str, sha256: str):
        self.weights, self.name, self.sha256 = weights, name, sha256
        self._activation: Callable[[np.ndarray], np.ndarray] = {"tanh": np.tanh, "relu": _relu}[weights.nonlinearity]

    def act(self, state: np.ndarray) -> np.ndarray:
        w = self.weights
        hidden = (np.asarray(state, np.float64) - w.in_shift) / (w.in_scale + 1e-8)
        for layer, (weight, bias) in enumerate(zip(w.weights, w.biases)):
            hidden = hidden @ weight.T + bias
            if layer < len(w.weights) - 1:
                hidden = self._activation(hidden)
        return hidden * w.out_scale + w.out_shift


def _relu(x: np.ndarray) -> np.ndarray:
    return np.maximum(x, 0.0)


def published_expert(task: str) -> PublishedExpert:
    try:
        return PUBLISHED_EXPERTS[task]
    except KeyError:
        raise UnknownNameError("expert task", task, PUBLISHED_EXPERTS) from None


def experts_dir() -> Path:
    return samg_home() / "experts"


def expert_path(task: str) -> Path:
    return experts_dir() / published_expert(task).file_name


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _verified(data: bytes, expected: PublishedExpert, source: str) -> bytes:
    digest = sha256_of(data)
    if digest != expected.sha256:
        raise ExpertUnavailableError(
            f"checksum mismatch for {source}: sha256 {digest[:12]}..., expected {expected.sha256[:12]}... "
            f"({expected.file_name} from hand_dapg)"
        )
    load_mlp_policy(data)  # refuses anything that is not a plain MLP policy
    return data


def _install(data: bytes, task: str) -> Path:
    target = expert_path(task)
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=target.parent, delete=False) as tmp:
        tmp.write(data)
    Path(tmp.name).replace(target)
    return target


def fetch_expert(task: str, timeout: float = 30.0) -> Path:
    """Download a published expert into the cache (skipped when a verified copy is there)."""
    expected = published_expert(task)
    target = expert_path(task)
    if target.exists() and sha256_of(target.read_bytes()) == expected.sha256:
        return target
    try:
        with urllib.request.urlopen(expected.url, timeout=timeout) as response:
            data = response.read()
    except (urllib.error.URLError, TimeoutError, OSError) as error:
        reason = getattr(error, "reason", error)
        raise ExpertUnavailableError(
            f"could not download {expected.url} ({reason}); without internet, copy the file in "
            f"with 'samg expert import PATH'"
        ) from None
    return _install(_verified(data, expected, expected.url), task)


def import_expert(path: str | Path) -> tuple[str, Path]:
    """Copy a local expert file into the cache after the same checks; returns (task, path)."""
    path = Path(path)
    if not path.is_file():
        raise ExpertUnavailableError(f"no such file: {path}")
    data = path.read_bytes()
    digest = sha256_of(data)
    matches = [e for e in PUBLISHED_EXPERTS.values() if e.sha256 == digest]
    if not matches:
        known = ", ".join(e.file_name for e in PUBLISHED_EXPERTS.values())
        raise ExpertUnavailableError(
            f"{path} (sha256 {digest[:12]}...) is none of the published experts ({known})"
        )
    expected = matches[0]
    return expected.task, _install(_verified(data, expected, str(path)), expected.task)


def load_expert(task: str, path: str | Path | None = None) -> DapgExpert:
    """The task's published expert from the cache (or an explicit file), checksum-verified.

    A `.npz` file (see `MlpPolicyWeights.save_npz`) is an MLP expert of your own: it is read
    without pickle and needs no checksum table.
    """
    if path is not None and Path(path).suffix == ".npz":
        if not Path(path).is_file():
            raise ExpertUnavailableError(f"no expert file at {path}")
        data = Path(path).read_bytes()
        return DapgExpert(MlpPolicyWeights.load_npz(path), name=f"mlp/{Path(path).name}", sha256=sha256_of(data))
    expected = published_expert(task)
    source = Path(path) if path is not None else expert_path(task)
    if not source.is_file():
        raise ExpertUnavailableError(
            f"no expert for '{task}' at {source}: run 'samg expert fetch {task}' "
            f"(or 'samg expert import PATH' offline)"
        )
    data = _verified(source.read_bytes(), expected, str(source))
    return DapgExpert(load_mlp_policy(data), name=f"dapg/{expected.file_name}", sha256=expected.sha256)


def check_fits(expert: Expert, state: np.ndarray, action_dim: int) -> None:
    """One action from the task's first state, of the task's size: an expert of another
    task (or a tampered one) is refused before a rollout starts."""
    try:
        action = np.asarray(expert.act(state))
    except ValueError as error:
        raise ExpertFormatError(f"expert {expert.name} does not take this task's {len(state)}-d state ({error})") from None
    if action.shape != (action_dim,):
        raise ExpertFormatError(f"expert {expert.name} gives actions of shape {action.shape}, the task takes ({action_dim},)")
