#!/usr/bin/env python3
"""How far bf16 scores are from fp32 scores, on real images, outside CI.

Scores the same ELPV cells with `inctrl score --precision fp32` and `--precision bf16`
(release build) against one K-shot prompt set from train/good, and prints the largest and
median |Δscore|, the largest |Δ| of each component and of the residual map, the rank
agreement of the two score lists, and each precision's AUROC on the cells (test/good
normal, test/mono and test/poly defective).

    python tools/compare_precisions.py --model BUNDLE --elpv ROOT/elpv [--shots 8] [--per-split 30]

BUNDLE is any model bundle (a converted checkpoint, or `inctrl model demo --size full`:
random weights make the AUROC meaningless, but not the differences). ROOT/elpv is the tree
`tools/export_elpv.py --out ROOT` writes. Needs numpy and scikit-learn.
"""
import argparse
import json
import pathlib
import subprocess

import numpy as np
from sklearn.metrics import roc_auc_score

REPO = pathlib.Path(__file__).resolve().parent.parent
COMPONENTS = ("patch", "image", "text", "holistic")


def score(inctrl, model, precision, prompts, queries):
    command = [inctrl, "score", "--model", model, "--class-name", "solar_cell", "--precision", precision]
    for prompt in prompts:
        command += ["--prompt", str(prompt)]
    result = subprocess.run(command + [str(query) for query in queries], capture_output=True, text=True, check=True)
    rows = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    assert len(rows) == len(queries), result.stderr
    return rows


def ranks(values):
    order = np.argsort(values, kind="stable")
    ranked = np.empty(len(values))
    ranked[order] = np.arange(len(values))
    return ranked


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", required=True)
    parser.add_argument("--elpv", required=True, type=pathlib.Path)
    parser.add_argument("--shots", type=int, default=8)
    parser.add_argument("--per-split", type=int, default=30)
    parser.add_argument("--inctrl", default=None, help="the inctrl executable (default: build release)")
    args = parser.parse_args()

    inctrl = args.inctrl
    if inctrl is None:
        subprocess.run(["swift", "build", "-c", "release", "--product", "inctrl"], cwd=REPO, check=True,
                       stdout=subprocess.DEVNULL)
        binary = subprocess.run(["swift", "build", "-c", "release", "--show-bin-path"], cwd=REPO, check=True,
                                capture_output=True, text=True).stdout.strip()
        inctrl = str(pathlib.Path(binary) / "inctrl")

    prompts = sorted((args.elpv / "train" / "good").glob("*.png"))[: args.shots]
    queries, labels = [], []
    for split, anomalous in (("good", 0), ("mono", 1), ("poly", 1)):
        files = sorted((args.elpv / "test" / split).glob("*.png"))[: args.per_split]
        queries += files
        labels += [anomalous] * len(files)

    fp32 = score(inctrl, args.model, "fp32", prompts, queries)
    bf16 = score(inctrl, args.model, "bf16", prompts, queries)
    assert all(row["model"]["precision"] == "bf16" for row in bf16)

    exact = np.array([row["score"] for row in fp32])
    reduced = np.array([row["score"] for row in bf16])
    delta = np.abs(exact - reduced)
    print(f"{len(queries)} ELPV cells ({sum(labels)} defective), K = {args.shots}, model {fp32[0]['model']['name']}")
    print(f"|Δscore| bf16 vs fp32: max {delta.max():.2e}, median {np.median(delta):.2e} (scores span "
          f"{exact.min():.4f}…{exact.max():.4f})")
    for component in COMPONENTS:
        values = [abs(a["components"][component] - b["components"][component]) for a, b in zip(fp32, bf16)]
        print(f"  |Δ{component}| max {max(values):.2e}")
    maps = [np.abs(np.array(a["residual_map"]["values"]) - np.array(b["residual_map"]["values"])).max()
            for a, b in zip(fp32, bf16)]
    print(f"  |Δresidual map| max {max(maps):.2e}")
    spearman = np.corrcoef(ranks(exact), ranks(reduced))[0, 1]
    print(f"rank correlation of the scores (Spearman) {spearman:.5f}")
    print(f"AUROC fp32 {100 * roc_auc_score(labels, exact):.2f}, bf16 {100 * roc_auc_score(labels, reduced):.2f}")


if __name__ == "__main__":
    main()
