"""What `samg segment` adds to the bare segmenter: frames/s of both on the same frames.

    python bench/segment_pipeline.py STORE [--setting video_hard] [--episodes 1] [--tiny]

Bare: the frames of the first EPISODES episodes read into memory, then `segmenter.segment`.
Pipeline: `segment_store` on the same blocks (Dask threads scheduler, one worker: read,
segment, quality counts, write), into a mask set named `bench` that is removed after.
SAM-G with the paper's backends (EfficientViT-SAM L1 + DINOv2 ViT-B/14), random weights
(full size by default, `--tiny` for a quick run), CPU float32. The segmenter is built
before either clock starts.
"""

import argparse
import os
import platform
import shutil
import time
from pathlib import Path

import torch

from samg.pipeline.segment import SegmentConfig, segment_store, worker_segmenter
from samg.pipeline.store import DemoStore
from samg.segmenter.factory import SegmenterConfig


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("store", type=Path)
    parser.add_argument("--setting", default="video_hard")
    parser.add_argument("--episodes", type=int, default=1, help="episodes from the first one")
    parser.add_argument("--tiny", action="store_true", help="tiny architectures instead of full size")
    args = parser.parse_args()

    store = DemoStore(args.store)
    steps = args.episodes * store.plan.episode_length
    config = SegmenterConfig(kind="samg", random_weights=True, tiny=args.tiny, adapt=False)
    segmenter = worker_segmenter(store.plan.task, config)
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads; {'tiny' if args.tiny else 'full-size'} "
          f"{config.sam} + {config.dino}; {steps} frames of {args.setting}, {store.plan.image_size}px")

    frames = store.array(f"images/{args.setting}/rgb")[:steps]
    start = time.perf_counter()
    segmenter.segment(frames)
    bare = time.perf_counter() - start

    job = SegmentConfig(store.path, config, name="bench", settings=(args.setting,),
                        episodes=(0, args.episodes), overwrite=True)  # fmt: skip
    start = time.perf_counter()
    segment_store(job)
    pipeline = time.perf_counter() - start
    shutil.rmtree(store.path / "masks" / "bench")

    print("| path | frames | s | frames/s |")
    print("|---|---|---|---|")
    print(f"| bare segmenter | {steps} | {bare:.1f} | {steps / bare:.3f} |")
    print(f"| samg segment pipeline | {steps} | {pipeline:.1f} | {steps / pipeline:.3f} |")
    print(f"pipeline / bare throughput: {bare / pipeline:.3f}")


if __name__ == "__main__":
    main()
