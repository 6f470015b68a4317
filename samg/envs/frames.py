"""Frames of a task from simulator states: any visual setting, and the ground-truth mask.

The renderer keeps its own model (the benchmark's camera and textures, see
`render_model.py`) and its own MjData, so rendering never touches the simulation that
produced the state, and a stored state renders to the same bytes as the live one. Each
pixel is a pure function of (task, setting, episode seed, step, simulator state).
"""

import mujoco
import numpy as np

from samg.benchmark.assets import BenchmarkAssets, benchmark_assets
from samg.envs.appearance import Appearance, SceneSlots, files_of, sample_appearance, subtree_bodies
from samg.envs.dmc_textures import STOCK_GRID, STOCK_SKY, built_textures, write_texture
from samg.envs.render_model import build_render_model
from samg.envs.scene import SceneRenderer
from samg.envs.settings import get_setting
from samg.envs.sim_state import SimStateLayout
from samg.envs.tasks import DmcScene, TaskSpec

class FrameRenderer:
    def __init__(
        self,
        task: TaskSpec,
        model: mujoco.MjModel,
        image_size: int | None = None,
        assets: BenchmarkAssets | None = None,
        shadow_size: int | None = None,
    ):
        self.task = task
        self.image_size = image_size or task.image_size
        self.assets = assets or benchmark_assets()
        self.model = build_render_model(task, model, self.assets)
        self.data = mujoco.MjData(self.model)
        self.layout = SimStateLayout(self.model, task.randomised_fields)
        self.slots = SceneSlots(self.model, task)
        self._object_of_geom = _object_ids_of_geoms(self.model, task)
        self.shadow_size = task.scene.shadow_size if shadow_size is None else shadow_size
        self._scene = SceneRenderer(
            self.model, self.image_size, task.camera, self.shadow_size, task.scene.bottom_up_rows
        )
        self._appearances: dict[tuple[str, int], Appearance] = {}
        self._dmc_colours = (STOCK_SKY[0], *STOCK_GRID)

    def benchmark_record(self) -> dict:
        """The benchmark name, the hashes of the files this task draws from, what was missing."""
        return self.assets.record(files_of(self.task))

    def set_state(self, sim_state: np.ndarray) -> None:
        self.layout.write(sim_state, self.model, self.data)
        mujoco.mj_forward(self.model, self.data)

    def render(self, sim_state: np.ndarray, setting: str, episode_seed: int, step: int) -> np.ndarray:
        self.set_state(sim_state)
        return self.render_current(setting, episode_seed, step)

    def render_settings(
        self, sim_state: np.ndarray, settings: tuple[str, ...], episode_seed: int, step: int
    ) -> dict[str, np.ndarray]:
        """The same state in several settings (the state is set and posed once)."""
        self.set_state(sim_state)
        return {name: self.render_current(name, episode_seed, step) for name in settings}

    def render_current(self, setting: str, episode_seed: int, step: int) -> np.ndarray:
        """Render the state last given to `set_state`."""
        appearance = self.appearance(setting, episode_seed)
        appearance.apply(self.model, self.slots, step)
        if isinstance(self.task.scene, DmcScene):
            self._set_dmc_textures(appearance)
        mujoco.mj_camlight(self.model, self.data)  # light poses follow the light just moved
        self._scene.scene.flags[mujoco.mjtRndFlag.mjRND_SKYBOX] = not appearance.composites_background
        rgb, depth = self._scene.render(self.data, with_depth=appearance.composites_background)
        if depth is not None:
            background = depth == 0.0
            rgb[background] = appearance.background(step, self.image_size)[background]
        return rgb

    def _set_dmc_textures(self, appearance: Appearance) -> None:
        colours = (
            (tuple(appearance.sky_rgb), *(tuple(c) for c in appearance.grid_rgb))
            if appearance.sky_rgb is not None
            else (STOCK_SKY[0], *STOCK_GRID)
        )
        if colours == self._dmc_colours:
            return
        sky, grid = built_textures(*colours)
        for texture, data in ((self.slots.sky_texture, sky), (self.slots.floor_texture, grid)):
            write_texture(self.model, texture, data)
            self._scene.upload_texture(texture)
        self._dmc_colours = colours

    def object_mask(self, sim_state: np.ndarray | None = None, setting: str = "train", step: int = 0) -> np.ndarray:
        """(H, W) uint8: 0 background, k for the task's k-th object.

        It is the mask of what `setting` shows; settings change appearance only, so it is
        the same in all of them (tested) and collection computes it once, in `train`.
        """
        if sim_state is not None:
            self.set_state(sim_state)
        return self._object_of_geom[self.geom_ids(setting, 0, step)]

    def geom_ids(self, setting: str, episode_seed: int, step: int) -> np.ndarray:
        """(H, W) int: the model geom drawn at each pixel of the posed state, -1 for none."""
        self.appearance(setting, episode_seed).apply(self.model, self.slots, step)
        mujoco.mj_camlight(self.model, self.data)
        return self._scene.render_geom_ids(self.data)

    def appearance(self, setting: str, episode_seed: int) -> Appearance:
        key = (setting, int(episode_seed))
        if key not in self._appearances:
            if len(self._appearances) > 64:
                self._appearances.clear()
            self._appearances[key] = sample_appearance(
                self.task, get_setting(setting), int(episode_seed), self.assets, self.image_size
            )
        return self._appearances[key]

    def close(self) -> None:
        self._scene.close()

    def __enter__(self) -> "FrameRenderer":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _object_ids_of_geoms(model: mujoco.MjModel, task: TaskSpec) -> np.ndarray:
    """Lookup from geom id to mask value; its last entry (index -1) is the background."""
    object_of_body = np.zeros(model.nbody, np.uint8)
    for object_id, scene_object in enumerate(task.objects, start=1):
        inside = subtree_bodies(model, scene_object.bodies)
        object_of_body[inside & (object_of_body == 0)] = object_id
    return np.append(object_of_body[model.geom_bodyid], np.uint8(0))
