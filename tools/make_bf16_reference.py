#!/usr/bin/env python3
"""The CLIP towers of a bundle in the Swift bf16 scheme, emulated in PyTorch.

The bf16 scheme rounds the operands of every CLIP matmul to bfloat16 (round to nearest
even) and accumulates their products in fp32: the patch embedding (`conv1`), each block's
attention `in_proj` and `out_proj` and MLP `c_fc` and `c_proj`, the visual `proj` and the
`text_projection`, and in the vision tower attention's two products too. There, per head,
with q, k, v the `in_proj` outputs rounded to bf16 and d the head width:

    logits = fp32(q·kᵀ) * fp32(1/√d)     sums in fp32, then one multiplication by the scale
    p      = softmax(logits)              in fp32
    out    = fp32(bf16(p)·v)              probabilities rounded to bf16, sums in fp32

(`out` is then rounded to bf16 as `out_proj`'s input, like any linear layer's). The text
tower's attention (causal, on a prefix tree in the Swift code) stays fp32. Biases, GELU,
residual sums, LayerNorm and softmax are fp32. A product of two bf16 values is exact in
fp32, so this differs from the oneDNN kernels only in the order of the fp32 sums (and in
the last bits of softmax's exponentials).

The script loads BUNDLE/config.json and BUNDLE/model.safetensors into an OpenCLIP model,
runs it on the inputs of BUNDLE/reference.safetensors (`images`, `tokens`) and writes
BUNDLE/reference-bf16.safetensors with the outputs under the same keys as the fp32
reference -- `pooled`, `tap_<l>` for the bundle's tap layers (class token dropped) and
`text` -- plus two the bf16 tests need: `tap_1`, the stream after the first block, before
rounding differences have spread through the tower, and `class_token`, `[N, width]`, the
class token after the last block (what ln_post and `proj` turn into `pooled`). The inputs
are not copied: they stay in reference.safetensors.

    python tools/make_bf16_reference.py                  # Tests/Fixtures/clip-tiny
    python tools/make_bf16_reference.py --bundle DIR     # e.g. the full-size parity bundle
    python tools/make_bf16_reference.py --order-spread   # also how much the order of sums moves it

`--order-spread` runs the scheme a second time with exactly rounded sums (fp64 accumulation,
one rounding to fp32) and prints how far the two runs lie apart: the scale below which no
implementation of the scheme can be asked to match, since an activation that lands next to
the midpoint of two bf16 values rounds one way in one order of summation and the other way
in another, and that one-unit difference then propagates.

Other tools import `BF16TowerMatmuls`, `encode_image` and `encode_text` to run OpenCLIP
towers in the same scheme.
"""
import argparse
import collections
import dataclasses
import json
import math
import pathlib
import sys

import torch
import torch.nn.functional as F
from safetensors.torch import load_file, save_file

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import make_clip_fixtures  # noqa: E402

REPO = make_clip_fixtures.REPO
FP32_LINEAR = F.linear
FP32_CONV2D = F.conv2d
FP32_ATTENTION = F.scaled_dot_product_attention


def rounded_to_bf16(tensor):
    """`tensor` rounded to the nearest bfloat16 (ties to even), held in fp32 again."""
    return tensor.to(torch.bfloat16).to(torch.float32)


class BF16TowerMatmuls:
    """While active, `F.linear` and `F.conv2d` multiply operands rounded to bf16 and
    accumulate in `accumulation` (fp32, as the Swift kernels do; fp64 gives exactly rounded
    sums), bias included, returning fp32; `project` does the same for the `x @ proj`
    products that OpenCLIP writes as plain matmuls. With `attention`, so does
    `F.scaled_dot_product_attention` for its two products, in the scheme of the module
    docstring (`multi_head_attention_forward` calls it with the heads of `in_proj`'s output;
    the vision tower's attention has no mask). `counts` records each kind, attention's
    products counted one by one, so a caller can check that every matmul it expected took
    the rounded path.

    The fused multi-head attention fast path is switched off meanwhile: it would run the
    attention projections without calling `F.linear`.
    """

    def __init__(self, accumulation=torch.float32, attention=False):
        self.accumulation = accumulation
        self.attention_in_bf16 = attention
        self.counts = collections.Counter()

    def __enter__(self):
        self.fastpath = torch.backends.mha.get_fastpath_enabled()
        torch.backends.mha.set_fastpath_enabled(False)
        F.linear, F.conv2d = self.linear, self.conv2d
        if self.attention_in_bf16:
            F.scaled_dot_product_attention = self.attention
        return self

    def __exit__(self, *exception):
        F.linear, F.conv2d = FP32_LINEAR, FP32_CONV2D
        F.scaled_dot_product_attention = FP32_ATTENTION
        torch.backends.mha.set_fastpath_enabled(self.fastpath)
        return False

    def operand(self, tensor):
        return None if tensor is None else rounded_to_bf16(tensor).to(self.accumulation)

    def linear(self, input, weight, bias=None):
        self.counts["linear"] += 1
        bias = None if bias is None else bias.to(self.accumulation)
        return FP32_LINEAR(self.operand(input), self.operand(weight), bias).to(torch.float32)

    def conv2d(self, input, weight, bias=None, *args, **kwargs):
        self.counts["conv2d"] += 1
        bias = None if bias is None else bias.to(self.accumulation)
        return FP32_CONV2D(self.operand(input), self.operand(weight), bias, *args, **kwargs).to(torch.float32)

    def attention(self, query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False, scale=None,
                  enable_gqa=False):
        if attn_mask is not None or is_causal or dropout_p != 0.0 or scale is not None or enable_gqa:
            raise RuntimeError("bf16 attention emulates unmasked attention with the default scale only")
        self.counts["attention product"] += 2
        # Rounded once from double, as PyTorch and the Swift code compute it.
        scale = torch.tensor(1 / math.sqrt(query.shape[-1]), dtype=torch.float32)
        logits = (self.operand(query) @ self.operand(key).transpose(-2, -1)).to(torch.float32) * scale
        probabilities = torch.softmax(logits, dim=-1)
        return (self.operand(probabilities) @ self.operand(value)).to(torch.float32)

    def project(self, input, projection):
        self.counts["projection"] += 1
        return (self.operand(input) @ self.operand(projection)).to(torch.float32)


def check_fp32_arithmetic():
    """The emulation relies on fp32 matmuls and convolutions being computed in fp32."""
    if torch.get_float32_matmul_precision() != "highest":
        sys.exit("torch.set_float32_matmul_precision must be 'highest' for the bf16 emulation")
    for backend in (torch.backends.mkldnn.matmul, torch.backends.mkldnn.conv):
        if backend.fp32_precision not in ("none", "ieee"):
            sys.exit(f"oneDNN fp32 precision is {backend.fp32_precision!r}; the bf16 emulation needs full fp32")


def expect_counts(counts, expected, tower):
    if dict(counts) != expected:
        raise RuntimeError(f"{tower} tower: rounded matmuls {dict(counts)}, expected {expected}")


@dataclasses.dataclass
class VisionOutputs:
    pooled: torch.Tensor
    """`[N, embed_dim]`, the tower's output."""
    taps: dict
    """`{layer: [N, patches, width]}`, the residual stream after each tap layer, class token dropped."""
    class_token: torch.Tensor
    """`[N, width]`, the class token after the last block: the input of ln_post."""


@torch.inference_mode()
def encode_image(visual, images, tap_layers, accumulation=torch.float32):
    """A batch of normalised images through the vision tower in the bf16 scheme."""
    blocks = visual.transformer.resblocks
    captured = {}
    hooks = [
        blocks[layer - 1].register_forward_hook(
            lambda module, inputs, output, layer=layer: captured.__setitem__(layer, output.detach().clone()))
        for layer in set(tap_layers) | {len(blocks)}
    ]
    # Without `proj` OpenCLIP returns the class token after ln_post; the product is ours.
    projection = visual.proj
    visual.proj = None
    try:
        with BF16TowerMatmuls(accumulation, attention=True) as matmuls:
            pooled = matmuls.project(visual(images), projection)
    finally:
        visual.proj = projection
        for hook in hooks:
            hook.remove()
    expect_counts(
        matmuls.counts,
        {"conv2d": 1, "linear": 4 * len(blocks), "attention product": 2 * len(blocks), "projection": 1}, "vision")
    return VisionOutputs(
        pooled=pooled.contiguous(),
        taps={layer: captured[layer][:, 1:, :].contiguous() for layer in tap_layers},
        class_token=captured[len(blocks)][:, 0, :].contiguous())


@torch.inference_mode()
def encode_text(clip, tokens, accumulation=torch.float32):
    """The unnormalised text embeddings `[P, embed_dim]` of rows of token ids, in the bf16
    scheme."""
    projection = clip.text_projection
    clip.text_projection = None
    try:
        with BF16TowerMatmuls(accumulation) as matmuls:
            text = matmuls.project(clip.encode_text(tokens), projection)
    finally:
        clip.text_projection = projection
    expect_counts(matmuls.counts, {"linear": 4 * len(clip.transformer.resblocks), "projection": 1}, "text")
    return text.contiguous()


def load_bundle_model(bundle):
    """The OpenCLIP model of BUNDLE's config with BUNDLE's weights, in fp32."""
    config = json.loads((bundle / "config.json").read_text())
    model = make_clip_fixtures.open_clip_model(config)
    weights = {key: value.to(torch.float32) for key, value in load_file(str(bundle / "model.safetensors")).items()}
    missing, unexpected = model.load_state_dict(weights, strict=False)
    if missing or unexpected:
        raise RuntimeError(f"{bundle}: missing weights {missing}, unexpected {unexpected}")
    return model, config["tap_layers"]


def reference_outputs(model, tap_layers, inputs, accumulation=torch.float32):
    """The tensors of reference-bf16.safetensors for the inputs of reference.safetensors."""
    layers = sorted(set(tap_layers) | {1})
    vision = encode_image(model.visual, inputs["images"].to(torch.float32), layers, accumulation)
    return {
        "pooled": vision.pooled,
        **{f"tap_{layer}": vision.taps[layer] for layer in layers},
        "class_token": vision.class_token,
        "text": encode_text(model, inputs["tokens"], accumulation),
    }


def write_reference(bundle, order_spread=False):
    """Writes BUNDLE/reference-bf16.safetensors and prints how far it lies from the fp32
    reference (and, with `order_spread`, from the same scheme with exactly rounded sums)."""
    check_fp32_arithmetic()
    model, tap_layers = load_bundle_model(bundle)
    inputs = load_file(str(bundle / "reference.safetensors"))
    outputs = reference_outputs(model, tap_layers, inputs)
    save_file(outputs, str(bundle / "reference-bf16.safetensors"), metadata={"precision": "bf16"})
    exact = reference_outputs(model, tap_layers, inputs, torch.float64) if order_spread else {}
    for key, value in outputs.items():
        scale = value.abs().max().item()
        line = f"{key}: max |x| {scale:.3g}"
        if key in inputs:
            line += f", bf16 - fp32 max abs {(value - inputs[key]).abs().max().item():.3g}"
        if key in exact:
            line += f", fp32 sums - exact sums max abs {(value - exact[key]).abs().max().item():.3g}"
        print(line)
    print(f"wrote {bundle / 'reference-bf16.safetensors'}")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bundle", type=pathlib.Path, default=REPO / "Tests" / "Fixtures" / "clip-tiny",
                        help="bundle directory holding reference.safetensors (default: the tiny fixture)")
    parser.add_argument("--order-spread", action="store_true",
                        help="also run with exactly rounded sums and print the difference")
    args = parser.parse_args()
    torch.set_num_threads(2)
    write_reference(args.bundle, args.order_spread)


if __name__ == "__main__":
    main()
