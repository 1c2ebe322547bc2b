#!/usr/bin/env python3
"""Parses Prometheus text exposition (a file, or - for stdin) with the official Python
client's parser and prints each family's type and sample count, or the parse error.

    curl -s http://127.0.0.1:8080/metrics | python tools/check_prometheus_text.py -
"""
import sys

from prometheus_client.parser import text_string_to_metric_families


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: check_prometheus_text.py FILE|-")
    text = sys.stdin.read() if sys.argv[1] == "-" else open(sys.argv[1], encoding="utf-8").read()
    try:
        families = list(text_string_to_metric_families(text))
    except Exception as error:  # the parser raises ValueError and others on malformed text
        sys.exit(f"not valid Prometheus text: {error}")
    for family in families:
        print(f"{family.name}: {family.type}, {len(family.samples)} samples")


if __name__ == "__main__":
    main()
