"""Retrieval latency against the number of clips (issue 5, "Performance").

For N = 1 000 … 1 000 000 clip embeddings at D = 300, one query at a time, prints p50/p99 latency
of:

* ``matmul``       — a plain numpy matrix–vector product over the unit rows (the floor that
  exact search must not be slower than);
* ``numpy exact``  — :class:`ClipIndex` ``method="numpy"`` (product + argpartition + re-score);
* ``faiss exact``  — :class:`ClipIndex` ``method="faiss"`` (``IndexFlatIP``);
* ``ivf``          — :class:`ClipIndex` ``method="ivf"`` (approximate), nprobe tuned to the
  smallest of 8…256 that reaches recall@10 ≥ 0.95 on held-out queries, with its recall@10.

Two kinds of data: ``uniform`` (random unit vectors, the issue's setting and the worst case for
any approximate index: nothing is clustered) and ``clustered`` (1 000 class centres with clips
scattered around them, queries near a centre — how clip embeddings of action classes look).

Usage: ``python benchmarks/bench_retrieval.py [--sizes 1000,10000,100000,1000000] [--queries 200]``
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from desktop_app.analysis.retrieval import ClipIndex, unit_rows

DIM = 300


def make_data(kind: str, n: int, queries: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``(n, DIM)`` database and ``(queries, DIM)`` query unit vectors."""
    if kind == "uniform":
        x = rng.standard_normal((n, DIM), dtype=np.float32)
        q = rng.standard_normal((queries, DIM), dtype=np.float32)
    else:
        centres = rng.standard_normal((1000, DIM), dtype=np.float32)
        x = centres[rng.integers(0, 1000, n)]
        x += 0.6 * rng.standard_normal((n, DIM), dtype=np.float32)
        q = centres[rng.integers(0, 1000, queries)] + 0.6 * rng.standard_normal(
            (queries, DIM), dtype=np.float32
        )
    return unit_rows(x), unit_rows(q)


def timed(fn, queries: np.ndarray) -> tuple[float, float, list[np.ndarray]]:
    """p50 and p99 latency in ms of ``fn(query)`` over the queries, and its results."""
    fn(queries[0])  # warm caches and thread pools
    times, results = [], []
    for q in queries:
        start = time.perf_counter()
        results.append(fn(q))
        times.append(time.perf_counter() - start)
    ms = np.asarray(times) * 1e3
    return float(np.percentile(ms, 50)), float(np.percentile(ms, 99)), results


def recall_at_10(found: list[np.ndarray], truth: list[np.ndarray]) -> float:
    """Mean fraction of the true top 10 found."""
    return float(
        np.mean(
            [len(set(f[:10].tolist()) & set(t[:10].tolist())) / 10 for f, t in zip(found, truth, strict=True)]
        )
    )


def main() -> None:
    """Run the benchmark and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,100000,1000000")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--kinds", default="uniform,clustered")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    print(f"D = {DIM}, one query at a time, k = 10, {args.queries} queries; latencies in ms")
    header = (
        f"{'data':<10} {'N':>9} | {'matmul p50/p99':>15} | {'numpy exact':>13} | {'faiss exact':>13} | "
        f"{'ivf nprobe':>10} {'p50/p99':>13} {'recall@10':>9} | {'ivf build s':>11}"
    )
    print(header)
    print("-" * len(header))
    for kind in args.kinds.split(","):
        for n in (int(s) for s in args.sizes.split(",")):
            x, q = make_data(kind, n, args.queries + 50, rng)
            tune, q = q[:50], q[50:]
            # One index per method over the same rows; ClipIndex keeps its own unit copy.
            mm = timed(lambda v, x=x: x @ v, q)
            exact = ClipIndex(x, method="numpy")
            ne = timed(lambda v, exact=exact: exact.search(v, 10)[0], q)
            flat = ClipIndex(x, method="faiss")
            fe = timed(lambda v, flat=flat: flat.search(v, 10)[0], q)
            assert all(np.array_equal(a, b) for a, b in zip(ne[2], fe[2], strict=True)), (
                "exact methods disagree"
            )
            start = time.perf_counter()
            ivf = ClipIndex(x, method="ivf")
            build = time.perf_counter() - start
            truth_tune = [exact.search(v, 10)[0] for v in tune]
            chosen = ivf._faiss_index.nlist
            for nprobe in (8, 16, 32, 64, 128, 256):
                ivf._faiss_index.nprobe = min(nprobe, ivf._faiss_index.nlist)
                if recall_at_10([ivf.search(v, 10)[0] for v in tune], truth_tune) >= 0.95:
                    chosen = ivf._faiss_index.nprobe
                    break
            ivf._faiss_index.nprobe = chosen
            ap = timed(lambda v, ivf=ivf: ivf.search(v, 10)[0], q)
            recall = recall_at_10(ap[2], ne[2])
            print(
                f"{kind:<10} {n:>9} | {mm[0]:>6.2f} / {mm[1]:>6.2f} | {ne[0]:>5.2f} / {ne[1]:>5.2f} | "
                f"{fe[0]:>5.2f} / {fe[1]:>5.2f} | {chosen:>4}/{ivf._faiss_index.nlist:<5} "
                f"{ap[0]:>5.2f} / {ap[1]:>5.2f} {recall:>9.3f} | {build:>11.1f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
