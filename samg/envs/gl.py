"""Off-screen OpenGL set-up of the process, before anything imports mujoco.

Two measured facts drive this module (SPEC section 2):
- mujoco picks its GL backend from MUJOCO_GL when it is first imported, so the variable
  must be set before `import mujoco` (we default to EGL, the headless backend).
- Mesa's EGL loads its own LLVM; importing `triton` (torch._dynamo, Lightning,
  torchvision.ops) after a GL context exists segfaults the process. Importing triton
  first is safe, so it is imported here, before the first context.

`samg.envs` calls `prepare_gl_process()` when it is imported (dm_control reads MUJOCO_GL
at its import), and every renderer calls it again before creating its context.
"""

import ctypes.util
import importlib.util
import os

from samg.errors import RenderBackendError

EGL_APT_PACKAGES = "libegl1 libegl-mesa0 libgl1-mesa-dri"


def prepare_gl_process() -> None:
    """Choose the GL backend and import triton before any GL context can exist."""
    os.environ.setdefault("MUJOCO_GL", "egl")
    if os.environ["MUJOCO_GL"].lower() == "egl":
        os.environ.setdefault("PYOPENGL_PLATFORM", "egl")
    if importlib.util.find_spec("triton") is not None:
        import triton  # noqa: F401  (must precede the first GL context, see module doc)


def gl_context_class() -> type:
    """The GL context class of the chosen backend, whatever mujoco picked at its import.

    Raises a one-line, fixable error when off-screen rendering cannot work.
    """
    prepare_gl_process()
    backend = os.environ["MUJOCO_GL"].lower()
    if backend == "egl":
        if ctypes.util.find_library("EGL") is None:
            raise RenderBackendError(
                f"EGL library (libEGL.so.1) not found: install it with "
                f"'apt-get install {EGL_APT_PACKAGES}'"
            )
        from mujoco.egl import GLContext
    elif backend == "osmesa":
        from mujoco.osmesa import GLContext
    elif backend in ("glfw", "glx"):
        from mujoco.glfw import GLContext
    else:
        raise RenderBackendError(f"MUJOCO_GL={backend!r} is not supported: use egl, osmesa or glfw")
    return GLContext
