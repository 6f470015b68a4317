import numpy as np
import pytest
from PIL import Image

from samg.envs.videos import FramesClip, NaturalImageClips, PanZoomClip, VideoDirectory, _bounce
from samg.errors import SamgError


def _gradient_photo(height=120, width=200):
    ys, xs = np.mgrid[0:height, 0:width]
    return np.stack([xs % 256, ys % 256, (xs + ys) % 256], -1).astype(np.uint8)


def test_bounce_stays_in_unit_interval_and_reflects():
    positions = np.linspace(-3, 3, 601)
    bounced = np.array([_bounce(p) for p in positions])
    assert bounced.min() >= 0 and bounced.max() <= 1
    assert _bounce(1.25) == pytest.approx(0.75) and _bounce(0.25) == pytest.approx(0.25)


def test_pan_zoom_clip_is_a_pure_function_of_step_and_moves():
    clips = NaturalImageClips(loader=lambda: [_gradient_photo()])
    clip_a = clips.sample_clip(np.random.default_rng(3), 32)
    clip_b = clips.sample_clip(np.random.default_rng(3), 32)
    assert clip_a.frame(17).shape == (32, 32, 3) and clip_a.frame(17).dtype == np.uint8
    assert np.array_equal(clip_a.frame(17), clip_b.frame(17))
    assert not np.array_equal(clip_a.frame(0), clip_a.frame(40))


def test_pan_zoom_crop_samples_the_photo_where_it_says():
    photo = _gradient_photo().astype(np.float32)
    clip = PanZoomClip(photo, size=20, start=(0.0, 0.0), velocity=(0.0, 0.0), zoom=1.0, zoom_swing=0.0, zoom_period=100)
    frame = clip.frame(0).astype(int)
    # top-left crop of side 120 at 20 px: red channel follows the column index (x % 256)
    assert abs(frame[0, 0, 0] - 2.5) <= 1 and abs(frame[0, -1, 0] - 116.5) <= 1
    assert np.all(np.diff(frame[0, :, 0]) > 0)


def test_frames_clip_loops_back_and_forth():
    frames = np.arange(4)[:, None, None, None] * np.ones((4, 2, 2, 3), np.uint8)
    clip = FramesClip(frames, offset=0)
    assert [int(clip.frame(t)[0, 0, 0]) for t in range(8)] == [0, 1, 2, 3, 2, 1, 0, 1]


def test_video_directory_reads_frame_folders(tmp_path, rng):
    clip_dir = tmp_path / "clip0"
    clip_dir.mkdir()
    for i in range(3):
        Image.fromarray(rng.integers(0, 255, (40, 60, 3), dtype=np.uint8)).save(clip_dir / f"{i:05d}.png")
    clip = VideoDirectory(tmp_path).sample_clip(np.random.default_rng(0), 16)
    assert clip.frames.shape == (3, 16, 16, 3)


def test_video_directory_reads_video_files(tmp_path, rng):
    import imageio.v3 as iio

    frames = rng.integers(0, 255, (5, 32, 48, 3), dtype=np.uint8)
    iio.imwrite(tmp_path / "clip.mp4", frames, fps=10)
    clip = VideoDirectory(tmp_path).sample_clip(np.random.default_rng(0), 16)
    assert clip.frames.shape == (5, 16, 16, 3)


def test_empty_video_directory_is_a_clear_error(tmp_path):
    with pytest.raises(SamgError, match="no clips in video directory"):
        VideoDirectory(tmp_path)
