"""Files samg writes, to a temporary name renamed into place, so that a reader never sees half
a file; JSON always valid (NaN and infinity, which `json.dumps` would write bare, become null)."""

import json
import math
import os
from pathlib import Path


def finite_json(value):
    """`value` with every non-finite float replaced by None (JSON's null)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: finite_json(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [finite_json(item) for item in value]
    return value


def write_json(path: Path, values: dict, indent: int | None = 2) -> None:
    write_text(path, json.dumps(finite_json(values), indent=indent, allow_nan=False) + "\n")


def write_text(path: Path, text: str) -> None:
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(text)
    os.replace(temporary, path)
