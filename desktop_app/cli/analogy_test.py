"""``actionlens analogy-test``: seed 001's systematic verb_noun1 − noun1 + noun2 test (Table 4),
and, over zero-shot runs, the held-out analogy test beside it.

Every vector is put on the unit scale before the arithmetic (see
:mod:`desktop_app.analysis.analogy`).
"""

from __future__ import annotations

import argparse
from typing import Any

from desktop_app.cli.common import (
    TerminalProgress,
    add_json_arg,
    add_workspace_arg,
    open_workspace,
    print_json,
)


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``analogy-test`` subcommand."""
    p = subparsers.add_parser(
        "analogy-test",
        help="seed 001's vector-arithmetic analogy test, and the held-out test over zero-shot runs",
        description="For every verb with several noun classes, compute verb_noun1 - noun1 + noun2 "
        "(every vector unit length) and check whether the nearest class (Euclidean) is verb_noun2; "
        "for the run's class means and for the word vectors alone. With --zsl SPLIT: over the "
        "workspace's zero-shot runs of that split, seed 001's test beside the held-out test (seen "
        "verb_noun1, unseen verb_noun2) for the model, the word vectors and a noun-only baseline, "
        "mean ± std over runs.",
    )
    add_workspace_arg(p)
    p.add_argument("--run", help="run to test (default: the workspace's active run); not with --zsl")
    p.add_argument("--zsl", metavar="SPLIT", help="test the zero-shot runs of this split (50/50 …)")
    p.add_argument("--folds", type=int, help="with --zsl: only folds 0 … N-1 (default: every fold)")
    p.add_argument(
        "--model",
        dest="models",
        action="append",
        metavar="NAME",
        help="with --zsl: only runs of this model (repeatable; default: every model)",
    )
    p.add_argument(
        "--candidates",
        default="all",
        choices=("all", "unseen"),
        help="with --zsl: the held-out test searches all classes (default) or the unseen ones only",
    )
    p.add_argument(
        "--purpose",
        default="test",
        choices=("test", "dev"),
        help="with --zsl: reported test folds (default) or development folds",
    )
    p.add_argument("--details", action="store_true", help="list every comparison")
    add_json_arg(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run the test and print comparisons and fraction passed per set of class vectors."""
    from desktop_app.errors import ActionLensError

    if args.zsl:
        if args.run:
            raise ActionLensError("--run and --zsl exclude each other: --zsl tests every run of the split")
        return _run_zsl(args)
    if args.folds is not None or args.models:
        raise ActionLensError("--folds and --model choose zero-shot runs; add --zsl SPLIT")
    return _run_one(args)


def _run_one(args: argparse.Namespace) -> int:
    from desktop_app.analysis.analogy import space_analogy_tests
    from desktop_app.analysis.space import EmbeddingSpace

    with open_workspace(args, readonly=True) as ws:
        space = EmbeddingSpace.load(ws, args.run)
        results = space_analogy_tests(space)
    if args.json:
        print_json({"run": space.run_id, "results": [r.to_json(details=args.details) for r in results]})
        return 0
    print(f"analogy test of run {space.run_id} (seed 001, section 4.2.2; unit-length vectors)")
    print(f"  {'class vectors':<14} {'comparisons':>11} {'passed':>7} {'fraction':>9}")
    for r in results:
        fraction = f"{r.fraction:.4f}" if r.count else "-"
        print(f"  {r.name:<14} {r.count:>11} {r.passed:>7} {fraction:>9}")
        for line in r.skipped:
            print(f"    skipped: {line}")
        if args.details:
            for c in r.comparisons:
                mark = "pass" if c.passed else "FAIL"
                print(f"    {mark} {c.source} - {c.noun1} + {c.noun2} -> {c.nearest} (expected {c.expected})")
    return 0


def _run_zsl(args: argparse.Namespace) -> int:
    from desktop_app.analysis.analogy import HELDOUT_SYSTEMS, SEED_SYSTEMS, zsl_analogy_table

    with (
        open_workspace(args, readonly=True) as ws,
        TerminalProgress(f"analogy tests {args.zsl}", quiet=args.json) as bar,
    ):
        table = zsl_analogy_table(
            ws, args.zsl, args.models, args.folds, args.candidates, args.purpose, args.details, bar
        )
    if args.json:
        print_json(table)
        return 0
    where = "all classes" if args.candidates == "all" else "the unseen classes"
    print(
        f"analogy tests over {args.zsl} zero-shot {args.purpose} runs (unit-length vectors; the "
        f"held-out test searches {where}); fraction passed, mean ± std (runs)"
    )
    print(f"  {'model':<14} {'test':<22} {'system':<26} {'comparisons':>11} {'fraction passed':>22}")
    for model, summary in table["models"].items():
        for test, systems, key in (
            ("seed 001 (all pairs)", SEED_SYSTEMS, "seed_test"),
            ("held-out (seen→unseen)", HELDOUT_SYSTEMS, "heldout"),
        ):
            for system in systems:
                cell = summary[key][system]
                print(f"  {model:<14} {test:<22} {system:<26} {_comparisons(cell):>11} {_cell(cell):>22}")
        print(f"  {'':<14} runs: {', '.join(summary['runs'])}")
    if args.details:
        for report in table["runs"]:
            print(f"run {report['run']} (fold {report['fold']})")
            for entry in report["heldout"][:2]:
                for c in entry.get("details") or []:
                    mark = "pass" if c["passed"] else "FAIL"
                    print(
                        f"  {entry['name']:<13} {mark} {c['source']} - {c['noun1']} + {c['noun2']} -> "
                        f"{c['nearest']} (expected {c['expected']})"
                    )
    return 0


def _cell(cell: dict[str, Any]) -> str:
    if cell["mean"] is None:
        return "—"
    return f"{cell['mean']:.3f} ± {cell['std']:.3f} ({cell['runs']})"


def _comparisons(cell: dict[str, Any]) -> str:
    counts = cell["comparisons"]
    if not counts:
        return "0"
    low, high = min(counts), max(counts)
    return str(low) if low == high else f"{low}–{high}"
