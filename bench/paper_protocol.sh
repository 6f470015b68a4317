#!/usr/bin/env bash
# The paper's imitation-learning protocol (SAM-G Table 3) on a GPU machine: demos collected on
# its CPU cores, then per task raw and oracle-masked policies with the paper's recipe
# (configs/bc/paper.toml: 80 epochs, lr 5e-5, batch 256), evaluated live in all five
# settings, and `samg eval compare --format paper` of the lot.
#   bench/paper_protocol.sh            on the device machine (carry .whl .gl as bench/gpu_check.sh);
#                                      tables under $OUT
#   bench/paper_protocol.sh --dry-run  tiny sizes on this machine's CPU, with the project's .venv
# Sizes come from the environment: TASKS (door), DEMOS (300), SEEDS ("0 1 2"), EVAL_EPISODES (100),
# WORKERS (the core count). Budget on one H200 with 16 cores, from docs/benchmarks.md's figures
# (BC 75,652 samples/s on the GPU; collection ~80 frames/s a core; evaluation ~60 env-steps/s a
# core): door's 300 demos ~4 min, one 80-epoch policy ~1-2 min, one policy's 500 evaluation
# episodes ~2 min. A 15-minute lease therefore holds door with one seed
# (SEEDS=0: ~12 min); three seeds or further tasks need further leases (stages resume).
set -euo pipefail
cd "$(dirname "$0")/.."
OUT="${OUT:-runs/paper_protocol}"
if [[ "${1:-}" == "--dry-run" ]]; then
    SAMG="${PYTHON:-.venv/bin/python} -m samg.cli"
    TASKS="${TASKS:-door}" DEMOS=6 SEEDS="0" EVAL_EPISODES=1 WORKERS=1
    SIZE=(--image-size 16) COLLECT_SETTINGS=(--settings train,video_hard) EVAL_SETTINGS=(--settings train,video_hard)
    TRAIN_LIMIT=(--max-steps 2 --accelerator cpu) DEVICE=cpu EXPERT=(--keep-failures --expert "${EXPERT_FILE:?--dry-run needs EXPERT_FILE}")
    export SAMG_ALLOW_MISSING_ASSETS=1
else
    for f in .gl/*.deb; do dpkg -x "$f" /; done
    ldconfig
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl
    export PYTHONPATH="$PWD:/tmp/site" PYTHONUNBUFFERED=1 MUJOCO_GL=egl PYOPENGL_PLATFORM=egl
    SAMG="python3 -m samg.cli"
    TASKS="${TASKS:-door}" DEMOS="${DEMOS:-300}" SEEDS="${SEEDS:-0 1 2}" EVAL_EPISODES="${EVAL_EPISODES:-100}"
    WORKERS="${WORKERS:-$(nproc)}" SIZE=() COLLECT_SETTINGS=() EVAL_SETTINGS=() TRAIN_LIMIT=(--accelerator gpu) DEVICE=cuda EXPERT=()
fi
mkdir -p "$OUT"
runs=()
for task in $TASKS; do
    store="$OUT/$task.zarr"
    start=$SECONDS
    $SAMG collect "$task" --episodes "$DEMOS" --out "$store" --workers "$WORKERS" "${SIZE[@]}" "${COLLECT_SETTINGS[@]}" "${EXPERT[@]}"
    echo "| $task | collect $DEMOS demos | $((SECONDS - start)) s |" >> "$OUT/times.md"
    for seed in $SEEDS; do
        for obs in raw masked; do
            run="$OUT/${task}_${obs}_s$seed"
            start=$SECONDS
            [[ -f "$run/training.json" ]] || $SAMG bc train --data "$store" --obs "$obs" --preset paper --seed "$seed" --out "$run" "${TRAIN_LIMIT[@]}"
            [[ -f "$run/eval/eval_info.json" ]] || $SAMG eval "$run" --episodes "$EVAL_EPISODES" --workers "$WORKERS" --envs 4 --device "$DEVICE" --videos 0 "${EVAL_SETTINGS[@]}"
            echo "| $task | $obs seed $seed: train + eval | $((SECONDS - start)) s |" >> "$OUT/times.md"
            runs+=("$run")
        done
    done
done
$SAMG eval compare "${runs[@]}" --format paper --out "$OUT/table3.md" --overwrite
cat "$OUT/table3.md" "$OUT/times.md"
