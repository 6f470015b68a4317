"""`samg report`: mask quality of a named mask set as Markdown, an example grid and a plot."""

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from samg.paths import require_outside_stores
from samg.pipeline.masks import MaskSet, MasksError
from samg.pipeline.quality import LOW_IOU, frame_metrics
from samg.pipeline.store import DemoStore, require_chunks

METRICS = ("iou", "precision", "recall", "low_iou_fraction")
HEADERS = ("mean IoU", "precision", "recall", f"IoU < {LOW_IOU}")


def quality_rows(quality: dict) -> list[tuple[str, str, list[str], int]]:
    """(setting, object, formatted metrics, frames) for every setting and object."""
    return [
        (setting, name, [f"{values[m]:.3f}" for m in METRICS], values["frames"])
        for setting, objects in quality.items()
        for name, values in objects.items()
    ]


def default_report_dir(store: DemoStore, name: str) -> Path:
    return store.path.with_name(f"{store.path.stem}_{name}_report")


REPORT_FILES = ("report.md", "examples.png", "iou.png")


def write_report(
    store: DemoStore, name: str, out: Path | None = None, examples: int = 3, overwrite: bool = False
) -> Path:
    """report.md, examples.png (worst and median frames per setting) and iou.png in `out`;
    an earlier report there is replaced only with `overwrite`."""
    mask_set = MaskSet(store, name)
    attrs = mask_set.attrs
    if not isinstance(attrs.get("quality"), dict):
        raise MasksError(f"masks {name!r} have no quality summary yet: finish 'samg segment --name {name}'")
    out = out or default_report_dir(store, name)
    require_outside_stores(out)
    if out.exists() and not out.is_dir():
        raise MasksError(f"--out {out} is a file, not a directory")
    if any((out / file).exists() for file in REPORT_FILES) and not overwrite:
        raise MasksError(f"{out} already holds a report: pass --overwrite to replace it, or another --out")
    if not store.plan.has_ground_truth:
        from samg.pipeline.report_examples import write_examples_report

        write_examples_report(mask_set, out, examples)
        return out
    per_frame = {s: _frame_iou(mask_set, s) for s in attrs["quality"]}
    for setting, (steps, _) in per_frame.items():  # any example may be drawn: all their chunks, before a write
        for key in (f"images/{setting}/rgb", "masks/gt"):
            require_chunks(store.array(key), steps)
    grid = _examples_grid(mask_set, per_frame, examples)  # decodes the frames it shows
    out.mkdir(parents=True, exist_ok=True)
    grid.save(out / "examples.png")
    _iou_plot(per_frame, out / "iou.png")
    (out / "report.md").write_text(_markdown(store, name, attrs))
    return out


def _frame_iou(mask_set: MaskSet, setting: str) -> tuple[np.ndarray, np.ndarray]:
    """(steps, IoU of the union mask) over the done blocks of `setting`."""
    steps = mask_set.done_steps(setting)
    counts = mask_set.read(f"counts/{setting}", steps) if len(steps) else np.zeros((0, 1, 3), np.int32)
    return steps, frame_metrics(counts)["iou"][:, 0]


def _examples_grid(mask_set: MaskSet, per_frame: dict, examples: int, scale: int = 2) -> Image.Image:
    store = mask_set.store
    size = store.plan.image_size * scale
    label_width, rows = 150, []
    for setting, (steps, iou) in per_frame.items():
        if not len(steps):
            continue
        order = np.argsort(iou, kind="stable")
        chosen = [*order[: examples - 1], order[len(order) // 2]] if examples > 1 else [order[len(order) // 2]]
        for index in chosen:
            step = int(steps[index])
            frame = store.read(f"images/{setting}/rgb", step)
            truth = store.read("masks/gt", step) > 0
            predicted = mask_set.read(setting, step)
            tiles = [frame, _grey(truth), _grey(predicted), frame * predicted[..., None].astype(np.uint8)]
            row = Image.new("RGB", (label_width + 4 * size, size), "white")
            for column, tile in enumerate(tiles):
                row.paste(Image.fromarray(tile).resize((size, size), Image.NEAREST), (label_width + column * size, 0))
            ImageDraw.Draw(row).text((4, 4), f"{setting}\nstep {step}\nIoU {iou[index]:.3f}", fill="black")
            rows.append(row)
    header = Image.new("RGB", (label_width + 4 * size, 16), "white")
    for column, title in enumerate(("frame", "ground truth", "predicted", "masked")):
        ImageDraw.Draw(header).text((label_width + column * size + 4, 2), title, fill="black")
    grid = Image.new("RGB", (header.width, 16 + size * len(rows)), "white")
    grid.paste(header, (0, 0))
    for at, row in enumerate(rows):
        grid.paste(row, (0, 16 + at * size))
    return grid


def _grey(mask: np.ndarray) -> np.ndarray:
    return np.repeat((mask.astype(np.uint8) * 255)[..., None], 3, axis=-1)


def _iou_plot(per_frame: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    settings = [s for s, (steps, _) in per_frame.items() if len(steps)]
    figure, axis = plt.subplots(figsize=(1.4 * max(len(settings), 2) + 1, 3.2))
    axis.boxplot([per_frame[s][1] for s in settings], tick_labels=settings, showmeans=True)
    axis.axhline(LOW_IOU, color="grey", linestyle=":", linewidth=1)
    axis.set_ylabel("per-frame IoU (all objects)")
    axis.set_ylim(-0.02, 1.02)
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)


def _markdown(store: DemoStore, name: str, attrs: dict) -> str:
    segmenter = attrs.get("segmenter", {})
    lines = [
        f"# Mask quality: `{name}` on `{store.path.name}` ({store.plan.task})",
        "",
        f"Segmenter: `{', '.join(f'{k}={v}' for k, v in segmenter.items())}`",
    ]
    lines += [f"{key}: `{value}`" for key, value in attrs.items() if key.endswith("sha256")]
    lines += [
        f"samg {attrs.get('package_version', '?')}; ground truth: `masks/gt` "
        f"(objects: {', '.join(store.plan.mask_objects)}).",
        "",
        "| setting | object | " + " | ".join(HEADERS) + " | frames |",
        "|---|---|" + "---|" * (len(HEADERS) + 1),
    ]
    lines += [f"| {s} | {o} | " + " | ".join(values) + f" | {n} |" for s, o, values, n in quality_rows(attrs["quality"])]
    lines += ["", "Per object, predictions on the background count against every object.", ""]
    timings = attrs.get("timings", {})
    if timings:
        lines += ["| setting | frames (last run) | segmenter frames/s |", "|---|---|---|"]
        lines += [f"| {s} | {t['frames']} | {t['frames_per_second']} |" for s, t in timings.items()]
        lines.append("")
    lines += ["![examples](examples.png)", "", "![per-frame IoU](iou.png)", ""]
    return "\n".join(lines)
