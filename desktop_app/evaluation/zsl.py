"""Zero-shot and recognition evaluation as the seeds do it, and the table of seed 001's Table 1.

Zero-shot (seed 000 §IV.B, seed 001 §4.1): the classes are split into *seen* (training) and
*unseen* (test) classes; a model is trained on the seen classes' clips only, every clip of an
unseen class is embedded and assigned the unseen class whose label vector is nearest by cosine;
accuracy is the fraction assigned their own class. Splits:

* by fraction of classes seen: ``50/50``, ``80/20``, ``90/10`` (seed 001) and ``51/50`` (seed
  000: 51 of UCF101's 101 classes, 10 folds; with fewer classes the same ratio ≈ 50.5 %);
* compositional (where classes have a verb and a noun): ``unseen-noun`` holds out a quarter of
  the nouns (at least one) and every class with a held-out noun is unseen; ``unseen-verb`` the
  same for verbs. These test transfer to a noun (verb) never seen in training.

**Folds** (``docs/protocol.md``): a fold's class split depends on ``(split, fold, purpose)``
only — never on the training seed. *Test* folds (``purpose="test"``) are the reported ones;
*development* folds (``purpose="dev"``) are drawn from a disjoint seed namespace and are the only
folds any setting is chosen on. Tables report, per cell, the mean ± std over **training seeds**
of each seed's mean over its folds.

**Component oracles**: the expected accuracy of a classifier that knows a clip's noun (verb)
perfectly and guesses uniformly among the unseen classes sharing it — what "chance" hides on
compositional class sets.

The class splits and folds themselves are defined in :mod:`desktop_app.data.class_splits` (below
training, which must train on the seen classes) and re-exported here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from desktop_app.data.class_splits import (  # noqa: F401  (the protocol's names, re-exported)
    COMPOSITIONAL_SPLITS,
    DEV,
    FOLD_NAMESPACES,
    HELD_OUT_SHARE,
    MIN_UNSEEN,
    PAPER_FOLDS,
    TEST,
    ZSL_SPLITS,
    all_splits,
    check_purpose,
    check_zsl_split,
    fold_rng,
    zsl_class_split,
)


def component_oracles(
    clip_class_ids: np.ndarray,
    unseen_class_ids: np.ndarray,
    components: Mapping[int, tuple[str | None, str | None]],
) -> dict[str, Any]:
    """Expected zero-shot accuracy of the noun-only and verb-only oracles on these clips.

    The noun-only oracle knows each clip's noun and picks uniformly among the unseen classes
    with that noun: a clip scores ``1 / |{unseen classes with its noun}|`` in expectation; the
    oracle's accuracy is the mean over clips (the same weighting as :func:`zsl_accuracy`).
    Likewise for verbs.

    Returns
    -------
    ``{"noun_oracle", "verb_oracle", "oracle_note"}``; an oracle is ``None`` (and the note says
    why) where some unseen class has no noun (verb).
    """
    out: dict[str, Any] = {"noun_oracle": None, "verb_oracle": None, "oracle_note": None}
    notes = []
    clips = np.asarray(clip_class_ids, dtype=np.int64)
    for key, index, part in (("verb_oracle", 0, "verb"), ("noun_oracle", 1, "noun")):
        values = {int(c): components.get(int(c), (None, None))[index] for c in unseen_class_ids}
        if not values or any(not v for v in values.values()):
            notes.append(part)
            continue
        counts: dict[str, int] = {}
        for v in values.values():
            counts[str(v)] = counts.get(str(v), 0) + 1
        if len(clips) == 0:
            continue
        # the mean over clips, by class (a Python loop over classes, never over clips)
        classes, clips_of = np.unique(clips, return_counts=True)
        score = np.array([1.0 / counts[str(values[int(c)])] for c in classes])
        out[key] = float((score * clips_of).sum() / len(clips))
    if notes:
        out["oracle_note"] = f"the classes have no {' / '.join(notes)}: no component oracle"
    return out


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
    """``{"mean", "std", "n", "values"}`` of finite values (sample standard deviation; 0 for one)."""
    arr = np.asarray([v for v in values if v is not None and np.isfinite(v)], dtype=np.float64)
    if len(arr) == 0:
        return {"mean": None, "std": None, "n": 0, "values": []}
    std = float(arr.std(ddof=1)) if len(arr) > 1 else 0.0
    return {"mean": float(arr.mean()), "std": std, "n": int(len(arr)), "values": [float(v) for v in arr]}


def seed_cell(by_seed: Mapping[int, Mapping[int, float]]) -> dict[str, Any]:
    """A table cell from ``{training seed: {fold: value}}``: the mean ± std **over seeds** of
    each seed's mean over its folds.

    Returns
    -------
    ``{"mean", "std", "seeds", "folds", "values", "per_seed"}``: ``values`` are the per-seed
    means (in seed order), ``folds`` the most folds any seed has, ``per_seed`` every value by
    seed and fold.
    """
    seeds = sorted(by_seed)
    per_seed = {}
    means = []
    for seed in seeds:
        folds = by_seed[seed]
        finite = [v for v in folds.values() if np.isfinite(v)]
        mean = float(np.mean(finite)) if finite else float("nan")
        means.append(mean)
        per_seed[str(seed)] = {"mean": mean, "folds": {str(k): float(folds[k]) for k in sorted(folds)}}
    summary = summarize(means)
    return {
        "mean": summary["mean"],
        "std": summary["std"],
        "seeds": summary["n"],
        "folds": max((len(by_seed[s]) for s in seeds), default=0),
        "values": summary["values"],
        "per_seed": per_seed,
    }


def run_purpose(meta: Mapping[str, Any]) -> str | None:
    """``"test"`` or ``"dev"`` for a zero-shot run; ``None`` for a run of a retired fold draw
    (runs made before folds were separated from training seeds, with a seed other than 0)."""
    zsl = meta.get("zsl") or {}
    if "purpose" in zsl:
        return str(zsl["purpose"])
    return TEST if int(zsl.get("seed", 0)) == 0 else None


def zsl_table(
    runs: Iterable[dict[str, Any]],
    models: Sequence[str],
    splits: Sequence[str],
    folds: int,
    seeds: Sequence[int] | None = None,
    purpose: str = TEST,
) -> dict[str, Any]:
    """Seed 001's Table 1 shape from runs' metadata: rows = models, columns = splits.

    Uses every run of ``purpose`` folds (the reported ``test`` folds unless asked otherwise)
    whose ``metrics["zsl"]`` holds an accuracy, whose fold is below ``folds`` and whose training
    seed is among ``seeds`` (all when ``None``). A cell is :func:`seed_cell`'s dict; the table's
    ``reference`` holds, per split, the chance level and the noun-only / verb-only oracles
    averaged over the folds the cells use (they depend on the fold only, not the model).
    """
    cells: dict[tuple[str, str], dict[int, dict[int, float]]] = {}
    reference: dict[str, dict[int, dict[str, Any]]] = {}
    for meta in runs:
        result = (meta.get("metrics") or {}).get("zsl")
        zsl = meta.get("zsl")
        if not result or not zsl or result.get("accuracy") is None or int(zsl["fold"]) >= folds:
            continue
        if run_purpose(meta) != purpose:
            continue
        seed = int(meta.get("seed", 0))
        if seeds is not None and seed not in seeds:
            continue
        key = (str(meta["model"]["name"]), str(zsl["split"]))
        cells.setdefault(key, {}).setdefault(seed, {})[int(zsl["fold"])] = float(result["accuracy"])
        reference.setdefault(key[1], {})[int(zsl["fold"])] = {
            "chance": result.get("chance"),
            "noun_oracle": result.get("noun_oracle"),
            "verb_oracle": result.get("verb_oracle"),
            "oracle_note": result.get("oracle_note"),
        }
    rows = []
    for model in models:
        row: dict[str, Any] = {"model": model, "cells": {}}
        for split in splits:
            row["cells"][split] = seed_cell(cells.get((model, split), {}))
        rows.append(row)
    references = {}
    for split in splits:
        by_fold = reference.get(split, {})
        entry: dict[str, Any] = {}
        for name in ("chance", "noun_oracle", "verb_oracle"):
            values = [f[name] for f in by_fold.values() if f[name] is not None]
            entry[name] = float(np.mean(values)) if values else None
        notes = {f["oracle_note"] for f in by_fold.values() if f["oracle_note"]}
        if by_fold and not any(f.get("noun_oracle") is not None for f in by_fold.values()) and not notes:
            notes = {"runs evaluated before the oracles existed: evaluate them again"}
        entry["oracle_note"] = "; ".join(sorted(notes)) or None
        references[split] = entry
    return {
        "task": "zsl",
        "metric": "accuracy",
        "purpose": purpose,
        "columns": list(splits),
        "folds": folds,
        "seeds": sorted({s for c in cells.values() for s in c}),
        "spread": "mean ± std over training seeds; each seed's value is its mean over folds",
        "rows": rows,
        "reference": references,
    }


def _cell_text(cell: Mapping[str, Any], width: int) -> str:
    if cell.get("mean") is None:
        return f"{'—':>{width}}"
    counts = f"{cell.get('seeds', 1)}×{cell['folds']}" if cell.get("folds") else f"{cell.get('seeds', 1)}"
    return f"{100 * cell['mean']:.1f} ± {100 * cell['std']:.1f} ({counts})".rjust(width)


def format_table(table: dict[str, Any]) -> str:
    """The table as aligned text: ``mean ± std`` in percent over training seeds with
    ``(seeds×folds)``, then the chance and component-oracle rows of a zero-shot table."""
    columns = table["columns"]
    width = max(20, *(len(c) + 2 for c in columns))
    lines = [f"accuracy in %, {table.get('spread', 'mean ± std over training seeds')} (seeds×folds)"]
    header = f"{'model':<18}" + "".join(f"{c:>{width}}" for c in columns)
    lines += [header, "-" * len(header)]
    for row in table["rows"]:
        lines.append(f"{row['model']:<18}" + "".join(_cell_text(row["cells"][c], width) for c in columns))
    reference = table.get("reference")
    if reference is not None:
        notes = []
        for label, key in (
            ("chance", "chance"),
            ("noun-only oracle", "noun_oracle"),
            ("verb-only oracle", "verb_oracle"),
        ):
            values = [reference[c].get(key) for c in columns]
            lines.append(
                f"{label:<18}" + "".join(f"{'—' if v is None else f'{100 * v:.1f}':>{width}}" for v in values)
            )
        for c in columns:
            if reference[c].get("oracle_note"):
                notes.append(f"{c}: {reference[c]['oracle_note']}")
        lines += [f"note: {n}" for n in notes]
    else:
        chances = [
            next(
                (
                    r["cells"][c].get("chance")
                    for r in table["rows"]
                    if r["cells"][c].get("chance") is not None
                ),
                None,
            )
            for c in columns
        ]
        if any(ch is not None for ch in chances):
            lines.append(
                f"{'chance':<18}"
                + "".join(f"{'' if ch is None else f'{100 * ch:.1f}':>{width}}" for ch in chances)
            )
    return "\n".join(lines)
