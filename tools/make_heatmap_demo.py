#!/usr/bin/env python3
"""Makes the README's heat-map picture, docs/images/heatmap-demo.png, with `inctrl score`.

Three normal images of one ELPV cell (its fixture at three brightnesses) form the prompt set;
the query is the same cell with a crack and a bright spot painted on. The model is a tiny
demo bundle with random weights, so the score means nothing, but the picture shows how the
heat-map reads: the residual map carried back onto the original image, colour fading in as
it nears the set's pixel threshold.

    python3 tools/make_heatmap_demo.py --inctrl .build/debug/inctrl --vocab .cache/bpe_simple_vocab_16e6.txt.gz

Needs Pillow (in a virtual environment outside the repository).
"""

import argparse
import json
import pathlib
import subprocess
import tempfile

from PIL import Image, ImageDraw, ImageEnhance

ROOT = pathlib.Path(__file__).resolve().parent.parent
CELL = ROOT / "Tests/Fixtures/imaging/inputs/png_elpv_cell0004_functional.png"
OUTPUT = ROOT / "docs/images/heatmap-demo.png"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--inctrl", required=True, help="the inctrl executable")
    parser.add_argument("--vocab", required=True, help="the CLIP tokenizer vocabulary")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        work = pathlib.Path(scratch)
        cell = Image.open(CELL).convert("L")
        prompts = []
        for index, factor in enumerate([0.92, 1.0, 1.08]):
            path = work / f"normal{index}.png"
            ImageEnhance.Brightness(cell).enhance(factor).save(path)
            prompts += ["--prompt", str(path)]
        query = cell.copy()
        draw = ImageDraw.Draw(query)
        draw.line([(185, 60), (195, 85), (188, 110), (200, 135), (193, 160), (206, 190)], fill=20, width=4)
        draw.ellipse((70, 200, 100, 228), fill=235)
        query_path = work / "cracked.png"
        query.save(query_path)
        subprocess.run([args.inctrl, "model", "demo", "--size", "tiny", "--out", str(work / "model"), "--vocab", args.vocab],
                       check=True, capture_output=True)
        result = subprocess.run(
            [args.inctrl, "score", "--model", str(work / "model"), "--class-name", "solar_cell", *prompts,
             "--heatmap", str(OUTPUT), str(query_path)],
            check=True, capture_output=True, text=True)
        line = json.loads(result.stdout.splitlines()[-1])
        print(f"wrote {OUTPUT.relative_to(ROOT)}: score {line['score']:.3f}, decision {line['decision']}, regions {line.get('regions')}")


if __name__ == "__main__":
    main()
