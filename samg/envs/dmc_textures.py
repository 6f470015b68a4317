"""DMC-GB recolours dm_control's procedural sky gradient and floor checker; we rebuild
those two textures with MuJoCo's own texture builder (a tiny model holding just them)
and copy the bytes into the render model.

The definitions are dm_control's `suite/common/skybox.xml` and `materials.xml`; a test
checks that the stock colours rebuild the physics model's textures byte for byte.
"""

import functools

import mujoco
import numpy as np

STOCK_SKY = ((0.4, 0.6, 0.8), (0.0, 0.0, 0.0))
STOCK_GRID = ((0.1, 0.2, 0.3), (0.2, 0.3, 0.4))


@functools.lru_cache(maxsize=32)
def built_textures(sky_top: tuple[float, ...], grid1: tuple[float, ...], grid2: tuple[float, ...]) -> tuple[np.ndarray, np.ndarray]:
    """(sky, grid) texture bytes for these colours, each as MuJoCo lays out `tex_data`."""
    spec = mujoco.MjSpec()
    spec.add_texture(
        name="skybox",
        type=mujoco.mjtTexture.mjTEXTURE_SKYBOX,
        builtin=mujoco.mjtBuiltin.mjBUILTIN_GRADIENT,
        rgb1=list(sky_top),
        rgb2=list(STOCK_SKY[1]),
        width=800,
        height=800,
        mark=mujoco.mjtMark.mjMARK_RANDOM,
        markrgb=[1.0, 1.0, 1.0],
    )
    spec.add_texture(
        name="grid",
        type=mujoco.mjtTexture.mjTEXTURE_2D,
        builtin=mujoco.mjtBuiltin.mjBUILTIN_CHECKER,
        rgb1=list(grid1),
        rgb2=list(grid2),
        width=300,
        height=300,
        mark=mujoco.mjtMark.mjMARK_EDGE,
        markrgb=list(STOCK_GRID[1]),
    )
    model = spec.compile()
    return _texture_bytes(model, 0), _texture_bytes(model, 1)


def _texture_bytes(model: mujoco.MjModel, texture: int) -> np.ndarray:
    size = model.tex_height[texture] * model.tex_width[texture] * model.tex_nchannel[texture]
    start = model.tex_adr[texture]
    return model.tex_data[start : start + size].copy()


def write_texture(model: mujoco.MjModel, texture: int, data: np.ndarray) -> None:
    start = model.tex_adr[texture]
    if model.tex_height[texture] * model.tex_width[texture] * model.tex_nchannel[texture] != data.size:
        raise RuntimeError("the model's texture has another size than dm_control's definition")
    model.tex_data[start : start + data.size] = data
