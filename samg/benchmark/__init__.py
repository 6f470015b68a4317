"""The paper's benchmark files: RL-ViGen's Adroit settings and DMC-GB's.

Pinned in `manifest.tsv` (repository, commit, path, size, git blob id, sha256), kept in
`$SAMG_HOME/benchmark`, verified on every load. See `samg assets --help`.
"""

from samg.benchmark.assets import BenchmarkAssets, MissingAssetsError, benchmark_assets
from samg.benchmark.manifest import MANIFEST, AssetFile

__all__ = ["MANIFEST", "AssetFile", "BenchmarkAssets", "MissingAssetsError", "benchmark_assets"]
