"""What a visual setting changes in the scene, and how one episode of it looks.

`ScenePalette` records the model's stock colours, lights and which geoms are the
table/floor. `sample_appearance` turns (task, setting, episode seed) into an
`Appearance`: new colours, a background clip or colour, a light path. Applying it writes
only visual model fields (rgba, lights, geom groups), never anything physics reads.
"""

import math
import zlib
from dataclasses import dataclass

import mujoco
import numpy as np

from samg.envs.settings import SETTING_NAMES, VisualSetting
from samg.envs.tasks import TaskSpec
from samg.envs.videos import Clip, VideoSource

HIDDEN_GROUP = 5  # surfaces move here; the option shows it except in video_hard
_STOCK_GEOM_RGBA = np.array([0.5, 0.5, 0.5, 1.0], np.float32)


def subtree_bodies(model: mujoco.MjModel, roots: tuple[str, ...]) -> np.ndarray:
    """Boolean over bodies: inside the subtree of any named root."""
    inside = np.zeros(model.nbody, bool)
    for root in roots:
        index = mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_BODY, root)
        if index < 0:
            raise ValueError(f"model has no body named {root!r}")
        inside[index] = True
    for body in range(1, model.nbody):  # parents precede children in MuJoCo's order
        inside[body] |= inside[model.body_parentid[body]]
    return inside


class ScenePalette:
    """The stock look of one model, and the colour slots each setting may shift.

    A colour slot is a material (when geoms take their colour from it) or a geom's own
    rgba; slots are grouped as surfaces (table, floor) and everything else.
    """

    def __init__(self, model: mujoco.MjModel, task: TaskSpec):
        surface = subtree_bodies(model, task.surface_bodies)[model.geom_bodyid]
        for name in task.surface_geoms:
            surface[mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_GEOM, name)] = True
        shown = mujoco.MjvOption().geomgroup[np.clip(model.geom_group, 0, 5)] != 0
        self.surface_geoms = np.flatnonzero(surface & shown)
        self.stock_geom_rgba = model.geom_rgba.copy()
        self.stock_mat_rgba = model.mat_rgba.copy()
        self.stock_geom_group = model.geom_group.copy()
        self.stock_light_pos = model.light_pos.copy()
        self.stock_light_dir = model.light_dir.copy()
        self.centre = model.stat.center.copy()
        slots: dict[tuple[str, int], bool] = {}  # (array, index) -> is surface
        for geom in range(model.ngeom):
            material = model.geom_matid[geom]
            uses_material = material >= 0 and np.array_equal(model.geom_rgba[geom], _STOCK_GEOM_RGBA)
            key = ("mat_rgba", int(material)) if uses_material else ("geom_rgba", geom)
            slots[key] = slots.get(key, False) or bool(surface[geom])
        self.slots = sorted(slots)
        self.slot_is_surface = np.array([slots[key] for key in self.slots])

    def stock_rgb(self, slot: int) -> np.ndarray:
        array, index = self.slots[slot]
        stock = self.stock_mat_rgba if array == "mat_rgba" else self.stock_geom_rgba
        return stock[index, :3]


@dataclass(frozen=True)
class Appearance:
    """One episode of one setting; `apply` and `background` give each step's look."""

    setting: VisualSetting
    slot_rgb: np.ndarray | None  # (n_slots, 3) in [0, 1], or None for stock colours
    background_rgb: np.ndarray | None  # (3,) uint8 flat background colour
    clip: Clip | None
    light_phase: float

    @property
    def composites_background(self) -> bool:
        return self.background_rgb is not None or self.clip is not None

    def apply(self, model: mujoco.MjModel, palette: ScenePalette, option: mujoco.MjvOption, step: int) -> None:
        """Write this look into the visual fields of `model` (all of them, every time)."""
        model.geom_rgba[:] = palette.stock_geom_rgba
        model.mat_rgba[:] = palette.stock_mat_rgba
        if self.slot_rgb is not None:
            for slot, (array, index) in enumerate(palette.slots):
                getattr(model, array)[index, :3] = self.slot_rgb[slot]
        model.geom_group[:] = palette.stock_geom_group
        model.geom_group[palette.surface_geoms] = HIDDEN_GROUP
        option.geomgroup[HIDDEN_GROUP] = not self.setting.video_surfaces
        angle = self._light_angle(step)
        rotation = np.array(
            [[math.cos(angle), -math.sin(angle), 0.0], [math.sin(angle), math.cos(angle), 0.0], [0.0, 0.0, 1.0]]
        )
        model.light_pos[:] = (palette.stock_light_pos - palette.centre) @ rotation.T + palette.centre
        model.light_dir[:] = palette.stock_light_dir @ rotation.T

    def background(self, step: int, size: int) -> np.ndarray:
        """(size, size, 3) uint8 image that replaces background pixels."""
        if self.clip is not None:
            return self.clip.frame(step)
        return np.broadcast_to(self.background_rgb, (size, size, 3))

    def _light_angle(self, step: int) -> float:
        if self.setting.light_swing == 0:
            return 0.0
        return self.setting.light_swing * math.sin(2 * math.pi * step / self.setting.light_period + self.light_phase)


def sample_appearance(
    task: TaskSpec,
    setting: VisualSetting,
    episode_seed: int,
    palette: ScenePalette,
    videos: VideoSource,
    size: int,
) -> Appearance:
    """A pure function of (task, setting, episode seed): the same inputs, the same look."""
    rng = np.random.default_rng([zlib.crc32(task.name.encode()), SETTING_NAMES.index(setting.name), episode_seed])
    slot_rgb = background_rgb = None
    if setting.color_std > 0:
        stock = np.stack([palette.stock_rgb(slot) for slot in range(len(palette.slots))])
        slot_rgb = _reflect_into_unit(stock + rng.normal(0.0, setting.color_std, stock.shape))
        background_rgb = np.round(rng.uniform(0.0, 4 * setting.color_std, 3) * 255).astype(np.uint8)
    clip = videos.sample_clip(rng, size) if setting.video_background else None
    return Appearance(
        setting=setting,
        slot_rgb=slot_rgb,
        background_rgb=background_rgb,
        clip=clip,
        light_phase=float(rng.uniform(0, 2 * math.pi)),
    )


def _reflect_into_unit(values: np.ndarray) -> np.ndarray:
    """Fold values back into [0, 1] at the borders, so a shift of white still shifts it."""
    values = np.abs(values) % 2.0
    return np.where(values > 1.0, 2.0 - values, values)
