"""An off-screen MuJoCo renderer tuned for small frames: colour, depth and segmentation."""

import mujoco
import numpy as np

from samg.envs.gl import gl_context_class

_SEGMENT_FLAGS = (mujoco.mjtRndFlag.mjRND_SEGMENT, mujoco.mjtRndFlag.mjRND_IDCOLOR)


BENCHMARK_SHADOW_MAP_SIZE = 4096  # RL-ViGen's DAPG assets


def tune_for_offscreen(model: mujoco.MjModel, size: int, shadow_size: int) -> None:
    """Set before the first render: defaults (big buffer, 8x MSAA, 4096 shadows) are 15x slower."""
    model.vis.global_.offwidth = size
    model.vis.global_.offheight = size
    model.vis.quality.offsamples = 0
    model.vis.quality.shadowsize = shadow_size


class SceneRenderer:
    """One GL context and MuJoCo scene: renders `model` from one fixed camera at size x size.

    Frames come back in image order (row 0 at the top), or with `bottom_up` in OpenGL's
    row order (row 0 at the bottom), as mujoco-py returned them. `shadow_size` 0 turns
    shadows off. Background pixels, where no geometry is drawn, have depth exactly 0 (the
    far plane), which is what compositing uses.
    """

    def __init__(
        self, model: mujoco.MjModel, size: int, camera: str | int, shadow_size: int = 0, bottom_up: bool = False
    ):
        context_class = gl_context_class()
        tune_for_offscreen(model, size, shadow_size)
        self.model, self.size = model, size
        self._rows = slice(None) if bottom_up else slice(None, None, -1)
        self._gl = context_class(size, size)
        self._gl.make_current()
        self._context = mujoco.MjrContext(model, mujoco.mjtFontScale.mjFONTSCALE_50)
        mujoco.mjr_setBuffer(mujoco.mjtFramebuffer.mjFB_OFFSCREEN, self._context)
        self._context.readDepthMap = mujoco.mjtDepthMap.mjDEPTH_ZEROFAR
        self.scene = mujoco.MjvScene(model, maxgeom=2 * model.ngeom + 100)
        self.scene.flags[mujoco.mjtRndFlag.mjRND_SHADOW] = shadow_size > 0
        self.option = mujoco.MjvOption()
        self.camera = mujoco.MjvCamera()
        self.camera.type = mujoco.mjtCamera.mjCAMERA_FIXED
        self.camera.fixedcamid = _camera_id(model, camera)
        self._rect = mujoco.MjrRect(0, 0, size, size)
        self._rgb = np.empty((size, size, 3), np.uint8)
        self._depth = np.empty((size, size), np.float32)

    def render(self, data: mujoco.MjData, with_depth: bool = False) -> tuple[np.ndarray, np.ndarray | None]:
        """RGB (and, from the same pass, depth) of the current poses in `data`."""
        self._draw(data)
        mujoco.mjr_readPixels(self._rgb, self._depth if with_depth else None, self._rect, self._context)
        rgb = self._rgb[self._rows].copy()
        return rgb, (self._depth[self._rows].copy() if with_depth else None)

    def render_geom_ids(self, data: mujoco.MjData) -> np.ndarray:
        """Per pixel, the id of the model geom drawn there, or -1 (background, non-geoms)."""
        for flag in _SEGMENT_FLAGS:
            self.scene.flags[flag] = True
        try:
            self._draw(data)
            mujoco.mjr_readPixels(self._rgb, None, self._rect, self._context)
        finally:
            for flag in _SEGMENT_FLAGS:
                self.scene.flags[flag] = False
        colour = self._rgb[self._rows].astype(np.int64)
        segment = colour[..., 0] + (colour[..., 1] << 8) + (colour[..., 2] << 16)
        lookup = np.full(self.scene.ngeom + 2, -1, np.int64)  # segment 0 is the background
        for scene_geom in self.scene.geoms[: self.scene.ngeom]:
            if scene_geom.segid >= 0 and scene_geom.objtype == mujoco.mjtObj.mjOBJ_GEOM:
                lookup[scene_geom.segid + 1] = scene_geom.objid
        return lookup[np.minimum(segment, len(lookup) - 1)]

    def upload_texture(self, texture: int) -> None:
        """Send a texture whose bytes changed in the model to the GL context."""
        self._gl.make_current()
        mujoco.mjr_uploadTexture(self.model, self._context, texture)

    def _draw(self, data: mujoco.MjData) -> None:
        self._gl.make_current()
        mujoco.mjv_updateScene(
            self.model, data, self.option, None, self.camera, mujoco.mjtCatBit.mjCAT_ALL, self.scene
        )
        mujoco.mjr_render(self._rect, self.scene, self._context)

    def close(self) -> None:
        if self._gl is not None:
            self._gl.make_current()
            self._context.free()
            self._gl.free()
            self._gl = None

    def __enter__(self) -> "SceneRenderer":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _camera_id(model: mujoco.MjModel, camera: str | int) -> int:
    if isinstance(camera, int):
        if not 0 <= camera < model.ncam:
            raise ValueError(f"camera index {camera} out of range: the model has {model.ncam}")
        return camera
    index = mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_CAMERA, camera)
    if index < 0:
        raise ValueError(f"model has no camera named {camera!r}")
    return index
