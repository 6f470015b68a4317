"""The pinned benchmark files and the named groups the visual settings draw from."""

import csv
import hashlib
from dataclasses import dataclass
from importlib import resources

BENCHMARK_NAME = "rl-vigen-adroit+dmcgb"
RAW_URL = "https://raw.githubusercontent.com/{repository}/{commit}/{path}"


@dataclass(frozen=True)
class AssetFile:
    """One pinned file. `sha256`/`size` are None where only the git blob id is known."""

    name: str  # path under $SAMG_HOME/benchmark, e.g. "dmcgb/color_easy.pt"
    repository: str
    commit: str
    path: str
    git_blob_sha1: str
    size: int | None
    sha256: str | None

    @property
    def url(self) -> str:
        return RAW_URL.format(repository=self.repository, commit=self.commit, path=self.path)

    def matches(self, data: bytes) -> bool:
        """The content is the pinned one: sha256 when known, else the git blob id."""
        if self.sha256 is not None:
            return len(data) == self.size and hashlib.sha256(data).hexdigest() == self.sha256
        return git_blob_sha1(data) == self.git_blob_sha1


def git_blob_sha1(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def _load_manifest() -> dict[str, AssetFile]:
    text = resources.files("samg.benchmark").joinpath("manifest.tsv").read_text()
    files = {}
    for row in csv.DictReader(text.splitlines(), delimiter="\t"):
        files[row["file"]] = AssetFile(
            name=row["file"],
            repository=row["repository"],
            commit=row["commit"],
            path=row["path"],
            git_blob_sha1=row["git_blob_sha1"],
            size=int(row["bytes"]) if row["bytes"] else None,
            sha256=row["sha256"] or None,
        )
    return files


MANIFEST: dict[str, AssetFile] = _load_manifest()

# Colour presets (100 per level; RL-ViGen's Adroit copies are byte-identical to DMC-GB's).
COLOR_PRESETS = {"easy": "dmcgb/color_easy.pt", "hard": "dmcgb/color_hard.pt"}

# RL-ViGen's table textures, `table_easy0-9` / `table_hard0-9` in its DAPG_assets_template.xml.
_TEXTURES = "rl-vigen-adroit/textures/"
TABLE_TEXTURES = {
    "easy": tuple(
        _TEXTURES + f"{name}.png"
        for name in ("marble2", "metal2", "metal1", "skin", "light_wood_v2", "wood1", "woodb", "floor1", "granite", "metal")
    ),
    "hard": tuple(
        _TEXTURES + f"{name}.png"
        for name in ("city1", "city2", "city3", "foil", "silverRaw", "square", "darkwood", "brick1", "tennis", "wood4")
    ),
}

# Clips. RL-ViGen's Adroit easy set: its own clips 0-2, then DMC-GB's easy clips 3-9
# (byte-identical); its hard set: DMC-GB's hard clips 0-15. DMC-GB: 10 easy, 100 hard.
ADROIT_CLIPS = {
    "easy": tuple(f"rl-vigen-adroit/video_easy/video{i}.mp4" for i in range(3))
    + tuple(f"dmcgb/video_easy/video{i}.mp4" for i in range(3, 10)),
    "hard": tuple(f"dmcgb/video_hard/video{i}.mp4" for i in range(16)),
}
DMC_CLIPS = {
    "easy": tuple(f"dmcgb/video_easy/video{i}.mp4" for i in range(10)),
    "hard": tuple(f"dmcgb/video_hard/video{i}.mp4" for i in range(100)),
}


# SAM-G's own Adroit prompts (branch `adroit`): per task one training frame, the masked
# JPEG of the whole target and one per part, as `src/cfgs_adroit/pieg_config.yaml` names them.
_REFERENCES = "sam-g-adroit/reference_images/"
SAMG_REFERENCE_IMAGES = {
    task: {
        "image": f"{_REFERENCES}{stem}_0.png",
        "target": f"{_REFERENCES}{stem}_masked_0.jpg",
        "parts": (f"{_REFERENCES}{stem}_masked_0_1.jpg", f"{_REFERENCES}{stem}_masked_0_2.jpg"),
    }
    for task, stem in (("door", "door"), ("hammer", "hammer"), ("pen", "pen_160"))
}
SAMG_CONFIG = "sam-g-adroit/pieg_config.yaml"


def _check_groups() -> None:
    groups = [*COLOR_PRESETS.values(), *TABLE_TEXTURES["easy"], *TABLE_TEXTURES["hard"], SAMG_CONFIG]
    groups += [name for files in SAMG_REFERENCE_IMAGES.values() for name in (files["image"], files["target"], *files["parts"])]
    groups += [*ADROIT_CLIPS["easy"], *ADROIT_CLIPS["hard"], *DMC_CLIPS["easy"], *DMC_CLIPS["hard"]]
    unknown = sorted(set(groups) - set(MANIFEST))
    if unknown:
        raise RuntimeError(f"benchmark groups name files missing from manifest.tsv: {unknown}")


_check_groups()
