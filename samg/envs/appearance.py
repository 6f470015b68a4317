"""How one episode of a visual setting looks, as the paper's benchmarks define it.

Adroit (RL-ViGen `DHM/dhm/make_env_RRL.py`, `modify_mjcf.py`; read from the code, see
../shared/benchmark/README.md): every shifted setting writes one colour preset's `self`
colour as the rgba of the hand's visual geoms and the task's objects (tinting their
textures), gives the table one of the level's 10 textures and deletes the floor; behind
the scene, a preset's flat `skybox` colour (colour settings) or the level's clip (video
settings). The video settings also move the light along y in a triangle wave.

DMC (DMC-GB `src/env/wrappers.py`): colour settings write a preset's `self` colour on the
agent's material, its `grid_rgb1/2` on the floor checker and its `skybox_rgb` as the top
colour of the sky gradient; `video_easy` replaces the sky with a clip, `video_hard` the
sky and the floor.

`sample_appearance` is a pure function of (task, setting, episode seed); everything here
writes visual model fields only, never anything physics reads.
"""

import zlib
from dataclasses import dataclass, field

import mujoco
import numpy as np

from samg.benchmark.assets import BenchmarkAssets
from samg.benchmark.manifest import ADROIT_CLIPS, COLOR_PRESETS, DMC_CLIPS, TABLE_TEXTURES
from samg.envs.render_model import table_texture_name
from samg.envs.settings import SETTING_NAMES, VisualSetting
from samg.envs.tasks import AdroitScene, DmcScene, TaskSpec

HIDDEN_GROUP = 5  # geoms a setting deletes move here; the renderer never shows it
# RL-ViGen's moving light: y step per env step and the turning distance, per level.
MOVING_LIGHT = {"easy": (0.04, 1.2), "hard": (0.12, 3.0)}


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


def light_offset(level: str, step: int) -> float:
    """RL-ViGen's light walk: +step each env step, turning once |offset| reaches the range.

    Exact in integers: the offset is k steps with k a triangle wave of period 4n.
    """
    size, distance = MOVING_LIGHT[level]
    n = round(distance / size)
    phase = step % (4 * n)
    k = phase if phase <= n else (2 * n - phase if phase <= 3 * n else phase - 4 * n)
    return k * size


def _geom_id(model: mujoco.MjModel, name: str) -> int:
    index = mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_GEOM, name)
    if index < 0:
        raise ValueError(f"model has no geom named {name!r}")
    return index


class SceneSlots:
    """The model entries a setting writes, and their stock values (restored every frame)."""

    def __init__(self, model: mujoco.MjModel, task: TaskSpec):
        self.scene = task.scene
        self.stock_geom_rgba = model.geom_rgba.copy()
        self.stock_mat_rgba = model.mat_rgba.copy()
        self.stock_mat_texid = model.mat_texid.copy()
        self.stock_geom_group = model.geom_group.copy()
        self.stock_light_pos = model.light_pos.copy()
        self.floor_geom = _geom_id(model, self.scene.floor_geom)
        if isinstance(self.scene, AdroitScene):
            shown = model.geom_group <= 2
            inside = subtree_bodies(model, self.scene.recoloured_bodies)[model.geom_bodyid]
            for name in self.scene.recoloured_geoms:
                inside[_geom_id(model, name)] = True
            self.recoloured_geoms = np.flatnonzero(inside & shown)
            self.table_material = mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_MATERIAL, self.scene.table_material)
            self.table_textures = {
                level: [
                    mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_TEXTURE, table_texture_name(level, i))
                    for i in range(len(files))
                ]
                for level, files in TABLE_TEXTURES.items()
            }
        else:
            self.agent_material = mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_MATERIAL, self.scene.agent_material)
            self.floor_texture = mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_TEXTURE, self.scene.floor_texture)
            self.sky_texture = mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_TEXTURE, self.scene.sky_texture)


@dataclass(frozen=True)
class Appearance:
    """One episode of one setting; `apply` and `background` give each step's look."""

    setting: VisualSetting
    object_rgb: np.ndarray | None = None  # preset `self` colour in [0, 1]
    table_texture: int | None = None  # index into the level's table textures (Adroit)
    background_rgb: np.ndarray | None = None  # (3,) uint8 flat background (Adroit colour)
    sky_rgb: np.ndarray | None = None  # DMC colour: the top colour of the sky gradient
    grid_rgb: tuple[np.ndarray, np.ndarray] | None = None  # DMC colour: the floor checker
    clip: np.ndarray | None = None  # (N, H, W, 3) uint8 frames behind the scene
    hide_floor: bool = False
    files: tuple[str, ...] = field(default=())  # benchmark files this episode drew from

    @property
    def composites_background(self) -> bool:
        return self.background_rgb is not None or self.clip is not None

    def background(self, step: int, size: int) -> np.ndarray:
        """(size, size, 3) uint8 image that replaces background pixels."""
        if self.clip is not None:
            return self.clip[step % len(self.clip)]
        return np.broadcast_to(self.background_rgb, (size, size, 3))

    def apply(self, model: mujoco.MjModel, slots: SceneSlots, step: int) -> None:
        """Write this look into the visual fields of `model` (all of them, every time)."""
        model.geom_rgba[:] = slots.stock_geom_rgba
        model.mat_rgba[:] = slots.stock_mat_rgba
        model.mat_texid[:] = slots.stock_mat_texid
        model.geom_group[:] = slots.stock_geom_group
        model.light_pos[:] = slots.stock_light_pos
        if self.hide_floor:
            model.geom_group[slots.floor_geom] = HIDDEN_GROUP
        if isinstance(slots.scene, AdroitScene):
            if self.object_rgb is not None:
                model.geom_rgba[slots.recoloured_geoms] = [*self.object_rgb, 1.0]
            if self.table_texture is not None:
                texture = slots.table_textures[self.setting.level][self.table_texture]
                model.mat_texid[slots.table_material, mujoco.mjtTextureRole.mjTEXROLE_RGB] = texture
            if self.setting.video:
                model.light_pos[:, 1] += light_offset(self.setting.level, step)
        elif self.object_rgb is not None:
            model.mat_rgba[slots.agent_material, :3] = self.object_rgb


def _rng(task: TaskSpec, setting: VisualSetting, episode_seed: int) -> np.random.Generator:
    return np.random.default_rng([zlib.crc32(task.name.encode()), SETTING_NAMES.index(setting.name), episode_seed])


def sample_appearance(
    task: TaskSpec, setting: VisualSetting, episode_seed: int, assets: BenchmarkAssets, size: int
) -> Appearance:
    """A pure function of (task, setting, episode seed): the same inputs, the same look."""
    if not setting.shifted:
        return Appearance(setting)
    rng = _rng(task, setting, episode_seed)
    if isinstance(task.scene, DmcScene):
        return _dmc_appearance(setting, rng, assets, size)
    presets_file = COLOR_PRESETS[setting.level]
    presets = assets.presets(presets_file)
    files = [presets_file]
    object_rgb = presets[int(rng.integers(len(presets)))]["self_rgb"]
    table_files = TABLE_TEXTURES[setting.level]
    table = int(rng.integers(len(table_files)))
    files.append(assets.pick(table_files, table))
    background_rgb = clip = None
    if setting.video:
        name = assets.pick(ADROIT_CLIPS[setting.level], int(rng.integers(len(ADROIT_CLIPS[setting.level]))))
        clip, files = assets.clip(name, size), [*files, name]
    else:  # RL-ViGen writes `skybox_rgb * 255` into a uint8 texture: truncation
        background_rgb = (presets[int(rng.integers(len(presets)))]["skybox_rgb"] * 255).astype(np.uint8)
    return Appearance(
        setting,
        object_rgb=object_rgb,
        table_texture=table,
        background_rgb=background_rgb,
        clip=clip,
        hide_floor=True,
        files=tuple(files),
    )


def _dmc_appearance(setting: VisualSetting, rng: np.random.Generator, assets: BenchmarkAssets, size: int) -> Appearance:
    if setting.video:
        pool = DMC_CLIPS[setting.level]
        name = assets.pick(pool, int(rng.integers(len(pool))))
        return Appearance(setting, clip=assets.clip(name, size), hide_floor=setting.level == "hard", files=(name,))
    presets_file = COLOR_PRESETS[setting.level]
    presets = assets.presets(presets_file)
    preset = presets[int(rng.integers(len(presets)))]
    return Appearance(
        setting,
        object_rgb=preset["self_rgb"],
        sky_rgb=preset["skybox_rgb"],
        grid_rgb=(preset["grid_rgb1"], preset["grid_rgb2"]),
        files=(presets_file,),
    )


def files_of(task: TaskSpec) -> tuple[str, ...]:
    """Every benchmark file the task's settings can draw from."""
    if isinstance(task.scene, DmcScene):
        return (*COLOR_PRESETS.values(), *DMC_CLIPS["easy"], *DMC_CLIPS["hard"])
    return (*COLOR_PRESETS.values(), *TABLE_TEXTURES["easy"], *TABLE_TEXTURES["hard"], *ADROIT_CLIPS["easy"], *ADROIT_CLIPS["hard"])
