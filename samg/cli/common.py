"""What every command shares: one-line errors and the console."""

import functools
from collections.abc import Callable
from typing import TypeVar

import typer
from rich.console import Console

from samg.errors import WRITE_FIXES, SamgError, WriteError

ALLOW_MISSING_ASSETS_HELP = (
    "Run even where benchmark files are missing (draws move on to the next present file; "
    "stores and reports name what was missing). Also SAMG_ALLOW_MISSING_ASSETS=1."
)
console = Console(soft_wrap=True)  # messages stay one line; tables fit the terminal
error_console = Console(stderr=True)
F = TypeVar("F", bound=Callable)


RESUME = "re-run the same command to resume"
RESUME_FLAG = "re-run the same command with --resume to continue from the last checkpoint"
START_AGAIN = "re-run the same command to start again"


def one_line_errors(command: F | None = None, *, interrupted: str | None = None):
    """Turn a SamgError, or a write the user can fix (no space, read-only, permission), into
    one line on stderr and the error's exit code; and Ctrl-C into one line, 'interrupted',
    with `interrupted` (what to do next) where the command says, and exit code 130."""

    def decorate(command: F) -> F:
        @functools.wraps(command)
        def wrapper(*args, **kwargs):
            try:
                return command(*args, **kwargs)
            except KeyboardInterrupt:
                line = f"interrupted: {interrupted}" if interrupted else "interrupted"
                error_console.print(line, markup=False, highlight=False, soft_wrap=True)
                raise typer.Exit(130) from None
            except (SamgError, OSError) as error:
                if isinstance(error, OSError) and not isinstance(error, SamgError):
                    if error.errno not in WRITE_FIXES:
                        raise
                    error = WriteError.of(error)
                error_console.print(f"[bold red]error:[/] {error}", markup=True, highlight=False, soft_wrap=True)
                raise typer.Exit(error.exit_code) from None

        return wrapper  # type: ignore[return-value]

    return decorate if command is None else decorate(command)


def allow_missing_assets_option() -> bool:
    return typer.Option(
        False, "--allow-missing-assets", envvar="SAMG_ALLOW_MISSING_ASSETS", help=ALLOW_MISSING_ASSETS_HELP
    )
