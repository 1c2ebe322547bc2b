#!/usr/bin/env python3
"""Reference InCTRL on a tiny random model: writes a checkpoint in the released format and
every intermediate of scoring fixed inputs, for the Swift parity tests.

    python tools/make_inctrl_fixtures.py     # needs torch, open_clip_torch, safetensors

The math follows docs/MODEL.md §3 (`mala-lab/InCTRL`'s `InCTRL.forward`) at batch size 1, on
OpenCLIP's own CLIP towers with the tiny architecture of `BundleConfig.tiny`. Every weight
is random, including LayerNorm affine parameters and BatchNorm running statistics, so no
term can hide behind an identity. Outputs, in Tests/Fixtures/inctrl-tiny/:

- checkpoint.pyth        torch.save({"epoch", "model_state": state_dict, "cfg"}), as InCTRL's
                         training script saves it.
- reference.safetensors  inputs (`image.N`, [3,240,240], normalised; stored as float16 and
                         used by the reference as those float16 values), the K=2 prompt set
                         (`prompt.0`, `prompt.1`) and queries (`query.0`, `query.1`); per image
                         `cls.<name>` and `tap<l>.<name>`; per class name the text features
                         `text.normal`, `text.anomalous`; per query `map.<q>`, `scores.<q>` =
                         [s_p, s_i, s_a, s_h, score], and `prototype`.
- metadata in reference.safetensors: the class name.

With `--precision bf16` it instead loads the committed checkpoint and the images of
reference.safetensors, runs the CLIP towers in the Swift bf16 scheme as
tools/make_bf16_reference.py emulates it (every tower matmul's operands rounded to bf16,
fp32 accumulation, the vision tower's attention products included; the InCTRL heads stay
fp32), and writes reference-bf16.safetensors with
`cls.<name>`, `text.normal`, `text.anomalous`, `prototype`, `map.<q>` and `scores.<q>`
(taps are left out: the CLIP fixture covers them).

    python tools/make_inctrl_fixtures.py --precision bf16 [--order-spread]

`--order-spread` also runs the bf16 towers with exactly rounded sums and prints how far
that moves each tensor: how closely any implementation of the scheme can be asked to match
(tools/make_bf16_reference.py explains why).
"""
import argparse
import collections
import pathlib
import sys

import open_clip
import torch
import torch.nn.functional as F
from open_clip.model import CLIPTextCfg, CLIPVisionCfg
from safetensors.torch import load_file, save_file

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import make_bf16_reference  # noqa: E402

OUT = pathlib.Path(__file__).resolve().parent.parent / "Tests" / "Fixtures" / "inctrl-tiny"
CLASS_NAME = "metal_nut"
TAPS = (7, 9, 11)


class Head(torch.nn.Module):
    """TransformerBasicHead as in the reference (bn1 exists and is never applied)."""

    def __init__(self, dim_in):
        super().__init__()
        self.projection1 = torch.nn.Linear(dim_in, 128)
        self.projection2 = torch.nn.Linear(128, 64)
        self.projection3 = torch.nn.Linear(64, 1)
        self.bn1 = torch.nn.BatchNorm1d(dim_in)
        self.bn2 = torch.nn.BatchNorm1d(128)
        self.bn3 = torch.nn.BatchNorm1d(64)

    def forward(self, x):
        x = self.bn2(F.relu(self.projection1(x)))
        x = self.bn3(F.relu(self.projection2(x)))
        return torch.sigmoid(self.projection3(x))


class Adapter(torch.nn.Module):
    def __init__(self, c_in, reduction=4):
        super().__init__()
        self.fc = torch.nn.Sequential(
            torch.nn.Linear(c_in, c_in // reduction, bias=False), torch.nn.ReLU(),
            torch.nn.Linear(c_in // reduction, c_in, bias=False), torch.nn.ReLU())

    def forward(self, x):
        return self.fc(x)


class TinyInCTRL(torch.nn.Module):
    """Holds the parts under the reference's state_dict names."""

    def __init__(self):
        super().__init__()
        clip = open_clip.model.CLIP(
            embed_dim=32,
            vision_cfg=CLIPVisionCfg(layers=12, width=64, head_width=16, mlp_ratio=4.0, patch_size=16, image_size=240),
            text_cfg=CLIPTextCfg(context_length=77, vocab_size=49408, width=16, heads=2, layers=3, mlp_ratio=4.0),
            quick_gelu=False)
        self.clip = clip
        self.visual = clip.visual
        self.transformer = clip.transformer
        self.token_embedding = clip.token_embedding
        self.positional_embedding = clip.positional_embedding
        self.ln_final = clip.ln_final
        self.text_projection = clip.text_projection
        self.adapter = Adapter(32, 4)
        self.diff_head = Head(225)
        self.diff_head_ref = Head(32)

    def released_state_dict(self):
        return collections.OrderedDict((k, v) for k, v in self.state_dict().items() if not k.startswith("clip."))


def randomise(model, generator):
    with torch.no_grad():
        for name, tensor in model.named_parameters():
            if name.startswith("clip."):
                continue
            if "ln" in name or "bn" in name:
                base = 1.0 if name.endswith("weight") else 0.0
                tensor.copy_(base + 0.2 * torch.randn(tensor.shape, generator=generator))
            elif name.endswith("bias"):
                tensor.copy_(0.1 * torch.randn(tensor.shape, generator=generator))
            elif name in ("visual.class_embedding", "visual.positional_embedding", "visual.proj",
                          "text_projection", "positional_embedding"):
                tensor.copy_(tensor.std().clamp(min=0.02) * torch.randn(tensor.shape, generator=generator))
        for module in model.modules():
            if isinstance(module, torch.nn.BatchNorm1d):
                module.running_mean.copy_(0.3 * torch.randn(module.running_mean.shape, generator=generator))
                module.running_var.copy_(0.5 + torch.rand(module.running_var.shape, generator=generator))
                module.num_batches_tracked.fill_(100)


def image(generator, seed_shift):
    """Smooth, image-like, normalised input, rounded through float16."""
    ys, xs = torch.meshgrid(torch.linspace(-1, 1, 240), torch.linspace(-1, 1, 240), indexing="ij")
    channels = []
    for channel in range(3):
        phase = seed_shift + channel
        wave = torch.sin(3 * xs + phase) * torch.cos(2 * ys - phase) + 0.3 * xs * ys
        channels.append(wave + 0.15 * torch.randn(240, 240, generator=generator))
    return torch.stack(channels).to(torch.float16).to(torch.float32)


def vision(model, x):
    """cls(x) and the three taps of one image (batch size 1)."""
    taps = {}
    hooks = [model.visual.transformer.resblocks[l - 1].register_forward_hook(
        lambda _m, _i, output, l=l: taps.__setitem__(l, output)) for l in TAPS]
    pooled = model.visual(x.unsqueeze(0))
    for hook in hooks:
        hook.remove()
    # open_clip's transformer is batch-first: [1, 226, width]; drop the class token.
    return pooled[0], {l: taps[l][0, 1:, :] for l in TAPS}


def vision_bf16(model, x, accumulation=torch.float32):
    """`vision` with the tower's matmuls in the bf16 scheme."""
    outputs = make_bf16_reference.encode_image(model.visual, x.unsqueeze(0), TAPS, accumulation)
    return outputs.pooled[0], {l: outputs.taps[l][0] for l in TAPS}


def text_features(model, class_name, encode_text=None):
    """The normal and anomalous text prior of `class_name`; `encode_text` maps token rows to
    unnormalised embeddings (by default OpenCLIP's fp32 `encode_text`)."""
    encode_text = encode_text or model.clip.encode_text
    normal, anomalous = get_texts(class_name)
    features = []
    for prompts in (normal, anomalous):
        encoded = encode_text(open_clip.tokenize(prompts))
        encoded = encoded / encoded.norm(dim=-1, keepdim=True)
        mean = encoded.mean(dim=0)
        features.append(mean / mean.norm())
    return features


def get_texts(class_name):
    name = class_name.replace("_", " ")
    states_normal = ["{}", "flawless {}", "perfect {}", "unblemished {}", "{} without flaw", "{} without defect",
                     "{} without damage"]
    states_anomaly = ["damaged {}", "{} with flaw", "{} with defect", "{} with damage"]
    templates = [
        "a cropped photo of the {}.", "a cropped photo of a {}.", "a close-up photo of a {}.",
        "a close-up photo of the {}.", "a bright photo of a {}.", "a bright photo of the {}.",
        "a dark photo of a {}.", "a dark photo of the {}.", "a jpeg corrupted photo of a {}.",
        "a jpeg corrupted photo of the {}.", "a blurry photo of the {}.", "a blurry photo of a {}.",
        "a photo of the {}.", "a photo of a {}.", "a photo of a small {}.", "a photo of the small {}.",
        "a photo of a large {}.", "a photo of the large {}.", "a photo of a {} for visual inspection.",
        "a photo of the {} for visual inspection.", "a photo of a {} for anomaly detection.",
        "a photo of the {} for anomaly detection."]
    normal = [t.format(s.format(name)) for s in states_normal for t in templates]
    anomalous = [t.format(s.format(name)) for s in states_anomaly for t in templates]
    return normal, anomalous


def score_queries(model, features, f_n, f_a, tensors):
    """The prototype of the K=2 prompt set and each query's residual map and scores, added to
    `tensors`, from the images' `(cls, taps)` features and the text prior."""
    shots = ["prompt.0", "prompt.1"]
    adapted = torch.stack([model.adapter(features[s][0]) for s in shots])
    prototype = adapted.mean(dim=0)
    tensors["prototype"] = prototype
    for query in ("query.0", "query.1"):
        cls, taps = features[query]
        layer_maps = []
        for l in TAPS:
            q = taps[l] / taps[l].norm(dim=-1, keepdim=True)
            r = torch.cat([features[s][1][l] for s in shots])
            r = r / r.norm(dim=-1, keepdim=True)
            layer_maps.append((0.5 * (1 - q @ r.T)).min(dim=1).values)
        residual_map = torch.stack(layer_maps).mean(dim=0)
        s_p = residual_map.max()
        s_i = model.diff_head_ref((prototype - model.adapter(cls)).unsqueeze(0))[0, 0]
        image_feature = cls / cls.norm()
        s_a = (100 * image_feature @ torch.stack([f_n, f_a]).T).softmax(dim=-1)[1]
        holistic = (s_a + s_i) + residual_map
        s_h = model.diff_head(holistic.unsqueeze(0))[0, 0]
        score = (s_h + s_p) / 2
        tensors[f"map.{query}"] = residual_map
        tensors[f"scores.{query}"] = torch.stack([s_p, s_i, s_a, s_h, score])


def bf16_reference(model, images, accumulation=torch.float32):
    """The tensors of reference-bf16.safetensors: `images` through the towers in the bf16
    scheme (sums in `accumulation`), the heads in fp32."""
    tensors = {}
    with torch.inference_mode():
        features = {name: vision_bf16(model, image, accumulation) for name, image in images.items()}
        for name, (cls, _) in features.items():
            tensors[f"cls.{name}"] = cls
        f_n, f_a = text_features(
            model, CLASS_NAME, lambda tokens: make_bf16_reference.encode_text(model.clip, tokens, accumulation))
        tensors["text.normal"], tensors["text.anomalous"] = f_n, f_a
        score_queries(model, features, f_n, f_a, tensors)
    return tensors


def write_bf16_reference(order_spread):
    """reference-bf16.safetensors from the committed checkpoint and input images; with
    `order_spread`, also prints how far exactly rounded sums (fp64) move it."""
    make_bf16_reference.check_fp32_arithmetic()
    model = TinyInCTRL().eval()
    checkpoint = torch.load(OUT / "checkpoint.pyth", weights_only=True)
    missing, unexpected = model.load_state_dict(checkpoint["model_state"], strict=False)
    if unexpected or any(not key.startswith("clip.") for key in missing):
        raise RuntimeError(f"checkpoint.pyth: missing {missing}, unexpected {unexpected}")
    fp32 = load_file(str(OUT / "reference.safetensors"))
    images = {name: fp32[f"image.{name}"].to(torch.float32) for name in ("prompt.0", "prompt.1", "query.0", "query.1")}
    tensors = bf16_reference(model, images)
    save_file({k: v.contiguous() for k, v in tensors.items()}, str(OUT / "reference-bf16.safetensors"),
              metadata={"class_name": CLASS_NAME, "precision": "bf16", "shots": "prompt.0,prompt.1"})
    exact = bf16_reference(model, images, torch.float64) if order_spread else {}
    for key, value in tensors.items():
        line = f"{key}: bf16 - fp32 max abs {(value - fp32[key]).abs().max().item():.3g}"
        if key in exact:
            line += f", fp32 sums - exact sums max abs {(value - exact[key]).abs().max().item():.3g}"
        print(line)


def write_fp32_fixtures():
    torch.manual_seed(0)
    generator = torch.Generator().manual_seed(2024)
    model = TinyInCTRL().eval()
    randomise(model, generator)
    OUT.mkdir(parents=True, exist_ok=True)
    torch.save({"epoch": 9, "model_state": model.released_state_dict(), "cfg": "MODEL:\n  NAME: tiny\n"},
               OUT / "checkpoint.pyth")

    images = {"prompt.0": image(generator, 0.0), "prompt.1": image(generator, 0.7),
              "query.0": image(generator, 0.2), "query.1": image(generator, 2.5)}
    tensors = {f"image.{name}": x.to(torch.float16) for name, x in images.items()}
    with torch.inference_mode():
        features = {name: vision(model, x) for name, x in images.items()}
        for name, (cls, taps) in features.items():
            tensors[f"cls.{name}"] = cls
            for l in TAPS:
                tensors[f"tap{l}.{name}"] = taps[l]
        f_n, f_a = text_features(model, CLASS_NAME)
        tensors["text.normal"], tensors["text.anomalous"] = f_n, f_a
        score_queries(model, features, f_n, f_a, tensors)
    save_file({k: v.contiguous() for k, v in tensors.items()}, str(OUT / "reference.safetensors"),
              metadata={"class_name": CLASS_NAME, "taps": "7,9,11", "shots": "prompt.0,prompt.1"})
    print({q: tensors[f"scores.{q}"].tolist() for q in ("query.0", "query.1")})


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--precision", choices=("fp32", "bf16"), default="fp32",
                        help="fp32: the checkpoint and reference; bf16: the bf16 reference from the committed ones")
    parser.add_argument("--order-spread", action="store_true",
                        help="with bf16: also run with exactly rounded sums and print the difference")
    args = parser.parse_args()
    if args.precision == "fp32":
        write_fp32_fixtures()
    else:
        write_bf16_reference(args.order_spread)


if __name__ == "__main__":
    main()
