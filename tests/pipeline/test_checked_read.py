"""`checked_read`: the one place stored arrays are read; a missing chunk is never zeros."""

import numpy as np
import pytest

from samg.pipeline.masks import masked_episodes
from samg.pipeline.store import ChunkError, DemoStore, StoreError
from tests.pipeline.helpers import synthetic_store

FRAMES = "images/train/rgb"  # chunks of 20 steps in the synthetic store


@pytest.fixture(scope="module")
def pristine(tmp_path_factory):
    return synthetic_store(tmp_path_factory.mktemp("read") / "door.zarr", episodes=3, length=20).path


@pytest.fixture
def store(pristine, tmp_path):
    import shutil

    return DemoStore(shutil.copytree(pristine, tmp_path / "door.zarr"))


def test_reads_what_zarr_reads_when_every_chunk_is_there(store):
    array = store.array(FRAMES)
    for selection in (slice(None), slice(15, 45), 33, np.array([0, 21, 59])):
        assert np.array_equal(store.read(FRAMES, selection), array[selection])


@pytest.mark.parametrize("selection", [slice(None), slice(30, 50), np.array([5, 45]), 47])
def test_a_missing_chunk_is_named_whatever_the_selection(store, selection):
    (store.path / FRAMES / "c/2/0/0/0").unlink()
    with pytest.raises(ChunkError, match=f"{FRAMES}: chunk 2 \\(steps 40-59\\) is missing .*samg info .* --check"):
        store.read(FRAMES, selection)
    assert store.read(FRAMES, slice(0, 40)).any()  # the chunks that are there still read


def test_the_corrupt_chunk_is_named_not_the_first_one_read(store):
    chunk = store.path / FRAMES / "c/2/0/0/0"
    data = bytearray(chunk.read_bytes())
    data[len(data) // 2] ^= 0xFF
    chunk.write_bytes(bytes(data))
    with pytest.raises(ChunkError, match="chunk 2 \\(steps 40-59\\) is corrupt"):
        store.read(FRAMES, slice(0, 60))


def test_episodes_and_frames_refuse_a_missing_chunk(store):
    (store.path / "masks/gt/c/1/0/0").unlink()
    with pytest.raises(ChunkError, match="masks/gt: chunk 1"):
        store.episode(1)
    with pytest.raises(ChunkError, match="masks/gt: chunk 1"):
        list(masked_episodes(store, "train", "oracle"))
    assert len(list(masked_episodes(store, "train", "none"))) == 3  # raw frames do not need the masks


def test_an_array_of_another_shape_is_refused(store):
    import json

    meta = store.path / FRAMES / "zarr.json"
    values = json.loads(meta.read_text())
    values["shape"] = [60, 8, 8, 3]
    meta.write_text(json.dumps(values))
    with pytest.raises(StoreError, match="has shape \\(60, 8, 8, 3\\)"):
        DemoStore(store.path).read(FRAMES, 0)


def test_create_never_empties_a_folder_that_is_not_a_store(tmp_path):
    folder = tmp_path / "thesis"
    folder.mkdir()
    (folder / "chapter1.tex").write_text("\\chapter{}\n")
    with pytest.raises(StoreError, match="exists and is not a demo store"):
        synthetic_store(folder)
    assert (folder / "chapter1.tex").read_text() == "\\chapter{}\n"
