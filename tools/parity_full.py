#!/usr/bin/env python3
"""Full-size parity of the Swift CLIP towers with OpenCLIP, outside CI.

Writes a ViT-B-16-plus-240 bundle with random fp32 weights (every parameter randomised,
LayerNorms included) and OpenCLIP's outputs on 2 images at 240 px and 5 prompts into DIR
(default .cache/parity-full, about 0.8 GB), then runs the Swift side: the CLIPTests suite
`FullSizeParityTests`, which only runs when INCTRL_FULL_PARITY_DIR names such a directory.
It prints, per image, the max abs difference of the pooled embedding and of each tap (and
of the text embeddings), and fails above 1e-4 relative to the tensor's largest magnitude.

With `--precision bf16` it also writes DIR/reference-bf16.safetensors, the same towers with
every matmul's operands rounded to bf16 and fp32 sums, the vision tower's attention
products included (tools/make_bf16_reference.py), and
the suite loads the Swift towers in bf16 (INCTRL_FULL_PARITY_PRECISION=bf16) and compares
them with that emulation and with the fp32 reference. `--skip-write` reuses the bundle and
an existing bf16 reference; `--order-spread` also prints how far exactly rounded sums move
the emulation (the closest any implementation of the scheme can be asked to match).

    python tools/parity_full.py [--out DIR] [--seed N] [--skip-write] [--precision fp32|bf16] [--order-spread]
"""
import argparse
import os
import pathlib
import subprocess
import sys

import torch

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import make_bf16_reference  # noqa: E402
import make_clip_fixtures  # noqa: E402

REPO = make_clip_fixtures.REPO


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=pathlib.Path, default=REPO / ".cache" / "parity-full")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--skip-write", action="store_true", help="reuse the bundle already in --out")
    parser.add_argument("--scratch-path", default=None, help="SwiftPM scratch path for the release build")
    parser.add_argument("--precision", choices=("fp32", "bf16"), default="fp32", help="the Swift towers' precision")
    parser.add_argument("--order-spread", action="store_true",
                        help="with bf16: print how far exactly rounded sums move the emulated reference")
    args = parser.parse_args()

    torch.set_num_threads(2)
    if not args.skip_write:
        make_clip_fixtures.write_fixture("full", args.out, args.seed, image_count=2, store_half=False)
        print(f"wrote the full-size bundle and OpenCLIP reference to {args.out}")
    bf16_reference = args.out / "reference-bf16.safetensors"
    if args.precision == "bf16" and not (args.skip_write and bf16_reference.exists()):
        make_bf16_reference.write_reference(args.out, args.order_spread)

    command = ["swift", "test", "-c", "release", "-Xswiftc", "-enable-testing", "--filter", "FullSizeParityTests"]
    if args.scratch_path:
        command[2:2] = ["--scratch-path", args.scratch_path]
    environment = dict(
        os.environ, INCTRL_FULL_PARITY_DIR=str(args.out.resolve()), INCTRL_FULL_PARITY_PRECISION=args.precision)
    result = subprocess.run(command, cwd=REPO, env=environment, capture_output=True, text=True)
    lines = (result.stdout + result.stderr).splitlines()
    for line in lines:
        if "full-size parity" in line or "✘" in line or "error:" in line:
            print(line)
    if result.returncode != 0:
        print("\n".join(lines[-40:]))
    sys.exit(result.returncode)


if __name__ == "__main__":
    main()
