"""Environments, visual settings and rendering.

Importing this package prepares the process for off-screen rendering (see `gl.py`):
mujoco reads MUJOCO_GL when it is first imported, so that must happen here, first.
"""

from samg.envs.gl import prepare_gl_process

prepare_gl_process()

from samg.envs.base import Step, TaskEnv  # noqa: E402
from samg.envs.factory import make_env  # noqa: E402
from samg.envs.frames import FrameRenderer  # noqa: E402
from samg.envs.settings import SETTING_NAMES, SETTINGS, VisualSetting, get_setting, parse_settings  # noqa: E402
from samg.envs.tasks import ADROIT_TASKS, TASKS, TaskSpec, get_task  # noqa: E402

__all__ = [
    "ADROIT_TASKS",
    "SETTINGS",
    "SETTING_NAMES",
    "TASKS",
    "FrameRenderer",
    "Step",
    "TaskEnv",
    "TaskSpec",
    "VisualSetting",
    "get_setting",
    "get_task",
    "make_env",
    "parse_settings",
]
