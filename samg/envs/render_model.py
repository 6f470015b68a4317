"""The model a renderer draws: the task's own model plus what the benchmark needs.

Adroit: gymnasium-robotics' XML recompiled with RL-ViGen's camera for the task and its 20
table textures (`table_easy0-9`, `table_hard0-9`), so a setting switches the table's
texture by id. DMC: the physics model as it is (its sky and floor textures are rebuilt
per episode, see `appearance.py`). Bodies, geoms and joints are those of the physics
model, so a stored simulator state poses it exactly.
"""

import copy
from pathlib import Path

import mujoco

from samg.benchmark.assets import BenchmarkAssets
from samg.benchmark.manifest import TABLE_TEXTURES
from samg.envs.tasks import AdroitScene, TaskSpec


def adroit_xml_path(scene: AdroitScene) -> Path:
    import gymnasium_robotics

    return Path(gymnasium_robotics.__file__).parent / "envs" / "assets" / "adroit_hand" / scene.model_xml


def table_texture_name(level: str, index: int) -> str:
    return f"table_{level}{index}"


def build_render_model(task: TaskSpec, physics_model: mujoco.MjModel, assets: BenchmarkAssets) -> mujoco.MjModel:
    if not isinstance(task.scene, AdroitScene):
        return copy.copy(physics_model)
    scene = task.scene
    spec = mujoco.MjSpec.from_file(str(adroit_xml_path(scene)))
    camera = next((c for c in spec.cameras if c.name == scene.camera.name), None)
    if camera is None:
        camera = spec.worldbody.add_camera(name=scene.camera.name)
    camera.pos = scene.camera.pos
    camera.quat = scene.camera.quat
    for level, files in TABLE_TEXTURES.items():
        for index in range(len(files)):
            spec.add_texture(
                name=table_texture_name(level, index),
                type=mujoco.mjtTexture.mjTEXTURE_CUBE,
                file=str(assets.path(assets.pick(files, index)).resolve()),
            )
    model = spec.compile()
    _check_same_bodies(task, model, physics_model)
    return model


def _check_same_bodies(task: TaskSpec, render: mujoco.MjModel, physics: mujoco.MjModel) -> None:
    same = (render.nq, render.nv, render.na, render.nbody, render.ngeom) == (
        physics.nq,
        physics.nv,
        physics.na,
        physics.nbody,
        physics.ngeom,
    )
    if not same:
        raise RuntimeError(f"{task.name}: the render model's bodies differ from the simulated model's")
