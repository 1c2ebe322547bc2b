#!/usr/bin/env python3
"""Writes small PyTorch checkpoints for the native checkpoint reader's tests.

Run with a Python that has torch and safetensors (not needed by CI):

    python tools/make_checkpoint_fixtures.py

Outputs, under Tests/Fixtures/checkpoint/:
- state-dict.pt        torch.save({"epoch", "model_state": OrderedDict, "cfg"}) the way
                       InCTRL's training script saves, with float32/float16/bfloat16/float64
                       tensors, a transposed (strided) view, a slice with a storage offset,
                       two tensors sharing one storage, an int64 BatchNorm counter and a
                       Parameter.
- bare-state-dict.pt   the same state_dict saved bare.
- expected.safetensors every float tensor of it, contiguous fp32, as the reader must return it.
- forbidden-global.pt  a valid archive whose pickle calls os.system (must be refused unrun).
- unknown-opcode.pt    a valid archive whose pickle uses INST, an opcode no state_dict needs.
- short-storage.pt     a tensor whose view reaches past the end of its storage entry.
"""
import collections
import io
import os
import pathlib
import zipfile

import torch
from safetensors.torch import save_file

OUT = pathlib.Path(__file__).resolve().parent.parent / "Tests" / "Fixtures" / "checkpoint"


def state_dict():
    generator = torch.Generator().manual_seed(1234)
    base = torch.randn(4, 6, generator=generator)
    shared = torch.randn(10, generator=generator)
    sd = collections.OrderedDict()
    sd["visual.proj"] = torch.randn(3, 5, generator=generator)
    sd["half"] = torch.randn(2, 3, generator=generator).to(torch.float16)
    sd["brain"] = torch.randn(7, generator=generator).to(torch.bfloat16)
    sd["double"] = torch.randn(2, 2, generator=generator).to(torch.float64)
    sd["transposed"] = base.t()                       # strides (1, 6)
    sd["sliced"] = base[1:3, 2:5]                     # offset 8, strides (6, 1)
    sd["shared.first"] = shared[:4]
    sd["shared.second"] = shared[4:].view(2, 3)
    sd["bn.num_batches_tracked"] = torch.tensor(17, dtype=torch.int64)
    sd["scalar"] = torch.tensor(2.5)
    sd["parameter"] = torch.nn.Parameter(torch.randn(2, 2, generator=generator))
    sd._metadata = collections.OrderedDict([("", {"version": 1}), ("bn", {"version": 2})])
    return sd


def save(obj, name):
    # torch.save keeps the views' strides, offsets and shared storages as they are.
    torch.save(obj, OUT / name)


def rewrite_pickle(source, name, transform):
    """Copies an archive, replacing its data.pkl with transform(pickle bytes)."""
    with zipfile.ZipFile(OUT / source) as original, zipfile.ZipFile(OUT / name, "w", zipfile.ZIP_STORED) as copy:
        for info in original.infolist():
            data = original.read(info.filename)
            if info.filename.endswith("/data.pkl"):
                data = transform(data)
            copy.writestr(info.filename, data)


class CallsSystem:
    def __reduce__(self):
        return (os.system, ("echo this must never run",))


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    sd = state_dict()
    save({"epoch": 3, "model_state": sd, "cfg": "TRAIN:\n  ENABLE: true\n", "ratio": 0.5}, "state-dict.pt")
    save(sd, "bare-state-dict.pt")
    expected = {k: v.detach().to(torch.float32).contiguous() for k, v in sd.items() if v.is_floating_point()}
    save_file(expected, str(OUT / "expected.safetensors"))

    save({"model_state": collections.OrderedDict(), "hook": CallsSystem()}, "forbidden-global.pt")

    # INST ('i') builds an object by calling module.name: never needed, always refused.
    rewrite_pickle("bare-state-dict.pt", "unknown-opcode.pt", lambda data: data[:2] + b"(ios\nsystem\n" + data[2:])

    small = collections.OrderedDict(weight=torch.arange(12, dtype=torch.float32).view(3, 4))
    save(small, "short-storage.pt")
    with zipfile.ZipFile(OUT / "short-storage.pt") as original:
        entries = [(info.filename, original.read(info.filename)) for info in original.infolist()]
    with zipfile.ZipFile(OUT / "short-storage.pt", "w", zipfile.ZIP_STORED) as copy:
        for filename, data in entries:
            if "/data/" in filename:
                data = data[:20]  # 5 of the 12 floats the view needs
            copy.writestr(filename, data)


if __name__ == "__main__":
    main()
