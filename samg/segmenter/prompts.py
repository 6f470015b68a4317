"""The reference ("prompt") of a task, built from the simulator with no annotation.

A prompt is one train-setting frame, its ground-truth object mask, and a few extra points
per object, spread out inside the object and away from its border. It lives in
`configs/prompts/<task>/` as `image.png`, `mask.png` (object ids) and `prompt.json`
(points as [x, y] pixels, the seed and frame it came from); the points can be edited.
"""

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw
from scipy import ndimage

from samg.envs import FrameRenderer, TaskSpec, make_env
from samg.errors import SamgError

PROMPTS_DIR = Path("configs") / "prompts"
POINTS_PER_OBJECT = 3
MIN_OBJECT_FRACTION = 0.0015  # of the frame's pixels: about 11 at 84x84


class PromptError(SamgError):
    """A prompt that is missing, unreadable or cannot be built."""


@dataclass(frozen=True)
class ObjectPoints:
    object_id: int
    name: str
    points: tuple[tuple[int, int], ...]  # (x, y) pixels


@dataclass(frozen=True)
class Prompt:
    task: str
    seed: int
    frame: int
    image: np.ndarray  # (H, W, 3) uint8, train setting
    mask: np.ndarray  # (H, W) uint8 object ids
    objects: tuple[ObjectPoints, ...]
    # the official prompts' masked JPEGs (samg.segmenter.official_prompt); a simulator prompt
    # has none and masks its own image with its exact mask instead
    masked_target: np.ndarray | None = None  # (H, W, 3) uint8: the whole target
    masked_parts: tuple[np.ndarray, ...] = ()  # (H, W, 3) uint8: one per part
    source: str = "simulator"

    @property
    def foreground(self) -> np.ndarray:
        return self.mask > 0

    def masked_images(self) -> tuple[np.ndarray, tuple[np.ndarray, ...]]:
        """The whole target's masked image and one per part (object)."""
        if self.masked_target is not None:
            return self.masked_target, self.masked_parts
        keep = lambda region: self.image * region[..., None]  # noqa: E731
        return keep(self.mask > 0), tuple(keep(self.mask == obj.object_id) for obj in self.objects)

    def adaptation_target(self) -> np.ndarray:
        """PerSAM-F's target: the official code's red channel > 0 of the whole target's
        masked JPEG (`make_env_RRL_sam.py:776`), or the exact mask of a simulator prompt."""
        return self.masked_target[..., 0] > 0 if self.masked_target is not None else self.mask > 0

    def checksum(self) -> str:
        """sha256 over the image, the mask and the points: changes when a point is edited."""
        digest = hashlib.sha256()
        official = () if self.masked_target is None else (self.masked_target, *self.masked_parts)
        for array in (self.image, self.mask, *official):
            digest.update(f"{array.shape}{array.dtype}".encode())
            digest.update(np.ascontiguousarray(array).tobytes())
        digest.update(json.dumps([[o.object_id, [list(p) for p in o.points]] for o in self.objects]).encode())
        return digest.hexdigest()


def spread_points(region: np.ndarray, count: int) -> list[tuple[int, int]]:
    """`count` (x, y) points inside `region`: the deepest pixel first, then each next one
    as far as possible from those chosen, among pixels at least half as deep as the deepest."""
    depth = ndimage.distance_transform_edt(np.pad(region, 1))[1:-1, 1:-1]
    ys, xs = np.nonzero(region)
    if len(ys) == 0:
        raise PromptError("cannot place points in an empty object mask")
    inner = depth[ys, xs] >= 0.5 * depth[ys, xs].max()
    ys, xs, pixel_depth = ys[inner], xs[inner], depth[ys, xs][inner]
    chosen = [int(np.argmax(pixel_depth))]
    nearest = np.full(len(ys), np.inf)
    while len(chosen) < min(count, len(ys)):
        last = chosen[-1]
        nearest = np.minimum(nearest, (ys - ys[last]) ** 2 + (xs - xs[last]) ** 2)
        chosen.append(int(np.argmax(nearest)))
    return [(int(xs[i]), int(ys[i])) for i in chosen]


def build_prompt(task: TaskSpec, image_size: int | None = None, max_seeds: int = 50) -> Prompt:
    """The first seeded reset frame on which every object shows at least a few pixels."""
    env = make_env(task)
    try:
        with FrameRenderer(task, env.model, image_size) as renderer:
            for seed in range(max_seeds):
                step = env.reset(seed)
                mask = renderer.object_mask(step.sim_state)
                counts = np.bincount(mask.ravel(), minlength=len(task.objects) + 1)[1:]
                if (counts >= max(POINTS_PER_OBJECT, MIN_OBJECT_FRACTION * mask.size)).all():
                    image = renderer.render(step.sim_state, "train", seed, 0)
                    objects = tuple(
                        ObjectPoints(i, spec.name, tuple(spread_points(mask == i, POINTS_PER_OBJECT)))
                        for i, spec in enumerate(task.objects, start=1)
                    )
                    return Prompt(task.name, seed, 0, image, mask, objects)
    finally:
        env.close()
    raise PromptError(f"no reset frame of {task.name} in seeds 0-{max_seeds - 1} shows every object")


def prompt_dir(task: str, root: Path = PROMPTS_DIR) -> Path:
    return root / task


def save_prompt(prompt: Prompt, root: Path = PROMPTS_DIR) -> Path:
    directory = prompt_dir(prompt.task, root)
    directory.mkdir(parents=True, exist_ok=True)
    Image.fromarray(prompt.image).save(directory / "image.png")
    Image.fromarray(prompt.mask).save(directory / "mask.png")
    meta = {
        "task": prompt.task,
        "seed": prompt.seed,
        "frame": prompt.frame,
        "image_size": int(prompt.image.shape[0]),
        "objects": [
            {"id": o.object_id, "name": o.name, "points": [list(p) for p in o.points]} for o in prompt.objects
        ],
    }
    (directory / "prompt.json").write_text(json.dumps(meta, indent=2) + "\n")
    return directory


def load_prompt(task: str, root: Path = PROMPTS_DIR) -> Prompt:
    directory = prompt_dir(task, root)
    if not (directory / "prompt.json").is_file():
        raise PromptError(f"no prompt for '{task}' in {directory}: run 'samg prompt {task}'")
    try:
        meta = json.loads((directory / "prompt.json").read_text())
        image = np.asarray(Image.open(directory / "image.png").convert("RGB"))
        mask = np.asarray(Image.open(directory / "mask.png"))
        objects = tuple(
            ObjectPoints(int(o["id"]), str(o["name"]), tuple((int(x), int(y)) for x, y in o["points"]))
            for o in meta["objects"]
        )
        prompt = Prompt(str(meta["task"]), int(meta["seed"]), int(meta["frame"]), image, mask, objects)
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise PromptError(f"unreadable prompt in {directory} ({type(error).__name__}: {error})") from None
    _validate(prompt, directory)
    return prompt


def _validate(prompt: Prompt, directory: Path) -> None:
    height, width = prompt.mask.shape
    if prompt.image.shape[:2] != (height, width):
        raise PromptError(f"{directory}: image and mask sizes differ")
    for obj in prompt.objects:
        for x, y in obj.points:
            if not (0 <= x < width and 0 <= y < height):
                raise PromptError(f"{directory}: point {(x, y)} of {obj.name} lies outside the {width}x{height} image")
            if prompt.source == "simulator" and prompt.mask[y, x] != obj.object_id:
                raise PromptError(f"{directory}: point {(x, y)} of {obj.name} lies outside that object's mask")


def draw_prompt(prompt: Prompt, scale: int = 4) -> Image.Image:
    """The reference image and its mask side by side, points drawn on both."""
    from samg.envs.preview import colour_mask

    height, width = prompt.mask.shape
    canvas = Image.new("RGB", (2 * width * scale, height * scale))
    canvas.paste(Image.fromarray(prompt.image).resize((width * scale, height * scale), Image.NEAREST), (0, 0))
    canvas.paste(Image.fromarray(colour_mask(prompt.mask)).resize((width * scale, height * scale), Image.NEAREST), (width * scale, 0))
    draw = ImageDraw.Draw(canvas)
    for obj in prompt.objects:
        for x, y in obj.points:
            for offset in (0, width * scale):
                cx, cy = offset + (x + 0.5) * scale, (y + 0.5) * scale
                draw.ellipse((cx - 4, cy - 4, cx + 4, cy + 4), outline="red", width=2)
        x, y = obj.points[0]
        draw.text(((x + 1) * scale + 4, y * scale), obj.name, fill="white")
    return canvas
