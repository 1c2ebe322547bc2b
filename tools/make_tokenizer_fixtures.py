#!/usr/bin/env python3
"""Writes the CLIP tokenizer's parity fixtures from open_clip's own tokenizer.

Run with a Python that has open_clip_torch (3.3.0) and ftfy (6.3.1); not needed by CI:

    python tools/make_tokenizer_fixtures.py

Outputs, under Tests/Fixtures/tokenizer/:
- cases.json             for each text: the ids `SimpleTokenizer.encode` gives and the 77
                         ids `open_clip.tokenize` gives. Tricky strings first, then every
                         InCTRL text prompt for a few class names. Texts holding mojibake
                         carry "mojibake": true and also the ids open_clip gives with
                         ftfy's `fix_encoding` off, which is what the Swift tokenizer must
                         give, since it does not repair mojibake. Every other text is
                         checked here to be unaffected by `fix_encoding`.
- ftfy-uppercase-entities.json
                         ftfy's extra upper-case HTML entity names (`&EACUTE;`) and the
                         code points each decodes to.
- vocab-truncated.txt.gz the vocabulary cut after 1,000 merge rules.
- vocab-bad-crc.txt.gz   a gzip file whose CRC-32 trailer does not match its data.
- vocab-cut-short.txt.gz a gzip file that ends in the middle of its compressed data.
- vocab-not-gzip.txt     the first lines of the vocabulary, uncompressed.
"""
import functools
import gzip
import json
import pathlib
import types
import zlib

import ftfy
import ftfy.chardata
import open_clip
from open_clip import tokenizer as open_clip_tokenizer

OUT = pathlib.Path(__file__).resolve().parent.parent / "Tests" / "Fixtures" / "tokenizer"
VOCAB = pathlib.Path(open_clip_tokenizer.default_bpe())
CONTEXT_LENGTH = 77

TRICKY = [
    # punctuation
    ("punctuation", "Hello, world! How's it going?"),
    ("ellipsis and runs", "a photo of a dog... really?!? --- === *** ___"),
    ("brackets", "(parentheses) [brackets] {braces} <angles>"),
    ("ascii symbols", "email@example.com #hashtag $100 50% a+b=c ~tilde `tick` ^caret |pipe| \\back/slash"),
    ("repeated characters", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa !!!!!!!!!! .......... zzzzzzzzzzzz"),
    # digits
    ("digits", "1234567890 and 007"),
    ("decimals", "3.14159 and 2,718 and 1e-10 and 1,000,000.00"),
    ("other numerals", "١٢٣ ٤٥٦ ½ ¾ x² y³ Ⅻ ⅷ ①②"),
    # accents and combining marks
    ("accents", "café naïve résumé Zürich Ångström façade"),
    ("decomposed accent", "cafe\u0301 and re\u0301sume\u0301"),
    ("combining order", "a\u0327\u0301 then a\u0301\u0327"),
    ("zalgo", "Z\u0351\u0360a\u0361l\u035cg\u0362o\u0336\u0337"),
    ("greek final sigma", "ΟΔΟΣ ΣΑΣ Σ ἈΣ ΑΣ'Σ ΑΣ. ΣΑ"),
    ("special casing", "İstanbul ǅemal ß ẞ Ǆ DŽ"),
    ("ypogegrammeni", "a\u0345b and \u1fb3 and !\u0345!"),
    ("devanagari", "नमस्ते दुनिया"),
    ("hebrew points", "שָׁלוֹם עוֹלָם"),
    ("thai", "สวัสดีครับ"),
    # emoji
    ("emoji", "I ❤️ CLIP 😀👍🏽"),
    ("zwj family", "family 👨\u200d👩\u200d👧\u200d👦 rainbow 🏳️\u200d🌈"),
    ("skin tones", "👋🏻👋🏼👋🏽👋🏾👋🏿"),
    ("flags", "🇺🇸🇯🇵 and 🏴\U000e0067\U000e0062\U000e0077\U000e006c\U000e0073\U000e007f"),
    ("keycaps", "1\ufe0f\u20e3 #\ufe0f\u20e3 *\ufe0f\u20e3"),
    # scripts
    ("japanese", "日本語のテキスト、カタカナ。"),
    ("chinese", "中文测试：金属螺母"),
    ("korean", "한국어 텍스트"),
    ("hangul jamo", "\u1100\u1161\u11a8 and \uac00\u11a8 and \u1100\u1161"),
    ("kannada vowel signs", "\u0c95\u0cca\u0cd5 \u0c95\u0cc6\u0cc2\u0cd5 \u0c95\u0ccb"),
    ("arabic", "مرحبا بالعالم"),
    ("cyrillic", "Привет, мир! ЁЛКА"),
    ("mixed scripts", "Tokyo東京Москва123abc"),
    ("math symbols", "∑∫√∞ ≠ ≤ ≥ ± × ÷ → ⇒"),
    ("circled letters", "Ⓐⓑ Ⓒ"),
    ("private use and unassigned", "\ue000 private \U0010fffd \u0378 \U000e01ef"),
    # apostrophes
    ("contractions", "it's don't we're they've I'm you'll he'd"),
    ("upper-case contractions", "IT'S DON'T WE'RE THEY'VE I'M YOU'LL HE'D"),
    ("curly quotes", "it\u2019s don\u2019t we\u2018re \u201cquoted\u201d \u201ehere\u201f \u02bcn"),
    ("odd apostrophes", "rock 'n' roll ''s 'twas o'clock 'sa 'LL '"),
    ("long s", "it'\u017f \u017ftrange"),
    ("afrikaans digraph", "\u0149 Afrikaans"),
    # whitespace
    ("outer spaces", "   leading and trailing   "),
    ("tabs and newlines", "many     spaces\tand\t\ttabs\nand\n\nnewlines\r\nand\rCRs"),
    ("unicode spaces", "non\u00a0breaking\u2009thin\u3000ideographic\u2028line\u2029para\u200bzero\u202fnarrow"),
    ("separators", "\x1c\x1d\x1e\x1f separators \x0b vt \x0c ff"),
    ("whitespace only", " \t\n \u00a0 \u3000 "),
    # control characters
    ("control characters", "bell\x07 null\x00 del\x7f bom\ufeff obj\ufffc annot\ufff9x\ufffb arabic\u206a"),
    ("terminal escapes", "\x1b[31mred\x1b[0m \x1b[1;4mbold\x1b[m \x1b[xnot \x1b[\u0661\u0662mdigits"),
    ("c1 controls", "\u0080100 \u0093quoted\u0094 \u0085 \u0081 \u008d x"),
    ("joiners kept", "a\u200db\u200cc\u200ed\u202ee"),
    # HTML
    ("html named", "fish &amp; chips &lt;tag&gt; &quot;q&quot; &#39;s &apos;"),
    ("html double escaped", "&amp;lt; double &amp;amp;amp; and &amp;quot;"),
    ("html numeric", "&#x41;&#66;&#x1F600; &#128512; &#X263a;"),
    ("html uppercase names", "&eacute;t&eacute; P&EACUTE;REZ BUNDESSTRA&SZLIG;E &NTILDE; &nTILDE;"),
    ("html without semicolon", "&nbsp;nbsp&nbsp; &copy 2024 &ampfoo &notit; this&not that"),
    ("html literal tag", "<b>bold</b> &amp; stays &lt;escaped&gt;"),
    ("html tag sticky", "one &amp;lt;\ntwo <tag> &amp;lt;\nthree &amp;lt;"),
    ("html invalid numbers", "&#0; &#x110000; &#xD800; &#128; &#x9F; &#1114111; &#65534; &#99999999999999999999;"),
    ("html broken", "&#65abc; &#xZZ; &# &; &&amp; & ;"),
    ("html multi code point", "&Kopf; &fjlig; &NotEqualTilde; &bne; &ThickSpace;"),
    ("html c1 reference", "&#150; dash &#x92;s"),
    # ligatures and widths
    ("ligatures", "\ufb01nancial \ufb02ower \ufb00 \ufb03 \ufb04 \ufb05 \ufb06 \u0132ssel \u01c5 \u01c8 \u01cb"),
    ("full width", "ＬＯＵＤ　ＮＯＩＳＥＳ ｆｕｌｌｗｉｄｔｈ １２３！？"),
    ("half width katakana", "ｶﾞｷﾞ ﾊﾟﾝ ｳﾞ"),
    # special tokens written in text
    ("special tokens", "<start_of_text>a photo<end_of_text>"),
    ("special token variants", "!<start_of_text> <START_OF_TEXT> <\u017ftart_of_text>"),
    # length
    ("long text truncates", "a photo of a metal nut with a scratch on its thread " * 12),
    ("long word", "supercalifragilisticexpialidocious" * 8),
    ("exactly 75 tokens", " ".join(["cat"] * 75)),
    ("exactly 76 tokens", " ".join(["cat"] * 76)),
    ("empty", ""),
    ("snake case", "metal_nut screw_bag pipe_fryum"),
]

MOJIBAKE = [
    ("mojibake latin-1", "cafÃ© naÃ¯ve"),
    ("mojibake quotes", "â€œquotedâ€\x9d and itâ€™s"),
    ("mojibake lost nbsp", "Ã la mode"),
]

# InCTRL's text prompts (reference/inctrl-model.md §3): 22 templates, 7 normal and 4
# anomalous states.
TEMPLATES = [
    "a cropped photo of the {}.", "a cropped photo of a {}.",
    "a close-up photo of a {}.", "a close-up photo of the {}.",
    "a bright photo of a {}.", "a bright photo of the {}.",
    "a dark photo of a {}.", "a dark photo of the {}.",
    "a jpeg corrupted photo of a {}.", "a jpeg corrupted photo of the {}.",
    "a blurry photo of the {}.", "a blurry photo of a {}.",
    "a photo of the {}.", "a photo of a {}.",
    "a photo of a small {}.", "a photo of the small {}.",
    "a photo of a large {}.", "a photo of the large {}.",
    "a photo of a {} for visual inspection.", "a photo of the {} for visual inspection.",
    "a photo of a {} for anomaly detection.", "a photo of the {} for anomaly detection.",
]
NORMAL_STATES = ["{}", "flawless {}", "perfect {}", "unblemished {}", "{} without flaw",
                 "{} without defect", "{} without damage"]
ANOMALOUS_STATES = ["damaged {}", "{} with flaw", "{} with defect", "{} with damage"]
CIFAR_CLASSES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship",
                 "truck", "animal"]
MVTEC_CLASSES = ["bottle", "cable", "capsule", "carpet", "grid", "hazelnut", "leather", "metal_nut",
                 "pill", "screw", "tile", "toothbrush", "transistor", "wood", "zipper"]
VISA_CLASSES = ["candle", "capsules", "cashew", "chewinggum", "fryum", "macaroni1", "macaroni2",
                "pcb1", "pcb2", "pcb3", "pcb4", "pipe_fryum"]


def inctrl_prompts(class_name):
    """Every prompt InCTRL encodes for a class name, normal ones first."""
    name = class_name.replace("_", " ")
    if class_name in CIFAR_CLASSES:
        return [f"a photo of {name} for anomaly detection.", f"a photo without {name} for anomaly detection."]
    prompts = []
    for states in (NORMAL_STATES, ANOMALOUS_STATES):
        for state in states:
            described = state.format(name)
            prompts += [template.format(described) for template in TEMPLATES]
    return prompts


def prompt_cases():
    cases = [(f"inctrl {i:03d} metal_nut", text) for i, text in enumerate(inctrl_prompts("metal_nut"))]
    for class_name in MVTEC_CLASSES + VISA_CLASSES:
        if class_name != "metal_nut":
            cases.append((f"inctrl class {class_name}", inctrl_prompts(class_name)[-1]))
    for class_name in ("bird", "animal"):
        for index, text in enumerate(inctrl_prompts(class_name)):
            cases.append((f"inctrl cifar {class_name} {index}", text))
    return cases


def tokenizer_ids(text):
    ids = open_clip_tokenizer._tokenizer.encode(text)
    tokens = open_clip.tokenize([text], context_length=CONTEXT_LENGTH)[0].tolist()
    return ids, tokens


def without_mojibake_repair(text):
    """What open_clip gives when ftfy's `fix_encoding` step is switched off."""
    original = open_clip_tokenizer.ftfy
    open_clip_tokenizer.ftfy = types.SimpleNamespace(fix_text=functools.partial(ftfy.fix_text, fix_encoding=False))
    try:
        return tokenizer_ids(text)
    finally:
        open_clip_tokenizer.ftfy = original


def case_record(name, text, mojibake):
    ids, tokens = tokenizer_ids(text)
    plain_ids, plain_tokens = without_mojibake_repair(text)
    repaired = (ids, tokens) != (plain_ids, plain_tokens)
    if repaired != mojibake:
        raise SystemExit(f"case {name!r}: fix_encoding {'changes' if repaired else 'does not change'} it; "
                         f"list it {'under MOJIBAKE' if repaired else 'under TRICKY'}")
    record = {"name": name, "text": text, "mojibake": mojibake, "ids": ids, "tokens": tokens}
    if mojibake:
        record["ids_without_repair"] = plain_ids
        record["tokens_without_repair"] = plain_tokens
    return record


def width_cases():
    """Every character ftfy's width fix changes, in rows short enough not to truncate."""
    characters = sorted(ftfy.chardata.WIDTH_MAP)
    rows, row = [], ""
    for code_point in characters:
        candidate = row + chr(code_point) + " "
        if len(open_clip_tokenizer._tokenizer.encode(candidate)) > CONTEXT_LENGTH - 2:
            rows.append(row)
            candidate = chr(code_point) + " "
        row = candidate
    rows.append(row)
    return [(f"width map {index}", text) for index, text in enumerate(rows)]


def write_json(name, value, list_key=None):
    """ASCII JSON, one entry per line so diffs stay readable: the object's keys, or with
    `list_key`, the elements of that list."""
    path = OUT / name
    if list_key is None:
        rows = ",\n".join(f"{json.dumps(key)}: {json.dumps(value[key])}" for key in sorted(value))
        text = "{\n" + rows + "\n}"
    else:
        head = json.dumps({key: item for key, item in value.items() if key != list_key}, ensure_ascii=True)
        rows = ",\n".join(json.dumps(item, ensure_ascii=True) for item in value[list_key])
        text = head[:-1] + f', "{list_key}": [\n' + rows + "\n]}"
    path.write_text(text + "\n", encoding="ascii")
    print(f"wrote {path.relative_to(OUT.parent.parent.parent)}")


def write_vocabulary_fixtures():
    lines = gzip.decompress(VOCAB.read_bytes()).split(b"\n")
    truncated = b"\n".join(lines[:1001]) + b"\n"
    (OUT / "vocab-truncated.txt.gz").write_bytes(gzip.compress(truncated, mtime=0))

    small = b"\n".join(lines[:50]) + b"\n"
    compressed = bytearray(gzip.compress(small, mtime=0))
    compressed[-8] ^= 0xFF  # first byte of the CRC-32 trailer
    (OUT / "vocab-bad-crc.txt.gz").write_bytes(bytes(compressed))

    whole = gzip.compress(small, mtime=0)
    (OUT / "vocab-cut-short.txt.gz").write_bytes(whole[: len(whole) // 2])

    (OUT / "vocab-not-gzip.txt").write_bytes(small)
    for name in ("vocab-bad-crc.txt.gz", "vocab-cut-short.txt.gz"):
        try:
            gzip.decompress((OUT / name).read_bytes())
        except (OSError, EOFError, zlib.error):
            continue
        raise SystemExit(f"{name} unexpectedly decompresses")
    print("wrote the vocabulary error fixtures")


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    names = set()
    records = []
    for group, mojibake in ((TRICKY + width_cases(), False), (MOJIBAKE, True), (prompt_cases(), False)):
        for name, text in group:
            if name in names:
                raise SystemExit(f"duplicate case name {name!r}")
            names.add(name)
            records.append(case_record(name, text, mojibake))
    write_json("cases.json", {
        "generator": "tools/make_tokenizer_fixtures.py",
        "open_clip_version": open_clip.__version__,
        "ftfy_version": ftfy.__version__,
        "context_length": CONTEXT_LENGTH,
        "cases": records,
    }, list_key="cases")

    html5_names = set("&" + name for name in __import__("html").entities.html5)
    uppercase = {entity[1:]: [ord(char) for char in value]
                 for entity, value in ftfy.chardata.HTML_ENTITIES.items() if entity not in html5_names}
    write_json("ftfy-uppercase-entities.json", uppercase)
    write_vocabulary_fixtures()


if __name__ == "__main__":
    main()
