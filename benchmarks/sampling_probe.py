"""Fixed vs adaptive frame sampling (seed 003 §IV.F) for the ``multistream`` model (and others).

For each feature store (one sampled at a fixed rate, one made by ``actionlens extract
--adaptive``), each model and each training seed, a recognition run is trained on split 1's
training clips (validated on its validation clips) and scored on its test clips, through the
same protocol as ``actionlens evaluate --task recognition``: the word space (nearest training
label vector) and the classifier head (for ``multistream``: the fusion SVM). Prints a markdown
table of mean ± sample std over the seeds, with chance beside it, and saves it as
``WS/runs/_tables/sampling.json``.

A finished run of the current preset on the right store is reused: the one ``actionlens
evaluate`` made (``<model>-<preset>-rec-s<split>[-seed<N>]``, when its ``meta.json`` names that
store) or the script's own ``<model>-<preset>-rec-s<split>-<store>[-seed<N>]`` (``actionlens
evaluate`` finds runs by model, preset and split alone, so the second store's runs need their own
ids). The script resumes where it stopped.

    .venv/bin/actionlens extract -w WS --adaptive
    .venv/bin/python benchmarks/sampling_probe.py -w WS [--fixed handcrafted-fps10-dis]
        [--adaptive handcrafted-adaptive10-dis] [--models multistream] [--seeds 0 1 2]
"""

from __future__ import annotations

import argparse
from typing import Any

import numpy as np
import torch

from desktop_app.atomic import write_json
from desktop_app.evaluation.report import TABLES_DIR, run_matches_preset
from desktop_app.features.store import list_feature_stores
from desktop_app.training.experiment import (
    default_run_id,
    evaluate_run,
    open_sequence_source,
    train_in_workspace,
)
from desktop_app.training.runs import META, Run, read_meta
from desktop_app.words.vectors import WordVectors
from desktop_app.workspace import Workspace


def _cell(values: list[float]) -> str:
    if not values:
        return "—"
    spread = f" ± {100 * np.std(values, ddof=1):.1f}" if len(values) > 1 else ""
    return f"{100 * np.mean(values):.1f}{spread} ({len(values)})"


def _finished_on(run_dir: Any, model: str, preset: str, store: str) -> bool:
    """Whether ``run_dir`` is a finished run of ``preset`` trained on feature store ``store``."""
    if not (run_dir / META).is_file():
        return False
    meta = read_meta(run_dir)
    return (
        meta.get("status") == "complete"
        and run_matches_preset(meta, model, preset)
        and (meta.get("features") or {}).get("name") == store
    )


def _default_store(ws: Any, adaptive: bool) -> str:
    names = [n for n in list_feature_stores(ws) if ("-adaptive" in n) == adaptive]
    if not names:
        kind = "adaptive" if adaptive else "fixed-rate"
        hint = " (actionlens extract --adaptive)" if adaptive else ""
        raise SystemExit(f"{ws.root} has no {kind} feature store{hint}; make one first")
    return sorted(names)[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workspace", "-w", required=True)
    parser.add_argument(
        "--fixed", help="fixed-rate feature store (default: the first one without 'adaptive')"
    )
    parser.add_argument("--adaptive", help="adaptive feature store (default: the first with 'adaptive')")
    parser.add_argument("--models", nargs="+", default=["multistream"])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--preset", default="small")
    parser.add_argument("--split", default="1")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    ws = Workspace.open(args.workspace)
    stores = {
        "fixed": args.fixed or _default_store(ws, adaptive=False),
        "adaptive": args.adaptive or _default_store(ws, adaptive=True),
    }
    vectors = WordVectors.load(None)
    rows = []
    for model in args.models:
        for kind, store in stores.items():
            source = open_sequence_source(ws, store)
            word, head, chance = [], [], None
            for seed in args.seeds:
                run_id = f"{model}-{args.preset}-rec-s{args.split}-{store}" + (f"-seed{seed}" if seed else "")
                # the run `actionlens evaluate` made on this store, if there is one, or our own
                usable = [
                    r
                    for r in (default_run_id(model, args.preset, None, 0, args.split, seed), run_id)
                    if _finished_on(ws.runs_dir / r, model, args.preset, store)
                ]
                if usable:
                    run = Run.load(ws.runs_dir / usable[0])
                else:
                    print(f"training {run_id}", flush=True)
                    run = train_in_workspace(
                        ws,
                        model,
                        preset=args.preset,
                        split=args.split,
                        seed=seed,
                        run_id=run_id,
                        overwrite=True,
                        source=source,
                        vectors=vectors,
                        train_overrides={"num_threads": args.threads},
                    )
                metrics = evaluate_run(ws, run, source=source)
                word.append(float(metrics["accuracy"]))
                if metrics.get("classifier_accuracy") is not None:
                    head.append(float(metrics["classifier_accuracy"]))
                chance = float(metrics["chance"])
            rows.append(
                {
                    "model": model,
                    "sampling": kind,
                    "store": store,
                    "word_space": word,
                    "head": head,
                    "chance": chance,
                    "seeds": list(args.seeds),
                }
            )
    table = {
        "task": "recognition",
        "split": args.split,
        "preset": args.preset,
        "spread": "mean ± sample std over training seeds (one run per seed)",
        "rows": rows,
    }
    write_json(ws.runs_dir / TABLES_DIR / "sampling.json", table)
    print(
        f"\nRecognition accuracy, %, split {args.split} test clips, mean ± std (seeds) — {args.preset} preset"
    )
    print("| model | sampling | feature store | word space | head | chance |")
    print("|---|---|---|---|---|---|")
    for row in rows:
        chance = "—" if row["chance"] is None else f"{100 * row['chance']:.1f}"
        print(
            f"| {row['model']} | {row['sampling']} | {row['store']} | {_cell(row['word_space'])} "
            f"| {_cell(row['head'])} | {chance} |"
        )
    ws.close()


if __name__ == "__main__":
    main()
