"""``actionlens analogy-test``: seed 001's systematic verb_noun1 − noun1 + noun2 test (Table 4)."""

from __future__ import annotations

import argparse

from desktop_app.cli.common import add_json_arg, add_workspace_arg, open_workspace, print_json


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``analogy-test`` subcommand."""
    p = subparsers.add_parser(
        "analogy-test",
        help="seed 001's vector-arithmetic analogy test over the class means",
        description="For every verb with several noun classes, compute verb_noun1 - noun1 + noun2 "
        "and check whether the nearest class mean (Euclidean) is verb_noun2; for the run's class "
        "means and for the word vectors alone.",
    )
    add_workspace_arg(p)
    p.add_argument("--run", help="run to test (default: the workspace's active run)")
    p.add_argument("--details", action="store_true", help="list every comparison")
    add_json_arg(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run the test and print comparisons and fraction passed per set of class vectors."""
    from desktop_app.analysis.analogy import space_analogy_tests
    from desktop_app.analysis.space import EmbeddingSpace

    with open_workspace(args, readonly=True) as ws:
        space = EmbeddingSpace.load(ws, args.run)
        results = space_analogy_tests(space)
    if args.json:
        print_json({"run": space.run_id, "results": [r.to_json(details=args.details) for r in results]})
        return 0
    print(f"analogy test of run {space.run_id} (seed 001, section 4.2.2)")
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
