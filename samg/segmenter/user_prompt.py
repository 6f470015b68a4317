"""A prompt given by a person, as the paper does it: one frame (an image file, or a store's
frame), its object mask and a few points per object; without points, three per object are
spread inside the mask (farthest-point sampling, `spread_points`)."""

from pathlib import Path

import numpy as np
from PIL import Image

from samg.segmenter.prompts import POINTS_PER_OBJECT, ObjectPoints, Prompt, PromptError, spread_points


def read_picture(path: Path, mode: str) -> np.ndarray:
    try:
        with Image.open(path) as picture:
            return np.asarray(picture.convert(mode))
    except (OSError, ValueError) as error:
        raise PromptError(f"{path} is not a readable image ({type(error).__name__}): pass a PNG") from None


def object_ids(mask: np.ndarray) -> np.ndarray:
    """A mask's distinct non-zero values as objects 1..K (a 0/255 mask is one object)."""
    values = [int(v) for v in np.unique(mask) if v != 0]
    if not values:
        raise PromptError("the mask is empty: paint the objects to keep with non-zero values")
    ids = np.zeros(mask.shape, np.uint8)
    for number, value in enumerate(values, start=1):
        ids[mask == value] = number
    return ids


def parse_points(text: str) -> tuple[tuple[int, int], ...]:
    """'x,y x,y x,y' -> ((x, y), ...)."""
    try:
        points = tuple(tuple(int(v) for v in pair.split(",")) for pair in text.split())
    except ValueError:
        points = ()
    if not points or any(len(p) != 2 for p in points):
        raise PromptError(f"--points {text!r}: write pixel points as 'x,y x,y x,y', one --points per object")
    return points  # type: ignore[return-value]


def user_prompt(
    name: str,
    image: np.ndarray,
    mask: np.ndarray,
    points: list[tuple[tuple[int, int], ...]] | None = None,
    object_names: list[str] | None = None,
    seed: int = -1,
    frame: int = -1,
) -> Prompt:
    """The prompt of `image` (H, W, 3) and `mask` (H, W); `points[k]` are object k+1's."""
    if image.shape[:2] != mask.shape[:2]:
        raise PromptError(
            f"the image is {image.shape[1]}x{image.shape[0]} but the mask {mask.shape[1]}x{mask.shape[0]}: "
            f"draw the mask on the same frame"
        )
    ids = object_ids(mask)
    count = int(ids.max())
    names = object_names or [f"object{k}" for k in range(1, count + 1)]
    if len(names) != count:
        raise PromptError(f"the mask has {count} objects but {len(names)} names were given (--objects)")
    if points is not None and len(points) != count:
        raise PromptError(f"the mask has {count} objects but {len(points)} --points were given: one per object")
    objects = []
    for number, object_name in enumerate(names, start=1):
        chosen = points[number - 1] if points is not None else tuple(spread_points(ids == number, POINTS_PER_OBJECT))
        for x, y in chosen:
            inside = 0 <= x < ids.shape[1] and 0 <= y < ids.shape[0]
            if not inside or ids[y, x] != number:
                raise PromptError(
                    f"point ({x}, {y}) of {object_name} lies outside that object's mask: pick points on the object"
                )
        objects.append(ObjectPoints(number, object_name, tuple(chosen)))
    return Prompt(name, seed, frame, np.ascontiguousarray(image), ids, tuple(objects))


def store_frame(store_path: Path, episode: int, step: int) -> tuple[np.ndarray, int]:
    """The train-setting frame of `step` in `episode` of a store, and the episode's seed
    (an imported store: the source's episode number)."""
    from samg.pipeline.store import DemoStore

    store = DemoStore(store_path)
    if not 0 <= episode < store.n_episodes:
        raise PromptError(f"--episode {episode}: {store_path} has {store.n_episodes} episodes")
    at = store.episode_slice(episode)
    if not 0 <= step < at.stop - at.start:
        raise PromptError(f"--step {step}: episode {episode} has {at.stop - at.start} steps")
    setting = "train" if "train" in store.plan.settings else store.plan.settings[0]
    return store.read(f"images/{setting}/rgb", at.start + step), int(store.episode_seeds[episode])
