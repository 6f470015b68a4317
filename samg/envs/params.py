"""Readers that turn a task's randomised model entries into readable numbers: a coordinate
of a position, and the pen target's tilt, roll and pitch from its quaternion.

gymnasium-robotics' pen draws Euler angles (a, b, 0), a about x and b about y, each uniform
in [-1, 1] rad, and sets the target's `body_quat` from them. The target pen lies along its
body's z axis, so its axis in the world is R(q) e_z = (sin b, -sin a cos b, cos a cos b):
the angles come back from that axis alone (|b| <= 1 rad keeps cos b > 0), in degrees.
"""

import math
from functools import partial

import numpy as np


def _coordinate(values: np.ndarray, axis: int) -> float:
    return float(values[axis])


def coordinate(axis: int) -> partial:
    """Reader of coordinate `axis` (0 x, 1 y, 2 z) of a position, in metres."""
    return partial(_coordinate, axis=axis)


def target_axis(quat: np.ndarray) -> np.ndarray:
    """The direction of a body's z axis in the world: R(q) e_z for MuJoCo's (w, x, y, z)."""
    w, x, y, z = np.asarray(quat, np.float64) / np.linalg.norm(quat)
    return np.array([2 * (x * z + w * y), 2 * (y * z - w * x), 1 - 2 * (x * x + y * y)])


def tilt_deg(quat: np.ndarray) -> float:
    """How far the axis leans from upright: 0 upright, at most acos(cos 1 cos 1) = 73.0 deg."""
    return math.degrees(math.acos(float(np.clip(target_axis(quat)[2], -1.0, 1.0))))


def roll_deg(quat: np.ndarray) -> float:
    """The drawn angle about x (a): positive tips the pen's top towards -y."""
    axis = target_axis(quat)
    return math.degrees(math.atan2(-axis[1], axis[2]))


def pitch_deg(quat: np.ndarray) -> float:
    """The drawn angle about y (b): positive tips the pen's top towards +x."""
    return math.degrees(math.asin(float(np.clip(target_axis(quat)[0], -1.0, 1.0))))


PEN_MAX_TILT_DEG = math.degrees(math.acos(math.cos(1.0) ** 2))
