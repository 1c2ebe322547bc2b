#!/usr/bin/env python3
"""Parity fixtures for the Swift CLIP towers, produced by OpenCLIP itself.

Builds an `open_clip.model.CLIP` (exact GELU) with every parameter randomised from a fixed
seed -- LayerNorm weights and biases, class and positional embeddings, projections and all
biases included, so no identity or zero hides a bug -- and writes:

  OUT/config.json          the bundle config (inctrl-bundle format 1)
  OUT/model.safetensors    every tensor under its reference key
  OUT/reference.safetensors
      images       [N, 3, 240, 240]  normalised inputs (image-like: gradients, stripes, noise)
      pooled       [N, embed_dim]    encode_image output (not normalised)
      tap_7, tap_9, tap_11  [N, 225, width]  residual stream after those 1-based blocks,
                   class token dropped, no LayerNorm
      tokens       [P, 77] (I64)     open_clip.tokenize of the prompts in the metadata
      text         [P, embed_dim]    encode_text output (not normalised)

The tiny fixture (the default) stores weights and images as F16, and the model computes in
fp32 on exactly those F16-representable values, so the fixture stays small without
changing what is compared. Re-run with:

    python tools/make_clip_fixtures.py                      # Tests/Fixtures/clip-tiny
    python tools/make_clip_fixtures.py --size full --out DIR  # full-size, F32 (≈0.8 GB)
"""
import argparse
import json
import pathlib

import numpy as np
import open_clip
import torch
from open_clip.model import CLIP, CLIPTextCfg, CLIPVisionCfg
from safetensors.torch import save_file

REPO = pathlib.Path(__file__).resolve().parent.parent
MEAN = (0.48145466, 0.4578275, 0.40821073)
STD = (0.26862954, 0.26130258, 0.27577711)
TAP_LAYERS = (7, 9, 11)

ARCHITECTURES = {
    "tiny": {
        "name": "clip-tiny-fixture",
        "vision": {"image_size": 240, "patch_size": 16, "width": 64, "layers": 12, "heads": 4, "mlp_width": 256},
        "text": {"context_length": 77, "vocab_size": 49408, "width": 16, "layers": 3, "heads": 2, "mlp_width": 64},
        "embed_dim": 32,
        "adapter_hidden": 8,
    },
    "full": {
        "name": "clip-vit-b-16-plus-240-random",
        "vision": {"image_size": 240, "patch_size": 16, "width": 896, "layers": 12, "heads": 14, "mlp_width": 3584},
        "text": {"context_length": 77, "vocab_size": 49408, "width": 640, "layers": 12, "heads": 10, "mlp_width": 2560},
        "embed_dim": 640,
        "adapter_hidden": 160,
    },
}

PROMPTS = [
    "a photo of a cat for anomaly detection.",
    "a cropped photo of the flawless transistor.",
    "damaged screw",
    "",
    # Longer than the context: open_clip truncates and ends the row with end-of-text.
    " ".join(["a jpeg corrupted photo of the small metal nut with defect"] * 8),
]


def open_clip_model(architecture):
    """An OpenCLIP CLIP (exact GELU) of `architecture`, a bundle config's `vision`, `text`
    and `embed_dim`, with OpenCLIP's initial weights."""
    vision, text = architecture["vision"], architecture["text"]
    return CLIP(
        embed_dim=architecture["embed_dim"],
        vision_cfg=CLIPVisionCfg(
            layers=vision["layers"], width=vision["width"], head_width=vision["width"] // vision["heads"],
            mlp_ratio=vision["mlp_width"] / vision["width"], patch_size=vision["patch_size"],
            image_size=vision["image_size"]),
        text_cfg=CLIPTextCfg(
            context_length=text["context_length"], vocab_size=text["vocab_size"], width=text["width"],
            heads=text["heads"], layers=text["layers"], mlp_ratio=text["mlp_width"] / text["width"]),
        quick_gelu=False,
    ).eval()


def build_model(architecture, seed):
    """An OpenCLIP CLIP of `architecture` with every parameter drawn from `seed`."""
    model = open_clip_model(architecture)
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, parameter in model.named_parameters():
            parameter.copy_(random_like(name, parameter, generator))
    return model.eval()


def random_like(name, parameter, generator):
    """A draw of the parameter's shape with a scale that keeps activations O(1)."""
    noise = torch.randn(parameter.shape, generator=generator)
    if name.endswith("logit_scale"):
        return torch.full_like(parameter, float(np.log(1 / 0.07)))
    if name.startswith("ln_") or ".ln_" in name:
        return 1 + 0.2 * noise if name.endswith("weight") else 0.1 * noise
    if name.endswith("bias"):
        return 0.05 * noise
    if parameter.dim() == 1:  # class embedding
        return noise * parameter.shape[0] ** -0.5
    if name in ("visual.proj", "text_projection"):
        return noise * parameter.shape[0] ** -0.5
    if name.endswith("positional_embedding"):
        return 0.1 * noise
    if name == "token_embedding.weight":
        return 0.2 * noise
    fan_in = parameter[0].numel()
    return noise * fan_in ** -0.5


def make_images(count, size, seed):
    """Normalised [count, 3, size, size] inputs that look like photographs: smooth colour
    gradients, a stripe pattern, a bright blob and mild noise, all different per image."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:size, 0:size] / (size - 1)
    images = []
    for index in range(count):
        angle = rng.uniform(0, np.pi)
        gradient = np.cos(angle) * x + np.sin(angle) * y
        stripes = 0.5 + 0.5 * np.sin(2 * np.pi * rng.uniform(3, 9) * (x * np.sin(angle) - y * np.cos(angle)))
        cy, cx = rng.uniform(0.2, 0.8, size=2)
        blob = np.exp(-((x - cx) ** 2 + (y - cy) ** 2) / (2 * rng.uniform(0.05, 0.15) ** 2))
        channels = []
        for channel in range(3):
            weights = rng.uniform(0.1, 0.6, size=3)
            value = weights[0] * gradient + weights[1] * stripes + weights[2] * blob
            value = value + rng.normal(0, 0.03, size=value.shape)
            channels.append(np.clip(value / max(value.max(), 1e-6), 0, 1))
        rgb = np.stack(channels)
        images.append((rgb - np.array(MEAN)[:, None, None]) / np.array(STD)[:, None, None])
    return torch.tensor(np.stack(images), dtype=torch.float32)


@torch.inference_mode()
def reference_outputs(model, images, tokens):
    """encode_image with the taps captured by hooks on the residual blocks, and encode_text."""
    captured = {}
    hooks = [
        model.visual.transformer.resblocks[layer - 1].register_forward_hook(
            lambda module, inputs, output, layer=layer: captured.__setitem__(layer, output.detach().clone()))
        for layer in TAP_LAYERS
    ]
    pooled = model.encode_image(images)
    for hook in hooks:
        hook.remove()
    outputs = {"pooled": pooled.contiguous()}
    for layer in TAP_LAYERS:
        outputs[f"tap_{layer}"] = captured[layer][:, 1:, :].contiguous()
    outputs["text"] = model.encode_text(tokens).contiguous()
    return outputs


def bundle_config(architecture, seed):
    return {
        "format": "inctrl-bundle",
        "format_version": 1,
        "name": architecture["name"],
        "demo": True,
        "source": {"kind": "fixture", "seed": seed},
        "vision": architecture["vision"],
        "text": architecture["text"],
        "embed_dim": architecture["embed_dim"],
        "tap_layers": list(TAP_LAYERS),
        "adapter_hidden": architecture["adapter_hidden"],
    }


def write_fixture(size, out, seed, image_count, store_half):
    architecture = ARCHITECTURES[size]
    torch.manual_seed(seed)
    model = build_model(architecture, seed)
    images = make_images(image_count, architecture["vision"]["image_size"], seed + 1)
    if store_half:
        # Compute on exactly the values the F16 files hold.
        with torch.no_grad():
            for parameter in model.parameters():
                parameter.copy_(parameter.half().float())
        images = images.half().float()
    tokens = open_clip.tokenize(PROMPTS)
    outputs = reference_outputs(model, images, tokens)

    out.mkdir(parents=True, exist_ok=True)
    (out / "config.json").write_text(json.dumps(bundle_config(architecture, seed), indent=2, sort_keys=True) + "\n")
    storage = torch.float16 if store_half else torch.float32
    weights = {key: value.detach().to(storage).contiguous() for key, value in model.state_dict().items() if key != "attn_mask"}
    save_file(weights, str(out / "model.safetensors"), metadata={"format": "pt", "seed": str(seed)})

    reference = {"images": images.to(storage).contiguous(), "tokens": tokens.contiguous(), **outputs}
    save_file(reference, str(out / "reference.safetensors"), metadata={"prompts": json.dumps(PROMPTS), "seed": str(seed)})
    return outputs


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", choices=sorted(ARCHITECTURES), default="tiny")
    parser.add_argument("--out", type=pathlib.Path, help="output directory (default for tiny: Tests/Fixtures/clip-tiny)")
    parser.add_argument("--seed", type=int, default=20240601)
    parser.add_argument("--images", type=int, default=None, help="number of input images (tiny: 3, full: 2)")
    args = parser.parse_args()
    torch.set_num_threads(2)
    if args.size == "tiny":
        out = args.out or REPO / "Tests" / "Fixtures" / "clip-tiny"
        write_fixture("tiny", out, args.seed, args.images or 3, store_half=True)
    else:
        if args.out is None:
            parser.error("--size full needs --out (the bundle is about 0.8 GB; keep it out of the repository)")
        write_fixture("full", args.out, args.seed, args.images or 2, store_half=False)
    print(f"wrote {args.out or REPO / 'Tests/Fixtures/clip-tiny'}")


if __name__ == "__main__":
    main()
