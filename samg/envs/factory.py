"""`make_env`: the environment class of a task's family, from one registry.

The family modules import `samg.envs.base` (the shared `Step`); this module imports
them, so nothing imports back.
"""

from collections.abc import Callable

from samg.envs.adroit import AdroitEnv
from samg.envs.base import TaskEnv
from samg.envs.dmc import DmcEnv
from samg.envs.tasks import TaskSpec, get_task

ENV_FAMILIES: dict[str, Callable[[TaskSpec], TaskEnv]] = {"adroit": AdroitEnv, "dmc": DmcEnv}


def make_env(task: str | TaskSpec) -> TaskEnv:
    spec = get_task(task) if isinstance(task, str) else task
    return ENV_FAMILIES[spec.family](spec)
