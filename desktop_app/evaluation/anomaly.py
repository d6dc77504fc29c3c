"""Anomaly detection (seed 003 §VII): ground-truth marks, metrics and the ``actionlens evaluate
--task anomaly`` table.

Measured on the **test clips** of the source run's split (the autoencoder and every baseline
are fitted on its training clips only — normal and anomalous alike, without the marks, since
the method is unsupervised), against the catalog's anomaly marks (the demo's ``--anomalies``):

* **ROC AUC** of the scores for "is marked anomalous" (sklearn's ``roc_auc_score``);
* **P@k**: the share of marked clips among the ``k`` highest-scored test clips, ``k`` = the number
  of marked test clips (ties broken by clip id);

for the autoencoder (mean ± std over its training seeds), beside two baselines computed from the
same source-run embeddings — the squared **distance to the clip's class mean** and the
**cosine distance** to it (``1 − cos``, blind to the embedding's norm), class means over the
split's training clips — and chance (AUC 0.5, P@k = the anomaly rate of the test clips).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from desktop_app.errors import ActionLensError
from desktop_app.progress import NullProgress, Progress, SubProgress
from desktop_app.workspace.catalog import ROLE_CODES


def mark_demo_anomalies(ws: Any, data_root: Path | str) -> int:
    """Mark in ``ws``'s catalog the clips that a demo dataset generated with ``anomalies=``
    lists in its ``demo.json`` (kind and onset frame); returns how many were marked.

    A dataset that is not a demo, or a demo without anomalies, marks nothing.
    """
    from desktop_app.data.demo import DEMO_INDEX_NAME, demo_anomalies

    if not (Path(data_root) / DEMO_INDEX_NAME).is_file():
        return 0
    entries = demo_anomalies(data_root)
    if not entries:
        return 0
    by_path = {c.path: c.id for c in ws.catalog.iter_clips()}
    missing = [e["path"] for e in entries if e["path"] not in by_path]
    if missing:
        raise ActionLensError(
            f"{Path(data_root) / DEMO_INDEX_NAME} lists anomalous clip {missing[0]} that the import did "
            "not catalogue; generate the demo dataset again"
        )
    return int(
        ws.catalog.mark_anomalies((by_path[e["path"]], e["kind"], e.get("onset_frame")) for e in entries)
    )


# ------------------------------------------------------------------------------------ metrics
def roc_auc(scores: np.ndarray, is_anomaly: np.ndarray) -> float:
    """ROC AUC of ``scores`` for ``is_anomaly`` (sklearn); NaN when one of the two is absent."""
    from sklearn.metrics import roc_auc_score

    truth = np.asarray(is_anomaly, dtype=bool)
    if truth.all() or not truth.any():
        return float("nan")
    return float(roc_auc_score(truth, np.asarray(scores, dtype=np.float64)))


def precision_at_k(scores: np.ndarray, is_anomaly: np.ndarray, k: int | None = None) -> float:
    """Share of anomalies among the ``k`` highest ``scores`` (default ``k`` = the number of
    anomalies); among equal scores the earlier row ranks first. NaN when ``k`` is 0."""
    truth = np.asarray(is_anomaly, dtype=bool)
    k = int(truth.sum()) if k is None else int(k)
    if k <= 0:
        return float("nan")
    order = np.argsort(-np.asarray(scores, dtype=np.float64), kind="stable")
    return float(truth[order[:k]].mean())


def class_mean_scores(
    fit_embeddings: np.ndarray,
    fit_classes: np.ndarray,
    report_embeddings: np.ndarray,
    report_classes: np.ndarray,
) -> dict[str, np.ndarray]:
    """The class-mean baselines: each report clip's squared Euclidean distance (``"distance"``)
    and cosine distance ``1 − cos`` (``"cosine"``) to the mean of its class's fit clips.

    Class means come from ``fit_embeddings`` only; a report clip of a class without fit clips
    scores NaN.
    """
    fit_embeddings = np.asarray(fit_embeddings, dtype=np.float64)
    report_embeddings = np.asarray(report_embeddings, dtype=np.float64)
    classes, inverse = np.unique(np.asarray(fit_classes), return_inverse=True)
    sums = np.zeros((len(classes), fit_embeddings.shape[1]))
    np.add.at(sums, inverse, fit_embeddings)
    means = sums / np.bincount(inverse, minlength=len(classes))[:, None]
    pos = np.clip(np.searchsorted(classes, report_classes), 0, max(len(classes) - 1, 0))
    known = (classes[pos] == report_classes) if len(classes) else np.zeros(len(report_classes), bool)
    mu = means[pos]
    distance = ((report_embeddings - mu) ** 2).sum(axis=1)
    cosine = 1.0 - (report_embeddings * mu).sum(axis=1) / np.maximum(
        np.linalg.norm(report_embeddings, axis=1) * np.linalg.norm(mu, axis=1), 1e-12
    )
    distance[~known] = np.nan
    cosine[~known] = np.nan
    return {"distance": distance, "cosine": cosine}


def detection_metrics(
    scores: np.ndarray, is_anomaly: np.ndarray, kinds: Sequence[str] | None = None
) -> dict[str, Any]:
    """``{"roc_auc", "precision_at_k", "k", "per_kind": {kind: roc_auc of that kind vs normals}}``."""
    scores = np.asarray(scores, dtype=np.float64)
    truth = np.asarray(is_anomaly, dtype=bool)
    per_kind: dict[str, float] = {}
    if kinds is not None:
        kind_arr = np.asarray(list(kinds), dtype=object)
        for kind in sorted({k for k in kind_arr[truth]}):
            rows = ~truth | (kind_arr == kind)
            per_kind[str(kind)] = roc_auc(scores[rows], truth[rows])
    return {
        "roc_auc": roc_auc(scores, truth),
        "precision_at_k": precision_at_k(scores, truth),
        "k": int(truth.sum()),
        "per_kind": per_kind,
    }


def _summary(values: Sequence[float]) -> dict[str, Any]:
    """``{"mean", "std", "n", "values"}`` over the finite values (sample std; 0 for one)."""
    arr = np.asarray([v for v in values if v is not None and np.isfinite(v)], dtype=np.float64)
    if not len(arr):
        return {"mean": None, "std": None, "n": 0, "values": []}
    return {
        "mean": float(arr.mean()),
        "std": float(arr.std(ddof=1)) if len(arr) > 1 else 0.0,
        "n": int(len(arr)),
        "values": arr.tolist(),
    }


def _summarise(rows: list[dict[str, Any]], kinds: Sequence[str]) -> dict[str, Any]:
    """Summaries over seeds of :func:`detection_metrics` rows."""
    return {
        "roc_auc": _summary([r["roc_auc"] for r in rows]),
        "precision_at_k": _summary([r["precision_at_k"] for r in rows]),
        "per_kind": {k: _summary([r["per_kind"].get(k, np.nan) for r in rows]) for k in kinds},
    }


# ------------------------------------------------------------------------------- the table
def _groups(ws: Any, runs: Sequence[str] | None, seeds: Sequence[int] | None) -> dict[str, list[str]]:
    """``{source run: [autoencoder run ids]}`` for the runs asked for: an autoencoder run stands
    for itself, any other run for the autoencoder runs trained on it (of ``seeds``)."""
    from desktop_app.training.anomaly import scored_runs

    scored = scored_runs(ws)
    by_id = {r["run_id"]: r for r in scored}
    groups: dict[str, list[str]] = defaultdict(list)
    wanted = list(runs) if runs else sorted({r["source_run"] for r in scored})
    for run_id in wanted:
        if run_id in by_id:
            groups[by_id[run_id]["source_run"]].append(run_id)
            continue
        on_it = [
            r["run_id"]
            for r in sorted(scored, key=lambda r: (r["seed"], r["run_id"]))
            if r["source_run"] == run_id and (not seeds or r["seed"] in set(seeds))
        ]
        if not on_it:
            raise ActionLensError(
                f"no autoencoder run with anomaly scores for {run_id!r} (or they predate its last "
                f"training); train one (actionlens train --model autoencoder --source-run {run_id} "
                "[--overwrite]) or pass --train-missing"
            )
        groups[run_id].extend(on_it)
    if not groups:
        raise ActionLensError(
            "no autoencoder runs with anomaly scores in this workspace; train one with "
            "actionlens train --model autoencoder --source-run RUN"
        )
    return {src: sorted(set(ids)) for src, ids in groups.items()}


def _train_missing(
    ws: Any, runs: Sequence[str], seeds: Sequence[int], preset: str, epochs: int | None, progress: Progress
) -> None:
    from desktop_app.training.anomaly import autoencoder_run_id, train_autoencoder
    from desktop_app.training.runs import META

    todo = []
    for source in runs:
        if (ws.runs_dir / source / META).is_file():
            from desktop_app.training.runs import read_meta

            if read_meta(ws.runs_dir / source).get("anomaly"):
                continue  # an autoencoder run itself
        for seed in seeds:
            if not (ws.runs_dir / autoencoder_run_id(source, preset, seed) / META).is_file():
                todo.append((source, seed))
    for i, (source, seed) in enumerate(todo):
        train_autoencoder(
            ws,
            source,
            preset=preset,
            seed=seed,
            epochs=epochs,
            resume=True,
            progress=SubProgress(progress, i / len(todo), (i + 1) / len(todo), f"autoencoder seed {seed}"),
        )


def anomaly_table(
    ws: Any,
    runs: Sequence[str] | None = None,
    seeds: Sequence[int] | None = None,
    progress: Progress | None = None,
    features: Any = None,
) -> dict[str, Any]:
    """The anomaly-detection table of ``runs`` (see the module docstring).

    ``features`` is the feature source the source runs read (default: the store each was
    trained on).

    Returns
    -------
    dict
        ``{"task": "anomaly", "sources": [{"source_run", "split", "test_clips", "anomalies",
        "kinds", "autoencoder": {"runs", "roc_auc", "precision_at_k", "per_kind"}, "class_mean":
        {...}, "class_mean_cosine": {...}, "chance": {"roc_auc", "precision_at_k"}}]}``, every
        figure a ``{"mean", "std", "n", "values"}`` summary (baselines: one value per source run).
    """
    from desktop_app.training.anomaly import read_scores, source_run_embeddings
    from desktop_app.training.runs import Run, update_metrics

    progress = progress or NullProgress()
    groups = _groups(ws, runs, seeds)
    marked_ids, marked_kinds = ws.catalog.anomaly_marks()
    kind_of = {int(c): k for c, k in zip(marked_ids.tolist(), marked_kinds, strict=True)}
    if not kind_of:
        raise ActionLensError(
            "the workspace marks no clip as anomalous, so nothing can be measured; build a demo with "
            "anomalies (actionlens demo --anomalies 0.05) or mark them in the catalog"
        )
    out = []
    for g, (source_id, ae_ids) in enumerate(groups.items()):
        source = Run.load(ws.runs_dir / source_id)
        split = str(source.meta["split"]["name"])
        codes = ws.catalog.split_role_codes(split)
        columns = ws.catalog.clip_columns()
        ids, embeddings = source_run_embeddings(
            ws,
            source,
            SubProgress(progress, g / len(groups), (g + 0.5) / len(groups), f"embedding with {source_id}"),
            features,
        )
        class_of = columns.class_id[ids]
        labelled = columns.ok[ids] & (class_of >= 0)
        role = np.asarray(ROLE_CODES)[codes[ids]]
        # The source run's fit clips are its split's train clips (its own validation share is
        # drawn from them): class means come from those, the figures from the test clips.
        fit = labelled & (role == "train")
        report = labelled & (role == "test")
        report_clips = ids[report]
        if not len(report_clips):
            raise ActionLensError(f"split {split!r} has no test clips with embeddings to measure on")
        truth = np.array([int(c) in kind_of for c in report_clips])
        kinds = [kind_of.get(int(c), "") for c in report_clips]
        fit_classes, report_classes = class_of[fit], class_of[report]
        baselines = class_mean_scores(embeddings[fit], fit_classes, embeddings[report], report_classes)
        per_seed = []
        for run_id in ae_ids:
            scores = read_scores(ws, run_id).of(report_clips)
            if np.isnan(scores).any():
                raise ActionLensError(
                    f"run {run_id} has no anomaly score for {int(np.isnan(scores).sum())} test clips; "
                    "train it again (actionlens train --model autoencoder … --overwrite)"
                )
            metrics = detection_metrics(scores, truth, kinds)
            per_seed.append(metrics)
            stored = {
                **metrics,
                "split": split,
                "test_clips": int(len(report_clips)),
                "source_run": source_id,
            }
            meta = update_metrics(ws.runs_dir / run_id, "anomaly", stored)
            ws.catalog.add_run(run_id, "autoencoder", meta["created"], "complete", meta["metrics"])
        base = {name: detection_metrics(s, truth, kinds) for name, s in baselines.items()}
        all_kinds = sorted({k for k in kinds if k})

        out.append(
            {
                "source_run": source_id,
                "source_model": source.meta["model"]["name"],
                "split": split,
                "test_clips": int(len(report_clips)),
                "anomalies": int(truth.sum()),
                "kinds": {k: int(sum(1 for x in kinds if x == k)) for k in all_kinds},
                "autoencoder": {"runs": list(ae_ids), **_summarise(per_seed, all_kinds)},
                "class_mean": _summarise([base["distance"]], all_kinds),
                "class_mean_cosine": _summarise([base["cosine"]], all_kinds),
                "chance": {"roc_auc": 0.5, "precision_at_k": float(truth.mean())},
            }
        )
        progress.set_progress((g + 1) / len(groups), f"anomaly table of {source_id}")
    return {"task": "anomaly", "sources": out}


def _cell(summary: dict[str, Any]) -> str:
    if summary.get("mean") is None:
        return "—"
    if summary["n"] > 1:
        return f"{summary['mean']:.3f} ± {summary['std']:.3f} ({summary['n']})"
    return f"{summary['mean']:.3f}"


def format_anomaly_table(table: dict[str, Any]) -> str:
    """The table as Markdown text."""
    lines = []
    for src in table["sources"]:
        kinds = list(src["kinds"])
        lines += [
            f"**Anomaly detection** (seed 003 §VII) on the embeddings of `{src['source_run']}` "
            f"({src['source_model']}): {src['test_clips']} test clips of split {src['split']}, "
            f"{src['anomalies']} marked anomalous ({', '.join(f'{k} {n}' for k, n in src['kinds'].items())}); "
            "autoencoder: mean ± std (seeds); baselines are deterministic given the source run.",
            "",
            "| scores | ROC AUC | P@k (k = "
            + str(src["anomalies"])
            + ") | "
            + " | ".join(f"AUC {k}" for k in kinds)
            + " |",
            "|---|---|---|" + "---|" * len(kinds),
        ]
        rows = [
            ("autoencoder (reconstruction error)", src["autoencoder"]),
            ("distance to class mean", src["class_mean"]),
            ("cosine distance to class mean", src["class_mean_cosine"]),
        ]
        for name, row in rows:
            lines.append(
                f"| {name} | {_cell(row['roc_auc'])} | {_cell(row['precision_at_k'])} | "
                + " | ".join(_cell(row["per_kind"][k]) for k in kinds)
                + " |"
            )
        chance = src["chance"]
        lines.append(
            f"| chance | {chance['roc_auc']:.3f} | {chance['precision_at_k']:.3f} | "
            + " | ".join("0.500" for _ in kinds)
            + " |"
        )
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def evaluate_cli(ws: Any, args: Any, progress: Progress) -> tuple[dict[str, Any], str]:
    """``actionlens evaluate --task anomaly [--runs RUN…] [--seeds …] [--train-missing]``:
    ``--runs`` names autoencoder runs, or source runs (their autoencoders of ``--seeds``)."""
    runs = list(args.runs) if getattr(args, "runs", None) else None
    seeds = list(getattr(args, "seeds", None) or [])
    if getattr(args, "train_missing", False):
        if not runs:
            raise ActionLensError(
                "--train-missing needs --runs SOURCE_RUN… (the runs to train autoencoders on)"
            )
        _train_missing(
            ws,
            runs,
            seeds or [0],
            getattr(args, "preset", "small"),
            getattr(args, "epochs", None),
            SubProgress(progress, 0.0, 0.7, "training autoencoders"),
        )
    table = anomaly_table(
        ws,
        runs,
        seeds,
        SubProgress(progress, 0.7 if getattr(args, "train_missing", False) else 0.0, 1.0, "scoring"),
    )
    return table, format_anomaly_table(table)
