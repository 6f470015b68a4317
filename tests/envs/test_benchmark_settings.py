"""The five settings as RL-ViGen (Adroit) and DMC-GB (DMC) define them."""

import mujoco
import numpy as np
import pytest

from samg.benchmark.assets import benchmark_assets
from samg.envs import SETTING_NAMES, FrameRenderer, make_env
from samg.envs.appearance import MOVING_LIGHT, light_offset, subtree_bodies

SHIFTED = [name for name in SETTING_NAMES if name != "train"]
ADROIT = ["door", "hammer", "pen"]


def _geoms_of_body(model: mujoco.MjModel, body: str) -> np.ndarray:
    return np.flatnonzero(subtree_bodies(model, (body,))[model.geom_bodyid])


@pytest.mark.parametrize("task", ADROIT)
@pytest.mark.parametrize("setting", SHIFTED)
def test_adroit_shifted_setting_recolours_retextures_and_replaces_the_floor(episode_starts, task, setting):
    start = episode_starts(task)
    renderer, state, seed = start.renderer, start.first.sim_state, start.seed
    train = renderer.render(state, "train", seed, 0).astype(int)
    shifted = renderer.render(state, setting, seed, 0).astype(int)
    change = np.abs(shifted - train).sum(-1)
    mask = renderer.object_mask(state)
    for object_id, scene_object in enumerate(start.env.task.objects, start=1):
        pixels = mask == object_id
        assert pixels.any(), scene_object.name
        # every object has recoloured geoms; door's red frame posts keep their own rgba
        assert (change[pixels] > 0).mean() > 0.3, (scene_object.name, (change[pixels] > 0).mean())

    train_geoms = renderer.geom_ids("train", seed, 0)
    shifted_geoms = renderer.geom_ids(setting, seed, 0)
    table = np.isin(train_geoms, _geoms_of_body(renderer.model, "table"))
    assert table.any() and (change[table] > 0).mean() > 0.9
    floor = renderer.slots.floor_geom
    assert (train_geoms == floor).any() or task == "hammer"  # hammer's top view shows only table
    assert not (shifted_geoms == floor).any()

    renderer.render(state, setting, seed, 0)
    _, depth = renderer._scene.render(renderer.data, with_depth=True)
    empty = depth == 0.0  # nothing drawn (sites are drawn but are not geoms, so no geom_ids here)
    assert empty.any() and not (empty & (shifted_geoms != -1)).any()
    appearance = renderer.appearance(setting, seed)
    expected = appearance.background(0, renderer.image_size)
    assert np.array_equal(shifted[empty], expected[empty].astype(int))
    if setting.startswith("video"):
        frames = appearance.clip
        assert frames.shape[1:] == (84, 84, 3) and len(frames) >= 100
        assert np.array_equal(renderer.render(state, setting, seed, 7)[empty], frames[7][empty])
    else:
        assert len(np.unique(shifted[empty], axis=0)) == 1


@pytest.mark.parametrize(
    ("task", "camera", "pos"),
    [("door", "top", (0, 0, 1.5)), ("hammer", "top", (0, 0, 1.1)), ("pen", "vil_camera", (0, -0.8, 0.8))],
)
def test_camera_pose_of_each_task(episode_starts, task, camera, pos):
    start = episode_starts(task)
    model, data = start.renderer.model, start.renderer.data
    start.renderer.set_state(start.first.sim_state)
    index = model.camera(camera).id
    assert start.env.task.camera == camera
    np.testing.assert_allclose(data.cam_xpos[index], pos, atol=1e-6)
    view = -data.cam_xmat[index].reshape(3, 3)[:, 2]  # cameras look along their -z
    if camera == "top":
        np.testing.assert_allclose(view, (0, 0, -1), atol=1e-6)
    else:  # vil_camera: 45 degrees down towards +y
        np.testing.assert_allclose(view, (0, np.sqrt(0.5), -np.sqrt(0.5)), atol=1e-4)


@pytest.mark.parametrize("task", ADROIT)
def test_ground_truth_masks_are_the_same_in_every_setting(episode_starts, task):
    start = episode_starts(task)
    reference = start.renderer.object_mask(start.first.sim_state)
    for setting in SHIFTED:
        for step in (0, 40):
            assert np.array_equal(start.renderer.object_mask(start.first.sim_state, setting, step), reference)


def test_light_walks_as_rl_vigen_moves_it():
    # RL-ViGen: each step, flip the direction once |offset| >= range, then add the step
    for level, (size, distance) in MOVING_LIGHT.items():
        offset, direction = 0.0, size
        for step in range(1, 400):
            if abs(offset) >= distance - 1e-9:
                direction = -direction
            offset += direction
            assert light_offset(level, step) == pytest.approx(offset, abs=1e-9), (level, step)


def test_video_settings_move_the_light_colour_settings_do_not(episode_starts):
    start = episode_starts("pen")
    renderer, state = start.renderer, start.first.sim_state
    for setting in ("video_easy", "video_hard"):
        renderer.render(state, setting, 3, 0)
        y0 = renderer.model.light_pos[0, 1]
        renderer.render(state, setting, 3, 20)
        step = MOVING_LIGHT["easy" if setting == "video_easy" else "hard"][0]
        assert renderer.model.light_pos[0, 1] - y0 == pytest.approx(20 * step)
    renderer.render(state, "color_hard", 3, 0)
    y0 = renderer.model.light_pos[0, 1]
    renderer.render(state, "color_hard", 3, 20)
    assert renderer.model.light_pos[0, 1] == y0


def test_episodes_draw_presets_textures_and_clips_from_their_seed(episode_starts):
    renderer = episode_starts("door").renderer
    looks = [renderer.appearance("video_hard", seed) for seed in range(12)]
    assert len({look.files for look in looks}) > 3
    assert len({tuple(look.object_rgb) for look in looks}) == 12
    again = FrameRenderer(renderer.task, renderer.model).appearance("video_hard", 5)
    assert again.files == looks[5].files and np.array_equal(again.object_rgb, looks[5].object_rgb)


def test_object_colour_is_a_preset_self_colour(episode_starts):
    renderer = episode_starts("hammer").renderer
    presets = benchmark_assets().presets("dmcgb/color_hard.pt")
    look = renderer.appearance("color_hard", 9)
    assert any(np.array_equal(look.object_rgb, p["self_rgb"]) for p in presets)
    skies = {tuple((p["skybox_rgb"] * 255).astype(np.uint8)) for p in presets}
    assert tuple(look.background_rgb) in skies


@pytest.fixture(scope="module")
def cartpole():
    env = make_env("cartpole_swingup")
    step = env.reset(seed=0)
    with FrameRenderer(env.task, env.model) as renderer:
        yield renderer, step.sim_state, env.model
    env.close()


def test_dmc_stock_textures_are_rebuilt_byte_for_byte(cartpole):
    from samg.envs.dmc_textures import STOCK_GRID, STOCK_SKY, built_textures

    renderer, _, physics_model = cartpole
    sky, grid = built_textures(STOCK_SKY[0], *STOCK_GRID)
    for texture, data in ((renderer.slots.sky_texture, sky), (renderer.slots.floor_texture, grid)):
        start = physics_model.tex_adr[texture]
        assert np.array_equal(physics_model.tex_data[start : start + data.size], data)


@pytest.mark.parametrize("setting", ["color_easy", "color_hard"])
def test_dmc_colour_settings_recolour_agent_floor_and_sky(cartpole, setting):
    renderer, state, _ = cartpole
    train = renderer.render(state, "train", 4, 0).astype(int)
    shifted = renderer.render(state, setting, 4, 0).astype(int)
    agent = renderer.object_mask(state) == 1
    geoms = renderer.geom_ids(setting, 4, 0)
    floor = geoms == renderer.slots.floor_geom
    sky = geoms == -1
    for region in (agent, floor, sky):
        assert region.any() and (np.abs(shifted - train).sum(-1)[region] > 0).mean() > 0.8
    look = renderer.appearance(setting, 4)
    material = renderer.slots.agent_material
    np.testing.assert_allclose(renderer.model.mat_rgba[material, :3], look.object_rgb, atol=1e-6)


def test_dmc_video_easy_replaces_the_sky_and_video_hard_also_the_floor(cartpole):
    renderer, state, _ = cartpole
    for setting, floor_kept in (("video_easy", True), ("video_hard", False)):
        frame = renderer.render(state, setting, 2, 5)
        geoms = renderer.geom_ids(setting, 2, 5)
        clip = renderer.appearance(setting, 2).clip[5]
        assert ((geoms == renderer.slots.floor_geom).any()) == floor_kept
        _, depth = renderer._scene.render(renderer.data, with_depth=True)
        empty = depth == 0.0
        assert empty.mean() > (0.3 if floor_kept else 0.6)
        assert np.array_equal(frame[empty], clip[empty])
