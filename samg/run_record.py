"""A run's own record of the config it was trained with, carried by its checkpoints. The run's
config.json is for people to read; evaluation and resume take the record, and refuse a
config.json that lacks a key of it or says otherwise."""

import json
from pathlib import Path

from samg.errors import SamgError


def check_against_record(
    path: Path, values: dict, recorded: object, source: Path, free: tuple[str, ...], what: str, error: type[SamgError]
) -> None:
    """`values`, read from `path` (a `what`), hold every key of `recorded` (the config that
    `source` records), each equal to it but for the `free` ones."""
    if not isinstance(recorded, dict) or not _plain(recorded):
        raise error(f"{source} holds a broken record of the config its run was trained with: "
                    "train a new run into another --out")
    missing = [name for name in recorded if name not in values]
    if missing:
        restore = json.dumps({name: recorded[name] for name in missing})
        raise error(f"{path} is not a valid {what} (it lacks {', '.join(missing)}): put back what {source} "
                    f"records: {restore}")
    for name, value in recorded.items():
        if name not in free and values[name] != value:
            raise error(
                f"{path} says {name} {json.dumps(values[name])}, but the run was trained with {json.dumps(value)} "
                f"(as {source} records): set it back, or train a new run into another --out"
            )


def _plain(value) -> bool:
    """Only what JSON holds (a checkpoint's pickle may hold tensors or other objects)."""
    if isinstance(value, dict):
        return all(isinstance(key, str) and _plain(item) for key, item in value.items())
    if isinstance(value, list):
        return all(_plain(item) for item in value)
    return value is None or isinstance(value, str | int | float | bool)
