"""An equal tuning budget for every model, spent on development folds only (``actionlens tune``).

Every model — the seeds' systems and the baselines alike — tries the same number of settings
(:data:`SETTINGS_PER_MODEL`): a grid over options every model shares (the run-level input scale,
the learning rate; the PCA dimensions where a learning rate means nothing) and one
model-specific option, two values each. Each setting is trained on the **development** folds
(``purpose="dev"``: class splits drawn from a seed namespace disjoint from the reported test
folds, ``docs/protocol.md``) and scored by its mean zero-shot accuracy over them; the best
setting is chosen. No test fold is trained, evaluated or even drawn here.

Runs are cached by id (``<model>-<preset>-t<digest>-zsl<split>-dev<K>[-seed<N>]``), so an
interrupted tuning resumes where it stopped and a second call only reads the metrics. The
result is saved as ``WS/runs/_tables/tune.json`` and printed as a markdown table.
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from desktop_app.atomic import write_json
from desktop_app.errors import ActionLensError
from desktop_app.progress import NullProgress, Progress, SubProgress

#: Settings every model tries (2 × 2 × 2).
SETTINGS_PER_MODEL = 8
#: Options every model shares: ``"train.<TrainConfig field>"`` → values.
SHARED_AXES: dict[str, tuple[Any, ...]] = {"train.input_scale": (1.0, 3.0), "train.lr": (1e-3, 3e-3)}
#: For closed-form models (no learning rate): the shared option tried instead of ``train.lr``.
CLOSED_FORM_AXIS: dict[str, tuple[Any, ...]] = {"train.pca_dims": (500, 64)}
#: Models fitted without a learning rate although not ``fit="closed-form"`` (seed 002's
#: baselines: a GMM and SVMs): they take :data:`CLOSED_FORM_AXIS` too.
NO_LEARNING_RATE = frozenset({"gmmfv", "meanpool-svm"})
#: Learning rates of a model whose optimiser lives elsewhere on the scale (seed 003's SGD).
LEARNING_RATES: dict[str, tuple[float, ...]] = {"multistream": (1e-2, 3e-2)}
#: One model-specific option per model (``"model.<config field>"``), two values each.
MODEL_AXES: dict[str, dict[str, tuple[Any, ...]]] = {
    "ste": {"model.softmax_weight_zsl": (0.1, 1.0)},
    "action2vec": {"model.hard_negatives": (False, True)},
    "action2vec-literal": {"model.hard_negatives": (False, True)},
    "lstm": {"model.hard_negatives": (False, True)},
    "stacked-lstm": {"model.hard_negatives": (False, True)},
    # the penalties its validation split chooses from: the default five, or a grid wider each way
    "pooled-ridge": {
        "model.alphas": ((0.01, 0.1, 1.0, 10.0, 100.0), (1e-4, 1e-3, 0.01, 0.1, 1.0, 10.0, 100.0, 1e3, 1e4))
    },
    "rnnfv": {"model.dropout": (0.5, 0.8)},
    "gmmfv": {"model.reg_covar": (1e-4, 1e-3)},
    "meanpool-svm": {"model.power": (0.5, 1.0)},
    "multistream": {"model.dropout": (0.5, 0.3)},
}
#: A model registered without an axis above tunes early stopping instead.
FALLBACK_AXIS: dict[str, tuple[Any, ...]] = {"train.patience": (8, 15)}
TUNE_TABLE = "tune.json"


@dataclass(frozen=True)
class Setting:
    """One point of a model's grid: overrides of ``TrainConfig`` and of the model config."""

    train: dict[str, Any]
    model: dict[str, Any]

    @property
    def values(self) -> dict[str, Any]:
        """``{"train.lr": …, "model.…": …}``: every option the setting sets."""
        return {
            **{f"train.{k}": v for k, v in self.train.items()},
            **{f"model.{k}": v for k, v in self.model.items()},
        }

    @property
    def digest(self) -> str:
        """A short stable name of the setting (part of its run ids)."""
        text = json.dumps(self.values, sort_keys=True)
        return hashlib.sha1(text.encode()).hexdigest()[:8]


def model_grid(model: str) -> list[Setting]:
    """The :data:`SETTINGS_PER_MODEL` settings ``model`` tries (the same count for every model)."""
    from desktop_app.models.registry import get_model_spec

    spec = get_model_spec(model)
    axes = dict(SHARED_AXES)
    if spec.fit == "closed-form" or model in NO_LEARNING_RATE:
        del axes["train.lr"]
        axes.update(CLOSED_FORM_AXIS)
    elif model in LEARNING_RATES:
        axes["train.lr"] = LEARNING_RATES[model]
    axes.update(MODEL_AXES.get(model, FALLBACK_AXIS))
    known = {f.name for f in dataclasses.fields(spec.config_cls)}
    for name in axes:
        if name.startswith("model.") and name[6:] not in known:
            raise ActionLensError(f"the tuning grid of {model!r} names {name[6:]!r}, which it does not have")
    settings = []
    for combo in itertools.product(*axes.values()):
        train: dict[str, Any] = {}
        model_part: dict[str, Any] = {}
        for name, value in zip(axes, combo, strict=True):
            part, key = name.split(".", 1)
            (train if part == "train" else model_part)[key] = value
        settings.append(Setting(train, model_part))
    assert len(settings) == SETTINGS_PER_MODEL, (model, len(settings))
    return settings


def tune_run_id(model: str, preset: str, setting: Setting, split: str, fold: int, seed: int) -> str:
    """The cache id of one tuning run (a development fold, never a test fold)."""
    base = f"{model}-{preset}-t{setting.digest}-zsl{split.replace('/', '-')}-dev{fold}"
    return base if seed == 0 else f"{base}-seed{seed}"


def tune_models(
    ws: Any,
    *,
    models: Sequence[str] | None = None,
    splits: Sequence[str] = ("50/50",),
    folds: int = 2,
    seeds: Sequence[int] = (0,),
    preset: str = "small",
    epochs: int | None = None,
    features: str | None = None,
    word_vectors: str | None = None,
    source: Any = None,
    vectors: Any = None,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Train and score every model's grid on the development folds; choose each model's best.

    Returns
    -------
    dict
        ``{"splits", "folds", "seeds", "purpose": "dev", "models": {model: {"settings": [{"values",
        "digest", "dev_accuracy", "std", "runs", "seconds"}…], "chosen": index}}}``, also saved
        as ``WS/runs/_tables/tune.json``.
    """
    from desktop_app.evaluation.zsl import DEV, check_zsl_split, summarize
    from desktop_app.models.registry import JOINT_EMBEDDING, model_names
    from desktop_app.training.experiment import evaluate_run, open_sequence_source, train_in_workspace

    progress = progress or NullProgress()
    models = list(models or model_names(JOINT_EMBEDDING))
    splits = [check_zsl_split(s) for s in splits]
    if folds < 1 or not seeds:
        raise ActionLensError("tuning needs at least one development fold and one seed")
    grids = {m: model_grid(m) for m in models}
    jobs = [
        (m, i, split, seed, k)
        for m in models
        for i in range(len(grids[m]))
        for split in splits
        for seed in seeds
        for k in range(folds)
    ]
    if source is None:
        source = open_sequence_source(ws, features)
    if vectors is None:
        from desktop_app.words.vectors import WordVectors

        vectors = WordVectors.load(word_vectors)
    scores: dict[tuple[str, int], list[float]] = {}
    seconds: dict[tuple[str, int], float] = {}  # training wall time, cached runs included
    for j, (model, index, split, seed, fold) in enumerate(jobs):
        setting = grids[model][index]
        step = SubProgress(
            progress,
            j / len(jobs),
            (j + 1) / len(jobs),
            f"{model} setting {index + 1} {split} dev fold {fold}",
        )
        run = train_in_workspace(
            ws,
            model,
            preset=preset,
            zsl_split=split,
            fold=fold,
            purpose=DEV,
            seed=seed,
            epochs=epochs,
            resume=True,
            run_id=tune_run_id(model, preset, setting, split, fold, seed),
            train_overrides=setting.train,
            model_overrides=setting.model,
            source=source,
            vectors=vectors,
            progress=step,
        )
        metrics = (run.meta.get("metrics") or {}).get("zsl")
        if not metrics or metrics.get("accuracy") is None:
            metrics = evaluate_run(ws, run, source=source, progress=step)
        spent = float(run.meta["training"].get("seconds") or 0.0)
        seconds[(model, index)] = seconds.get((model, index), 0.0) + spent
        scores.setdefault((model, index), []).append(float(metrics["accuracy"]))
    result: dict[str, Any] = {
        "purpose": DEV,
        "splits": splits,
        "folds": folds,
        "seeds": [int(s) for s in seeds],
        "preset": preset,
        "settings_per_model": SETTINGS_PER_MODEL,
        "models": {},
    }
    for model in models:
        rows = []
        for index, setting in enumerate(grids[model]):
            summary = summarize(scores.get((model, index), []))
            rows.append(
                {
                    "values": setting.values,
                    "digest": setting.digest,
                    "dev_accuracy": summary["mean"],
                    "std": summary["std"],
                    "runs": summary["n"],
                    "seconds": round(seconds.get((model, index), 0.0), 2),
                }
            )
        means = [r["dev_accuracy"] if r["dev_accuracy"] is not None else -np.inf for r in rows]
        # ties go to the first setting in grid order, so the choice is deterministic
        result["models"][model] = {"settings": rows, "chosen": int(np.argmax(means))}
    from desktop_app.evaluation.report import TABLES_DIR

    write_json(ws.runs_dir / TABLES_DIR / TUNE_TABLE, result)
    progress.set_progress(1.0, "tuning done")
    return result


def _value_text(value: Any) -> str:
    if isinstance(value, list | tuple):
        return f"{len(value)} values {value[0]:g}…{value[-1]:g}" if value else "none"
    return str(value)


def format_tuning(result: dict[str, Any]) -> str:
    """The tuning result as markdown: one table per model, every setting tried, the chosen one bold."""
    lines = [
        f"Development folds only: {result['folds']} dev fold(s) of {', '.join(result['splits'])} × "
        f"seed(s) {' '.join(map(str, result['seeds']))}; {result['settings_per_model']} settings per model; "
        "zero-shot accuracy in %, mean ± std over the dev runs; chosen: the best mean (**bold**).",
        "",
    ]
    for model, entry in result["models"].items():
        names = list(entry["settings"][0]["values"]) if entry["settings"] else []
        lines.append(f"### {model}")
        lines.append("")
        lines.append("| " + " | ".join([*names, "dev accuracy", "runs", "training seconds"]) + " |")
        lines.append("|" + "---|" * (len(names) + 3))
        for i, row in enumerate(entry["settings"]):
            acc = (
                "—"
                if row["dev_accuracy"] is None
                else f"{100 * row['dev_accuracy']:.1f} ± {100 * row['std']:.1f}"
            )
            cells = [_value_text(row["values"][n]) for n in names] + [
                acc,
                str(row["runs"]),
                f"{row['seconds']:.0f}",
            ]
            if i == entry["chosen"]:
                cells = [f"**{c}**" for c in cells]
            lines.append("| " + " | ".join(cells) + " |")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"
