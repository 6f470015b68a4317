"""`torch.load(weights_only=True)` whose refusals are one line naming the file.

torch's own message for a refused pickle is a dozen lines that end in advice to load with
`weights_only=False`, the path that runs the file's code; this module never passes it on.
"""

import pickle
import re
import warnings
import zipfile
from pathlib import Path

import torch

from samg.errors import SamgError

_FOREIGN_GLOBAL = re.compile(r"GLOBAL (\S+) (?:was not an allowed global|whose module)")


def safe_torch_load(path: Path, what: str, error: type[SamgError] = SamgError, map_location: str = "cpu") -> object:
    """The tensors and plain values in `path`; `error` (naming `what` the file should be)
    for anything else: a missing, truncated or foreign file, or a pickle naming other code."""
    path = Path(path)
    if not path.is_file():
        raise error(f"no {what} at {path}")
    try:
        with warnings.catch_warnings():  # e.g. "Detected pickle protocol 4": noise next to the one line
            warnings.simplefilter("ignore")
            return torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as refused:
        named = _FOREIGN_GLOBAL.search(str(refused))
        if named is None:  # not a pickle, or one of instructions torch does not read: no code named
            raise error(f"{path} is corrupt, truncated or not a {what} (weights-only loading refused it)") from None
        raise error(
            f"{path} is refused: it names {named.group(1)}; a {what} holds only tensors and plain values "
            "(read with weights_only=True: nothing in it ran)"
        ) from None
    except (RuntimeError, EOFError, OSError, ValueError, KeyError, TypeError, AttributeError, IndexError,
            zipfile.BadZipFile) as failure:  # fmt: skip
        raise error(f"{path} is corrupt, truncated or not a {what} ({_first_line(failure)})") from None


def _first_line(error: Exception) -> str:
    return f"{type(error).__name__}: {(str(error).splitlines() or [''])[0][:120]}"
