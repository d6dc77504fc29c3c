"""``actionlens tune``: every model tries the same number of settings on development folds only."""

from __future__ import annotations

import argparse

from desktop_app.cli.common import (
    TerminalProgress,
    add_json_arg,
    add_workspace_arg,
    open_workspace,
    print_json,
)


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``tune`` subcommand."""
    p = subparsers.add_parser(
        "tune",
        help="choose each model's settings on development folds (the same budget for every model)",
        description="Train every model's grid of settings (the same number per model: input scale, "
        "learning rate or PCA dimensions, one model-specific option) on development folds — class "
        "splits disjoint in seed from the reported test folds — and print a markdown table of what "
        "was tried and chosen. Runs are cached by id: a second call resumes. See docs/protocol.md.",
    )
    add_workspace_arg(p)
    p.add_argument("--models", nargs="+", help="models to tune (default: every joint-embedding model)")
    p.add_argument("--splits", nargs="+", default=["50/50"], help="zero-shot splits (default 50/50)")
    p.add_argument("--folds", type=int, default=2, help="development folds per split and seed (default 2)")
    p.add_argument(
        "--seeds", type=int, nargs="+", default=[0], metavar="SEED", help="training seeds (default 0)"
    )
    p.add_argument(
        "--preset",
        default="small",
        choices=("paper", "small"),
        help="preset the grid starts from (default small)",
    )
    p.add_argument("--epochs", type=int, help="epochs per run (default: the preset's)")
    p.add_argument("--features", metavar="NAME", help="feature store (default: the workspace's default)")
    p.add_argument("--word-vectors", metavar="SRC", help="word-vector file (default: GloVe 6B 50d)")
    add_json_arg(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Tune, save ``WS/runs/_tables/tune.json`` and print the markdown table (or the JSON)."""
    from desktop_app.evaluation.tuning import format_tuning, tune_models

    with open_workspace(args) as ws, TerminalProgress("tune", quiet=args.json) as bar:
        result = tune_models(
            ws,
            models=args.models,
            splits=args.splits,
            folds=args.folds,
            seeds=args.seeds,
            preset=args.preset,
            epochs=args.epochs,
            features=args.features,
            word_vectors=args.word_vectors,
            progress=bar,
        )
    if args.json:
        print_json(result)
    else:
        print(format_tuning(result), end="")
    return 0
