"""Training presets: TOML files of `BCConfig` values in `configs/bc/NAME.toml`.

A preset sets the recipe (epochs, learning rate, batch size, proprioception, checkpoint
selection); flags given on the command line override it, and the run's `config.json`
records the preset's name with the resolved values. Values are read as data (TOML), never
run as code, and checked against the config's field types when the config is built.
"""

import tomllib
from pathlib import Path

from samg.errors import SamgError
from samg.il.config import BCConfig

PRESETS_DIR = Path("configs") / "bc"
DEFAULT_PRESET = "default"
# what a preset may set: the recipe, not the data, the observations, the seed or the hardware
RECIPE_FIELDS = (
    "encoder", "epochs", "batch_size", "lr", "val_fraction", "frame_stack", "shift_pad", "proprio", "proprio_dropout",
    "select_episodes",
)  # fmt: skip


class PresetError(SamgError):
    """A preset that does not exist or does not hold a recipe."""


def preset_dirs() -> tuple[Path, ...]:
    """The working directory's configs/bc, then the one beside the package (a source checkout)."""
    return (PRESETS_DIR, Path(__file__).resolve().parents[2] / PRESETS_DIR)


def available_presets() -> list[str]:
    return sorted({path.stem for directory in preset_dirs() for path in directory.glob("*.toml")})


def preset_path(name: str) -> Path:
    if name.endswith(".toml"):
        path = Path(name)
        if not path.is_file():
            raise PresetError(f"no preset file {path}")
        return path
    for directory in preset_dirs():
        if (directory / f"{name}.toml").is_file():
            return directory / f"{name}.toml"
    raise PresetError(f"unknown preset {name!r}; valid presets: {', '.join(available_presets()) or 'none found'} (or a .toml file)")


def load_preset(name: str) -> dict:
    """The values a preset sets, by `BCConfig` field name."""
    path = preset_path(name)
    try:
        values = tomllib.loads(path.read_text())
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise PresetError(f"preset {path} is not readable TOML ({type(error).__name__}: {error})") from None
    unknown = sorted(set(values) - set(RECIPE_FIELDS))
    if unknown:
        raise PresetError(f"preset {path} sets {', '.join(unknown)}, which a preset cannot; it may set: {', '.join(RECIPE_FIELDS)}")
    return values


def resolve_config(preset: str | None, overrides: dict, resumed: BCConfig | None = None, **where) -> BCConfig:
    """`BCConfig` from the preset, then the flags that were given (`overrides`: None = not given).
    A resumed run's recipe comes from its own config unless a preset is named again, so that
    `--resume` alone continues the run as it was trained."""
    given = {key: value for key, value in overrides.items() if value is not None}
    if resumed is not None and preset is None:
        base, preset = {name: getattr(resumed, name) for name in RECIPE_FIELDS}, resumed.preset
    else:
        preset = preset or DEFAULT_PRESET
        base = load_preset(preset)
    return BCConfig(**{**base, **given, **where, "preset": preset})
