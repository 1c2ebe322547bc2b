#!/usr/bin/env python3
"""Writes Tests/Fixtures/prometheus/: a scenario of metric updates (scenario.json) and the
text exposition that the official Python client renders for it (reference.txt), so the
Swift registry's output can be checked, sample by sample, against the reference client.

    /path/to/python tools/make_prometheus_fixtures.py      # needs prometheus-client
"""
import importlib.metadata
import json
import pathlib

import prometheus_client
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

OUT = pathlib.Path(__file__).resolve().parent.parent / "Tests" / "Fixtures" / "prometheus"

# Label values and help text that need every escape the format has.
AWKWARD = 'quote " backslash \\ newline \n end'

SCENARIO = [
    {
        "type": "counter", "name": "demo_requests_total",
        "help": "Requests answered.\nSecond line with a backslash \\ and \"quotes\".",
        "labels": ["route", "method", "status"],
        "operations": [
            {"labels": ["/score", "POST", "200"], "inc": 1},
            {"labels": ["/score", "POST", "200"], "inc": 1},
            {"labels": ["/prompts/{id}", "GET", "404"], "inc": 1},
            {"labels": [AWKWARD, "GET", "200"], "inc": 2.5},
            {"labels": ["/big", "GET", "200"], "inc": 2 ** 60},
            {"labels": ["", "GET", "500"], "inc": 0},
        ],
    },
    {
        "type": "counter", "name": "demo_unlabelled_total", "help": "Never incremented.",
        "labels": [], "operations": [],
    },
    {
        "type": "gauge", "name": "demo_queue_depth", "help": "Waiting requests.",
        "labels": [],
        "operations": [{"labels": [], "set": 7}, {"labels": [], "inc": -2.25}],
    },
    {
        "type": "gauge", "name": "demo_extremes", "help": "Values with special spellings.",
        "labels": ["kind"],
        "operations": [
            {"labels": ["infinite"], "set": "+Inf"},
            {"labels": ["negative_infinite"], "set": "-Inf"},
            {"labels": ["not_a_number"], "set": "NaN"},
            {"labels": ["tiny"], "set": 1e-7},
            {"labels": ["huge"], "set": 1.5e300},
            {"labels": ["negative"], "set": -42},
            {"labels": ["fraction"], "set": 0.1},
        ],
    },
    {
        "type": "histogram", "name": "demo_latency_seconds", "help": "Request latency.",
        "labels": ["route"], "buckets": [0.005, 0.01, 0.1, 1, 2.5, 10],
        "operations": [
            {"labels": ["/score"], "observe": v}
            for v in [0.001, 0.005, 0.0051, 0.01, 0.05, 0.5, 1, 2.5, 9.99, 10, 12, 600, 0]
        ] + [{"labels": ["/healthz"], "observe": 0.0002}],
    },
    {
        "type": "histogram", "name": "demo_wait_seconds", "help": "Unlabelled, unobserved.",
        "labels": [], "buckets": [0.25, 0.5], "operations": [],
    },
]


def number(value):
    """Scenario numbers; "+Inf", "-Inf" and "NaN" are strings, as JSON has no spelling for them."""
    return float(value) if isinstance(value, str) else value


def main():
    prometheus_client.disable_created_metrics()
    registry = CollectorRegistry()
    for family in SCENARIO:
        common = dict(name=family["name"], documentation=family["help"], labelnames=family["labels"], registry=registry)
        if family["type"] == "counter":
            metric = Counter(**common)
        elif family["type"] == "gauge":
            metric = Gauge(**common)
        else:
            metric = Histogram(buckets=family["buckets"], **common)
        for operation in family["operations"]:
            target = metric.labels(*operation["labels"]) if family["labels"] else metric
            if "inc" in operation:
                target.inc(number(operation["inc"]))
            elif "set" in operation:
                target.set(number(operation["set"]))
            else:
                target.observe(number(operation["observe"]))
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "scenario.json").write_text(json.dumps({"families": SCENARIO}, indent=1) + "\n")
    (OUT / "reference.txt").write_bytes(generate_latest(registry))
    version = importlib.metadata.version("prometheus-client")
    print(f"wrote {OUT / 'scenario.json'} and {OUT / 'reference.txt'} with prometheus-client {version}")


if __name__ == "__main__":
    main()
