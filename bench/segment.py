"""SAM-G cost per frame: the batched segmenter against the per-frame reference.

    python bench/segment.py [--sam efficientvit-l1] [--dino dinov2-vitb14] [--frames 8] [--batch 8]

Full-size architectures with random weights (the cost does not depend on the values),
84x84 door frames, CPU float32. "Encoders" is the SAM image encoder plus DINOv2; "rest"
is everything else: similarity maps, prompts, the three decoder rounds, upsampling.
"""

import argparse
import os
import platform
import time

import samg.envs  # noqa: F401  (GL set-up first)
import numpy as np
import torch

from samg.envs import FrameRenderer, make_env
from samg.segmenter.backends import build_backend
from samg.segmenter.method import SamgSegmenter
from samg.segmenter.prompts import load_prompt
from samg.segmenter.reference import reference_segment


def door_frames(count: int) -> np.ndarray:
    env = make_env("door")
    with FrameRenderer(env.task, env.model) as renderer:
        frames = [renderer.render(env.reset(seed).sim_state, "video_hard", seed, 0) for seed in range(count)]
    env.close()
    return np.stack(frames)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sam", default="efficientvit-l1")
    parser.add_argument("--dino", default="dinov2-vitb14")
    parser.add_argument("--frames", type=int, default=8)
    parser.add_argument("--batch", type=int, default=8, help="frames per segment() call")
    parser.add_argument("--chunk", type=int, default=None, help="frames per pass (default: 1 on CPU)")
    args = parser.parse_args()
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads; {args.sam} + {args.dino}, {args.frames} frames 84x84, fp32")
    frames = door_frames(args.frames)
    sam, dino = build_backend(args.sam), build_backend(args.dino)
    segmenter = SamgSegmenter(load_prompt("door"), sam, dino, chunk=args.chunk)
    segmenter.segment(frames[:1])  # warm-up

    start = time.perf_counter()
    encode = decode = 0.0
    for at in range(0, len(frames), args.batch):
        result = segmenter.segment(frames[at : at + args.batch])
        encode += sum(d["encode_s"] for d in result.diagnostics)
        decode += sum(d["decode_s"] for d in result.diagnostics)
    batched = (time.perf_counter() - start) / len(frames)
    batched_rest = batched - encode / len(frames)

    start = time.perf_counter()
    reference = reference_segment(segmenter, frames)
    reference_total = (time.perf_counter() - start) / len(frames)
    reference_encode = sum(d["encode_s"] for d in reference.diagnostics) / len(frames)

    print("| path | s/frame | encoders s/frame | rest s/frame | rest share |")
    print("|---|---|---|---|---|")
    print(f"| batched (chunk {args.chunk or 1}) | {batched:.3f} | {encode / len(frames):.3f} | {batched_rest:.3f} | "
          f"{batched_rest / batched:.1%} |")
    rest = reference_total - reference_encode
    print(f"| per-frame reference | {reference_total:.3f} | {reference_encode:.3f} | {rest:.3f} | "
          f"{rest / reference_total:.1%} |")
    print(f"reference / batched time: {reference_total / batched:.2f}")


if __name__ == "__main__":
    main()
