"""Adroit `train` frames against SAM-G's own reference images (the frames the paper's agents
saw): the same orientation, and the same colours where the scene can be posed like them."""

import numpy as np
import pytest
from PIL import Image

from samg.benchmark.assets import benchmark_assets
from samg.benchmark.manifest import SAMG_REFERENCE_IMAGES
from samg.envs import FrameRenderer, make_env

# The reset seed (of the first 400) whose object mask overlaps the reference's most, and
# the frame size of the reference (pen's is 160 px).
POSED_LIKE_REFERENCE = {"door": (274, 84), "hammer": (4, 84), "pen": (3, 160)}
COLOUR_TOLERANCE = 20  # per channel, of 255


def _reference(task: str) -> tuple[np.ndarray, np.ndarray]:
    assets = benchmark_assets()
    files = SAMG_REFERENCE_IMAGES[task]
    image = np.asarray(Image.open(assets.path(files["image"])).convert("RGB")).astype(float)
    masked = np.asarray(Image.open(assets.path(files["target"])).convert("RGB")).astype(int)
    return image, masked.sum(-1) > 60  # JPEG noise on the black background stays far below


@pytest.fixture(scope="module", params=sorted(POSED_LIKE_REFERENCE))
def posed(request):
    task = request.param
    seed, size = POSED_LIKE_REFERENCE[task]
    env = make_env(task)
    try:
        with FrameRenderer(env.task, env.model, size) as renderer:
            state = env.reset(seed).sim_state
            frame = renderer.render(state, "train", seed, 0).astype(float)
            mask = renderer.object_mask(state)
    finally:
        env.close()
    return task, frame, mask > 0, *_reference(task)


def test_objects_sit_where_the_reference_shows_them(posed):
    task, _, ours, _, theirs = posed
    iou = (ours & theirs).sum() / (ours | theirs).sum()
    flipped = (ours[::-1] & theirs).sum() / (ours[::-1] | theirs).sum()
    assert iou > 0.5 and iou > 2 * flipped, f"{task}: IoU {iou:.2f} with the reference, {flipped:.2f} flipped"
    height = ours.shape[0]
    centre_ours, centre_theirs = np.nonzero(ours)[0].mean() / height, np.nonzero(theirs)[0].mean() / height
    assert abs(centre_ours - centre_theirs) < 0.06, f"{task}: mask centre at {centre_ours:.2f} vs {centre_theirs:.2f}"


def test_the_table_has_the_reference_colour(posed):
    task, frame, ours, image, theirs = posed
    size = frame.shape[0]
    centre = slice(size * 3 // 8, size * 5 // 8)
    table = ~(ours | theirs)[centre, centre]
    difference = np.abs(frame[centre, centre][table].mean(0) - image[centre, centre][table].mean(0))
    assert difference.max() <= COLOUR_TOLERANCE, f"{task}: table colour off by {difference.round()}"


def test_the_objects_have_the_reference_colour(posed):
    task, frame, ours, image, theirs = posed
    if task == "door":
        pytest.skip("no reset seed poses the door as in its reference (IoU 0.57): docs/fidelity.md")
    difference = np.abs(frame[ours].mean(0) - image[theirs].mean(0))
    assert difference.max() <= COLOUR_TOLERANCE, f"{task}: objects' colour off by {difference.round()}"
