"""One writer per store: an exclusive advisory lock the OS drops when the writer dies."""

import fcntl
import os
from pathlib import Path

from samg.errors import SamgError


class StoreLockedError(SamgError):
    """Another process is writing the store."""


class StoreLock:
    def __init__(self, store_path: str | Path, purpose: str, part: str = "", way_out: str = "write elsewhere with --out"):
        """`part`: a part of the store with its own writer (e.g. 'masks-samg'), locked apart."""
        store_path = Path(store_path)
        suffix = f".{part}.lock" if part else ".lock"
        self.path = store_path.with_name(store_path.name + suffix)
        self.target = f"{store_path} ({part})" if part else str(store_path)
        self.purpose, self.way_out = purpose, way_out
        self._file = None

    def __enter__(self) -> "StoreLock":
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(self.path, "a+")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            handle.close()
            raise StoreLockedError(
                f"{self.target} is being written by {holder}; wait for it to finish or {self.way_out}"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()} ({self.purpose})")
        handle.flush()
        self._file = handle
        return self

    def __exit__(self, *exc) -> None:
        if self._file is not None:
            fcntl.flock(self._file, fcntl.LOCK_UN)
            self._file.close()
            self._file = None
