"""Benchmark files: pinned, verified, imported, fetched; presets read without running code."""

import io
import pickle
import shutil
import subprocess
import urllib.request

import numpy as np
import pytest
from typer.testing import CliRunner

from samg.benchmark.assets import AbsentAssetsError, BenchmarkAssets, MissingAssetsError, benchmark_root, fetch_assets
from samg.benchmark.manifest import MANIFEST, TABLE_TEXTURES, git_blob_sha1
from samg.benchmark.presets import PresetFileError, load_presets
from samg.cli import app
from tests.benchmark.helpers import ABSENT, GOOD, PINNED, TAMPERED, tiny_benchmark
from tests.conftest import require_benchmark_files

runner = CliRunner()


def test_git_blob_id_is_gits(tmp_path):
    path = tmp_path / "f.bin"
    path.write_bytes(b"hello benchmark\n")
    expected = subprocess.run(["git", "hash-object", str(path)], capture_output=True, text=True, check=True).stdout.strip()
    assert git_blob_sha1(path.read_bytes()) == expected


def test_presets_load_as_plain_arrays():
    require_benchmark_files("dmcgb/color_easy.pt")
    presets = load_presets((benchmark_root() / "dmcgb/color_easy.pt").read_bytes())
    assert len(presets) == 100
    assert set(presets[0]) == {"self_rgb", "skybox_rgb", "grid_rgb1", "grid_rgb2"}
    assert all(0 <= p["self_rgb"].min() and p["self_rgb"].max() <= 1 for p in presets)


class _Evil:
    def __reduce__(self):
        return (print, ("this ran",))


def _legacy_file(obj) -> bytes:
    stream = io.BytesIO()
    for part in (0x1950A86A20F9469CFC6C, 1001, {"protocol_version": 1001}, obj, []):
        pickle.dump(part, stream, protocol=2)
    return stream.getvalue()


def test_a_preset_file_naming_another_global_is_refused(capsys):
    data = _legacy_file([{"self_rgb": _Evil()}])
    with pytest.raises(PresetFileError, match="refused: the file names the global .*print"):
        load_presets(data, "color_easy.pt")
    assert "this ran" not in capsys.readouterr().out


def test_well_formed_synthetic_presets_load_and_wrong_keys_are_refused():
    preset = {k: np.full(3, 0.5) for k in ("self_rgb", "skybox_rgb", "grid_rgb1", "grid_rgb2")}
    assert load_presets(_legacy_file([preset]))[0]["self_rgb"].tolist() == [0.5] * 3
    with pytest.raises(PresetFileError, match="skybox_rgb"):
        load_presets(_legacy_file([{"self_rgb": np.zeros(3)}]))
    with pytest.raises(PresetFileError, match="not a legacy"):
        load_presets(b"not a pickle at all")


def test_import_reports_a_flipped_byte_and_keeps_the_file_out(tmp_path, monkeypatch):
    require_benchmark_files("dmcgb/color_easy.pt", "dmcgb/color_hard.pt")
    source = tmp_path / "copy"
    shutil.copytree(benchmark_root() / "dmcgb", source / "dmcgb", ignore=shutil.ignore_patterns("video_*"))
    tampered = source / "dmcgb" / "color_hard.pt"
    data = bytearray(tampered.read_bytes())
    data[1000] ^= 0x01
    tampered.write_bytes(bytes(data))
    monkeypatch.setenv("SAMG_HOME", str(tmp_path / "home"))
    result = runner.invoke(app, ["assets", "import", str(source)], env={"COLUMNS": "200"})
    assert result.exit_code == 1
    assert "corrupt dmcgb/color_hard.pt" in result.output
    assert not (tmp_path / "home" / "benchmark" / "dmcgb" / "color_hard.pt").exists()
    assert (tmp_path / "home" / "benchmark" / "dmcgb" / "color_easy.pt").is_file()
    listing = runner.invoke(app, ["assets", "list"], env={"COLUMNS": "200"})
    assert listing.exit_code == 0 and "missing" in listing.output


@pytest.mark.parametrize("name", ["sam-g-adroit/reference_images/door_masked_0.jpg", "sam-g-adroit/pieg_config.yaml"])
def test_import_refuses_a_tampered_samg_reference_file(tmp_path, monkeypatch, name):
    require_benchmark_files(name)
    source = tmp_path / "copy"
    (source / name).parent.mkdir(parents=True)
    shutil.copy(benchmark_root() / name, source / name)
    tampered = source / name
    tampered.write_bytes(tampered.read_bytes().replace(b"\xff", b"\xfe", 1).replace(b"door", b"d00r", 1))
    monkeypatch.setenv("SAMG_HOME", str(tmp_path / "home"))
    result = runner.invoke(app, ["assets", "import", str(source)], env={"COLUMNS": "200"})
    assert result.exit_code == 1 and f"corrupt {name}" in result.output
    assert not (tmp_path / "home" / "benchmark" / name).exists()


def test_a_corrupt_file_in_place_is_refused_even_with_missing_allowed(tmp_path):
    require_benchmark_files("dmcgb/color_easy.pt")
    path = tmp_path / "benchmark" / "dmcgb" / "color_easy.pt"
    path.parent.mkdir(parents=True)
    path.write_bytes((benchmark_root() / "dmcgb" / "color_easy.pt").read_bytes()[:-1] + b"\x00")
    with pytest.raises(MissingAssetsError, match="color_easy.pt .* not the pinned one"):
        BenchmarkAssets(tmp_path / "benchmark", allow_missing=True)


def test_missing_files_need_the_explicit_allowance_and_draws_move_on(tmp_path):
    easy = TABLE_TEXTURES["easy"]
    present = easy[:5] + easy[6:]
    require_benchmark_files(*present)
    root = tmp_path / "benchmark"
    for name in present:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(benchmark_root() / name, root / name)
    with pytest.raises(MissingAssetsError, match="--allow-missing-assets"):
        BenchmarkAssets(root, allow_missing=False)
    assets = BenchmarkAssets(root, allow_missing=True)
    assert assets.status[easy[5]] == "missing"
    assert assets.pick(easy, 5) == easy[6] and assets.pick(easy, 4) == easy[4]
    with pytest.raises(AbsentAssetsError, match="no file of the pool") as absent:
        assets.pick(TABLE_TEXTURES["hard"], 0)
    assert absent.value.names == TABLE_TEXTURES["hard"]
    with pytest.raises(AbsentAssetsError, match="dmcgb/color_hard.pt is missing in"):
        assets.presets("dmcgb/color_hard.pt")
    record = assets.record(easy)
    assert record["missing"] == [easy[5]] and len(record["files"]) == 9


def test_fetch_verifies_what_it_downloads(tmp_path, monkeypatch):
    with tiny_benchmark(tmp_path / "served", monkeypatch) as server:
        result = fetch_assets(tmp_path / "home")
        assert result.status == {GOOD: "verified", TAMPERED: "corrupt", ABSENT: "missing"} and result.unreachable is None
        assert (tmp_path / "home" / GOOD).read_bytes() == PINNED[GOOD]
        assert not (tmp_path / "home" / TAMPERED).exists() and not (tmp_path / "home" / ABSENT).exists()
        assert len(server.requested) == 3
        server.stop()
        opened, urlopen = [], urllib.request.urlopen
        monkeypatch.setattr(urllib.request, "urlopen", lambda url, timeout: opened.append(url) or urlopen(url, timeout=timeout))
        result = fetch_assets(tmp_path / "home")  # no network: stop at the first file that is not here
        assert result.status == {GOOD: "verified", TAMPERED: "missing", ABSENT: "missing"} and len(opened) == 1
        assert result.unreachable.startswith("127.0.0.1") and "unreachable" in result.unreachable
