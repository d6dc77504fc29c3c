"""Benchmark of feature extraction: decode-only vs flow vs full handcrafted extraction.

Prints, on the same clips in the same run, decode-only frames/s, decode + flow frames/s and full
``handcrafted`` extraction frames/s (frames of the video decoded per second, one process), their
ratios, and the peak memory of a whole ``extract_features`` run against the number of clips.
Target (issue 3): full extraction >= 1/4 of the decode-only rate at 320×240; memory flat in clips.

Usage::

    .venv/bin/python benchmarks/bench_extract.py [--clips 8] [--seconds 3] [--size 320x240]
"""

from __future__ import annotations

import argparse
import itertools
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np


def write_clip(path: Path, width: int, height: int, fps: float, seconds: float, seed: int) -> None:
    """A textured background with a few textured objects moving at different speeds."""
    rng = np.random.default_rng(seed)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"mp4v"), fps, (width, height))
    background = cv2.GaussianBlur(rng.integers(0, 255, (height, width, 3), dtype=np.uint8), (0, 0), 3)
    objects = [
        (
            rng.integers(0, 255, (height // 4, width // 6, 3), dtype=np.uint8),
            rng.uniform(-6, 6, 2),
            rng.uniform(0, 1, 2),
        )
        for _ in range(3)
    ]
    for i in range(int(seconds * fps)):
        frame = background.copy()
        for tex, velocity, start in objects:
            h, w = tex.shape[:2]
            y = int((start[0] * (height - h) + velocity[0] * i) % (height - h))
            x = int((start[1] * (width - w) + velocity[1] * i) % (width - w))
            frame[y : y + h, x : x + w] = tex
        writer.write(frame)
    writer.release()


def decode_only(paths: list[Path]) -> int:
    frames = 0
    for path in paths:
        cap = cv2.VideoCapture(str(path), cv2.CAP_FFMPEG)
        while True:
            ok, _ = cap.read()
            if not ok:
                break
            frames += 1
        cap.release()
    return frames


def decode_and_flow(paths: list[Path]) -> int:
    from desktop_app.features.decode import decode_frames
    from desktop_app.features.flow import OpticalFlow

    flow = OpticalFlow("dis")
    frames = 0
    for path in paths:
        clip = decode_frames(path, rate=10.0)
        grays = [cv2.cvtColor(f, cv2.COLOR_BGR2GRAY) for f in clip.frames]
        for a, b in itertools.pairwise(grays):
            flow(a, b)
        frames += clip.frames_decoded
    return frames


def full_extraction(paths: list[Path], adaptive: bool = False) -> int:
    from desktop_app.features.registry import make_encoder

    encoder = make_encoder("handcrafted", {"fps": 10.0, "adaptive": adaptive})
    return sum(encoder.encode(path, has_audio=False).frames_decoded for path in paths)


def timed(fn, *args) -> tuple[float, int]:
    start = time.perf_counter()
    frames = fn(*args)
    return time.perf_counter() - start, frames


_MEMORY_CHILD = """
import json, resource, sys, time
from pathlib import Path
sys.path.insert(0, {repo!r})
from desktop_app.data.records import ClassRecord, ClipRecord
from desktop_app.workspace import Workspace
from desktop_app.features import extract_features
data = Path({data!r}); n = {n}
ws = Workspace.create({ws!r})
ids = ws.catalog.add_classes([ClassRecord(name="Bench", phrase="bench", verb=None, noun=None)])
ws.catalog.add_clips([ClipRecord(name=f"c{{i}}", path=f"clip{{i % {distinct}}}.mp4", class_name="Bench",
                      splits={{"1": "train"}}) for i in range(n)], ids)
ws.update_manifest(data_root=str(data))
t = time.perf_counter(); s = extract_features(ws, workers=1)
print(json.dumps({{"n": n, "seconds": time.perf_counter() - t,
      "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clips", type=int, default=24)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--size", default="320x240")
    parser.add_argument("--fps", type=float, default=25.0)
    parser.add_argument("--memory-clips", default="16,64,256", help="clip counts for the memory column")
    args = parser.parse_args()
    width, height = (int(v) for v in args.size.split("x"))
    cv2.setNumThreads(1)
    repo = str(Path(__file__).resolve().parents[1])
    sys.path.insert(0, repo)
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        data.mkdir()
        paths = [data / f"clip{i}.mp4" for i in range(args.clips)]
        for i, path in enumerate(paths):
            write_clip(path, width, height, args.fps, args.seconds, seed=i)
        decode_only(paths)  # warm the page cache and the codec
        rows = []
        for label, fn in (
            ("decode only", decode_only),
            ("decode 10 fps + DIS flow", decode_and_flow),
            ("full handcrafted (10 fps)", full_extraction),
            ("full handcrafted (adaptive)", lambda p: full_extraction(p, adaptive=True)),
        ):
            seconds, frames = timed(fn, paths)
            rows.append((label, frames, seconds, frames / seconds))
        base = rows[0][3]
        print(
            f"\n{args.clips} clips of {width}×{height}, {args.seconds:g} s at {args.fps:g} fps, one process\n"
        )
        print(f"| {'stage':30} | {'frames':>6} | {'seconds':>7} | {'frames/s':>8} | {'vs decode':>9} |")
        print(f"|{'-' * 32}|{'-' * 8}|{'-' * 9}|{'-' * 10}|{'-' * 11}|")
        for label, frames, seconds, rate in rows:
            print(f"| {label:30} | {frames:6d} | {seconds:7.2f} | {rate:8.0f} | {rate / base:9.2f} |")

        print("\npeak memory of extract_features (workers=1) vs number of clips\n")
        print(f"| {'clips':>6} | {'seconds':>7} | {'peak RSS MiB':>12} |")
        print(f"|{'-' * 8}|{'-' * 9}|{'-' * 14}|")
        for n in (int(v) for v in args.memory_clips.split(",")):
            code = _MEMORY_CHILD.format(
                repo=repo, data=str(data), n=n, ws=str(Path(tmp) / f"ws{n}"), distinct=args.clips
            )
            out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
            result = json.loads(out.stdout.strip().splitlines()[-1])
            print(f"| {n:6d} | {result['seconds']:7.1f} | {result['peak_mib']:12.0f} |")


if __name__ == "__main__":
    main()
