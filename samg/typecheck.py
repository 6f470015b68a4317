"""Field types of config dataclasses read back from files (JSON, zarr attributes), which can
hold anything: a wrong type is refused by name instead of failing later, far from its cause."""

import types
import typing
from dataclasses import fields

from samg.errors import SamgError


def _allowed(annotation) -> tuple[type, ...]:
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        return tuple(t for arg in typing.get_args(annotation) for t in _allowed(arg))
    if origin is not None:  # tuple[str, ...], dict[str, int]: the container only
        return (origin,)
    if annotation is float:
        return (float, int)
    return (type(None),) if annotation is None else (annotation,)


def check_field_types(instance, error: type[SamgError] = SamgError) -> None:
    """Each field of a dataclass instance holds its annotated type (bool is not an int here)."""
    for field in fields(instance):
        value, allowed = getattr(instance, field.name), _allowed(field.type)
        if not isinstance(value, allowed) or (isinstance(value, bool) and bool not in allowed):
            names = " or ".join("null" if kind is type(None) else kind.__name__ for kind in allowed)
            raise error(f"{field.name} must be {names}, got {value!r}")
