#!/usr/bin/env python3
"""Restart time of `inctrl serve` with a full store (README "Durability").

Registers SETS prompt sets of SHOTS images each through the API of a fresh server, stops it
with SIGTERM, then times restarts from process start until `GET /readyz` answers 200:

  - with an empty store: the model load alone, first with the model's SHA-256 computed (a new
    data directory), then taken from `<data_dir>/model-hashes.json`;
  - with the feature cache (`<data_dir>/feature-cache/`), RUNS times;
  - with the feature cache removed, so every set's features are recomputed by the vision
    tower: once over all sets, or over the first --recompute-sets of them (a copy of the
    store holding only those), to extrapolate from when a full recompute takes too long.

    python3 tools/measure_restart.py --inctrl .build/release/inctrl --model models/inctrl \
        [--sets 100] [--shots 8] [--runs 3] [--recompute-sets N] [--images DIR] [--data DIR]

The images are distinct ELPV solar cells (300x300 PNG) from the `elpv-dataset` package
unless --images names a folder of PNG or JPEG files. Needs only the standard library
otherwise. Prints one line per measurement and a summary; on a shared machine wall-clock
times are noisy, so it also prints the server's own count of seconds spent loading.
"""
import argparse
import base64
import json
import os
import pathlib
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request


def image_files(folder, count):
    if folder is None:
        import elpv_dataset
        folder = pathlib.Path(elpv_dataset.__file__).parent / "data" / "images"
    files = sorted(p for p in pathlib.Path(folder).iterdir() if p.suffix.lower() in (".png", ".jpg", ".jpeg"))
    if len(files) < count:
        sys.exit(f"measure_restart: {folder} has {len(files)} images; {count} are needed")
    return files[:count]


class Server:
    """One `inctrl serve` process logging JSON lines to a file."""

    def __init__(self, inctrl, model, data_dir, log_path):
        environment = {k: v for k, v in os.environ.items() if not k.startswith("INCTRL_")}
        environment.update({
            "INCTRL_HOST": "127.0.0.1", "INCTRL_PORT": "0", "INCTRL_MODEL": str(model),
            "INCTRL_DATA_DIR": str(data_dir), "INCTRL_LOG_FORMAT": "json", "INCTRL_MAX_PROMPT_SETS": "1000",
        })
        self.log_path = log_path
        self.log = open(log_path, "w")
        self.started = time.monotonic()
        self.process = subprocess.Popen([str(inctrl), "serve"], env=environment, stdout=self.log, stderr=self.log)
        self.base = None

    def log_lines(self):
        lines = []
        for text in pathlib.Path(self.log_path).read_text().splitlines():
            try:
                lines.append(json.loads(text))
            except json.JSONDecodeError:
                pass
        return lines

    def logged(self, message):
        return [line for line in self.log_lines() if line.get("message") == message]

    def wait_for_log(self, message, limit_s=30):
        """The first log line with `message`; the server may log it just after acting on it."""
        deadline = time.monotonic() + limit_s
        while time.monotonic() < deadline:
            lines = self.logged(message)
            if lines:
                return lines[0]
            time.sleep(0.01)
        sys.exit(f"measure_restart: no '{message}' log line after {limit_s} s; log in {self.log_path}")

    def request(self, method, path, body=None, content_type=None, timeout=600):
        request = urllib.request.Request(self.base + path, data=body, method=method)
        if content_type:
            request.add_header("Content-Type", content_type)
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()

    def wait_until_ready(self, limit_s):
        """Seconds from process start until /readyz answered 200."""
        deadline = self.started + limit_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                sys.exit(f"measure_restart: the server exited with {self.process.returncode}; log in {self.log_path}")
            if self.base is None:
                listening = self.logged("listening")
                if listening:
                    self.base = "http://" + listening[0]["address"]
            if self.base is not None:
                try:
                    if self.request("GET", "/readyz", timeout=5)[0] == 200:
                        return time.monotonic() - self.started
                except (urllib.error.URLError, ConnectionError):
                    pass
            time.sleep(0.01)
        self.process.kill()
        sys.exit(f"measure_restart: not ready after {limit_s} s; log in {self.log_path}")

    def stop(self):
        self.process.send_signal(signal.SIGTERM)
        status = self.process.wait(timeout=60)
        self.log.close()
        if status != 0:
            sys.exit(f"measure_restart: the server exited with {status} after SIGTERM; log in {self.log_path}")


def restart(args, data_dir, label, logs):
    server = Server(args.inctrl, args.model, data_dir, logs / f"{label}.log")
    seconds = server.wait_until_ready(args.limit)
    ready = server.wait_for_log("ready")
    server.stop()
    print(f"{label}: ready after {seconds:.2f} s (server's load: {ready['seconds']} s; "
          f"{ready['prompt_sets']} sets, {ready['from_cache']} from cache, {ready['recomputed']} recomputed; "
          f"model hash {ready.get('model_hash', '?')})", flush=True)
    return seconds


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--inctrl", required=True, type=pathlib.Path, help="the release-built inctrl executable")
    parser.add_argument("--model", required=True, type=pathlib.Path, help="a full-size model bundle")
    parser.add_argument("--sets", type=int, default=100)
    parser.add_argument("--shots", type=int, default=8)
    parser.add_argument("--runs", type=int, default=3, help="restarts timed with the feature cache")
    parser.add_argument("--recompute-sets", type=int, default=None,
                        help="time the restart without the cache over this many sets (default: all)")
    parser.add_argument("--images", type=pathlib.Path, default=None, help="folder of images (default: ELPV cells)")
    parser.add_argument("--data", type=pathlib.Path, default=None,
                        help="data directory to fill, or reuse when it already holds the sets (default: a temporary one)")
    parser.add_argument("--class-name", default="solar_cell")
    parser.add_argument("--limit", type=float, default=3600, help="seconds to wait for readiness")
    args = parser.parse_args()

    scratch = pathlib.Path(tempfile.mkdtemp(prefix="inctrl-restart-"))
    data_dir = args.data or scratch / "data"
    logs = scratch / "logs"
    logs.mkdir()
    print(f"measure_restart: {args.sets} sets x {args.shots} shots, data in {data_dir}, logs in {logs}", flush=True)

    server = Server(args.inctrl, args.model, data_dir, logs / "register.log")
    server.wait_until_ready(args.limit)
    stored = len(json.loads(server.request("GET", "/prompts")[1])["prompt_sets"])
    if stored < args.sets:
        files = image_files(args.images, args.sets * args.shots)
        started = time.monotonic()
        for index in range(args.sets):
            images = [base64.b64encode(f.read_bytes()).decode() for f in files[index * args.shots:(index + 1) * args.shots]]
            body = json.dumps({"class_name": args.class_name, "images": images}).encode()
            status, answer = server.request("POST", "/prompts", body, "application/json")
            if status not in (200, 201):
                sys.exit(f"measure_restart: registering set {index} answered {status}: {answer[:300]}")
        elapsed = time.monotonic() - started
        print(f"registered {args.sets} sets in {elapsed:.1f} s ({elapsed / args.sets:.2f} s per set)", flush=True)
    server.stop()

    cache_bytes = sum(f.stat().st_size for f in (data_dir / "feature-cache").rglob("*") if f.is_file())
    store_bytes = sum(f.stat().st_size for f in (data_dir / "prompt-sets").rglob("*") if f.is_file())
    print(f"on disk: prompt sets {store_bytes / 1e6:.1f} MB, feature cache {cache_bytes / 1e6:.1f} MB", flush=True)

    hashed = restart(args, scratch / "empty", "empty store, first start (model hashed)", logs)
    empty = restart(args, scratch / "empty", "empty store, restart (model hash cached)", logs)
    cached = [restart(args, data_dir, f"with cache, run {run + 1}", logs) for run in range(args.runs)]

    recompute_sets = args.recompute_sets or args.sets
    recompute_dir = scratch / "recompute"
    shutil.copytree(data_dir / "prompt-sets", recompute_dir / "prompt-sets")
    if (data_dir / "model-hashes.json").exists():
        shutil.copy(data_dir / "model-hashes.json", recompute_dir / "model-hashes.json")
    kept = sorted(p.name for p in (recompute_dir / "prompt-sets").iterdir())[:recompute_sets]
    for entry in (recompute_dir / "prompt-sets").iterdir():
        if entry.name not in kept:
            shutil.rmtree(entry)
    # Class-name text priors are cached too; without the directory they are recomputed as well.
    recomputed = restart(args, recompute_dir, f"without cache, {recompute_sets} sets", logs)
    shutil.rmtree(recompute_dir)
    extrapolated = empty + (recomputed - empty) * args.sets / recompute_sets

    print(f"summary: {args.sets} sets x {args.shots} shots; empty store {empty:.2f} s ({hashed:.2f} s hashing the model); "
          f"with cache: median {statistics.median(cached):.2f} s (min {min(cached):.2f}, max {max(cached):.2f}, {args.runs} runs); "
          f"without cache: {recomputed:.1f} s for {recompute_sets} sets"
          + (f" (~{extrapolated:.0f} s for {args.sets}, extrapolated from the per-set time above the empty store's)"
             if recompute_sets < args.sets else ""))
    if args.data is None:
        shutil.rmtree(scratch)


if __name__ == "__main__":
    main()
