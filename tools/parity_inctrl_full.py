#!/usr/bin/env python3
"""Full-size InCTRL parity of `inctrl score` with the PyTorch reference, outside CI.

Builds InCTRL on ViT-B-16-plus-240 with random weights (LayerNorm and BatchNorm affine
parameters, biases and BatchNorm running statistics all away from their defaults), saves
it as the released training script does (`torch.save({"epoch", "model_state", "cfg"})`,
about 835 MB, into --work), and scores real ELPV cells with it: K = 2 and K = 8 prompt sets
from train/good, and the first --queries-per-split cells of test/good, test/mono and
test/poly. Images go through the reference's transform (torchvision Resize(240, bicubic),
CenterCrop(240), RGB, ToTensor, Normalize). The reference scores come from the batched
form of the released algorithm (tools/bench_torch_inctrl.py), checked against the
released per-patch loop on --released-check queries.

Then it converts the checkpoint with `inctrl model convert` and runs `inctrl score`
(release build) on the same files, which decodes and pre-processes them itself, and prints
the max |Δscore|, |Δcomponent| and |Δmap| per K.

    python tools/parity_inctrl_full.py --elpv ROOT/elpv [--work DIR] [--inctrl BIN]

ROOT/elpv is the tree `tools/export_elpv.py --out ROOT` writes. Needs torch, torchvision,
open_clip_torch; the vocabulary comes from --vocab, $INCTRL_VOCAB or
.cache/bpe_simple_vocab_16e6.txt.gz.
"""
import argparse
import json
import os
import pathlib
import subprocess
import sys
import tempfile

import torch

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import bench_torch_inctrl as reference  # noqa: E402

REPO = reference.REPO
COMPONENTS = ("patch", "image", "text", "holistic")


def build_inctrl(scratch_path):
    command = ["swift", "build", "-c", "release", "--product", "inctrl"]
    if scratch_path:
        command[2:2] = ["--scratch-path", scratch_path]
    subprocess.run(command, cwd=REPO, check=True, stdout=subprocess.DEVNULL)
    bin_path = subprocess.run(command[:-2] + ["--show-bin-path"], cwd=REPO, check=True, capture_output=True, text=True)
    return pathlib.Path(bin_path.stdout.strip()) / "inctrl"


def reference_results(model, prompts, queries, class_name, released_check):
    """{K: [(score, {component: value}, map)]} from the batched reference."""
    images = {path: reference.preprocess(path) for path in set(prompts) | set(queries)}
    results = {}
    with torch.inference_mode():
        for shots in (2, 8):
            normals = [images[path] for path in prompts[:shots]]
            prompt_set = reference.CachedPromptSet(model, normals, class_name)
            rows = []
            for index, query in enumerate(queries):
                batched = reference.cached_forward(model, images[query], prompt_set)
                if index < released_check:
                    released = reference.released_forward(model, images[query], normals, class_name)
                    gap = max(abs(float(a) - float(b)) if a.dim() == 0 else float((a - b).abs().max())
                              for a, b in zip(batched, released))
                    print(f"reference K={shots} {query.name}: batched vs released loop, max |Δ| {gap:.2e}")
                score, image, residual_map, patch, text, holistic = batched
                rows.append((float(score), {"patch": float(patch), "image": float(image), "text": float(text),
                                            "holistic": float(holistic)}, residual_map.tolist()))
            results[shots] = rows
    return results


def ours(inctrl, bundle, prompts, queries, class_name):
    command = [str(inctrl), "score", "--model", str(bundle), "--class-name", class_name]
    for path in prompts:
        command += ["--prompt", str(path)]
    output = subprocess.run(command + [str(path) for path in queries], check=True, capture_output=True, text=True)
    rows = []
    for line in output.stdout.splitlines():
        response = json.loads(line)
        residual_map = response.get("residual_map") or response["residualMap"]
        rows.append((response["score"], response["components"], residual_map["values"]))
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--elpv", required=True, type=pathlib.Path, help="ELPV tree with train/good and test/{good,mono,poly}")
    parser.add_argument("--work", type=pathlib.Path, default=pathlib.Path(tempfile.gettempdir()) / "inctrl-parity-full",
                        help="where the checkpoint and the converted bundle go (about 1.7 GB)")
    parser.add_argument("--queries-per-split", type=int, default=2)
    parser.add_argument("--class-name", default="solar_cell")
    parser.add_argument("--released-check", type=int, default=1, help="queries also run through the released per-patch loop")
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--vocab", type=pathlib.Path,
                        default=pathlib.Path(os.environ.get("INCTRL_VOCAB", REPO / ".cache" / "bpe_simple_vocab_16e6.txt.gz")))
    parser.add_argument("--inctrl", type=pathlib.Path, help="the inctrl binary (default: a release build of this checkout)")
    parser.add_argument("--scratch-path", help="SwiftPM scratch path for that build")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    prompts = sorted((args.elpv / "train" / "good").glob("*.png"))[:8]
    queries = [path for split in ("good", "mono", "poly")
               for path in sorted((args.elpv / "test" / split).glob("*.png"))[:args.queries_per_split]]
    if len(prompts) < 8 or not queries:
        sys.exit(f"{args.elpv} needs 8 cells in train/good and cells in test/good, test/mono, test/poly")

    args.work.mkdir(parents=True, exist_ok=True)
    checkpoint = args.work / "inctrl-full-random.pyth"
    model = reference.build_model(args.seed)
    torch.save({"epoch": 0, "model_state": model.state_dict(), "cfg": "MODEL:\n  NAME: ViT-B-16-plus-240\n"}, checkpoint)
    print(f"wrote {checkpoint} ({checkpoint.stat().st_size / 2**20:.0f} MiB)")
    expected = reference_results(model, prompts, queries, args.class_name, args.released_check)
    del model

    inctrl = args.inctrl or build_inctrl(args.scratch_path)
    bundle = args.work / "bundle"
    subprocess.run([str(inctrl), "model", "convert", "--checkpoint", str(checkpoint), "--vocab", str(args.vocab),
                    "--out", str(bundle)], check=True, stdout=subprocess.DEVNULL)

    worst = 0.0
    for shots, reference_rows in expected.items():
        actual_rows = ours(inctrl, bundle, prompts[:shots], queries, args.class_name)
        score_gap = max(abs(a[0] - e[0]) for a, e in zip(actual_rows, reference_rows))
        map_gap = max(abs(x - y) for a, e in zip(actual_rows, reference_rows) for x, y in zip(a[2], e[2]))
        component_gaps = {name: max(abs(a[1][name] - e[1][name]) for a, e in zip(actual_rows, reference_rows))
                          for name in COMPONENTS}
        print(f"K={shots}, {len(queries)} queries: max |Δscore| {score_gap:.2e}, max |Δmap| {map_gap:.2e}, "
              + ", ".join(f"|Δ{name}| {gap:.2e}" for name, gap in component_gaps.items()))
        for path, a, e in zip(queries, actual_rows, reference_rows):
            print(f"  {path.parent.name}/{path.name}: score ours {a[0]:.6f} reference {e[0]:.6f}; "
                  + ", ".join(f"{name} {a[1][name]:.6f}/{e[1][name]:.6f}" for name in COMPONENTS))
        worst = max(worst, score_gap, map_gap)
    print(f"max_abs_delta={worst:.3e}")


if __name__ == "__main__":
    main()
