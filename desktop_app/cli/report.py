"""``actionlens report``: every results table of a workspace (the README's), in one command."""

from __future__ import annotations

import argparse
from pathlib import Path

from desktop_app.cli.common import (
    TerminalProgress,
    add_json_arg,
    add_workspace_arg,
    open_workspace,
    print_json,
)


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``report`` subcommand."""
    p = subparsers.add_parser(
        "report",
        help="every results table of a workspace (recognition, zero-shot, analogies, WordNet, retrieval)",
        description="Train the runs the tables need that are missing (test folds and seeds only; "
        "settings come from the presets, chosen on development folds by `actionlens tune`), "
        "evaluate them, and print the README's results as markdown: recognition, zero-shot with "
        "chance and the component oracles, seed 001's analogy test and the held-out analogy "
        "test, the WordNet correlation and seed 000's word -> video table. See docs/protocol.md.",
    )
    add_workspace_arg(p)
    p.add_argument(
        "--models",
        nargs="+",
        help="models (default: ste action2vec action2vec-literal lstm stacked-lstm pooled-ridge)",
    )
    p.add_argument(
        "--splits", nargs="+", help="zero-shot splits (default: 50/50 80/20 unseen-noun unseen-verb)"
    )
    p.add_argument("--folds", type=int, default=3, help="test folds per zero-shot split (default 3)")
    p.add_argument(
        "--seeds",
        type=int,
        nargs="+",
        default=[0, 1, 2],
        metavar="SEED",
        help="training seeds (default 0 1 2)",
    )
    p.add_argument("--split", default="1", help="dataset split for recognition (default 1)")
    p.add_argument("--preset", default="small", choices=("paper", "small"), help="preset (default small)")
    p.add_argument("--no-train", action="store_true", help="only report the runs that exist")
    p.add_argument("--out", metavar="FILE", help="also write the markdown to FILE")
    add_json_arg(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Build the report and print it (markdown, or JSON with ``--json``)."""
    from desktop_app.atomic import atomic_open
    from desktop_app.evaluation.results import REPORT_ZSL_SPLITS, format_results, results_report

    with open_workspace(args) as ws, TerminalProgress("report", quiet=args.json) as bar:
        report = results_report(
            ws,
            models=args.models,
            zsl_splits=args.splits or REPORT_ZSL_SPLITS,
            folds=args.folds,
            seeds=args.seeds,
            split=args.split,
            preset=args.preset,
            train_missing=not args.no_train,
            progress=bar,
        )
    text = format_results(report)
    if args.out:
        with atomic_open(Path(args.out)) as fh:
            fh.write(text)
    if args.json:
        print_json(report)
    else:
        print(text, end="")
    return 0
