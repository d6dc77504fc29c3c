"""Zero-shot and recognition evaluation as the seeds do it, and the table of seed 001's Table 1.

Zero-shot (seed 000 §IV.B, seed 001 §4.1): the classes are split into *seen* (training) and
*unseen* (test) classes; a model is trained on the seen classes' clips only, every clip of an
unseen class is embedded and assigned the unseen class whose label vector is nearest by cosine;
accuracy is the fraction assigned their own class. Splits (fraction of classes seen):
``50/50``, ``80/20``, ``90/10`` (seed 001) and ``51/50`` (seed 000: 51 of UCF101's 101 classes,
10 folds; with fewer classes the same ratio ≈ 50.5 %). Each fold draws its own random class
split from ``(seed, split, fold)``; results are the mean ± standard deviation over folds.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from desktop_app.errors import ActionLensError

#: Zero-shot splits: name → fraction of the classes seen in training.
ZSL_SPLITS: dict[str, float] = {"50/50": 0.5, "80/20": 0.8, "90/10": 0.9, "51/50": 51 / 101}
#: Folds per split in the seeds (seed 000: 10 folds of 51/50; seed 001 does not say, we use 10).
PAPER_FOLDS = 10
#: At least this many unseen classes in a fold (one would make zero-shot trivially right).
MIN_UNSEEN = 2


def check_zsl_split(name: str) -> str:
    """``name`` if it is a known split; the error lists them."""
    if name not in ZSL_SPLITS:
        raise ActionLensError(f"unknown zero-shot split {name!r}; choose one of {', '.join(ZSL_SPLITS)}")
    return name


def zsl_class_split(
    class_ids: Iterable[int], split: str, fold: int, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """The seen and unseen class ids of one fold, deterministic in ``(seed, split, fold)``.

    ``round(n · fraction)`` classes are seen (51 of 101 for ``51/50``), but at least
    :data:`MIN_UNSEEN` are unseen and at least two seen. Each fold is an independent random
    draw (as seed 000's "10-fold cross-validation" of random 51/50 splits).
    """
    ids = np.array(sorted({int(c) for c in class_ids}), dtype=np.int64)
    fraction = ZSL_SPLITS[check_zsl_split(split)]
    if len(ids) < 2 + MIN_UNSEEN:
        raise ActionLensError(
            f"zero-shot evaluation needs at least {2 + MIN_UNSEEN} classes; the dataset has {len(ids)}"
        )
    n_seen = int(np.floor(len(ids) * fraction + 0.5))
    n_seen = min(max(n_seen, 2), len(ids) - MIN_UNSEEN)
    rng = np.random.default_rng([seed, zlib.crc32(split.encode()), fold])
    order = rng.permutation(ids)
    return np.sort(order[:n_seen]), np.sort(order[n_seen:])


def nearest_class(embeddings: np.ndarray, label_vectors: np.ndarray) -> np.ndarray:
    """Row index into ``label_vectors`` of the nearest label by cosine, per embedding."""
    emb = embeddings / np.maximum(np.linalg.norm(embeddings, axis=1, keepdims=True), 1e-12)
    labels = label_vectors / np.maximum(np.linalg.norm(label_vectors, axis=1, keepdims=True), 1e-12)
    return np.argmax(emb @ labels.T, axis=1)


def zsl_accuracy(
    embeddings: np.ndarray,
    clip_class_ids: np.ndarray,
    unseen_class_ids: np.ndarray,
    unseen_label_vectors: np.ndarray,
) -> float:
    """Fraction of unseen-class clips whose nearest unseen label vector (cosine) is their class's."""
    if len(clip_class_ids) == 0:
        return float("nan")
    predicted = np.asarray(unseen_class_ids)[nearest_class(embeddings, unseen_label_vectors)]
    return float(np.mean(predicted == np.asarray(clip_class_ids)))


def summarize(values: Sequence[float]) -> dict[str, Any]:
    """``{"mean", "std", "folds", "values"}`` (sample standard deviation; 0 for one fold)."""
    arr = np.asarray([v for v in values if np.isfinite(v)], dtype=np.float64)
    if len(arr) == 0:
        return {"mean": None, "std": None, "folds": 0, "values": []}
    std = float(arr.std(ddof=1)) if len(arr) > 1 else 0.0
    return {"mean": float(arr.mean()), "std": std, "folds": int(len(arr)), "values": [float(v) for v in arr]}


def zsl_table(
    runs: Iterable[dict[str, Any]], models: Sequence[str], splits: Sequence[str], folds: int
) -> dict[str, Any]:
    """Seed 001's Table 1 shape from runs' metadata: rows = models, columns = splits.

    Uses every run whose ``metrics["zsl"]`` holds an accuracy and whose fold is below ``folds``;
    a cell is ``{"mean", "std", "folds", "values", "chance"}`` (accuracies as fractions).
    """
    cells: dict[tuple[str, str], dict[int, float]] = {}
    chance: dict[tuple[str, str], list[float]] = {}
    for meta in runs:
        result = meta.get("metrics", {}).get("zsl")
        zsl = meta.get("zsl")
        if not result or not zsl or result.get("accuracy") is None or zsl["fold"] >= folds:
            continue
        key = (meta["model"]["name"], zsl["split"])
        cells.setdefault(key, {})[int(zsl["fold"])] = float(result["accuracy"])
        chance.setdefault(key, []).append(float(result["chance"]))
    rows = []
    for model in models:
        row: dict[str, Any] = {"model": model, "cells": {}}
        for split in splits:
            by_fold = cells.get((model, split), {})
            cell = summarize([by_fold[k] for k in sorted(by_fold)])
            cell["chance"] = float(np.mean(chance[(model, split)])) if chance.get((model, split)) else None
            row["cells"][split] = cell
        rows.append(row)
    return {"task": "zsl", "metric": "accuracy", "columns": list(splits), "folds": folds, "rows": rows}


def format_table(table: dict[str, Any]) -> str:
    """The table as aligned text: ``mean ± std`` in percent, with the number of folds."""
    columns = table["columns"]
    width = 18
    header = f"{'model':<16}" + "".join(f"{c:>{width}}" for c in columns)
    lines = [header, "-" * len(header)]
    for row in table["rows"]:
        text = f"{row['model']:<16}"
        for column in columns:
            cell = row["cells"][column]
            if cell.get("mean") is None:
                text += f"{'—':>{width}}"
            elif "std" in cell:
                text += f"{100 * cell['mean']:>8.1f} ± {100 * cell['std']:4.1f} ({cell['folds']})".rjust(
                    width
                )
            else:
                text += f"{100 * cell['mean']:>{width}.1f}"
        lines.append(text)
    chances = [
        next(
            (r["cells"][c].get("chance") for r in table["rows"] if r["cells"][c].get("chance") is not None),
            None,
        )
        for c in columns
    ]
    if any(ch is not None for ch in chances):
        lines.append(
            f"{'chance':<16}"
            + "".join(f"{'' if ch is None else f'{100 * ch:.1f}':>{width}}" for ch in chances)
        )
    return "\n".join(lines)
