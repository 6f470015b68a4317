"""The five visual settings, as the paper's benchmarks define them (by name).

Each shifted setting has a level ("easy"/"hard") that picks the benchmark files it draws
from (colour presets, table textures, clips); what a level changes in a scene depends on
the task family (RL-ViGen's Adroit settings, DMC-GB's for DMC: see `appearance.py`).
"""

from collections.abc import Iterable
from dataclasses import dataclass

from samg.errors import UnknownNameError


@dataclass(frozen=True)
class VisualSetting:
    name: str
    level: str | None = None  # "easy" / "hard"; None for train
    background: str = "original"  # "original", "color" (a preset's flat colour) or "video"

    @property
    def shifted(self) -> bool:
        return self.level is not None

    @property
    def video(self) -> bool:
        return self.background == "video"


_ALL_SETTINGS = (
    VisualSetting("train"),
    VisualSetting("color_easy", "easy", "color"),
    VisualSetting("color_hard", "hard", "color"),
    VisualSetting("video_easy", "easy", "video"),
    VisualSetting("video_hard", "hard", "video"),
)

SETTINGS: dict[str, VisualSetting] = {s.name: s for s in _ALL_SETTINGS}
SETTING_NAMES: tuple[str, ...] = tuple(SETTINGS)


def get_setting(name: str) -> VisualSetting:
    try:
        return SETTINGS[name]
    except KeyError:
        raise UnknownNameError("setting", name, SETTINGS) from None


def parse_settings(spec: str | Iterable[str]) -> tuple[str, ...]:
    """'all', 'train,video_hard' or a list of names -> validated names in canonical order."""
    names = spec.split(",") if isinstance(spec, str) else list(spec)
    names = [n.strip() for n in names if n.strip()]
    if names == ["all"]:
        return SETTING_NAMES
    for name in names:
        get_setting(name)
    if not names:
        raise UnknownNameError("setting", "", SETTINGS)
    return tuple(n for n in SETTING_NAMES if n in names)
