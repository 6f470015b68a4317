"""`samg report` on a store without ground truth (an imported one): no IoU to rank frames
by, so the report shows evenly spaced example frames with their masks and says why."""

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from samg.pipeline.masks import MaskSet


def examples_without_truth(mask_set: MaskSet, examples: int, scale: int = 2) -> Image.Image:
    """Per setting, `examples` evenly spaced segmented frames: frame, mask, masked."""
    store = mask_set.store
    size, label_width, rows = store.plan.image_size * scale, 150, []
    for setting in mask_set.attrs["quality"]:
        steps = mask_set.done_steps(setting)
        for step in steps[np.linspace(0, len(steps) - 1, min(examples, len(steps))).astype(int)] if len(steps) else []:
            frame = store.read(f"images/{setting}/rgb", int(step))
            predicted = mask_set.read(setting, int(step))
            tiles = [frame, np.repeat((predicted.astype(np.uint8) * 255)[..., None], 3, -1), frame * predicted[..., None].astype(np.uint8)]
            row = Image.new("RGB", (label_width + 3 * size, size), "white")
            for column, tile in enumerate(tiles):
                row.paste(Image.fromarray(tile).resize((size, size), Image.NEAREST), (label_width + column * size, 0))
            ImageDraw.Draw(row).text((4, 4), f"{setting}\nstep {int(step)}\nkept {predicted.mean():.1%}", fill="black")
            rows.append(row)
    grid = Image.new("RGB", (label_width + 3 * size, 16 + size * len(rows)), "white")
    for column, title in enumerate(("frame", "predicted", "masked")):
        ImageDraw.Draw(grid).text((label_width + column * size + 4, 2), title, fill="black")
    for at, row in enumerate(rows):
        grid.paste(row, (0, 16 + at * size))
    return grid


def markdown_without_truth(mask_set: MaskSet) -> str:
    store, attrs = mask_set.store, mask_set.attrs
    source = store.plan.source or {}
    lines = [
        f"# Masks `{mask_set.name}` on `{store.path.name}` ({store.plan.task})",
        "",
        f"No ground truth: the store was imported from {source.get('format', '?')} ({source.get('path', '?')}), "
        "with no simulator to render object masks, so there is no IoU. The examples below are evenly spaced "
        "segmented frames; judge them by eye.",
        "",
        "| setting | mean fraction kept | frames with nothing kept | frames |",
        "|---|---|---|---|",
    ]
    for setting, values in attrs["quality"].items():
        kept = values["all"]
        lines.append(f"| {setting} | {kept['kept_fraction']:.3f} | {kept['empty_fraction']:.3f} | {kept['frames']} |")
    return "\n".join([*lines, "", "![examples](examples.png)", ""])


def write_examples_report(mask_set: MaskSet, out: Path, examples: int) -> None:
    grid = examples_without_truth(mask_set, examples)
    out.mkdir(parents=True, exist_ok=True)
    grid.save(out / "examples.png")
    (out / "report.md").write_text(markdown_without_truth(mask_set))
