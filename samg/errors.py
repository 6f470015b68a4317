"""Exceptions that carry a message naming the fix; the CLI prints them as one line."""

from collections.abc import Iterable


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


class RenderBackendError(SamgError):
    """Off-screen rendering cannot start (missing EGL/Mesa, wrong MUJOCO_GL)."""
