"""The task registry: one place that says what every task is.

Adroit tasks come from gymnasium-robotics (v1), DMC tasks from dm_control. Everything else
(collection, masks, training) looks a task up here by name.
"""

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from samg.envs.params import PEN_MAX_TILT_DEG, coordinate, pitch_deg, roll_deg, tilt_deg
from samg.errors import UnknownNameError


@dataclass(frozen=True)
class SceneObject:
    """One foreground object of the ground-truth mask: the subtrees of `bodies`."""

    name: str
    bodies: tuple[str, ...]


@dataclass(frozen=True)
class ModelField:
    """A model entry that a reset randomises (e.g. the door's position).

    It is stored with the simulator state, because rendering a stored state needs it.
    """

    array: str  # attribute of mujoco.MjModel: "body_pos", "body_quat", "site_pos"
    obj_type: str  # "body" or "site"
    name: str

    @property
    def width(self) -> int:
        return 4 if self.array.endswith("quat") else 3


@dataclass(frozen=True)
class EpisodeParam:
    """A readable number that a reset draws (the nail board's height), read from one of the
    task's randomised model entries, with the range the environment draws it from."""

    name: str
    field: ModelField
    read: Callable[[np.ndarray], float]  # the field's values -> the number
    low: float
    high: float
    unit: str
    about: str

    def record(self) -> dict:
        """What evaluation records say about the parameter (eval_info.json's `episode_params`)."""
        return {"unit": self.unit, "range": [round(self.low, 6), round(self.high, 6)], "about": self.about}


@dataclass(frozen=True)
class CameraPose:
    """A fixed camera as the benchmark's XML defines it (added, or moved if the name exists)."""

    name: str
    pos: tuple[float, float, float]
    quat: tuple[float, float, float, float]  # MuJoCo (w, x, y, z)


# RL-ViGen's `top` camera is `euler="0 0 3.14"`: a turn of 3.14 rad about z, looking down.
_TOP_QUAT = (math.cos(3.14 / 2), 0.0, 0.0, math.sin(3.14 / 2))
_VIL_QUAT = (0.92388, 0.382683, 0.0, 0.0)


# RL-ViGen renders Adroit with 4096-pixel shadow maps; this size gives the same frames at
# the stored sizes for a fraction of the cost (bench/render.py, docs/benchmarks.md)
SHADOW_SIZE = 1024


@dataclass(frozen=True)
class AdroitScene:
    """What RL-ViGen's Adroit settings change in a task's scene (see samg.envs.appearance)."""

    model_xml: str  # gymnasium-robotics' file in envs/assets/adroit_hand/
    camera: CameraPose
    recoloured_bodies: tuple[str, ...]  # subtrees whose shown geoms take the preset colour
    recoloured_geoms: tuple[str, ...] = ()  # further single geoms that take it
    table_material: str = "tablecube"
    floor_geom: str = "ground"
    # mujoco-py returns frames bottom row first and RL-ViGen's observation path without an
    # encoder leaves its flip commented out: the paper's agents saw Adroit upside down
    bottom_up_rows: bool = True
    shadow_size: int = SHADOW_SIZE


@dataclass(frozen=True)
class DmcScene:
    """What DMC-GB's settings change: the agent's material, the floor checker, the sky."""

    agent_material: str = "self"
    floor_texture: str = "grid"
    sky_texture: str = "skybox"
    floor_geom: str = "floor"
    bottom_up_rows: bool = False  # dm_control's render returns image order
    shadow_size: int = 0


@dataclass(frozen=True)
class TaskSpec:
    name: str
    family: str  # "adroit" or "dmc": which environment class runs it
    env_id: str  # gymnasium id, or "domain/task" for dm_control
    episode_length: int
    camera: str | int  # camera name, or index (DMC-GB convention)
    image_sizes: tuple[int, ...]  # supported square sizes; the first is the default
    objects: tuple[SceneObject, ...]  # mask ids 1..K in this order; 0 is background
    scene: AdroitScene | DmcScene
    proprio_joints: tuple[str, ...] = ()  # joints whose qpos form the proprioception
    arm_joints: tuple[str, ...] = ()  # joints of the arm that carries the hand (not in RL-ViGen's proprioception)
    success_min_steps: int | None = None  # success if per-step success held on more steps
    randomised_fields: tuple[ModelField, ...] = ()
    episode_params: tuple[EpisodeParam, ...] = ()  # the first is the one to read first

    @property
    def image_size(self) -> int:
        return self.image_sizes[0]

    @property
    def proprio_dim(self) -> int:
        return len(self.proprio_joints)

    def episode_success(self, step_success: Sequence[bool]) -> bool:
        """RL-ViGen's rule: the task's success signal held on more than N steps."""
        if self.success_min_steps is None:
            return False
        return int(sum(bool(s) for s in step_success)) > self.success_min_steps

    def episode_param_values(self, sim_state: np.ndarray) -> dict[str, float]:
        """The episode's parameters from any of its simulator states (samg.envs.sim_state:
        the randomised model entries close the vector, in the task's order)."""
        at = len(sim_state) - sum(field.width for field in self.randomised_fields)
        values = {}
        for field in self.randomised_fields:
            values[field] = np.asarray(sim_state[at : at + field.width], np.float64)
            at += field.width
        return {param.name: float(param.read(values[param.field])) for param in self.episode_params}


ADROIT_HAND_JOINTS = (
    ("WRJ1", "WRJ0")
    + tuple(f"{finger}J{i}" for finger in ("FF", "MF", "RF") for i in (3, 2, 1, 0))
    + tuple(f"{finger}J{i}" for finger in ("LF", "TH") for i in (4, 3, 2, 1, 0))
)
_HAND = SceneObject("hand", ("forearm",))


def _adroit(
    name: str, env_id: str, objects, params, scene: AdroitScene, arm=(), success_min_steps=25, sizes=(84,)
) -> TaskSpec:
    """`params`: what the reset draws; their model entries are stored with the simulator state."""
    return TaskSpec(
        name=name,
        family="adroit",
        env_id=env_id,
        episode_length=200,
        camera=scene.camera.name,
        image_sizes=sizes,
        objects=(_HAND, *objects),
        scene=scene,
        proprio_joints=ADROIT_HAND_JOINTS,
        arm_joints=arm,
        success_min_steps=success_min_steps,
        randomised_fields=tuple(dict.fromkeys(param.field for param in params)),
        episode_params=params,
    )


def _position(field: ModelField, prefix: str, about: str, **ranges: tuple[float, float]) -> tuple:
    """Parameters for the coordinates of `field` that the reset draws, each uniform in its range."""
    return tuple(
        EpisodeParam(f"{prefix}_{axis}", field, coordinate("xyz".index(axis)), *range_, "m", f"{about} {axis}")
        for axis, range_ in ranges.items()
    )


# the ranges of gymnasium-robotics 1.4.2's reset_model (envs/adroit_hand/adroit_*.py); the
# positions are in the world frame (the bodies and the site hang from the world body); the
# pen's angles come from the goal's quaternion (samg.envs.params)
_DOOR = ModelField("body_pos", "body", "frame")
_BOARD = ModelField("body_pos", "body", "nail_board")
_PEN_TARGET = ModelField("body_quat", "body", "target")
_BALL = ModelField("body_pos", "body", "Object")
_BALL_TARGET = ModelField("site_pos", "site", "target")
_DOOR_PARAMS = _position(_DOOR, "door", "door frame's", x=(-0.3, -0.2), y=(0.25, 0.35), z=(0.252, 0.35))
_HAMMER_PARAMS = (EpisodeParam("board_height", _BOARD, coordinate(2), 0.1, 0.25, "m", "nail board's height (z)"),)
_RELOCATE_PARAMS = _position(_BALL, "ball", "ball's start", x=(-0.15, 0.15), y=(-0.15, 0.3)) + _position(
    _BALL_TARGET, "target", "ball's goal", x=(-0.2, 0.2), y=(-0.2, 0.2), z=(0.15, 0.35)
)
_PEN = "the goal pen's"
_ONE_RAD = math.degrees(1.0)
_PEN_PARAMS = (
    EpisodeParam("target_tilt", _PEN_TARGET, tilt_deg, 0.0, PEN_MAX_TILT_DEG, "deg", f"{_PEN} lean from upright"),
    EpisodeParam("target_roll", _PEN_TARGET, roll_deg, -_ONE_RAD, _ONE_RAD, "deg", f"{_PEN} angle about x"),
    EpisodeParam("target_pitch", _PEN_TARGET, pitch_deg, -_ONE_RAD, _ONE_RAD, "deg", f"{_PEN} angle about y"),
)


def _dmc(domain: str, task: str, roots: tuple[str, ...], floor: str, camera: int = 0) -> TaskSpec:
    return TaskSpec(
        name=f"{domain}_{task}",
        family="dmc",
        env_id=f"{domain}/{task}",
        episode_length=1000,
        camera=camera,
        image_sizes=(84,),
        objects=(SceneObject("agent", roots),),
        scene=DmcScene(floor_geom=floor),
    )


_ALL_TASKS = (
    _adroit(
        "door",
        "AdroitHandDoor-v1",
        (SceneObject("door", ("frame",)),),
        _DOOR_PARAMS,
        AdroitScene("adroit_door.xml", CameraPose("top", (0.0, 0.0, 1.5), _TOP_QUAT), ("forearm", "door")),
        arm=("ARTz", "ARRx", "ARRy", "ARRz"),
    ),
    _adroit(
        "hammer",
        "AdroitHandHammer-v1",
        (SceneObject("hammer", ("Object",)), SceneObject("nail_board", ("nail_board",))),
        _HAMMER_PARAMS,
        AdroitScene(
            "adroit_hammer.xml", CameraPose("top", (0.0, 0.0, 1.1), _TOP_QUAT), ("forearm", "Object", "nail_board")
        ),
        arm=("ARRx", "ARRy"),
    ),
    _adroit(
        "pen",
        "AdroitHandPen-v1",
        # the goal's green target pen too, as the official SAM-G prompts (without it the
        # masked frames hide which orientation the task asks for)
        (SceneObject("pen", ("Object",)), SceneObject("target", ("target",))),
        _PEN_PARAMS,
        AdroitScene(
            "adroit_pen.xml", CameraPose("vil_camera", (0.0, -0.8, 0.8), _VIL_QUAT), ("forearm",), ("pen", "target")
        ),
        success_min_steps=20,
        sizes=(84, 160),
    ),
    _adroit(
        "relocate",
        "AdroitHandRelocate-v1",
        (SceneObject("ball", ("Object",)),),
        _RELOCATE_PARAMS,
        AdroitScene("adroit_relocate.xml", CameraPose("vil_camera", (0.0, -1.2, 1.2), _VIL_QUAT), ("forearm", "Object")),
        arm=("ARTx", "ARTy", "ARTz", "ARRx", "ARRy", "ARRz"),
    ),
    _dmc("walker", "walk", ("torso",), "floor"),
    _dmc("walker", "stand", ("torso",), "floor"),
    _dmc("cartpole", "swingup", ("cart",), "floor"),
    _dmc("cartpole", "balance", ("cart",), "floor"),
    _dmc("cheetah", "run", ("torso",), "ground"),
    _dmc("hopper", "stand", ("torso",), "floor"),
    _dmc("finger", "spin", ("proximal", "spinner"), "ground"),
    _dmc("ball_in_cup", "catch", ("cup", "ball"), "ground"),
    _dmc("quadruped", "walk", ("torso",), "floor", camera=2),
)

TASKS: dict[str, TaskSpec] = {task.name: task for task in _ALL_TASKS}
ADROIT_TASKS = tuple(name for name, task in TASKS.items() if task.family == "adroit")


def get_task(name: str) -> TaskSpec:
    try:
        return TASKS[name]
    except KeyError:
        raise UnknownNameError("task", name, TASKS) from None
