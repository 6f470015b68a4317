"""One writer per store: an exclusive advisory lock the OS drops when the writer dies. A
start that fails before the store exists removes the lock file it made."""

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
        self.store_path = store_path
        self.purpose, self.way_out = purpose, way_out
        self._file = None
        self._made_file = False

    def __enter__(self) -> "StoreLock":
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._made_file = not self.path.exists()
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
            if exc[0] is not None and self._made_file and not self.store_path.exists():
                self.path.unlink(missing_ok=True)  # a failed start: no store, no lock file
            fcntl.flock(self._file, fcntl.LOCK_UN)
            self._file.close()
            self._file = None
