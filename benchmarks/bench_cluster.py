"""Benchmark of extraction on a Dask cluster against a local run, on the same clips.

Extracts every clip of a workspace into fresh stores (named ``bench-…``, deleted afterwards):
in this process (``--workers 1``), in a local pool of 2 processes, and on a
``distributed.LocalCluster`` of 2 single-threaded worker processes (or on ``--cluster ADDR``),
checks that every store's files are the same bytes (``meta.json`` but for its timestamps), and
prints clips/s of each with its ratio to the one-process run. Each configuration runs
``--repeats`` times, alternating, and the best time is kept (the machine is shared).

Usage::

    .venv/bin/python benchmarks/bench_cluster.py --workspace WS [--repeats 2] [--cluster tcp://HOST:8786]
    .venv/bin/python benchmarks/bench_cluster.py --generate 32 [--size 320x240] [--seconds 3]

``--generate N`` writes N textured moving-object clips (``bench_extract.write_clip``) into a
temporary workspace instead of using ``--workspace``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any


def store_bytes(directory: Path) -> dict[str, bytes]:
    files = {p.name: p.read_bytes() for p in sorted(directory.iterdir())}
    meta = json.loads(files.pop("meta.json"))
    for key in ("created", "completed", "name"):
        meta.pop(key, None)
    files["meta.json"] = json.dumps(meta, sort_keys=True).encode()
    return files


def generated_workspace(root: Path, n: int, width: int, height: int, seconds: float) -> Path:
    """A workspace of ``n`` distinct generated clips of one class."""
    import sys

    sys.path.insert(0, str(Path(__file__).parent))
    from bench_extract import write_clip

    from desktop_app.data.records import ClassRecord, ClipRecord
    from desktop_app.data.video import probe_video
    from desktop_app.workspace import Workspace

    data = root / "data"
    data.mkdir(parents=True)
    for i in range(n):
        write_clip(data / f"clip{i}.mp4", width, height, 25.0, seconds, seed=i)
    with Workspace.create(root / "ws") as ws:
        ids = ws.catalog.add_classes([ClassRecord(name="Bench", phrase="bench", verb=None, noun=None)])
        records = [
            ClipRecord(
                name=f"c{i}",
                path=f"clip{i}.mp4",
                class_name="Bench",
                splits={"1": "train"},
                info=probe_video(data / f"clip{i}.mp4"),
            )
            for i in range(n)
        ]
        ws.catalog.add_clips(records, ids)
        ws.update_manifest(data_root=str(data))
    return root / "ws"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--workspace", type=Path)
    source.add_argument(
        "--generate", type=int, metavar="N", help="N generated clips in a temporary workspace"
    )
    parser.add_argument("--size", default="320x240", help="generated clips' size (default 320x240)")
    parser.add_argument("--seconds", type=float, default=3.0, help="generated clips' length (default 3)")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--cluster", help="an existing scheduler instead of a LocalCluster")
    args = parser.parse_args()
    if args.generate:
        width, height = (int(v) for v in args.size.split("x"))
        temporary = tempfile.TemporaryDirectory(prefix="bench-cluster-")
        args.workspace = generated_workspace(Path(temporary.name), args.generate, width, height, args.seconds)

    from distributed import LocalCluster

    from desktop_app.features.extract import ExtractSettings, extract_features
    from desktop_app.workspace import Workspace

    local_cluster = None
    address = args.cluster
    if address is None:
        local_cluster = LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
        )
        address = local_cluster.scheduler_address
    configs: list[tuple[str, dict[str, Any]]] = [
        ("local, 1 process", {"workers": 1}),
        ("local pool, 2 processes", {"workers": 2}),
        ("Dask, 2 workers" if args.cluster is None else f"Dask at {address}", {"cluster": address}),
    ]
    best: dict[str, float] = {}
    stores: dict[str, dict[str, bytes]] = {}
    clips = 0
    with Workspace.open(args.workspace) as ws:
        for repeat in range(args.repeats):
            for label, kwargs in configs:
                name = f"bench-{len(stores)}-{repeat}"
                settings = ExtractSettings(name=name)
                started = time.perf_counter()
                summary = extract_features(ws, settings, **kwargs)
                seconds = time.perf_counter() - started  # connecting to the cluster included
                clips = summary.clips_extracted + len(summary.bad_clips) + summary.clips_without_features
                best[label] = min(best.get(label, float("inf")), seconds)
                directory = ws.features_dir / name
                stores.setdefault(label, store_bytes(directory))
                shutil.rmtree(directory)
    if local_cluster is not None:
        local_cluster.close()
    reference = stores[configs[0][0]]
    base = clips / best[configs[0][0]]
    print(f"{clips} clips of {args.workspace}, best of {args.repeats}")
    print(f"{'configuration':32s} {'s':>8s} {'clips/s':>8s} {'× 1 process':>12s}  store equal")
    for label, _ in configs:
        rate = clips / best[label]
        print(f"{label:32s} {best[label]:8.2f} {rate:8.2f} {rate / base:12.2f}  {stores[label] == reference}")


if __name__ == "__main__":
    main()
