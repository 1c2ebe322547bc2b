#!/usr/bin/env python3
"""Writes the Imaging parity corpus: PNG and JPEG inputs in every mode the service accepts,
each with the 240x240 RGB image that the reference pre-processing (Pillow + torchvision, as
InCTRL and OpenCLIP run it) produces from it.

Usage:  python tools/make_imaging_corpus.py [--out Tests/Fixtures/imaging]

Requires a Pillow whose bicubic resize always runs the horizontal pass before the vertical one,
as the model specification says: Pillow 12.3.0 or older (the committed corpus was written with
12.3.0). Pillow 13.0.0 runs the vertical pass first for images that lose more than twice as
many rows as columns, which changes tall images' bytes; the script checks this and refuses to
run on such a Pillow. One way to get it without touching another environment:
  pip install --target <dir> pillow==12.3.0;  PYTHONPATH=<dir> python tools/make_imaging_corpus.py

What it writes under --out:
  inputs/<case>.png|jpg     the encoded inputs
  expected/<case>.png       Pillow's 240x240 RGB result (Resize(240, BICUBIC), CenterCrop(240),
                            convert("RGB")), stored losslessly
  hostile/*.png             decompression bombs for the limit tests
  tensor_lut.f32            torchvision ToTensor+Normalize of every byte value (3x256 float32, LE)
  tensor_64_<case>.f32      the whole torchvision pipeline at size 64 for one photo
                            ([3,64,64] float32, LE)
  manifest.json             one entry per case: input, Pillow's mode and size, expected file,
                            and a CRC-32 of Pillow's decoded pixels (decoder parity)

Inputs come from images that ship with scikit-image and scikit-learn (real photographs), the
elpv-dataset package (real electroluminescence images of solar cells) and synthetic patterns.
Pillow cannot write 2/4-bit grey, 16-bit colour, tRNS variants or Adam7 interlacing, so PNG
inputs are encoded by the small writer below (with every scanline filter type); JPEG inputs
are written by Pillow, except YCCK, 4:4:0 and 4:1:1, which go through libjpeg-turbo's
TurboJPEG library. Every input is then opened with Pillow, which is the reference.

One deliberate divergence is encoded here too: a 16-bit grey PNG is expected to behave like
the 8-bit grey image round(v / 257) (Pillow itself would clip at 255).
"""
from __future__ import annotations

import argparse
import ctypes
import ctypes.util
import hashlib
import io
import json
import shutil
import struct
import zlib
from pathlib import Path

import numpy as np
import skimage
import sklearn
import elpv_dataset
import torch
from PIL import Image
from torchvision import transforms
from torchvision.transforms import InterpolationMode

SIZE = 240
CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)

SKIMAGE_DATA = Path(skimage.__file__).parent / "data"
SKLEARN_IMAGES = Path(sklearn.__file__).parent / "datasets" / "images"
ELPV_DATA = Path(elpv_dataset.__file__).parent / "data"


# --------------------------------------------------------------------------------------------
# The reference pipeline

def reference_rgb(image: Image.Image, size: int = SIZE) -> np.ndarray:
    """What OpenCLIP/InCTRL feed ToTensor: Resize, CenterCrop, then convert("RGB")."""
    pipeline = transforms.Compose([
        transforms.Resize(size, interpolation=InterpolationMode.BICUBIC),
        transforms.CenterCrop(size),
        lambda im: im.convert("RGB"),
    ])
    return np.asarray(pipeline(image))


def reference_tensor(image: Image.Image, size: int) -> np.ndarray:
    pipeline = transforms.Compose([
        transforms.Resize(size, interpolation=InterpolationMode.BICUBIC),
        transforms.CenterCrop(size),
        lambda im: im.convert("RGB"),
        transforms.ToTensor(),
        transforms.Normalize(CLIP_MEAN, CLIP_STD),
    ])
    return pipeline(image).numpy()


def require_horizontal_first_resize() -> None:
    """Stops unless Pillow's bicubic resize equals its horizontal-only resize followed by its
    vertical-only one (each rounded to 8 bits) on an image that Pillow 13 resamples the other
    way round."""
    tall = Image.fromarray(pattern_rgb(300, 605, 39))
    both = tall.resize((240, 484), Image.Resampling.BICUBIC)
    horizontal_then_vertical = tall.resize((240, 605), Image.Resampling.BICUBIC).resize(
        (240, 484), Image.Resampling.BICUBIC)
    if both.tobytes() != horizontal_then_vertical.tobytes():
        raise SystemExit(f"Pillow {Image.__version__} does not resize horizontally first; "
                         "install Pillow 12.3.0 (see the module docstring) and run again")


def pillow_input_for_reference(path: Path) -> Image.Image:
    """The image the reference pipeline should see; 16-bit grey becomes round(v/257) grey."""
    image = Image.open(path)
    if image.mode == "I;16":
        words = np.asarray(image).astype(np.uint32)
        return Image.fromarray(((words + 128) // 257).astype(np.uint8), "L")
    return image


def decoded_crc(image: Image.Image) -> int:
    """CRC-32 of Pillow's decoded samples in the layout the Swift decoder uses."""
    if image.mode == "1":
        samples = np.asarray(image).astype(np.uint8) * 255
    elif image.mode == "I;16":
        samples = np.asarray(image).astype("<u2")
    else:
        samples = np.asarray(image)
    return zlib.crc32(np.ascontiguousarray(samples).tobytes())


# --------------------------------------------------------------------------------------------
# A small PNG writer covering what Pillow cannot write

ADAM7 = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]
CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}


def chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def pack_rows(samples: np.ndarray, depth: int) -> np.ndarray:
    """Rows of raw scanline bytes (without filter bytes) for an HxW or HxWxC sample array."""
    height = samples.shape[0]
    if depth == 16:
        return samples.astype(">u2").reshape(height, -1).view(np.uint8)
    if depth == 8:
        return samples.astype(np.uint8).reshape(height, -1)
    per_byte = 8 // depth
    width = samples.shape[1]
    padded_width = -(-width // per_byte) * per_byte
    padded = np.zeros((height, padded_width), dtype=np.uint8)
    padded[:, :width] = samples
    groups = padded.reshape(height, -1, per_byte)
    packed = np.zeros(groups.shape[:2], dtype=np.uint8)
    for slot in range(per_byte):
        packed |= (groups[:, :, slot] << (8 - depth * (slot + 1))).astype(np.uint8)
    return packed


def filter_rows(rows: np.ndarray, bytes_per_pixel: int, first_filter: int) -> bytes:
    """Filters the scanlines (PNG spec section 9): the first ten cycle through all five filter
    types so the decoder meets each one, the rest take the usual minimum-sum heuristic."""
    out = bytearray()
    previous = np.zeros(rows.shape[1], dtype=np.int16)
    for index, raw_row in enumerate(rows):
        raw = raw_row.astype(np.int16)
        left = np.concatenate([np.zeros(bytes_per_pixel, np.int16), raw[:-bytes_per_pixel]])
        up_left = np.concatenate([np.zeros(bytes_per_pixel, np.int16), previous[:-bytes_per_pixel]])
        estimate = left + previous - up_left
        distance_left = np.abs(estimate - left)
        distance_up = np.abs(estimate - previous)
        distance_up_left = np.abs(estimate - up_left)
        paeth = np.where(
            (distance_left <= distance_up) & (distance_left <= distance_up_left), left,
            np.where(distance_up <= distance_up_left, previous, up_left))
        predictions = [np.zeros_like(raw), left, previous, (left + previous) >> 1, paeth]
        residuals = [((raw - predicted) & 0xFF).astype(np.uint8) for predicted in predictions]
        if index < 10:
            kind = (first_filter + index) % 5
        else:
            kind = int(np.argmin([np.abs(r.astype(np.int8).astype(np.int32)).sum() for r in residuals]))
        out.append(kind)
        out += residuals[kind].tobytes()
        previous = raw
    return bytes(out)


def encode_png(samples: np.ndarray, color_type: int, depth: int, *, palette: bytes | None = None,
               trns: bytes | None = None, interlace: bool = False, ancillary: list[bytes] = (),
               idat_size: int = 8192) -> bytes:
    height, width = samples.shape[:2]
    bytes_per_pixel = max(1, CHANNELS[color_type] * depth // 8)
    if interlace:
        stream = bytearray()
        for number, (x0, y0, dx, dy) in enumerate(ADAM7):
            sub = samples[y0::dy, x0::dx]
            if sub.shape[0] == 0 or sub.shape[1] == 0:
                continue
            stream += filter_rows(pack_rows(sub, depth), bytes_per_pixel, number)
    else:
        stream = filter_rows(pack_rows(samples, depth), bytes_per_pixel, 0)
    compressed = zlib.compress(bytes(stream), 9)
    png = bytearray(b"\x89PNG\r\n\x1a\n")
    png += chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, depth, color_type, 0, 0, int(interlace)))
    for extra in ancillary:
        png += extra
    if palette is not None:
        png += chunk(b"PLTE", palette)
    if trns is not None:
        png += chunk(b"tRNS", trns)
    for start in range(0, len(compressed), idat_size):
        png += chunk(b"IDAT", compressed[start:start + idat_size])
    png += chunk(b"IEND", b"")
    return bytes(png)


# --------------------------------------------------------------------------------------------
# Content

def photo(name: str) -> Image.Image:
    return Image.open(SKIMAGE_DATA / name)


def crop_to(image: Image.Image, width: int, height: int) -> Image.Image:
    """A centred crop (repeating the image by tiling if it is too small)."""
    if image.width < width or image.height < height:
        tiled = Image.new(image.mode, (max(width, image.width), max(height, image.height)))
        for top in range(0, tiled.height, image.height):
            for left in range(0, tiled.width, image.width):
                tiled.paste(image, (left, top))
        image = tiled
    left = (image.width - width) // 2
    top = (image.height - height) // 2
    return image.crop((left, top, left + width, top + height))


def pattern_rgb(width: int, height: int, seed: int) -> np.ndarray:
    """Synthetic content with smooth ramps and hard edges (which make bicubic overshoot and
    clamp) that still compresses well."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float64)
    red = (x * 255.0 / max(width - 1, 1))
    green = 127.5 + 127.5 * np.sin(np.hypot(x - width / 3, y - height / 2) / (9 + seed % 5))
    blue = ((x // 16 + y // 16) % 2) * 255.0
    image = np.stack([red, green, blue], axis=-1)
    for _ in range(6):
        cx, cy = rng.integers(0, width), rng.integers(0, height)
        radius = rng.integers(4, max(8, min(width, height) // 3))
        mask = (x - cx) ** 2 + (y - cy) ** 2 < radius ** 2
        image[mask] = rng.integers(0, 256, 3)
    return np.clip(np.round(image), 0, 255).astype(np.uint8)


def pattern_gray(width: int, height: int, seed: int) -> np.ndarray:
    rgb = pattern_rgb(width, height, seed).astype(np.uint32)
    return ((rgb[..., 0] * 299 + rgb[..., 1] * 587 + rgb[..., 2] * 114 + 500) // 1000).astype(np.uint8)


def alpha_ramp(width: int, height: int) -> np.ndarray:
    """Alpha covering 0, 255 and everything in between, with fully transparent holes."""
    y, x = np.mgrid[0:height, 0:width]
    alpha = (x * 255 // max(width - 1, 1) + y * 97) % 256
    alpha[(x // 20 + y // 20) % 5 == 0] = 0
    alpha[(x // 30) % 4 == 1] = 255
    return alpha.astype(np.uint8)


def low_bytes(shape: tuple, seed: int) -> np.ndarray:
    """Low bytes for 16-bit samples that take every value 0...255 (so rounding and truncation
    to 8 bits are both exercised) yet compress well."""
    index = np.arange(int(np.prod(shape)), dtype=np.uint32).reshape(shape)
    return ((index * (2 * seed + 1) + index // 256) % 256).astype(np.uint16)


# --------------------------------------------------------------------------------------------
# TurboJPEG, for the JPEG flavours Pillow cannot write

class TurboJPEG:
    TJPF_RGB, TJPF_CMYK = 0, 11
    TJSAMP_440, TJSAMP_411 = 4, 5

    def __init__(self) -> None:
        path = ctypes.util.find_library("turbojpeg") or "libturbojpeg.so.0"
        self.lib = ctypes.CDLL(path)
        self.lib.tjInitCompress.restype = ctypes.c_void_p
        self.lib.tjCompress2.argtypes = [
            ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_int,
            ctypes.POINTER(ctypes.c_void_p), ctypes.POINTER(ctypes.c_ulong), ctypes.c_int, ctypes.c_int,
            ctypes.c_int]
        self.lib.tjFree.argtypes = [ctypes.c_void_p]
        self.lib.tjDestroy.argtypes = [ctypes.c_void_p]

    def compress(self, pixels: np.ndarray, pixel_format: int, subsampling: int, quality: int) -> bytes:
        pixels = np.ascontiguousarray(pixels)
        height, width = pixels.shape[:2]
        handle = self.lib.tjInitCompress()
        output = ctypes.c_void_p()
        size = ctypes.c_ulong()
        status = self.lib.tjCompress2(handle, pixels.ctypes.data, width, 0, height, pixel_format,
                                      ctypes.byref(output), ctypes.byref(size), subsampling, quality, 0)
        if status != 0:
            raise RuntimeError("tjCompress2 failed")
        data = ctypes.string_at(output, size.value)
        self.lib.tjFree(output)
        self.lib.tjDestroy(handle)
        return data


def jpeg(image: Image.Image, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", **options)
    return buffer.getvalue()


def pil_png(image: Image.Image, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG", **options)
    return buffer.getvalue()


# --------------------------------------------------------------------------------------------
# The cases

def build_cases(turbo: TurboJPEG) -> list[dict]:
    """Each case: name, ext, bytes, note; optionally expected_from (reuse another case's
    expected image, for 16-bit inputs that must equal their 8-bit counterparts)."""
    cases: list[dict] = []

    def add(name: str, ext: str, data: bytes, note: str, **extra) -> None:
        cases.append({"name": name, "ext": ext, "data": data, "note": note, **extra})

    camera = np.asarray(photo("camera.png"))
    astronaut = photo("astronaut.png")
    coffee = photo("coffee.png")
    logo = np.asarray(photo("logo.png"))

    # Grey, every bit depth.
    gray8 = np.asarray(crop_to(Image.fromarray(camera), 239, 241))
    add("png_gray8_239x241", "png", encode_png(gray8, 0, 8), "8-bit grey, odd size, photo")
    add("png_gray16_x257_239x241", "png", encode_png(gray8.astype(np.uint16) * 257, 0, 16),
        "16-bit grey equal to png_gray8_239x241 times 257", expected_from="png_gray8_239x241")
    gray16 = (pattern_gray(300, 280, 1).astype(np.uint16) * 257) ^ low_bytes((280, 300), 2)
    add("png_gray16_300x280", "png", encode_png(gray16, 0, 16), "16-bit grey with arbitrary low bytes")
    dithered = Image.fromarray(camera).resize((301, 257)).convert("1")
    add("png_gray1_301x257", "png", encode_png(np.asarray(dithered).astype(np.uint8), 0, 1),
        "1-bit grey (Pillow mode 1, nearest-neighbour resize)")
    add("png_gray2_250x260", "png", encode_png(pattern_gray(250, 260, 3) >> 6, 0, 2), "2-bit grey")
    add("png_gray4_333x222", "png", encode_png(pattern_gray(333, 222, 4) >> 4, 0, 4), "4-bit grey")
    add("png_gray8_trns_260x250", "png",
        encode_png(pattern_gray(260, 250, 5), 0, 8, trns=struct.pack(">H", 0)), "grey with tRNS (ignored)")
    add("png_gray8_4000x300", "png", encode_png(np.tile(pattern_gray(500, 300, 6), (1, 8)), 0, 8), "very wide grey")
    add("png_gray8_1x1", "png", encode_png(np.array([[173]], np.uint8), 0, 8), "1x1 grey")
    add("png_gray8_1x300", "png", encode_png(pattern_gray(1, 300, 7), 0, 8), "one column, 240x72000 resize")

    # Truecolour.
    rgb = np.asarray(crop_to(astronaut, 239, 241))
    add("png_rgb8_239x241", "png", encode_png(rgb, 2, 8), "8-bit RGB, odd size, photo")
    rgb_pattern = pattern_rgb(239, 241, 31)
    add("png_rgb8_pattern_239x241", "png", encode_png(rgb_pattern, 2, 8), "8-bit RGB, odd size, synthetic")
    add("png_rgb16_x257_239x241", "png", encode_png(rgb_pattern.astype(np.uint16) * 257, 2, 16),
        "16-bit RGB equal to png_rgb8_pattern_239x241 times 257", expected_from="png_rgb8_pattern_239x241")
    rgb16 = (pattern_rgb(320, 200, 8).astype(np.uint16) << 8) | low_bytes((200, 320, 3), 9)
    add("png_rgb16_320x200", "png", encode_png(rgb16, 2, 16), "16-bit RGB with arbitrary low bytes (Pillow keeps the high byte)")
    add("png_rgb8_1x1", "png", encode_png(np.array([[[12, 200, 99]]], np.uint8), 2, 8), "1x1 RGB")
    add("png_rgb8_100x80", "png", encode_png(pattern_rgb(100, 80, 10), 2, 8), "upscaled RGB")
    add("png_rgb8_3x1000", "png", encode_png(pattern_rgb(3, 1000, 11), 2, 8), "three columns, tall")
    add("png_rgb8_trns_250x245", "png", encode_png(pattern_rgb(250, 245, 12), 2, 8, trns=struct.pack(">HHH", 0, 0, 255)),
        "RGB with tRNS (ignored)")
    add("png_rgb8_chunks_256x256", "png", encode_png(
        pattern_rgb(256, 256, 13), 2, 8, ancillary=[
            chunk(b"gAMA", struct.pack(">I", 100000)),
            chunk(b"cHRM", struct.pack(">8I", 31270, 32900, 64000, 33000, 30000, 60000, 15000, 6000)),
            chunk(b"tEXt", b"Comment\x00gamma is deliberately extreme and must be ignored"),
            chunk(b"zTXt", b"Software\x00\x00" + zlib.compress(b"corpus writer")),
            chunk(b"pHYs", struct.pack(">IIB", 2835, 2835, 1)),
        ]), "RGB with gAMA 1.0, cHRM, text and pHYs chunks (all ignored)")
    add("png_rgb8_pillow_written_250x250", "png", pil_png(Image.fromarray(pattern_rgb(250, 250, 36))),
        "RGB PNG written by Pillow itself")

    # Crop rounding: round((extent - 240) / 2) with half-to-even.
    add("png_rgb8_480x486", "png", encode_png(pattern_rgb(480, 486, 14), 2, 8), "resized 240x243: top = round(1.5) = 2")
    add("png_rgb8_480x490", "png", encode_png(pattern_rgb(480, 490, 15), 2, 8), "resized 240x245: top = round(2.5) = 2")
    add("png_rgb8_485x480", "png", encode_png(pattern_rgb(485, 480, 16), 2, 8), "resized 242x240: left = round(1) = 1")
    add("png_rgb8_301x300", "png", encode_png(pattern_rgb(301, 300, 17), 2, 8), "int(240*301/300) = 240: square output")
    add("png_rgb8_243x240", "png", encode_png(pattern_rgb(243, 240, 18), 2, 8), "no resize, left = round(1.5) = 2")
    add("png_rgb8_245x240", "png", encode_png(pattern_rgb(245, 240, 19), 2, 8), "no resize, left = round(2.5) = 2")
    add("png_rgb8_240x240", "png", encode_png(pattern_rgb(240, 240, 20), 2, 8), "already 240x240")

    # The specification resizes horizontally first, always; Pillow 13 switches to vertical first
    # when the height loses more than twice as many pixels as the width: 300x600 -> 240x480
    # loses 120 = 2 * 60 (horizontal first there too), 300x605 -> 240x484 loses 121 (Pillow 13
    # would go vertical first). These and the tall cases below pin the specified order.
    add("png_rgb8_300x600", "png", encode_png(pattern_rgb(300, 600, 38), 2, 8),
        "pass order boundary: horizontal first in every Pillow")
    add("png_rgb8_300x605", "png", encode_png(pattern_rgb(300, 605, 39), 2, 8),
        "pass order boundary: horizontal first (Pillow 13 would go vertical first)")
    standing_rocket = photo("rocket.jpg").convert("L").transpose(Image.Transpose.ROTATE_90)
    add("png_gray8_tall_250x640", "png", encode_png(np.asarray(crop_to(standing_rocket, 250, 640)), 0, 8),
        "tall real photo, grey: horizontal first (Pillow 13 would go vertical first)")
    add("png_rgba8_tall_250x700", "png", encode_png(np.dstack([pattern_rgb(250, 700, 40), alpha_ramp(250, 700)]), 6, 8),
        "tall RGBA: horizontal first (Pillow 13 would go vertical first)")

    # Palette, every bit depth, with and without tRNS.
    quantized = crop_to(astronaut, 245, 250).quantize(256, dither=Image.Dither.NONE)
    indices = np.asarray(quantized)
    palette = bytes(quantized.getpalette()[: 3 * (int(indices.max()) + 1)])
    add("png_palette8_245x250", "png", encode_png(indices, 3, 8, palette=palette), "8-bit palette photo")
    alphas = bytes((i * 37) % 256 for i in range(len(palette) // 3))
    add("png_palette8_trns_245x250", "png", encode_png(indices, 3, 8, palette=palette, trns=alphas),
        "8-bit palette with per-entry alpha (dropped by convert('RGB'))")
    pal16 = crop_to(coffee, 333, 251).quantize(16)
    add("png_palette4_333x251", "png", encode_png(np.asarray(pal16), 3, 4, palette=bytes(pal16.getpalette()[:48])),
        "4-bit palette")
    add("png_palette4_trns_333x251", "png", encode_png(np.asarray(pal16), 3, 4, palette=bytes(pal16.getpalette()[:48]),
                                                         trns=b"\xff\x00\xff"), "4-bit palette with tRNS")
    pal4 = Image.fromarray(pattern_rgb(250, 241, 21)).quantize(4)
    add("png_palette2_250x241", "png", encode_png(np.asarray(pal4), 3, 2, palette=bytes(pal4.getpalette()[:12])),
        "2-bit palette")
    pal2 = (pattern_gray(257, 263, 22) > 127).astype(np.uint8)
    add("png_palette1_257x263", "png", encode_png(pal2, 3, 1, palette=bytes([200, 30, 40, 10, 90, 250])),
        "1-bit palette, two colours")
    add("png_palette8_2x3", "png", encode_png(np.array([[0, 1], [2, 3], [1, 0]], np.uint8), 3, 8,
                                                palette=bytes(range(12))), "2x3 palette")

    # Grey + alpha, RGBA.
    la_gray = pattern_gray(260, 250, 23)
    la = np.stack([la_gray, alpha_ramp(260, 250)], axis=-1)
    add("png_la8_260x250", "png", encode_png(la, 4, 8), "grey+alpha (premultiplied resize)")
    add("png_la16_x257_260x250", "png", encode_png(la.astype(np.uint16) * 257, 4, 16),
        "16-bit grey+alpha (Pillow opens it as RGBA)")
    add("png_la8_240x300", "png", encode_png(np.stack([pattern_gray(240, 300, 24), alpha_ramp(240, 300)], -1), 4, 8),
        "grey+alpha that needs no resize (not premultiplied)")
    logo_crop = crop_to(Image.fromarray(logo), 320, 311)
    add("png_rgba8_logo_320x311", "png", encode_png(np.asarray(logo_crop), 6, 8), "RGBA with real alpha (scikit-image logo)")
    rgba = np.concatenate([pattern_rgb(270, 255, 25), alpha_ramp(270, 255)[..., None]], axis=-1)
    add("png_rgba8_270x255", "png", encode_png(rgba, 6, 8), "RGBA, every alpha value")
    rgba16 = (rgba.astype(np.uint16) << 8) | low_bytes(rgba.shape, 26)
    add("png_rgba16_270x255", "png", encode_png(rgba16, 6, 16), "16-bit RGBA with arbitrary low bytes")
    add("png_rgba8_240x320", "png", encode_png(np.concatenate(
        [pattern_rgb(240, 320, 27), alpha_ramp(240, 320)[..., None]], axis=-1), 6, 8), "RGBA that needs no resize")
    add("png_rgba8_1x1", "png", encode_png(np.array([[[200, 100, 50, 128]]], np.uint8), 6, 8), "1x1 RGBA")

    # Adam7.
    add("png_gray8_interlaced_239x241", "png", encode_png(gray8, 0, 8, interlace=True), "Adam7 8-bit grey",
        expected_from="png_gray8_239x241")
    add("png_gray1_interlaced_301x257", "png", encode_png(np.asarray(dithered).astype(np.uint8), 0, 1, interlace=True),
        "Adam7 1-bit grey", expected_from="png_gray1_301x257")
    add("png_gray4_interlaced_333x222", "png", encode_png(pattern_gray(333, 222, 4) >> 4, 0, 4, interlace=True),
        "Adam7 4-bit grey", expected_from="png_gray4_333x222")
    add("png_gray16_interlaced_300x280", "png", encode_png(gray16, 0, 16, interlace=True), "Adam7 16-bit grey",
        expected_from="png_gray16_300x280")
    add("png_rgb8_interlaced_239x241", "png", encode_png(rgb_pattern, 2, 8, interlace=True), "Adam7 RGB",
        expected_from="png_rgb8_pattern_239x241")
    add("png_palette2_interlaced_250x241", "png", encode_png(np.asarray(pal4), 3, 2, palette=bytes(pal4.getpalette()[:12]),
                                                              interlace=True), "Adam7 2-bit palette",
        expected_from="png_palette2_250x241")
    add("png_la8_interlaced_260x250", "png", encode_png(la, 4, 8, interlace=True), "Adam7 grey+alpha",
        expected_from="png_la8_260x250")
    add("png_rgba16_interlaced_270x255", "png", encode_png(rgba.astype(np.uint16) * 257, 6, 16, interlace=True),
        "Adam7 16-bit RGBA", expected_from="png_rgba8_270x255")
    add("png_rgb8_interlaced_5x3", "png", encode_png(pattern_rgb(5, 3, 28), 2, 8, interlace=True),
        "Adam7 with empty passes")

    # JPEG: chroma subsampling, progressive, grey, CMYK/YCCK, real camera files.
    astro_jpeg = Image.fromarray(pattern_rgb(512, 384, 30))
    add("jpeg_444_pattern_512x384", "jpg", jpeg(astro_jpeg, quality=90, subsampling=0), "baseline 4:4:4")
    add("jpeg_422_pattern_512x384", "jpg", jpeg(astro_jpeg, quality=90, subsampling=1), "baseline 4:2:2")
    add("jpeg_420_pattern_512x384", "jpg", jpeg(astro_jpeg, quality=90, subsampling=2), "baseline 4:2:0")
    add("jpeg_440_pattern_512x384", "jpg", turbo.compress(np.asarray(astro_jpeg), TurboJPEG.TJPF_RGB, TurboJPEG.TJSAMP_440, 90),
        "baseline 4:4:0 (TurboJPEG)")
    add("jpeg_411_pattern_512x384", "jpg", turbo.compress(np.asarray(astro_jpeg), TurboJPEG.TJPF_RGB, TurboJPEG.TJSAMP_411, 90),
        "baseline 4:1:1 (TurboJPEG)")
    add("jpeg_420_progressive_600x400", "jpg", jpeg(coffee, quality=85, subsampling=2, progressive=True),
        "progressive 4:2:0, real photo")
    add("jpeg_420_239x241", "jpg", jpeg(Image.fromarray(rgb_pattern), quality=92, subsampling=2), "4:2:0 with odd size")
    add("jpeg_420_progressive_300x4000", "jpg", jpeg(Image.fromarray(pattern_rgb(300, 4000, 29)), quality=80,
                                                   subsampling=2, progressive=True), "progressive, very tall")
    add("jpeg_420_4000x300", "jpg", jpeg(Image.fromarray(pattern_rgb(4000, 300, 37)), quality=75, subsampling=2),
        "very wide")
    add("jpeg_420_1x1", "jpg", jpeg(Image.new("RGB", (1, 1), (10, 200, 90)), quality=95), "1x1")
    add("jpeg_gray_512x512", "jpg", jpeg(Image.fromarray(camera), quality=90), "greyscale baseline")
    add("jpeg_gray_progressive_241x239", "jpg", jpeg(crop_to(Image.fromarray(camera), 241, 239), quality=90,
                                                     progressive=True), "greyscale progressive")
    add("jpeg_restart_420_400x300", "jpg", jpeg(Image.fromarray(pattern_rgb(400, 300, 32)), quality=88, subsampling=2,
                                                restart_marker_rows=1), "restart markers every MCU row")
    exif = Image.Exif()
    exif[0x0112] = 6
    add("jpeg_exif_rotated_420_300x260", "jpg", jpeg(Image.fromarray(pattern_rgb(300, 260, 33)), quality=90,
                                                     exif=exif.tobytes()),
        "EXIF orientation 6, which Pillow's open does not apply")
    cmyk = Image.fromarray(pattern_rgb(350, 260, 34)).convert("CMYK")
    add("jpeg_cmyk_350x260", "jpg", jpeg(cmyk, quality=92), "Adobe CMYK (Pillow assumes inverted ink)")
    ycck_source = np.asarray(Image.fromarray(pattern_rgb(330, 250, 35)).convert("CMYK"))
    add("jpeg_ycck_330x250", "jpg", turbo.compress(ycck_source, TurboJPEG.TJPF_CMYK, 0, 92), "Adobe YCCK (TurboJPEG)")
    for name in ("china.jpg",):
        add(f"jpeg_photo_{Path(name).stem}_640x427", "jpg", (SKLEARN_IMAGES / name).read_bytes(),
            f"real camera JPEG shipped with scikit-learn ({name})")
    add("jpeg_photo_rocket_640x427", "jpg", (SKIMAGE_DATA / "rocket.jpg").read_bytes(),
        "real photo shipped with scikit-image (rocket.jpg)")
    retina = crop_to(Image.open(SKIMAGE_DATA / "retina.jpg"), 1024, 768)
    add("jpeg_retina_1024x768", "jpg", jpeg(retina, quality=90, subsampling=2),
        "1024x768 4:2:0 photo (the benchmark's JPEG)")

    # Real grey defect images: electroluminescence solar cells (elpv-dataset).
    labels = [line.split() for line in (ELPV_DATA / "labels.csv").read_text().splitlines() if line.strip()]
    functional = [path for path, probability, _ in labels if float(probability) == 0.0][:3]
    defective = [path for path, probability, _ in labels if float(probability) == 1.0][:3]
    for path in functional + defective:
        state = "defective" if path in defective else "functional"
        add(f"png_elpv_{Path(path).stem}_{state}", "png", (ELPV_DATA / path).read_bytes(),
            f"elpv-dataset {Path(path).name}, {state} solar cell, 300x300 grey")
    return cases


def write_hostile(directory: Path) -> None:
    """Decompression bombs: a huge declared size over a bomb IDAT, and a small image whose
    IDAT stream continues with 64 MiB of zeros after the image data."""
    directory.mkdir(parents=True, exist_ok=True)
    zeros = bytes(1 << 20)
    bomb = zlib.compressobj(9)
    compressed = b"".join(bomb.compress(zeros) for _ in range(64)) + bomb.flush()
    header = chunk(b"IHDR", struct.pack(">IIBBBBB", 100_000, 100_000, 8, 0, 0, 0, 0))
    (directory / "bomb_100000x100000.png").write_bytes(
        b"\x89PNG\r\n\x1a\n" + header + chunk(b"IDAT", compressed) + chunk(b"IEND", b""))

    rows = b"".join(b"\x00" + bytes(range(64)) for _ in range(64))
    trailing = zlib.compressobj(9)
    stream = trailing.compress(rows) + b"".join(trailing.compress(zeros) for _ in range(64)) + trailing.flush()
    header = chunk(b"IHDR", struct.pack(">IIBBBBB", 64, 64, 8, 0, 0, 0, 0))
    (directory / "trailing_bomb_64x64.png").write_bytes(
        b"\x89PNG\r\n\x1a\n" + header + chunk(b"IDAT", stream) + chunk(b"IEND", b""))

    ztxt_bomb = zlib.compressobj(9)
    text = b"".join(ztxt_bomb.compress(zeros) for _ in range(64)) + ztxt_bomb.flush()
    header = chunk(b"IHDR", struct.pack(">IIBBBBB", 8, 8, 8, 0, 0, 0, 0))
    image = zlib.compress(b"".join(b"\x00" + bytes(8) for _ in range(8)))
    (directory / "ztxt_bomb_8x8.png").write_bytes(
        b"\x89PNG\r\n\x1a\n" + header + chunk(b"zTXt", b"Comment\x00\x00" + text)
        + chunk(b"IDAT", image) + chunk(b"IEND", b""))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent.parent / "Tests/Fixtures/imaging")
    arguments = parser.parse_args()
    out: Path = arguments.out
    for sub in ("inputs", "expected", "hostile"):
        shutil.rmtree(out / sub, ignore_errors=True)
        (out / sub).mkdir(parents=True)

    require_horizontal_first_resize()
    cases = build_cases(TurboJPEG())
    expected_by_name: dict[str, np.ndarray] = {}
    expected_file_by_digest: dict[str, str] = {}
    manifest = []
    for case in cases:
        input_path = out / "inputs" / f"{case['name']}.{case['ext']}"
        input_path.write_bytes(case["data"])
        opened = Image.open(input_path)
        opened.load()
        rgb = reference_rgb(pillow_input_for_reference(input_path))
        reference = case.get("expected_from")
        if reference is not None and not np.array_equal(rgb, expected_by_name[reference]):
            raise SystemExit(f"{case['name']}: differs from {reference}, which it must equal")
        expected_by_name[case["name"]] = rgb
        digest = hashlib.sha256(rgb.tobytes()).hexdigest()
        if digest not in expected_file_by_digest:
            expected_file_by_digest[digest] = case["name"]
            Image.fromarray(rgb, "RGB").save(out / "expected" / f"{case['name']}.png", optimize=True)
        expected_name = expected_file_by_digest[digest]
        manifest.append({
            "name": case["name"],
            "input": f"inputs/{input_path.name}",
            "format": opened.format,
            "mode": opened.mode,
            "width": opened.width,
            "height": opened.height,
            "expected": f"expected/{expected_name}.png",
            "decoded_crc32": decoded_crc(opened),
            "palette": list(opened.getpalette() or []) if opened.mode == "P" else None,
            "note": case["note"],
        })

    write_hostile(out / "hostile")

    every_byte = np.repeat(np.arange(256, dtype=np.uint8), 3).reshape(16, 16, 3)
    lut = transforms.Compose([transforms.ToTensor(), transforms.Normalize(CLIP_MEAN, CLIP_STD)])(
        Image.fromarray(every_byte, "RGB")).numpy().reshape(3, 256)
    lut.astype("<f4").tofile(out / "tensor_lut.f32")
    tensor_case = "jpeg_photo_china_640x427"
    reference_tensor(Image.open(out / "inputs" / f"{tensor_case}.jpg"), 64).astype("<f4").tofile(
        out / f"tensor_64_{tensor_case}.f32")

    (out / "manifest.json").write_text(json.dumps({
        "size": SIZE,
        "pillow": Image.__version__,
        "torch": torch.__version__,
        "tensor_case": tensor_case,
        "cases": manifest,
    }, indent=1) + "\n")
    total = sum(path.stat().st_size for path in out.rglob("*") if path.is_file())
    print(f"{len(manifest)} cases, {total / 1e6:.2f} MB under {out}")


if __name__ == "__main__":
    main()
