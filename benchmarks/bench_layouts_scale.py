"""Maps of 100 000- and 1 000 000-clip workspaces: time, peak memory, clips placed and the quality
figure of the first map (PCA, nothing cached) and of UMAP, before and after issue 12; and
fastumap against umap-learn on the same neighbours, start and epochs.

Workspaces come from :func:`desktop_app.data.scale.build_scale_workspace` (catalog rows pointing
at demo videos, 101 classes, clustered 50-d unit embeddings, a copied run) and are built once
under ``--workdir``. Every measurement runs in a fresh process (``--worker``) with the code of
``--before-repo`` (a worktree of the commit before, e.g. ``git worktree add
/tmp/wt_layout_before f6b3c0f``) or of this checkout on ``PYTHONPATH``, after the workspace's
cached maps were removed:

* ``pca``: :func:`first_map` with nothing cached (computes PCA and its quality figure, saves it);
* ``umap``: :func:`load_or_compute_map` with the defaults.

Columns: ``s`` wall seconds of that call (workspace already open, modules imported); ``peak MB``
the process's peak resident set; ``extra MB`` peak minus the resident set just before the call
(the memory-mapped embeddings the call reads count: they are resident pages); ``placed`` clips on
the map of clips embedded; ``trust`` / ``kNN@10`` the map's own quality figure and the points it
was measured on.

``--compare N`` fits UMAP on N clips of the largest workspace with umap-learn and with fastumap,
each in a cold process (import and numba compilation included), from the same FAISS kNN graph,
the same PCA start and the same 100 epochs, then places 20 000 other clips with each library's
``transform`` (30 epochs each; umap-learn's neighbours from the FAISS index, fastumap's exact); quality on the same bounded samples (:func:`map_quality`).

Usage::

    .venv/bin/python benchmarks/bench_layouts_scale.py --sizes 100000 --code before after
    .venv/bin/python benchmarks/bench_layouts_scale.py --sizes 1000000 --code after --compare 100000
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
HELD_OUT = 20_000


def rss_mb() -> float:
    """Current resident set of this process, MB (Linux /proc)."""
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def ensure_workspace(workdir: Path, n: int) -> Path:
    """The scale workspace of ``n`` clips under ``workdir`` (built on first use)."""
    root = workdir / f"ws_{n}"
    if not (root / "workspace.json").is_file():
        from desktop_app.data.scale import build_scale_workspace

        started = time.perf_counter()
        build_scale_workspace(root, n)
        print(f"# built {root} in {time.perf_counter() - started:.0f} s", flush=True)
    return root


def worker_map(ws_path: str, method: str) -> dict[str, Any]:
    """Time the first map (``pca``) or a UMAP map in this process, with nothing cached."""
    import numpy as np

    from desktop_app.analysis import maps
    from desktop_app.analysis.space import EmbeddingSpace
    from desktop_app.workspace import Workspace

    ws = Workspace.open(ws_path)
    embedded = len(EmbeddingSpace.load(ws).embedded_clip_ids)
    before = rss_mb()
    started = time.perf_counter()
    if method == "pca":
        result = maps.first_map(ws)
    else:
        result = maps.load_or_compute_map(ws, None, method)
    seconds = time.perf_counter() - started
    q = result.quality
    return {
        "s": round(seconds, 2),
        "peak_mb": round(peak_mb()),
        "extra_mb": round(peak_mb() - before),
        "placed": len(result),
        "embedded": embedded,
        "finite": bool(np.isfinite(result.coords).all()),
        "trust": q.get("trustworthiness"),
        "knn": q.get("knn_preservation"),
        "quality_on": f"{q.get('sampled_points')}/{q.get('reference_points', q.get('num_points'))}",
        "placement": getattr(result, "placement", None),
    }


def worker_compare(ws_path: str, library: str, n_fit: int) -> dict[str, Any]:
    """Fit UMAP on ``n_fit`` clips with one library (cold process), transform HELD_OUT others."""
    import numpy as np

    from desktop_app.analysis.layouts import knn_graph, pca_layout, use_persistent_numba_cache
    from desktop_app.analysis.map_quality import map_quality
    from desktop_app.analysis.maps import map_inputs
    from desktop_app.analysis.space import EmbeddingSpace
    from desktop_app.workspace import Workspace

    ws = Workspace.open(ws_path)
    _, vectors = map_inputs(EmbeddingSpace.load(ws), "clips")
    rows = np.random.default_rng(0).permutation(len(vectors))
    fit_x = np.ascontiguousarray(vectors[np.sort(rows[:n_fit])])
    new_x = np.ascontiguousarray(vectors[np.sort(rows[n_fit : n_fit + HELD_OUT])])
    del vectors
    t0 = time.perf_counter()
    index, knn_idx, knn_dist = knn_graph(fit_x, 15)
    knn_s = time.perf_counter() - t0
    init = pca_layout(fit_x)[0].astype(np.float64)
    init = 10.0 * init / float(np.abs(init).max())
    epochs = 100
    t0 = time.perf_counter()
    if library == "umap-learn":
        use_persistent_numba_cache()
        import warnings

        import umap

        model = umap.UMAP(
            n_neighbors=15,
            n_epochs=epochs,
            init=init,
            random_state=0,
            transform_seed=0,
            precomputed_knn=(knn_idx.astype(np.int32), knn_dist, index),
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            coords = np.asarray(model.fit_transform(fit_x))
            fit_s = time.perf_counter() - t0
            t1 = time.perf_counter()
            model.n_epochs, model.random_state = None, None  # as layouts.umap_fit_place: 30 epochs, parallel
            placed = np.asarray(model.transform(new_x))
    else:
        import fastumap

        model = fastumap.fit(
            fit_x,
            2,
            n_epochs=epochs,
            init=init,
            random_state=0,
            precomputed_knn=(knn_idx, knn_dist.astype(np.float64)),
        )
        coords = np.asarray(model.embedding)
        fit_s = time.perf_counter() - t0
        t1 = time.perf_counter()
        placed = np.asarray(fastumap.transform(model, new_x, n_epochs=30))
    transform_s = time.perf_counter() - t1
    fit_q = map_quality(fit_x, coords)
    both = np.vstack([fit_x, new_x])
    all_q = map_quality(both, np.vstack([coords, placed]))
    # held-out clips only: their neighbours among all points, on the map
    return {
        "knn_s": round(knn_s, 1),
        "fit_s": round(fit_s, 1),
        "transform_s": round(transform_s, 1),
        "fit_trust": fit_q["trustworthiness"],
        "fit_knn": fit_q["knn_preservation"],
        "with_placed_trust": all_q["trustworthiness"],
        "with_placed_knn": all_q["knn_preservation"],
        "peak_mb": round(peak_mb()),
    }


def run_worker(repo: Path, args: list[str]) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": str(repo), "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "2")}
    out = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--worker", *args],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if out.returncode != 0:
        return {
            "error": out.stderr.strip().splitlines()[-1] if out.stderr.strip() else f"rc {out.returncode}"
        }
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000])
    parser.add_argument("--methods", nargs="+", default=["pca", "umap"], choices=("pca", "umap", "tsne"))
    parser.add_argument("--code", nargs="+", default=["before", "after"], choices=("before", "after"))
    parser.add_argument("--before-repo", type=Path, default=Path("/tmp/wt_layout_before"))
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/actionlens_bench_layouts"))
    parser.add_argument(
        "--compare", type=int, default=0, metavar="N", help="fastumap vs umap-learn on N clips"
    )
    parser.add_argument("--worker", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        kind, ws_path, what = args.worker[:3]
        result = (
            worker_map(ws_path, what) if kind == "map" else worker_compare(ws_path, what, int(args.worker[3]))
        )
        print(json.dumps(result))
        return

    args.workdir.mkdir(parents=True, exist_ok=True)
    print(f"# layouts at scale: {os.cpu_count()} cores, workspaces in {args.workdir}")
    header = f"{'code':7} {'method':6} {'N':>8} {'s':>8} {'peak MB':>8} {'extra MB':>8} {'placed':>17} {'trust':>6} {'kNN@10':>6}  quality on"
    rows: list[str] = []
    for n in args.sizes:
        ws = ensure_workspace(args.workdir, n)
        for method in args.methods:
            for code in args.code:
                shutil.rmtree(ws / "maps", ignore_errors=True)
                (ws / "maps").mkdir()
                repo = REPO if code == "after" else args.before_repo
                r = run_worker(repo, ["map", str(ws), method])
                if "error" in r:
                    line = f"{code:7} {method:6} {n:>8} error: {r['error']}"
                else:
                    placed = f"{r['placed']}/{r['embedded']}"
                    line = (
                        f"{code:7} {method:6} {n:>8} {r['s']:>8.2f} {r['peak_mb']:>8} {r['extra_mb']:>8} "
                        f"{placed:>17} {r['trust']:>6} {r['knn']:>6}  {r['quality_on']}"
                    )
                    placement = r.get("placement")
                    if placement and placement["placed"]:
                        line += f"  {placement['fitted']} fitted, {placement['placed']} by {placement['placed_by']}"
                    elif placement:
                        line += "  all fitted"
                print(line, flush=True)
                rows.append(line)
    print()
    print(header)
    print("-" * len(header))
    print("\n".join(rows))
    if args.compare:
        ws = ensure_workspace(args.workdir, max(args.sizes))
        print(f"\n# UMAP libraries: fit on {args.compare} clips (cold process), transform {HELD_OUT} others")
        head = f"{'library':11} {'kNN s':>6} {'fit s':>6} {'transform s':>11} {'trust':>6} {'kNN@10':>6} {'+placed trust':>13} {'+placed kNN':>11} {'peak MB':>8}"
        print(head)
        print("-" * len(head))
        for library in ("umap-learn", "fastumap"):
            r = run_worker(REPO, ["compare", str(ws), library, str(args.compare)])
            if "error" in r:
                print(f"{library:11} error: {r['error']}")
                continue
            print(
                f"{library:11} {r['knn_s']:>6} {r['fit_s']:>6} {r['transform_s']:>11} {r['fit_trust']:>6} "
                f"{r['fit_knn']:>6} {r['with_placed_trust']:>13} {r['with_placed_knn']:>11} {r['peak_mb']:>8}",
                flush=True,
            )


if __name__ == "__main__":
    main()
