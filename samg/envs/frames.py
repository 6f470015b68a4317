"""Frames of a task from simulator states: any visual setting, and the ground-truth mask.

The renderer keeps its own copy of the model and its own MjData, so rendering never
touches the simulation that produced the state, and a stored state renders to the same
bytes as the live one. Each pixel is a pure function of (task, setting, episode seed,
step, simulator state).
"""

import copy

import mujoco
import numpy as np

from samg.envs.appearance import Appearance, ScenePalette, sample_appearance, subtree_bodies
from samg.envs.scene import SceneRenderer
from samg.envs.settings import get_setting
from samg.envs.sim_state import SimStateLayout
from samg.envs.tasks import TaskSpec
from samg.envs.videos import NaturalImageClips, VideoSource


class FrameRenderer:
    def __init__(
        self,
        task: TaskSpec,
        model: mujoco.MjModel,
        image_size: int | None = None,
        videos: VideoSource | None = None,
    ):
        self.task = task
        self.image_size = image_size or task.image_size
        self.model = copy.copy(model)
        self.data = mujoco.MjData(self.model)
        self.layout = SimStateLayout(self.model, task.randomised_fields)
        self.palette = ScenePalette(self.model, task)
        self.videos = videos or NaturalImageClips()
        self._object_of_geom = _object_ids_of_geoms(self.model, task)
        self._scene = SceneRenderer(self.model, self.image_size, task.camera)
        self._appearances: dict[tuple[str, int], Appearance] = {}

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
        appearance.apply(self.model, self.palette, self._scene.option, step)
        mujoco.mj_camlight(self.model, self.data)  # light poses follow the light just moved
        self._scene.scene.flags[mujoco.mjtRndFlag.mjRND_SKYBOX] = not appearance.composites_background
        rgb, depth = self._scene.render(self.data, with_depth=appearance.composites_background)
        if depth is not None:
            background = depth == 0.0
            rgb[background] = appearance.background(step, self.image_size)[background]
        return rgb

    def object_mask(self, sim_state: np.ndarray | None = None, setting: str = "train", step: int = 0) -> np.ndarray:
        """(H, W) uint8: 0 background, k for the task's k-th object.

        It is the mask of what `setting` shows; settings change appearance only, so it is
        the same in all of them (tested) and collection computes it once, in `train`.
        """
        if sim_state is not None:
            self.set_state(sim_state)
        self.appearance(setting, 0).apply(self.model, self.palette, self._scene.option, step)
        geom_ids = self._scene.render_geom_ids(self.data)
        return self._object_of_geom[geom_ids]

    def appearance(self, setting: str, episode_seed: int) -> Appearance:
        key = (setting, int(episode_seed))
        if key not in self._appearances:
            if len(self._appearances) > 64:
                self._appearances.clear()
            self._appearances[key] = sample_appearance(
                self.task, get_setting(setting), int(episode_seed), self.palette, self.videos, self.image_size
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
