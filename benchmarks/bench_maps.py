"""Map time against N: ours (PCA, UMAP route of desktop_app.analysis.maps) vs umap-learn with
default settings and openTSNE, in a cold process and warm, with the quality figure beside each.

Every measurement runs in a fresh subprocess (``--worker``) that imports the library, fits once
(the *cold-process* time: import + numba compilation or cache load + fit) and fits again on the
same data (the *warm* time). Numba's cache is either a **fresh** empty directory (a user's very
first launch) or a **persistent** one filled by an earlier process (every later launch).

Data: synthetic clustered points (40 Gaussian clusters in D dimensions), L2-normalised like the
maps module does. Quality: k=10 NN preservation over all points and trustworthiness on a
subsample of at most 2000 points (see ``map_quality``).

Usage::

    .venv/bin/python benchmarks/bench_maps.py                      # default sizes, ~5 min on 2 cores
    .venv/bin/python benchmarks/bench_maps.py --sizes 1000 13000 100000 --dim 300
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
DEFAULT_SIZES = (1000, 5000, 13000)


def clustered(n: int, dim: int, seed: int = 0) -> np.ndarray:
    """``n`` points around 40 cluster centres, unit-normalised, float32."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(40, dim)) * 2.0
    x = centres[rng.integers(0, 40, n)] + rng.normal(size=(n, dim))
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def worker(method: str, n: int, dim: int, warm: bool) -> dict[str, object]:
    """Import, fit (cold), optionally fit again (warm); return timings and quality."""
    x = clustered(n, dim)
    t0 = time.perf_counter()
    if method == "umap-learn":
        import umap

        def fit() -> np.ndarray:
            return np.asarray(umap.UMAP().fit_transform(x))
    elif method == "opentsne":
        from openTSNE import TSNE

        def fit() -> np.ndarray:
            return np.asarray(TSNE(n_jobs=os.cpu_count() or 1, random_state=0).fit(x))
    else:
        from desktop_app.analysis import maps

        def fit() -> np.ndarray:
            if method == "ours-pca":
                return maps.pca_layout(x)[0]
            return maps.umap_layout(x, maps.normalize_params("umap", None))

    t1 = time.perf_counter()
    coords = fit()
    t2 = time.perf_counter()
    warm_s = None
    if warm:
        fit()
        warm_s = time.perf_counter() - t2
    from desktop_app.analysis.maps import map_quality

    q = map_quality(x, coords)
    return {
        "import_s": t1 - t0,
        "cold_s": t2 - t0,
        "warm_s": warm_s,
        "knn": q.get("knn_preservation"),
        "trust": q.get("trustworthiness"),
    }


def run_worker(method: str, n: int, dim: int, cache_dir: str, warm: bool) -> dict[str, object]:
    env = {**os.environ, "NUMBA_CACHE_DIR": cache_dir, "PYTHONPATH": str(REPO)}
    cmd = [sys.executable, __file__, "--worker", method, str(n), str(dim)] + (["--warm"] if warm else [])
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=list(DEFAULT_SIZES))
    parser.add_argument("--dim", type=int, default=50)
    parser.add_argument("--methods", nargs="+", default=["ours-pca", "ours-umap", "umap-learn", "opentsne"])
    parser.add_argument("--no-fresh", action="store_true", help="skip the fresh-numba-cache runs")
    parser.add_argument("--worker", nargs=3, metavar=("METHOD", "N", "DIM"), help=argparse.SUPPRESS)
    parser.add_argument("--warm", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        method, n, dim = args.worker
        print(json.dumps(worker(method, int(n), int(dim), args.warm)))
        return

    print(f"# maps benchmark: D={args.dim}, sizes {args.sizes}, {os.cpu_count()} cores")
    print("# default sizes stop at 13 000 to keep the run near 5 minutes on 2 cores; pass --sizes for more")
    persistent = tempfile.mkdtemp(prefix="bench-numba-persistent-")
    numba_methods = {"ours-umap", "umap-learn"}
    # Fill the persistent cache once per library, as a user's first launch would.
    for method in sorted(numba_methods & set(args.methods)):
        run_worker(method, 5000, args.dim, persistent, warm=False)  # ≥ 4096: nndescent too
    header = f"{'method':<11} {'N':>7} {'cache':<10} {'import s':>8} {'cold s':>8} {'warm s':>8} {'kNN@10':>7} {'trust':>6}"
    print(header)
    print("-" * len(header))
    largest = max(args.sizes)
    for n in args.sizes:
        for method in args.methods:
            modes = ["persistent"]
            if method in numba_methods and n == largest and not args.no_fresh:
                modes.insert(0, "fresh")
            for mode in modes:
                cache = tempfile.mkdtemp(prefix="bench-numba-fresh-") if mode == "fresh" else persistent
                r = run_worker(method, n, args.dim, cache, warm=(mode == "persistent"))
                warm = f"{r['warm_s']:8.2f}" if r["warm_s"] is not None else f"{'-':>8}"
                label = mode if method in numba_methods else "-"
                print(
                    f"{method:<11} {n:>7} {label:<10} {r['import_s']:8.2f} {r['cold_s']:8.2f} {warm} "
                    f"{r['knn']:7.3f} {r['trust']:6.3f}",
                    flush=True,
                )
    print("# cold s = import + first fit in a new process; warm s = a second fit in that process")
    print("# trust = trustworthiness on a random subsample of at most 2000 points; kNN@10 over all points")


if __name__ == "__main__":
    main()
