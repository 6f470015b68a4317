"""DMC-GB's colour presets: legacy `torch.save` pickles of numpy arrays, read without
running any code from the file.

The legacy format is five pickles in a row: a magic number, the protocol version, system
info, the object, and the list of tensor storages (empty here). Only the globals numpy
needs to rebuild arrays are allowed; any other global, or a tensor storage, is refused.
"""

import io
import pickle

import numpy as np

from samg.errors import SamgError

_LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
_LEGACY_PROTOCOL = 1001
_ALLOWED_GLOBALS = {
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
    ("_codecs", "encode"),
}
PRESET_KEYS = ("self_rgb", "skybox_rgb", "grid_rgb1", "grid_rgb2")


class PresetFileError(SamgError):
    """A colour preset file that is not what the benchmark pins."""


class _NumpyOnlyUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str):
        if (module, name) not in _ALLOWED_GLOBALS:
            raise PresetFileError(f"refused: the file names the global {module}.{name}, which a colour preset never needs")
        return super().find_class(module, name)

    def persistent_load(self, pid):
        raise PresetFileError("refused: the file holds tensor storages, a colour preset holds numpy arrays only")


def load_presets(data: bytes, name: str = "colour presets") -> list[dict[str, np.ndarray]]:
    """The list of presets (dicts of RGB arrays in [0, 1]) from the bytes of a `.pt` file."""
    stream = io.BytesIO(data)
    try:
        parts = [_NumpyOnlyUnpickler(stream).load() for _ in range(5)]
    except PresetFileError as error:
        raise PresetFileError(f"{name}: {error}") from None
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError, IndexError) as error:
        raise PresetFileError(f"{name} is not a legacy torch.save pickle ({type(error).__name__}): re-fetch it with 'samg assets fetch'") from None
    magic, protocol, _, presets, storages = parts
    if magic != _LEGACY_MAGIC or protocol != _LEGACY_PROTOCOL or storages != []:
        raise PresetFileError(f"{name} is not a legacy torch.save file of numpy arrays")
    if not isinstance(presets, list) or not all(isinstance(p, dict) for p in presets):
        raise PresetFileError(f"{name} does not hold a list of colour presets")
    for preset in presets:
        for key in PRESET_KEYS:
            value = preset.get(key)
            if not isinstance(value, np.ndarray) or value.shape != (3,):
                raise PresetFileError(f"{name}: a preset lacks an RGB array {key!r}")
    return [{key: np.asarray(preset[key], np.float64) for key in PRESET_KEYS} for preset in presets]
