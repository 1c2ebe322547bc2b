#!/usr/bin/env python3
"""Writes Tests/Fixtures/metrics/cases.json: score/label lists (ties included) with
scikit-learn's roc_auc_score and average_precision_score, for DetectionMetrics' tests.

    python tools/make_metrics_fixtures.py      # needs numpy and scikit-learn
"""
import json
import pathlib

import numpy as np
from sklearn.metrics import average_precision_score, roc_auc_score

OUT = pathlib.Path(__file__).resolve().parent.parent / "Tests" / "Fixtures" / "metrics" / "cases.json"


def case(name, scores, labels):
    scores = np.asarray(scores, dtype=np.float32)
    labels = np.asarray(labels, dtype=bool)
    return {
        "name": name,
        "scores": [float(s) for s in scores],
        "labels": [bool(l) for l in labels],
        "auroc": float(roc_auc_score(labels, scores)),
        "average_precision": float(average_precision_score(labels, scores)),
    }


def main():
    rng = np.random.default_rng(42)
    cases = [
        case("separable", [0.1, 0.2, 0.3, 0.8, 0.9], [0, 0, 0, 1, 1]),
        case("inverted", [0.9, 0.8, 0.1, 0.2], [0, 0, 1, 1]),
        case("all tied", [0.5] * 6, [0, 1, 0, 1, 1, 0]),
        case("ties across classes", [0.1, 0.4, 0.4, 0.4, 0.7, 0.7, 0.2, 0.9], [0, 0, 1, 1, 0, 1, 0, 1]),
        case("one positive", [0.3, 0.1, 0.2, 0.25], [0, 0, 0, 1]),
    ]
    scores = rng.random(300).round(2)  # two decimals: many ties
    labels = rng.random(300) < 0.3 + 0.4 * scores
    cases.append(case("random 300 with ties", scores, labels))
    scores = rng.normal(size=1000)
    labels = rng.random(1000) < 1 / (1 + np.exp(-2 * scores))
    cases.append(case("random 1000", scores, labels))
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(cases, indent=1) + "\n")


if __name__ == "__main__":
    main()
