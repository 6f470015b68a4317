"""A picture of a task in every visual setting: one row per setting, one column per step,
and a last row with the ground-truth object mask."""

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from samg.envs.factory import make_env
from samg.envs.frames import FrameRenderer
from samg.envs.tasks import TaskSpec

MASK_COLOURS = np.array(
    [[0, 0, 0], [230, 159, 0], [86, 180, 233], [0, 158, 115], [240, 228, 66], [213, 94, 0]], np.uint8
)
LABEL_WIDTH = 96


def smooth_random_actions(action_dim: int, steps: int, seed: int) -> np.ndarray:
    """Seeded, low-pass filtered uniform noise: a plausible motion without an expert."""
    noise = np.random.default_rng(seed).uniform(-1.0, 1.0, (steps, action_dim))
    actions = np.empty_like(noise)
    current = np.zeros(action_dim)
    for t in range(steps):
        current = 0.9 * current + 0.1 * noise[t]
        actions[t] = current
    return actions


def colour_mask(mask: np.ndarray) -> np.ndarray:
    return MASK_COLOURS[np.minimum(mask, len(MASK_COLOURS) - 1)]


def preview_frames(
    task: TaskSpec,
    settings: tuple[str, ...],
    columns: int,
    seed: int,
    image_size: int | None = None,
) -> tuple[list[int], dict[str, list[np.ndarray]]]:
    """Run one seeded episode; return the steps shown and, per row, the frames."""
    shown = sorted({int(s) for s in np.linspace(0, task.episode_length - 1, columns)})
    env = make_env(task)
    rows: dict[str, list[np.ndarray]] = {name: [] for name in (*settings, "gt mask")}
    try:
        step = env.reset(seed)
        actions = smooth_random_actions(env.action_dim, shown[-1], seed)
        with FrameRenderer(task, env.model, image_size) as renderer:
            for t in range(shown[-1] + 1):
                if t in shown:
                    for name, rgb in renderer.render_settings(step.sim_state, settings, seed, t).items():
                        rows[name].append(rgb)
                    rows["gt mask"].append(colour_mask(renderer.object_mask()))
                if t < shown[-1]:
                    step = env.step(actions[t])
    finally:
        env.close()
    return shown, rows


def compose_preview(shown: list[int], rows: dict[str, list[np.ndarray]], scale: int) -> Image.Image:
    size = next(iter(rows.values()))[0].shape[0] * scale
    header = 18
    canvas = Image.new("RGB", (LABEL_WIDTH + size * len(shown), header + size * len(rows)), "white")
    draw = ImageDraw.Draw(canvas)
    for column, t in enumerate(shown):
        draw.text((LABEL_WIDTH + column * size + 4, 3), f"step {t}", fill="black")
    for row, (name, frames) in enumerate(rows.items()):
        top = header + row * size
        draw.text((4, top + size // 2 - 6), name, fill="black")
        for column, frame in enumerate(frames):
            tile = Image.fromarray(frame).resize((size, size), Image.NEAREST)
            canvas.paste(tile, (LABEL_WIDTH + column * size, top))
    return canvas


def write_preview(
    task: TaskSpec,
    settings: tuple[str, ...],
    out: Path,
    columns: int = 6,
    seed: int = 0,
    image_size: int | None = None,
) -> Path:
    shown, rows = preview_frames(task, settings, columns, seed, image_size)
    size = image_size or task.image_size
    picture = compose_preview(shown, rows, scale=max(1, 168 // size))
    out.parent.mkdir(parents=True, exist_ok=True)
    picture.save(out)
    return out
