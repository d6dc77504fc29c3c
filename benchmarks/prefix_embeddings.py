"""How early does each model know? Nearest-label accuracy of prefix embeddings, and their cost.

For every model that :func:`desktop_app.analysis.temporal.prefix_embeddings` supports and each
seed of its recognition run on split 1 (``<model>-small-rec-s1``, ``…-seed1``, ``…-seed2``, as
``actionlens demo`` and ``actionlens report`` train them), this embeds every prefix of the
split's **test** clips and prints the accuracy of the nearest label vector (cosine, over all
classes, as recognition by label vectors ranks) after 25 %, 50 %, 75 % and 100 % of the steps the
model reads, mean ± std over the seeds, with chance beside. Nothing is fitted here: the runs and
label vectors are used as trained. It also prints, on the first 8 test clips of the first seed,
the largest difference between the one-pass prefixes and each prefix embedded on its own
(:func:`~desktop_app.analysis.temporal.prefix_embeddings_slow`) and the time of both.

    OMP_NUM_THREADS=1 python benchmarks/prefix_embeddings.py WS
"""

from __future__ import annotations

import math
import sys
import time

import numpy as np
import torch

from desktop_app.analysis.temporal import SUPPORTED_MODELS, prefix_embeddings, prefix_embeddings_slow
from desktop_app.training.runs import Run
from desktop_app.training.sources import open_sequence_source
from desktop_app.workspace import Workspace

FRACTIONS = (0.25, 0.5, 0.75, 1.0)
SEEDS = ("", "-seed1", "-seed2")


def _unit(rows: np.ndarray) -> np.ndarray:
    return rows / np.maximum(np.linalg.norm(rows, axis=-1, keepdims=True), 1e-12)


def main(root: str) -> None:
    torch.set_num_threads(1)
    with Workspace.open(root) as ws:
        roles = ws.catalog.split("1")
        class_of = {c.id: c.class_id for c in ws.catalog.clips()}
        report_clips = np.array(sorted(c for c, r in roles.items() if r == "test"), dtype=np.int64)
        print(f"{len(report_clips)} test clips of split 1\n")
        print(
            f"{'model':20s} "
            + " ".join(f"{f:>12.0%}" for f in FRACTIONS)
            + f" {'chance':>7s}  max|fast−slow|  fast s  slow s"
        )
        for name in SUPPORTED_MODELS:
            per_seed = []
            exactness = ""
            chance = float("nan")
            for seed in SEEDS:
                run_dir = ws.runs_dir / f"{name}-small-rec-s1{seed}"
                if not (run_dir / "meta.json").is_file():
                    continue
                run = Run.load(run_dir)
                source = open_sequence_source(ws, run.meta["features"]["name"])
                labels = _unit(run.label_vectors.astype(np.float64))
                row_of = {int(c): i for i, c in enumerate(run.class_ids)}
                chance = 1.0 / len(labels)
                hits = np.zeros(len(FRACTIONS))
                for clip in report_clips:
                    _, emb = prefix_embeddings(run, source, int(clip))
                    for j, f in enumerate(FRACTIONS):
                        row = max(math.ceil(f * len(emb)) - 1, 0)
                        guess = int(np.argmax(labels @ _unit(emb[row].astype(np.float64))))
                        hits[j] += guess == row_of[int(class_of[int(clip)])]
                per_seed.append(hits / len(report_clips))
                if not exactness:
                    sample = report_clips[:8]
                    start = time.perf_counter()
                    fast = [prefix_embeddings(run, source, int(c))[1] for c in sample]
                    fast_s = time.perf_counter() - start
                    start = time.perf_counter()
                    slow = [prefix_embeddings_slow(run, source, int(c)) for c in sample]
                    slow_s = time.perf_counter() - start
                    diff = max(float(np.abs(a - b).max()) for a, b in zip(fast, slow, strict=True))
                    exactness = f"{diff:14.1e}  {fast_s:6.2f}  {slow_s:6.2f}"
            if not per_seed:
                continue
            acc = np.array(per_seed)
            cells = " ".join(f"{m:5.3f}±{s:5.3f}" for m, s in zip(acc.mean(0), acc.std(0), strict=True))
            print(f"{name:20s} {cells} {chance:7.3f}  {exactness}   ({len(per_seed)} seeds)")


if __name__ == "__main__":
    main(sys.argv[1])
