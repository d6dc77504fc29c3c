"""``actionlens evaluate``: recognition, zero-shot, anomaly or paragraph-retrieval tables of runs.

Every cell is a mean ± std over training seeds (each seed's value: its mean over the reported
test folds); zero-shot tables add chance and the noun-only / verb-only oracles. See
``docs/protocol.md``.
"""

from __future__ import annotations

import argparse
import importlib

from desktop_app.cli.common import (
    TerminalProgress,
    add_json_arg,
    add_workspace_arg,
    open_workspace,
    print_json,
)

#: Tasks whose table lives in its own module: ``evaluate_cli(ws, args, progress) -> (table, text)``.
TASK_MODULES = {
    "anomaly": "desktop_app.evaluation.anomaly",
    "paragraph-retrieval": "desktop_app.evaluation.paragraphs",
}


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``evaluate`` subcommand."""
    p = subparsers.add_parser(
        "evaluate", help="recognition / zero-shot / anomaly / paragraph-retrieval table of trained runs"
    )
    add_workspace_arg(p)
    p.add_argument("--task", required=True, choices=("recognition", "zsl", *TASK_MODULES))
    p.add_argument(
        "--runs", nargs="+", metavar="RUN", help="evaluate these run ids (anomaly, paragraph-retrieval)"
    )
    p.add_argument("--models", nargs="+", help="models (rows); default: every joint-embedding model")
    p.add_argument(
        "--splits",
        nargs="+",
        help="zero-shot splits (columns): 50/50 80/20 90/10 51/50 (the default) and the "
        "compositional unseen-noun unseen-verb",
    )
    p.add_argument(
        "--folds",
        type=int,
        default=10,
        help="zero-shot test folds per split and seed (default 10, as seed 000)",
    )
    p.add_argument(
        "--seeds",
        type=int,
        nargs="+",
        default=[0, 1, 2],
        metavar="SEED",
        help="training seeds; every cell is mean ± std over them (default: 0 1 2)",
    )
    p.add_argument("--split", default="1", help="dataset split for recognition (default 1)")
    p.add_argument(
        "--preset", default="small", choices=("paper", "small"), help="preset of the runs (default small)"
    )
    p.add_argument(
        "--train-missing", action="store_true", help="train the runs the table needs that do not exist"
    )
    p.add_argument("--epochs", type=int, help="epochs for runs trained by --train-missing")
    p.add_argument("--features", metavar="NAME", help="feature store for runs trained by --train-missing")
    p.add_argument("--word-vectors", metavar="SRC", help="word vectors for runs trained by --train-missing")
    add_json_arg(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Evaluate (training missing runs if asked), print the table and save it as JSON."""
    from desktop_app.evaluation.report import evaluate_table

    with open_workspace(args) as ws, TerminalProgress(f"evaluate {args.task}", quiet=args.json) as bar:
        if args.task in TASK_MODULES:
            table, text = importlib.import_module(TASK_MODULES[args.task]).evaluate_cli(ws, args, bar)
        else:
            table, text = evaluate_table(
                ws,
                task=args.task,
                models=args.models,
                splits=args.splits,
                folds=args.folds,
                seeds=args.seeds,
                split=args.split,
                preset=args.preset,
                train_missing=args.train_missing,
                epochs=args.epochs,
                features=args.features,
                word_vectors=args.word_vectors,
                progress=bar,
            )
    if args.json:
        print_json(table)
    else:
        print(text)
    return 0
