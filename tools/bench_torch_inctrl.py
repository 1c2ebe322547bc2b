#!/usr/bin/env python3
"""The PyTorch yardsticks for `inctrl bench --shots`: one InCTRL query on full-size random
weights (ViT-B-16-plus-240), 2 threads, inference mode, fp32 (or with `--precision bf16`
under CPU autocast to bfloat16, PyTorch's own mixed precision), two ways:

- as released: `mala-lab/InCTRL`'s `InCTRL.forward` algorithm at batch size 1, on the CPU.
  Every query encodes itself and its K normal images, tokenises and encodes the 242 text
  prompts of its class, and matches patches in Python loops (225 per tap layer, each one
  re-normalising all K·225 normal patches). A query takes seconds, so only a few are timed.
- cached: the prompt set's tap features (normalised), its adapted prototype and the text
  prior computed once, as `inctrl` caches them; per query one vision forward, the patch
  residual as one batched product per layer, and the heads.

Both start from an already pre-processed `[1, 3, 240, 240]` tensor (the released code gets
its images from a data loader). Prints min / median / p95 per variant and `key=value` lines:

    python tools/bench_torch_inctrl.py [--shots 8] [--iterations 20] [--released-queries 3]

The model code here is also the reference of tools/parity_inctrl_full.py.
"""
import argparse
import math
import pathlib
import sys
import time

import open_clip
import torch
import torch.nn.functional as F

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from make_inctrl_fixtures import Adapter, Head, get_texts  # noqa: E402

REPO = pathlib.Path(__file__).resolve().parent.parent
TAPS = (7, 9, 11)
ELPV_FIXTURES = REPO / "Tests" / "Fixtures" / "imaging" / "inputs"


class FullInCTRL(torch.nn.Module):
    """InCTRL on ViT-B-16-plus-240, its parameters under the released state_dict names."""

    def __init__(self):
        super().__init__()
        clip = open_clip.create_model("ViT-B-16-plus-240", pretrained=None)
        # Kept outside the module tree so the state_dict carries only the released names.
        self.__dict__["clip"] = clip
        self.visual = clip.visual
        self.transformer = clip.transformer
        self.token_embedding = clip.token_embedding
        self.positional_embedding = clip.positional_embedding
        self.ln_final = clip.ln_final
        self.text_projection = clip.text_projection
        self.adapter = Adapter(640, 4)
        self.diff_head = Head(225)
        self.diff_head_ref = Head(640)
        self.tokenizer = open_clip.get_tokenizer("ViT-B-16-plus-240")

    def encode_image(self, images):
        """(pooled [B, 640], taps: [3, B, 225, 896]) — the class token dropped from each tap."""
        taps = {}
        hooks = [self.visual.transformer.resblocks[layer - 1].register_forward_hook(
            lambda _module, _inputs, output, layer=layer: taps.__setitem__(layer, output)) for layer in TAPS]
        try:
            pooled = self.visual(images)
        finally:
            for hook in hooks:
                hook.remove()
        return pooled, torch.stack([taps[layer][:, 1:, :] for layer in TAPS])

    def encode_text(self, tokens):
        return self.clip.encode_text(tokens)

    def text_prior(self, class_name):
        """[f_n, f_a]: the normalised means of the normalised prompt embeddings."""
        rows = []
        for prompts in get_texts(class_name):
            encoded = F.normalize(self.encode_text(self.tokenizer(prompts)), dim=-1)
            rows.append(F.normalize(encoded.mean(dim=0), dim=-1))
        return torch.stack(rows)


def randomise(model, seed):
    """Every LayerNorm and BatchNorm affine parameter, every bias and the BatchNorm running
    statistics away from their identity defaults, so no term can hide."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, tensor in model.named_parameters():
            leaf = name.rsplit(".", 1)[-1]
            is_norm = ".ln_" in name or name.startswith("ln_") or ".bn" in name
            if is_norm and leaf == "weight":
                tensor.copy_(1.0 + 0.2 * torch.randn(tensor.shape, generator=generator))
            elif leaf in ("bias", "in_proj_bias"):
                tensor.copy_(0.05 * torch.randn(tensor.shape, generator=generator))
        for module in model.modules():
            if isinstance(module, torch.nn.BatchNorm1d):
                module.running_mean.copy_(0.3 * torch.randn(module.running_mean.shape, generator=generator))
                module.running_var.copy_(0.5 + torch.rand(module.running_var.shape, generator=generator))
                module.num_batches_tracked.fill_(100)


def build_model(seed):
    torch.manual_seed(seed)
    model = FullInCTRL().eval()
    randomise(model, seed + 1)
    return model


def released_forward(model, query, normals, class_name):
    """The released `InCTRL.forward` at batch size 1, on the CPU: (score, s_i, map, s_p, s_a, s_h).

    `query` is [1, 3, 240, 240]; `normals` a list of K such tensors.
    """
    shots = len(normals)
    token, taps = model.encode_image(query)
    normal_token, normal_taps = model.encode_image(torch.stack(normals).reshape(-1, 3, 240, 240))
    taps = taps.reshape(1, 3, 225, -1)
    normal_taps = normal_taps.reshape(1, 3, 225 * shots, -1)
    normal_token = normal_token.reshape(1, shots, -1)

    adapted_query = model.adapter(token)
    prototype = model.adapter(normal_token).mean(dim=1)
    image_residual = prototype - adapted_query

    layer_maps = []
    for layer in range(taps.shape[1]):
        patches = taps[0, layer]
        normal_patches = normal_taps[0, layer]
        distances = []
        for index in range(patches.shape[0]):
            # As released: the normal patches are normalised again for every query patch.
            normal_patches = normal_patches / normal_patches.norm(dim=-1, keepdim=True)
            patch = patches[index].unsqueeze(0)
            patch = patch / patch.norm(dim=-1, keepdim=True)
            distances.append((0.5 * (1 - patch @ normal_patches.T)).min(dim=1).values)
        layer_maps.append(torch.stack(distances))
    residual_map = torch.stack(layer_maps).squeeze(2).mean(dim=0)
    patch_score = residual_map.max(dim=0).values

    image_feature = F.normalize(token[0].unsqueeze(0), dim=-1)
    normal_texts, anomaly_texts = get_texts(class_name)
    text_rows = []
    for prompts in (normal_texts, anomaly_texts):
        encoded = model.encode_text(model.tokenizer(prompts))
        encoded = encoded / encoded.norm(dim=-1, keepdim=True)
        mean = encoded.mean(dim=0, keepdim=True)
        text_rows.append(mean / mean.norm(dim=-1, keepdim=True))
    text_score = (100 * image_feature @ torch.cat(text_rows).T).softmax(dim=-1)[0, 1]

    image_score = model.diff_head_ref(image_residual)
    holistic_map = text_score.reshape(1, 1) + image_score + residual_map.unsqueeze(0)
    holistic_score = model.diff_head(holistic_map).squeeze(1)
    score = (holistic_score + patch_score) / 2
    return score[0], image_score[0, 0], residual_map, patch_score, text_score, holistic_score[0]


class CachedPromptSet:
    """A prompt set's features and its class's text prior, computed once."""

    def __init__(self, model, normals, class_name):
        token, taps = model.encode_image(torch.stack(normals).reshape(-1, 3, 240, 240))
        # [3, K·225, 896], each patch unit length.
        self.normal_taps = F.normalize(taps.reshape(3, -1, taps.shape[-1]), dim=-1)
        self.prototype = model.adapter(token).mean(dim=0)
        self.text = model.text_prior(class_name)


def cached_forward(model, query, prompt_set):
    """One query against a cached prompt set: (score, s_i, map, s_p, s_a, s_h)."""
    token, taps = model.encode_image(query)
    patches = F.normalize(taps[:, 0], dim=-1)
    distances = 0.5 * (1 - torch.bmm(patches, prompt_set.normal_taps.transpose(1, 2)))
    residual_map = distances.min(dim=2).values.mean(dim=0)
    patch_score = residual_map.max()
    image_score = model.diff_head_ref((prompt_set.prototype - model.adapter(token[0])).unsqueeze(0))[0, 0]
    text_score = (100 * F.normalize(token[0], dim=-1) @ prompt_set.text.T).softmax(dim=-1)[1]
    holistic_score = model.diff_head((text_score + image_score + residual_map).unsqueeze(0))[0, 0]
    return (holistic_score + patch_score) / 2, image_score, residual_map, patch_score, text_score, holistic_score


def preprocess(path):
    """The reference's test-time transform: Resize(240, bicubic), CenterCrop, RGB, ToTensor, Normalize."""
    from PIL import Image
    from torchvision import transforms
    transform = transforms.Compose([
        transforms.Resize(240, interpolation=transforms.InterpolationMode.BICUBIC),
        transforms.CenterCrop(240),
        lambda image: image.convert("RGB"),
        transforms.ToTensor(),
        transforms.Normalize(open_clip.OPENAI_DATASET_MEAN, open_clip.OPENAI_DATASET_STD),
    ])
    with Image.open(path) as image:
        return transform(image).unsqueeze(0)


def percentile(sorted_values, fraction):
    """Nearest-rank quantile, the definition `inctrl bench` uses."""
    rank = max(0, min(len(sorted_values) - 1, math.ceil(fraction * len(sorted_values)) - 1))
    return sorted_values[rank]


def summary(seconds):
    seconds = sorted(seconds)
    return seconds[0], percentile(seconds, 0.5), percentile(seconds, 0.95)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shots", type=int, default=8)
    parser.add_argument("--iterations", type=int, default=20, help="timed cached queries")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--released-queries", type=int, default=3, help="timed as-released queries (0: skip)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--class-name", default="solar_cell")
    parser.add_argument("--precision", choices=["fp32", "bf16"], default="fp32")
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    model = build_model(seed=0)
    cells = sorted(ELPV_FIXTURES.glob("png_elpv_*.png"))
    images = [preprocess(path) for path in cells]
    normals = [images[index % len(images)] for index in range(args.shots)]
    print(f"PyTorch {torch.__version__} / open_clip {open_clip.__version__}, {args.threads} threads, {args.precision}, "
          f"K = {args.shots}, {len(images)} ELPV cells in turn")
    keys = []
    autocast = torch.autocast("cpu", dtype=torch.bfloat16, enabled=args.precision == "bf16")
    with torch.inference_mode(), autocast:
        start = time.perf_counter()
        prompt_set = CachedPromptSet(model, normals, args.class_name)
        register = time.perf_counter() - start
        for index in range(args.warmup):
            cached_forward(model, images[index % len(images)], prompt_set)
        seconds = []
        for index in range(args.iterations):
            start = time.perf_counter()
            cached_forward(model, images[index % len(images)], prompt_set)
            seconds.append(time.perf_counter() - start)
        low, median, p95 = summary(seconds)
        print(f"cached: register {register:.3f} s (cold); query, {args.iterations} iterations after {args.warmup} warm-up: "
              f"min {low:.4f} s, median {median:.4f} s, p95 {p95:.4f} s")
        keys += [f"cached_register_s={register:.5f}", f"cached_median_s={median:.5f}", f"cached_p95_s={p95:.5f}"]

        if args.released_queries > 0:
            seconds = []
            for index in range(args.released_queries):
                start = time.perf_counter()
                released_forward(model, images[index % len(images)], normals, args.class_name)
                seconds.append(time.perf_counter() - start)
            low, median, p95 = summary(seconds)
            print(f"as released: query, {args.released_queries} iterations: "
                  f"min {low:.3f} s, median {median:.3f} s, max {max(seconds):.3f} s")
            keys += [f"released_median_s={median:.5f}", f"released_min_s={low:.5f}"]
    for line in keys:
        print(line)


if __name__ == "__main__":
    main()
