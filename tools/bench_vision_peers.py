#!/usr/bin/env python3
"""The yardsticks for `inctrl bench`: the vision forward of ViT-B-16-plus-240 on one 240 px
image, batch 1, with the weights of an inctrl model bundle, in another runtime:

  torch        OpenCLIP's VisionTransformer on PyTorch, inference mode; bf16 under CPU
               autocast (PyTorch's own mixed precision: linear layers in bf16 through oneDNN)
  onnxruntime  the same module exported to ONNX, on ONNX Runtime's CPU execution provider
               with every graph optimisation; fp32 only (see BF16_UNSUPPORTED)
  openvino     that ONNX graph read by OpenVINO's CPU plugin, latency hint, one stream, with
               INFERENCE_PRECISION_HINT f32 or bf16

Every runtime gets 2 threads for an operator and 1 between operators. The input image comes
from the file `inctrl bench --save-io FILE` wrote, and the output embedding is compared with
the one stored there (max abs difference), so the times are of the same computation.

Prints min / median / p95 latency like `inctrl bench`, then `key=value` lines (`median_s`,
`max_abs_diff`, and with --count-flops `torch_flop`). Exit status 3 means the runtime cannot
run here (not installed, or not in this precision); the last line says why.

    python tools/bench_vision_peers.py --runtime torch|onnxruntime|openvino --bundle DIR \\
        --reference FILE [--onnx FILE] [--precision fp32|bf16] [--iterations N] [--warmup N]
    python tools/bench_vision_peers.py --export FILE --bundle DIR   # only write the ONNX graph
    python tools/bench_vision_peers.py --reference FILE --compare OTHER  # only compare embeddings
"""
import argparse
import json
import math
import pathlib
import sys
import time

import numpy as np

SKIPPED = 3
BF16_UNSUPPORTED = (
    "ONNX Runtime's CPU execution provider has no bf16 kernel for MatMul, Gemm, Add or Softmax "
    "(a graph of bf16 tensors fails to load with NOT_IMPLEMENTED), so it has no bf16 run to compare")


def skip(reason):
    print(f"skipped: {reason}")
    sys.exit(SKIPPED)


def percentile(sorted_values, fraction):
    """Nearest-rank quantile, the definition `inctrl bench` uses."""
    rank = max(0, min(len(sorted_values) - 1, math.ceil(fraction * len(sorted_values)) - 1))
    return sorted_values[rank]


def vision_module(bundle):
    """OpenCLIP's vision tower of the bundle's architecture, holding the bundle's weights."""
    try:
        import torch
        from safetensors import safe_open
    except ImportError as error:
        skip(f"PyTorch, OpenCLIP or safetensors is missing ({error})")
    sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
    import make_clip_fixtures  # noqa: E402  (needs open_clip)

    config = json.loads((bundle / "config.json").read_text())
    visual = make_clip_fixtures.open_clip_model(config).visual
    state = {}
    with safe_open(str(bundle / "model.safetensors"), framework="pt") as tensors:
        for key in tensors.keys():
            if key.startswith("visual."):
                state[key[len("visual."):]] = tensors.get_tensor(key).float()
    visual.load_state_dict(state, strict=True)
    return visual.eval()


def export_onnx(bundle, path):
    import torch

    visual = vision_module(bundle)
    image = torch.zeros(1, 3, 240, 240)
    path.parent.mkdir(parents=True, exist_ok=True)
    with torch.inference_mode():
        torch.onnx.export(
            visual, (image,), str(path), input_names=["image"], output_names=["embedding"], opset_version=18,
            dynamo=True, external_data=True)
    print(f"wrote {path} (torch {torch.__version__})")


def torch_runner(args, image):
    import torch

    torch.set_num_threads(args.threads)
    torch.set_num_interop_threads(1)
    visual = vision_module(args.bundle)
    tensor = torch.from_numpy(image)
    autocast = torch.autocast("cpu", dtype=torch.bfloat16, enabled=args.precision == "bf16")

    def run():
        with torch.inference_mode(), autocast:
            return visual(tensor).float().numpy()

    import open_clip
    label = (f"PyTorch {torch.__version__} / open_clip {open_clip.__version__}, {args.threads} threads "
             f"(1 inter-op), {args.precision}{' autocast' if args.precision == 'bf16' else ''}")
    extra = []
    if args.count_flops:
        from torch.utils.flop_counter import FlopCounterMode
        # nn.MultiheadAttention's inference fast path is one fused operator the counter does
        # not see; the decomposed path runs the same products through counted ones.
        torch.backends.mha.set_fastpath_enabled(False)
        counter = FlopCounterMode(display=False)
        with counter, torch.inference_mode():
            visual(tensor)
        torch.backends.mha.set_fastpath_enabled(True)
        extra.append(f"torch_flop={counter.get_total_flops()}")
    return label, run, extra


def onnxruntime_runner(args, image):
    if args.precision == "bf16":
        skip(BF16_UNSUPPORTED)
    try:
        import onnxruntime
    except ImportError as error:
        skip(f"onnxruntime is missing ({error})")
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = args.threads
    options.inter_op_num_threads = 1
    options.execution_mode = onnxruntime.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
    session = onnxruntime.InferenceSession(str(args.onnx), options, providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name

    def run():
        return session.run(None, {name: image})[0]

    label = f"ONNX Runtime {onnxruntime.__version__} (CPU provider), {args.threads} intra-op threads, 1 inter-op, fp32"
    return label, run, []


def openvino_runner(args, image):
    try:
        import openvino
    except ImportError as error:
        skip(f"openvino is missing ({error})")
    core = openvino.Core()
    wanted = "bf16" if args.precision == "bf16" else "f32"
    compiled = core.compile_model(core.read_model(str(args.onnx)), "CPU", {
        "INFERENCE_PRECISION_HINT": wanted,
        "INFERENCE_NUM_THREADS": str(args.threads),
        "PERFORMANCE_HINT": "LATENCY",
        "NUM_STREAMS": "1",
    })
    used = compiled.get_property("INFERENCE_PRECISION_HINT").get_type_name()  # "f32", "bf16", …
    if used != wanted:
        skip(f"OpenVINO's CPU plugin runs {used} here when asked for {wanted}")
    request = compiled.create_infer_request()

    def run():
        request.infer({0: image})
        return request.get_output_tensor(0).data.copy()

    threads = compiled.get_property("INFERENCE_NUM_THREADS")
    label = f"OpenVINO {openvino.get_version()} (CPU plugin), {threads} threads, latency hint, inference precision {used}"
    return label, run, []


RUNNERS = {"torch": torch_runner, "onnxruntime": onnxruntime_runner, "openvino": openvino_runner}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runtime", choices=sorted(RUNNERS))
    parser.add_argument("--bundle", type=pathlib.Path, help="the inctrl model bundle directory")
    parser.add_argument("--reference", type=pathlib.Path, help="the file `inctrl bench --save-io` wrote")
    parser.add_argument("--onnx", type=pathlib.Path, help="the ONNX graph (onnxruntime, openvino)")
    parser.add_argument("--export", type=pathlib.Path, help="write the ONNX graph of the bundle's vision tower here")
    parser.add_argument("--iterations", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--precision", choices=["fp32", "bf16"], default="fp32")
    parser.add_argument("--count-flops", action="store_true", help="torch: also print the FLOPs PyTorch counts")
    parser.add_argument("--compare", type=pathlib.Path,
                        help="only print the max abs difference of this file's embedding from --reference's")
    args = parser.parse_args()

    if args.compare and args.reference:
        from safetensors.numpy import load_file
        difference = np.max(np.abs(load_file(str(args.compare))["embedding"] - load_file(str(args.reference))["embedding"]))
        print(f"max_abs_diff={float(difference):.3e}")
        return
    if not args.bundle:
        parser.error("--bundle is needed")
    if args.export:
        export_onnx(args.bundle, args.export)
        return
    if not args.runtime or not args.reference:
        parser.error("--runtime and --reference are needed (or --export, or --compare)")
    if args.runtime != "torch" and not (args.onnx and args.onnx.exists()):
        skip(f"no ONNX graph at {args.onnx} (writing it needs PyTorch and OpenCLIP)")

    from safetensors.numpy import load_file
    reference = load_file(str(args.reference))
    image = np.ascontiguousarray(reference["image"][None].astype(np.float32))
    label, run, extra = RUNNERS[args.runtime](args, image)

    output = None
    for _ in range(args.warmup):
        output = run()
    seconds = []
    for _ in range(args.iterations):
        start = time.perf_counter()
        output = run()
        seconds.append(time.perf_counter() - start)
    seconds.sort()
    median = percentile(seconds, 0.5)
    expected = reference["embedding"]
    difference = float(np.max(np.abs(np.asarray(output, dtype=np.float32).reshape(-1) - expected)))

    print(label)
    print(f"vision forward, one 240 px image, {args.iterations} iterations after {args.warmup} warm-up:")
    print(f"  min {seconds[0]:.4f} s, median {median:.4f} s, p95 {percentile(seconds, 0.95):.4f} s")
    print(f"  embedding: max abs difference {difference:.2e} from {args.reference.name} "
          f"(largest magnitude there {float(np.max(np.abs(expected))):.3f})")
    for line in extra:
        print(line)
    print(f"max_abs_diff={difference:.3e}")
    print(f"median_s={median:.5f}")


if __name__ == "__main__":
    main()
