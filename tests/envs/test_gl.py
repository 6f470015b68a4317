import ctypes.util
import subprocess
import sys
import textwrap

import pytest

from samg.envs import gl
from samg.errors import RenderBackendError


def test_training_imports_after_rendering_do_not_crash():
    """Mesa's EGL + triton's LLVM: importing triton after a GL context used to segfault."""
    script = textwrap.dedent(
        """
        import numpy as np
        from samg.envs import FrameRenderer, make_env
        env = make_env("door")
        step = env.reset(seed=0)
        renderer = FrameRenderer(env.task, env.model)
        before = renderer.render(step.sim_state, "train", 0, 0)
        import torch._dynamo  # imports triton, as Lightning and torchvision.ops do
        import pytorch_lightning
        after = renderer.render(step.sim_state, "train", 0, 0)
        assert np.array_equal(before, after)
        renderer.close()
        print("ok")
        """
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().endswith("ok")


def test_missing_egl_names_the_apt_packages(monkeypatch):
    monkeypatch.setenv("MUJOCO_GL", "egl")
    monkeypatch.setattr(ctypes.util, "find_library", lambda name: None)
    with pytest.raises(RenderBackendError) as error:
        gl.gl_context_class()
    assert "apt-get install libegl1 libegl-mesa0 libgl1-mesa-dri" in str(error.value)


def test_unsupported_backend_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("MUJOCO_GL", "vulkan")
    with pytest.raises(RenderBackendError, match="MUJOCO_GL='vulkan' is not supported"):
        gl.gl_context_class()
