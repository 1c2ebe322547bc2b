#!/usr/bin/env python3
"""The PyTorch yardstick for `inctrl bench`: OpenCLIP's vision forward of
ViT-B-16-plus-240 on one 240 px image, random weights, 2 threads, inference mode; in fp32,
or with `--precision bf16` under CPU autocast to bfloat16 (PyTorch's own mixed precision:
linear layers in bf16 through oneDNN, AMX where the CPU has it).

Prints min / median / p95 latency like `inctrl bench`, and a last line `median_s=…`.
"""
import argparse
import math
import time

import open_clip
import torch


def percentile(sorted_values, fraction):
    """Nearest-rank quantile, the definition `inctrl bench` uses."""
    rank = max(0, min(len(sorted_values) - 1, math.ceil(fraction * len(sorted_values)) - 1))
    return sorted_values[rank]


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--iterations", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--precision", choices=["fp32", "bf16"], default="fp32")
    args = parser.parse_args()

    torch.manual_seed(0)
    torch.set_num_threads(args.threads)
    model = open_clip.create_model("ViT-B-16-plus-240", pretrained=None).eval()
    image = torch.randn(1, 3, 240, 240)

    autocast = torch.autocast("cpu", dtype=torch.bfloat16, enabled=args.precision == "bf16")
    with torch.inference_mode(), autocast:
        for _ in range(args.warmup):
            model.encode_image(image)
        seconds = []
        for _ in range(args.iterations):
            start = time.perf_counter()
            model.encode_image(image)
            seconds.append(time.perf_counter() - start)
    seconds.sort()
    median = percentile(seconds, 0.5)
    print(f"PyTorch {torch.__version__} / open_clip {open_clip.__version__}, {args.threads} threads, {args.precision}")
    print(f"vision forward, one 240 px image, {args.iterations} iterations after {args.warmup} warm-up:")
    print(f"  min {seconds[0]:.4f} s, median {median:.4f} s, p95 {percentile(seconds, 0.95):.4f} s")
    print(f"median_s={median:.5f}")


if __name__ == "__main__":
    main()
