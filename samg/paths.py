"""Where samg keeps downloaded files: $SAMG_HOME, default ~/.cache/samg."""

import os
from pathlib import Path


def samg_home() -> Path:
    return Path(os.environ.get("SAMG_HOME") or Path.home() / ".cache" / "samg")
