"""The decoded clip cache: tied to the clip it came from, checked at every load, rebuilt
where it does not match."""

import json

import numpy as np
import pytest

from samg.benchmark import clips
from samg.benchmark.clips import cached_clip, decode_clip

SOURCE_HASH = "ab" * 32  # stands for the clip's pinned sha256


@pytest.fixture
def clip(tmp_path):
    import imageio.v3 as iio

    rng = np.random.default_rng(0)
    path = tmp_path / "clip.mp4"
    iio.imwrite(path, rng.integers(0, 256, (6, 32, 32, 3), dtype=np.uint8), plugin="FFMPEG", fps=10)
    return path


@pytest.fixture
def decodes(monkeypatch) -> list:
    calls = []

    def counted(path, size):
        calls.append(path)
        return decode_clip(path, size)

    monkeypatch.setattr(clips, "decode_clip", counted)
    return calls


def _white(cache):
    np.save(cache, np.full(np.load(cache).shape, 255, np.uint8))


def _truncated(cache):
    cache.write_bytes(cache.read_bytes()[:1000])


def _sidecar_of_another_clip(cache):
    sidecar = cache.with_suffix(".json")
    sidecar.write_text(json.dumps({**json.loads(sidecar.read_text()), "source_hash": "cd" * 32}))


def _no_sidecar(cache):
    cache.with_suffix(".json").unlink()


def test_a_cache_is_decoded_once_then_read_back(tmp_path, clip, decodes):
    first = cached_clip(clip, SOURCE_HASH, 16, tmp_path / "cache")
    again = cached_clip(clip, SOURCE_HASH, 16, tmp_path / "cache")
    assert len(decodes) == 1 and first.shape == (6, 16, 16, 3) and np.array_equal(first, again)
    assert sorted(p.name for p in (tmp_path / "cache").iterdir()) == [f"{'ab' * 8}_16.json", f"{'ab' * 8}_16.npy"]


@pytest.mark.parametrize("damage", [_white, _truncated, _sidecar_of_another_clip, _no_sidecar])
def test_a_cache_that_does_not_match_its_clip_is_rebuilt(tmp_path, clip, decodes, damage):
    expected = np.array(cached_clip(clip, SOURCE_HASH, 16, tmp_path / "cache"))
    (cache,) = (tmp_path / "cache").glob("*.npy")
    damage(cache)
    assert np.array_equal(cached_clip(clip, SOURCE_HASH, 16, tmp_path / "cache"), expected)
    assert len(decodes) == 2
    assert np.array_equal(cached_clip(clip, SOURCE_HASH, 16, tmp_path / "cache"), expected) and len(decodes) == 2
