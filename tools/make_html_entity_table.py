#!/usr/bin/env python3
"""Writes Sources/CLIP/Resources/html-entities.txt (data, compiled into the binary as a
SwiftPM resource): the WHATWG list of HTML named
character references, as Python's `html.entities.html5` holds it.

The tokenizer's text cleaning decodes HTML entities the way `html.unescape` and ftfy do,
and both look names up in exactly this table (including the legacy names that may omit
their semicolon), so the Swift side reads the same list. Re-run after a Python upgrade
that changes the list:

    python3 tools/make_html_entity_table.py
"""

import html.entities
import pathlib
import sys

OUTPUT = pathlib.Path(__file__).resolve().parent.parent / "Sources/CLIP/Resources/html-entities.txt"

HEADER = """\
# HTML named character references (the WHATWG list, as Python's html.entities.html5 holds it),
# written by tools/make_html_entity_table.py; do not edit by hand, re-run the script.
# One entity per line: the name (with its ';' where the standard has one), a space, and its
# code points in hexadecimal.
"""


def main() -> None:
    entities = html.entities.html5
    lines = []
    for name in sorted(entities):
        if not name.isascii() or " " in name:
            sys.exit(f"unexpected entity name {name!r}")
        code_points = " ".join(f"{ord(char):X}" for char in entities[name])
        lines.append(f"{name} {code_points}\n")
    text = HEADER + "".join(lines)
    OUTPUT.write_text(text, encoding="utf-8")
    print(f"wrote {OUTPUT.relative_to(OUTPUT.parent.parent.parent)} ({len(entities)} entities)")


if __name__ == "__main__":
    main()
