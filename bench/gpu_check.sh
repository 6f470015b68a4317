#!/usr/bin/env bash
# One prepared GPU check: installs what the device machine lacks from carried wheels, then
# bench/gpu_check.py writes its Markdown table to $OUT/gpu_check.md (or stdout) and
# bench/gpu_profile.py its stage tables (SAM-G batch 64 bf16, DrQ-v2 batch 256) to $OUT/gpu_profile.md.
#   bench/gpu_check.sh            on the device machine (carry: .whl .gl), under 8 minutes on an H200
#   bench/gpu_check.sh --dry-run  tiny sizes on this machine's CPU, with the project's .venv
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ "${1:-}" == "--dry-run" ]]; then
    "${PYTHON:-.venv/bin/python}" bench/gpu_profile.py --tiny >&2  # its tables, apart from the check's
    exec "${PYTHON:-.venv/bin/python}" bench/gpu_check.py --dry-run
fi
# The device README's lines: GL libraries unpacked over /, wheels into /tmp/site, no deps
# (the image's torch stays), the project by PYTHONPATH.
for f in .gl/*.deb; do dpkg -x "$f" /; done
ldconfig
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl
export PYTHONPATH="$PWD:/tmp/site" PYTHONUNBUFFERED=1 MUJOCO_GL=egl PYOPENGL_PLATFORM=egl
if [[ ! -e /usr/share/glvnd/egl_vendor.d/10_nvidia.json && -e /usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json ]]; then
    export __EGL_VENDOR_LIBRARY_FILENAMES=/usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json
fi
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
python3 -c "import samg, zarr, dask, mujoco, gymnasium_robotics, segment_anything, efficientsam; print('imports ok')" || true
python3 bench/gpu_profile.py --batch 64 --dtype bf16 --out "${OUT:-.}/gpu_profile.md"
python3 bench/gpu_check.py --out "${OUT:-.}/gpu_check.md"
