"""Exceptions that carry a message naming the fix; the CLI prints them as one line."""

import contextlib
import errno
import os
from collections.abc import Iterable, Iterator


class SamgError(Exception):
    """Base class: a problem the user can fix. `exit_code` is what the CLI exits with."""

    exit_code = 1


class UnknownNameError(SamgError, KeyError):
    """A task, setting or other registry name that does not exist."""

    exit_code = 2

    def __init__(self, kind: str, name: str, valid: Iterable[str]):
        self.kind, self.name, self.valid = kind, name, tuple(valid)
        super().__init__(f"unknown {kind} '{name}'; valid {kind}s: {', '.join(self.valid)}")

    def __str__(self) -> str:  # KeyError would otherwise quote the message
        return self.args[0]


_FREE_SPACE = "free space there and re-run the same command (what was finished is kept)"
_ELSEWHERE = "write elsewhere (--out) or fix the folder's permissions"
WRITE_FIXES = {  # the OSErrors of a write the user can fix, and how
    errno.ENOSPC: _FREE_SPACE,
    errno.EDQUOT: _FREE_SPACE,
    errno.EFBIG: "the file system's file size limit is reached: write elsewhere (--out)",
    errno.EROFS: "the file system is read-only: write elsewhere (--out)",
    errno.EACCES: _ELSEWHERE,
    errno.EPERM: _ELSEWHERE,
    errno.ELOOP: "the path runs through a symbolic link loop: remove the links or choose another path",
    errno.ENOTDIR: "a part of the path is a file, not a folder: choose another path",
    errno.ENAMETOOLONG: "choose a shorter path",
}


class WriteError(SamgError):
    """A file that cannot be written: no space, a read-only file system, no permission, a
    path that cannot be created."""

    @classmethod
    def of(cls, error: OSError, path: os.PathLike | str | None = None) -> "WriteError":
        where = error.filename or path or "the output"
        return cls(f"cannot write {where}: {os.strerror(error.errno)}: {WRITE_FIXES[error.errno]}")


@contextlib.contextmanager
def writing(path: os.PathLike | str) -> Iterator[None]:
    """Writes into `path`: a failure the user can fix becomes a WriteError naming it."""
    try:
        yield
    except OSError as error:
        if error.errno in WRITE_FIXES:
            raise WriteError.of(error, path) from None
        raise


class RenderBackendError(SamgError):
    """Off-screen rendering cannot start (missing EGL/Mesa, wrong MUJOCO_GL)."""
