"""Video ↔ paragraph retrieval of seed-004 runs (``hse``, ``fse``), shaped like the seed's Table 1,
and zero-shot recognition with class names encoded as sentences (the seed's Table 6).

Retrieval is measured on the videos of the run's reported role (``test``, or ``val`` where the
split has none, as ActivityNet Captions' val_1 and the demo's stories): every paragraph is a
query among all of their videos (paragraph → video) and every video among all of their
paragraphs (video → paragraph); R@K is the share of queries whose partner is in the top K, MedR
the median rank of the partner. A random ranking has R@K = min(K, N)/N and MedR = (N + 1)/2.
Videos are embedded with their captions' segments (the seed's ground-truth proposals, its main
setting). Every figure is a mean ± std over training seeds.

Zero-shot recognition (seed §4.4): every labelled clip of the test role of the class split is
embedded by the clip encoder and given the class whose phrase, read as a sentence by the
sentence encoder (the run's label vectors), is nearest by cosine; no class was ever trained on.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from desktop_app.errors import ActionLensError
from desktop_app.evaluation.results import _summary
from desktop_app.progress import NullProgress, Progress, SubProgress
from desktop_app.workspace.clip_sets import ok_clips

DIRECTIONS = ("paragraph_to_video", "video_to_paragraph")
COLUMNS = ("r1", "r5", "r50", "medr")

#: The seed's own Table 1 (ActivityNet Captions val1, TSN-Inception-V3 features): a different
#: dataset, shown for reference only.
SEED_TABLE_1 = {
    "FSE": {
        "paragraph_to_video": {"r1": 18.2, "r5": 44.8, "r50": 89.1, "medr": 7.0},
        "video_to_paragraph": {"r1": 16.7, "r5": 43.1, "r50": 88.4, "medr": 7.3},
    },
    "HSE[τ=5e-4]": {
        "paragraph_to_video": {"r1": 44.4, "r5": 76.7, "r50": 97.1, "medr": 2.0},
        "video_to_paragraph": {"r1": 44.2, "r5": 76.7, "r50": 97.0, "medr": 2.0},
    },
}
#: The seed's Table 6 zero-shot transfer on ActivityNet (200 classes; chance 0.5 / 2.5).
SEED_TABLE_6 = {"FSE": {"top1": 48.3, "top5": 79.4}, "HSE[τ=5e-4]": {"top1": 51.4, "top5": 83.8}}


def _paragraph_videos(ws: Any, run: Any, source: Any) -> np.ndarray:
    from desktop_app.training.data import clips_with_streams

    info = run.meta["paragraphs"]
    with ws.catalog.transaction() as con:
        captioned = np.array([r[0] for r in con.execute("SELECT DISTINCT clip_id FROM captions")], np.int64)
    chosen, _ = ok_clips(
        ws.catalog,
        clips_with_streams(source, run.streams),
        labelled=False,
        split=info["split"],
        role=info["report_role"],
    )
    return chosen[np.isin(chosen, captioned)]


def zero_shot_clips(ws: Any) -> tuple[np.ndarray, np.ndarray, str | None]:
    """Ids and class ids of the clips zero-shot recognition is measured on, and their split.

    The ``test`` clips of the first split that has labelled test clips (the demo: split 1);
    a workspace without one gives every labelled clip (``None``); none at all gives empty arrays.
    """
    ids, classes = ok_clips(ws.catalog)
    if not len(ids):
        return ids, classes, None
    for split in ws.catalog.split_names():
        test_ids, test_classes = ok_clips(ws.catalog, split=split, role="test")
        if len(test_ids):
            return test_ids, test_classes, split
    return ids, classes, None


def zero_shot_accuracy(
    embeddings: np.ndarray, truth: np.ndarray, class_ids: np.ndarray, class_vectors: np.ndarray
) -> dict[str, float]:
    """Top-1 / top-5 accuracy (%) of giving each clip the classes nearest by cosine, with chance."""
    from desktop_app.training.paragraphs import cosine_scores

    scores = cosine_scores(embeddings, class_vectors)
    order = np.argsort(-scores, axis=1, kind="stable")
    ranked = class_ids[order]
    top1 = float(100.0 * np.mean(ranked[:, 0] == truth)) if len(truth) else float("nan")
    top5 = (
        float(100.0 * np.mean((ranked[:, :5] == truth[:, None]).any(axis=1))) if len(truth) else float("nan")
    )
    n = len(class_ids)
    return {"top1": top1, "top5": top5, "chance_top1": 100.0 / n, "chance_top5": 100.0 * min(5, n) / n}


def evaluate_paragraph_run(
    ws: Any, run: Any, source: Any = None, vectors: Any = None, progress: Progress | None = None
) -> dict[str, Any]:
    """Retrieval (both directions) and zero-shot figures of one run; stored in its metadata
    (``metrics.paragraph_retrieval``) and the catalog."""
    from desktop_app.analysis.space import run_word_vectors
    from desktop_app.models.hse import chance_metrics
    from desktop_app.training.data import SequenceCache
    from desktop_app.training.experiment import open_sequence_source
    from desktop_app.training.inputs import TransformedSource
    from desktop_app.training.paragraphs import build_paragraph_set, embed_pairs, paired_retrieval
    from desktop_app.training.runs import update_metrics

    progress = progress or NullProgress()
    meta = run.meta
    if "paragraphs" not in meta:
        raise ActionLensError(
            f"run {run.run_id} is not a video–paragraph run (hse, fse); choose one of those"
        )
    if source is None:
        source = open_sequence_source(ws, meta["features"]["name"])
    if vectors is None:
        vectors = run_word_vectors(meta)
    videos = _paragraph_videos(ws, run, source)
    paragraphs = build_paragraph_set(ws, videos, vectors)
    if len(paragraphs) < 2:
        raise ActionLensError(
            f"run {run.run_id}: {len(paragraphs)} {meta['paragraphs']['report_role']} video(s) with paragraphs "
            "and features to rank; retrieval needs 2 or more"
        )
    read = TransformedSource(source, run.input_transform) if run.input_transform is not None else source
    cache = SequenceCache(read, run.streams, run.max_len)
    v, p = embed_pairs(
        run.model,
        cache,
        paragraphs,
        np.arange(len(paragraphs)),
        progress=SubProgress(progress, 0.0, 0.7, "videos"),
    )
    metrics: dict[str, Any] = paired_retrieval(v, p)
    metrics["chance"] = chance_metrics(len(paragraphs))
    metrics["videos"] = len(paragraphs)
    metrics["role"] = meta["paragraphs"]["report_role"]
    metrics["split"] = meta["paragraphs"]["split"]
    metrics["seed"] = int(meta.get("seed", 0))
    ids, truth, split = zero_shot_clips(ws)
    if len(ids) and len(run.class_ids):
        embedded, _ = run.embed(source, ids, progress=SubProgress(progress, 0.7, 1.0, "zero-shot clips"))
        metrics["zero_shot"] = {
            **zero_shot_accuracy(embedded, truth, run.class_ids, run.label_vectors),
            "clips": len(ids),
            "classes": len(run.class_ids),
            "split": split,
        }
    new_meta = update_metrics(run.run_dir, "paragraph_retrieval", metrics)
    run.meta = new_meta
    ws.catalog.add_run(run.run_id, meta["model"]["name"], meta["created"], "complete", new_meta["metrics"])
    return metrics


def row_name(meta: dict[str, Any]) -> str:
    """A run's row: its model name, with the settings where it differs from its preset
    (``hse[tau=0]``, ``hse[low_level=weak]``: the seed's ablations, Table 3)."""
    from desktop_app.models.registry import config_to_json, get_model_spec

    name, preset = meta["model"]["name"], meta["model"].get("preset", "small")
    try:
        default = config_to_json(get_model_spec(name).config(preset))
    except ActionLensError:
        return str(name)
    own = meta["model"].get("config", {})
    changed = [
        f"{k}={own[k]:g}" if isinstance(own[k], float) else f"{k}={own[k]}"
        for k in sorted(own)
        if k not in ("streams", "word_vector_dim") and k in default and own[k] != default[k]
    ]
    return f"{name}[{', '.join(changed)}]" if changed else str(name)


def _runs_for(ws: Any, args: Any, progress: Progress) -> dict[str, list[Any]]:
    """``{model: [Run, …]}`` from ``args.runs`` or from ``args.models`` × ``args.seeds``."""
    from desktop_app.models.hse import VIDEO_PARAGRAPH
    from desktop_app.models.registry import get_model_spec, model_names
    from desktop_app.training.experiment import train_in_workspace
    from desktop_app.training.paragraphs import captioned_roles, paragraph_run_id
    from desktop_app.training.runs import META, Run

    found: dict[str, list[Any]] = {}
    if args.runs:
        for run_id in args.runs:
            if not (ws.runs_dir / run_id / META).is_file():
                raise ActionLensError(
                    f"no run {run_id!r} in {ws.runs_dir}; train it (actionlens train --model hse …)"
                )
            run = Run.load(ws.runs_dir / run_id)
            found.setdefault(row_name(run.meta), []).append(run)
        return found
    models = list(args.models or model_names(VIDEO_PARAGRAPH))
    for name in models:
        if get_model_spec(name).task != VIDEO_PARAGRAPH:
            raise ActionLensError(
                f"model {name!r} does not embed paragraphs; choose among {', '.join(model_names(VIDEO_PARAGRAPH))}"
            )
    split, _ = captioned_roles(ws, getattr(args, "split", "official") or "official")
    seeds = list(args.seeds or [0, 1, 2])
    todo = [(m, s) for m in models for s in seeds]
    for i, (name, seed) in enumerate(todo):
        run_id = paragraph_run_id(name, args.preset, split, seed)
        if (ws.runs_dir / run_id / META).is_file():
            run = Run.load(ws.runs_dir / run_id)
        elif args.train_missing:
            run = train_in_workspace(
                ws,
                name,
                preset=args.preset,
                split=split,
                seed=seed,
                epochs=args.epochs,
                resume=True,
                features=args.features,
                word_vectors=args.word_vectors,
                progress=SubProgress(progress, i / len(todo), (i + 1) / len(todo), f"train {run_id}"),
            )
        else:
            raise ActionLensError(
                f"run {run_id} is missing; train it (actionlens train --model {name} --seed {seed}) "
                "or pass --train-missing"
            )
        found.setdefault(name, []).append(run)
    return found


def paragraph_table(per_model: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """Mean ± std over seeds of every column, per model, with chance and the seed's figures."""
    rows: dict[str, Any] = {}
    videos: set[int] = set()
    for model, runs in per_model.items():
        row: dict[str, Any] = {d: {c: _summary([r[d][c] for r in runs]) for c in COLUMNS} for d in DIRECTIONS}
        zs = [r["zero_shot"] for r in runs if "zero_shot" in r]
        if zs:
            row["zero_shot"] = {k: _summary([z[k] for z in zs]) for k in ("top1", "top5")}
            row["zero_shot_chance"] = {"top1": zs[0]["chance_top1"], "top5": zs[0]["chance_top5"]}
        row["seeds"] = [r["seed"] for r in runs]
        rows[model] = row
        videos.update(r["videos"] for r in runs)
    chance = None
    if len(videos) == 1:
        from desktop_app.models.hse import chance_metrics

        chance = chance_metrics(videos.pop())
    return {
        "task": "paragraph-retrieval",
        "rows": rows,
        "chance": chance,
        "seed_table_1": SEED_TABLE_1,
        "seed_table_6": SEED_TABLE_6,
    }


def _cell(summary: dict[str, Any], digits: int = 1) -> str:
    if summary["mean"] is None:
        return "-"
    return f"{summary['mean']:.{digits}f} ± {summary['std']:.{digits}f}"


def format_paragraph_table(table: dict[str, Any], run_count: dict[str, int], videos: Sequence[int]) -> str:
    """The table as Markdown, Table 1's shape, with chance and the seed's ActivityNet rows."""
    n = ", ".join(str(v) for v in sorted(set(videos)))
    lines = [
        f"Video ↔ paragraph retrieval on the {n} reported videos (R@K %, MedR; mean ± std over training seeds; "
        "seed 004 Table 1)",
        "",
        "| model | P→V R@1 | P→V R@5 | P→V R@50 | P→V MedR | V→P R@1 | V→P R@5 | V→P R@50 | V→P MedR | seeds |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for model, row in table["rows"].items():
        cells = [_cell(row[d][c]) for d in DIRECTIONS for c in COLUMNS]
        lines.append(f"| {model} | " + " | ".join(cells) + f" | {run_count[model]} |")
    if table["chance"]:
        c = table["chance"]
        cells = [f"{c[k]:.1f}" for k in COLUMNS] * 2
        lines.append("| chance (random ranking) | " + " | ".join(cells) + " | |")
    for name, seed_row in table["seed_table_1"].items():
        cells = [f"{seed_row[d][c]:g}" for d in DIRECTIONS for c in COLUMNS]
        lines.append(
            f"| seed 004 {name}, ActivityNet val1 (different data) | " + " | ".join(cells) + " | 3 |"
        )
    zs_rows = [(m, r) for m, r in table["rows"].items() if "zero_shot" in r]
    if zs_rows:
        lines += [
            "",
            "Zero-shot recognition: class names encoded as sentences (top-1 / top-5 %, mean ± std over seeds; "
            "seed 004 Table 6)",
            "",
            "| model | top-1 | top-5 | chance top-1 | chance top-5 |",
            "|---|---|---|---|---|",
        ]
        for model, row in zs_rows:
            ch = row["zero_shot_chance"]
            lines.append(
                f"| {model} | {_cell(row['zero_shot']['top1'])} | {_cell(row['zero_shot']['top5'])} | "
                f"{ch['top1']:.1f} | {ch['top5']:.1f} |"
            )
        for name, seed_row in table["seed_table_6"].items():
            lines.append(
                f"| seed 004 {name}, ActivityNet 200 classes (different data) | {seed_row['top1']:g} | "
                f"{seed_row['top5']:g} | 0.5 | 2.5 |"
            )
    return "\n".join(lines)


def evaluate_cli(
    ws: Any, args: Any, progress: Progress, *, source: Any = None, vectors: Any = None
) -> tuple[dict[str, Any], str]:
    """``actionlens evaluate --task paragraph-retrieval``: evaluate the runs, return the table
    (JSON-able) and its Markdown text. ``source`` / ``vectors`` replace the runs' recorded
    feature store and word vectors (tests, in-memory data)."""
    runs = _runs_for(ws, args, SubProgress(progress, 0.0, 0.8, "runs"))
    total = sum(len(r) for r in runs.values())
    per_model: dict[str, list[dict[str, Any]]] = {}
    done = 0
    for model, model_runs in runs.items():
        for run in model_runs:
            part = SubProgress(progress, 0.8 + 0.2 * done / total, 0.8 + 0.2 * (done + 1) / total, run.run_id)
            per_model.setdefault(model, []).append(
                evaluate_paragraph_run(ws, run, source=source, vectors=vectors, progress=part)
            )
            done += 1
    table = paragraph_table(per_model)
    table["runs"] = {m: [r.run_id for r in rs] for m, rs in runs.items()}
    videos = [r["videos"] for rs in per_model.values() for r in rs]
    text = format_paragraph_table(table, {m: len(rs) for m, rs in per_model.items()}, videos)
    return table, text
