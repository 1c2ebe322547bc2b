#!/usr/bin/env python3
"""Exports the ELPV solar-cell images (PyPI package `elpv-dataset`) as an MVTec-style tree
for `inctrl eval`:

    ROOT/elpv/train/good/*.png   75 % of the defect-free cells (random_state=42)
    ROOT/elpv/test/good/*.png    the other 25 %
    ROOT/elpv/test/mono/*.png    defective monocrystalline cells
    ROOT/elpv/test/poly/*.png    defective polycrystalline cells

    python tools/export_elpv.py --out ROOT [--min-defect-probability P]

A cell is defective when its defect probability is >= P (default: any probability above 0).
InCTRL's own conversion script keeps only cells with probability 1 (`-P 1`) and drops the
uncertain ones; both splits put every defective cell in test. Needs numpy, scikit-learn and
elpv-dataset; files are copied byte for byte.
"""
import argparse
import os
import pathlib
import shutil

import numpy as np
from sklearn.model_selection import train_test_split


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", required=True, type=pathlib.Path)
    parser.add_argument("--min-defect-probability", type=float, default=None,
                        help="defective when probability >= this (default: > 0)")
    args = parser.parse_args()

    import elpv_dataset
    labels = pathlib.Path(elpv_dataset.__file__).parent / "data" / "labels.csv"
    data = np.genfromtxt(labels, dtype=["|S19", "<f8", "|S4"], names=["path", "probability", "type"])
    names = np.char.decode(data["path"])
    probabilities = data["probability"]
    types = np.char.decode(data["type"])

    normal = probabilities == 0
    if args.min_defect_probability is None:
        defective = probabilities > 0
    else:
        defective = probabilities >= args.min_defect_probability
    train, test, _, _ = train_test_split(names[normal], probabilities[normal], test_size=0.25, random_state=42)

    root = args.out / "elpv"
    groups = {
        "train/good": train,
        "test/good": test,
        "test/mono": names[defective & (types == "mono")],
        "test/poly": names[defective & (types == "poly")],
    }
    for folder, files in groups.items():
        target = root / folder
        target.mkdir(parents=True, exist_ok=True)
        for name in files:
            shutil.copyfile(labels.parent / name, target / os.path.basename(name))
        print(f"{folder}: {len(files)} images")


if __name__ == "__main__":
    main()
