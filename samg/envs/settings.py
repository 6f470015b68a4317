"""The five visual settings (DMC-GB / RL-ViGen style), by name."""

from collections.abc import Iterable
from dataclasses import dataclass

from samg.errors import UnknownNameError


@dataclass(frozen=True)
class VisualSetting:
    name: str
    color_std: float = 0.0  # std of the per-episode RGB shift of every colour (0: stock)
    video_background: bool = False  # natural video behind the scene
    video_surfaces: bool = False  # table/floor hidden, the video shows through
    light_swing: float = 0.0  # radians the light swings about the vertical axis
    light_period: float = 0.0  # steps per full swing


_ALL_SETTINGS = (
    VisualSetting("train"),
    VisualSetting("color_easy", color_std=0.1),
    VisualSetting("color_hard", color_std=0.2),
    VisualSetting("video_easy", video_background=True, light_swing=0.5, light_period=200),
    VisualSetting(
        "video_hard", video_background=True, video_surfaces=True, light_swing=1.0, light_period=50
    ),
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
