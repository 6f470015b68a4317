"""bench/readability.py: the probe reads a parameter that the frames carry, and not one they lack."""

import importlib.util
from pathlib import Path

import numpy as np
import torch

spec = importlib.util.spec_from_file_location("readability", Path(__file__).parents[1] / "bench" / "readability.py")
readability = importlib.util.module_from_spec(spec)
spec.loader.exec_module(readability)


def _frames(values: np.ndarray) -> np.ndarray:
    """(E, 2, 24, 24, 3): a square whose side grows with the value, as hammer's board does."""
    frames = np.zeros((len(values), 2, 24, 24, 3), np.uint8)
    for episode, value in enumerate(values):
        side = 4 + int(round(value * 12))
        frames[episode, :, 12 - side // 2 : 12 - side // 2 + side, 12 - side // 2 : 12 - side // 2 + side] = 200
    return frames


def _held_out_error(values: np.ndarray, frames: np.ndarray) -> float:
    x = readability.prepare(frames, crop=None, size=None)
    y = torch.as_tensor((values - values.mean()) / values.std(), dtype=torch.float32)
    net = readability.fit(x[:48].flatten(0, 1), y[:48].repeat_interleave(2), epochs=60, seed=0, shift=0)
    with torch.no_grad():
        predicted = net(x[48:].flatten(0, 1))[:, 0].view(-1, 2).mean(1)
    return float(torch.sqrt(torch.mean((predicted - y[48:]) ** 2)))


def test_the_probe_reads_what_the_frame_shows_and_not_what_it_hides():
    torch.set_num_threads(1)
    values = np.random.default_rng(0).uniform(0, 1, 64)
    shown = _held_out_error(values, _frames(values))
    hidden = _held_out_error(values, _frames(np.random.default_rng(1).uniform(0, 1, 64)))
    assert shown < 0.3 < 0.8 < hidden  # in units of the parameter's std: read vs not better than the mean


def test_crop_then_resize():
    frames = np.zeros((1, 1, 20, 20, 3), np.uint8)
    frames[0, 0, 5:10, 5:10] = 100
    x = readability.prepare(frames, crop="5:15,5:15", size=2)
    assert x.shape == (1, 1, 3, 2, 2) and x[0, 0, 0].tolist() == [[100.0, 0.0], [0.0, 0.0]]
