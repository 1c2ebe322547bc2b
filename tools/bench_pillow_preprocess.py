#!/usr/bin/env python3
"""Times the reference pre-processing (Pillow decode + torchvision Resize(240, BICUBIC),
CenterCrop(240), convert("RGB"), ToTensor, Normalize) on image files, the yardstick for the
Imaging module's `imaging-bench`. With --swift it also runs imaging-bench on the same files
in the same session and prints both with the ratio.

Usage:
  python tools/bench_pillow_preprocess.py [--iterations N] [--swift PATH/TO/imaging-bench] FILE...

Both sides start from the encoded bytes in memory, decode at full size, run single-threaded
and report the median of N runs after 3 warm-up runs. The machine may be shared: run it
more than once and read the numbers as a ratio rather than absolute times.
"""
from __future__ import annotations

import argparse
import io
import json
import statistics
import subprocess
import time
from pathlib import Path

import torch
from PIL import Image
from torchvision import transforms
from torchvision.transforms import InterpolationMode

CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)

PIPELINE = transforms.Compose([
    transforms.Resize(240, interpolation=InterpolationMode.BICUBIC),
    transforms.CenterCrop(240),
    lambda image: image.convert("RGB"),
    transforms.ToTensor(),
    transforms.Normalize(CLIP_MEAN, CLIP_STD),
])


def time_pillow(data: bytes, iterations: int) -> dict:
    decode_ms, preprocess_ms, total_ms = [], [], []
    for iteration in range(iterations + 3):
        start = time.perf_counter()
        image = Image.open(io.BytesIO(data))
        image.load()
        decoded = time.perf_counter()
        tensor = PIPELINE(image)
        end = time.perf_counter()
        assert tensor.shape == (3, 240, 240)
        if iteration >= 3:
            decode_ms.append((decoded - start) * 1e3)
            preprocess_ms.append((end - decoded) * 1e3)
            total_ms.append((end - start) * 1e3)
    return {
        "decode_ms": statistics.median(decode_ms),
        "preprocess_ms": statistics.median(preprocess_ms),
        "total_ms": statistics.median(total_ms),
        "total_min_ms": min(total_ms),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("files", nargs="+", type=Path)
    parser.add_argument("--iterations", type=int, default=200)
    parser.add_argument("--swift", type=Path, help="path to a release build of imaging-bench")
    arguments = parser.parse_args()
    torch.set_num_threads(1)

    swift_results = {}
    if arguments.swift:
        output = subprocess.run(
            [str(arguments.swift), "--json", "--iterations", str(arguments.iterations)]
            + [str(path) for path in arguments.files],
            check=True, capture_output=True, text=True).stdout
        for line in output.splitlines():
            result = json.loads(line)
            swift_results[result["file"]] = result

    print(f"{'file':44} {'side':8} {'decode':>9} {'pre-proc':>9} {'total':>9} {'min':>9}")
    for path in arguments.files:
        pillow = time_pillow(path.read_bytes(), arguments.iterations)
        rows = [("pillow", pillow)]
        ours = swift_results.get(str(path))
        if ours:
            rows.append(("swift", ours))
        for side, result in rows:
            print(f"{path.name:44} {side:8} {result['decode_ms']:8.3f}m {result['preprocess_ms']:8.3f}m "
                  f"{result['total_ms']:8.3f}m {result['total_min_ms']:8.3f}m")
        if ours:
            print(f"{'':44} {'ratio':8} pillow/swift = {pillow['total_ms'] / ours['total_ms']:.2f}x "
                  f"(median), {pillow['total_min_ms'] / ours['total_min_ms']:.2f}x (min)")


if __name__ == "__main__":
    main()
