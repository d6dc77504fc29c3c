"""``actionlens analogy``: ``A - B + C`` over clips, class means and words (seed 001, section 4.2.2)."""

from __future__ import annotations

import argparse

from desktop_app.cli.common import add_json_arg, add_workspace_arg, open_workspace, print_json


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``analogy`` subcommand."""
    p = subparsers.add_parser(
        "analogy",
        help='solve an analogy such as "class:bounce ball" - word:ball + word:box',
        description="Add and subtract clips (clip:ID), class means (class:NAME) and words "
        "(word:WORD, phrases allowed) and list the nearest clips, classes and words, operands "
        "left out. Every operand is scaled to unit length first (a class is the re-normalised "
        "mean of its unit clip embeddings), so word vectors do not outweigh embeddings. Give "
        "operands and the signs + and - as separate arguments.",
    )
    add_workspace_arg(p)
    p.add_argument("--run", help="run whose embeddings to use (default: the workspace's active run)")
    p.add_argument(
        "--metric",
        default="cosine",
        choices=("cosine", "euclidean"),
        help="score shown (default cosine); on unit vectors both rank alike",
    )
    p.add_argument("-k", type=int, default=10, help="number of clips (default 10)")
    add_json_arg(p)
    # argparse reads a lone "-" or "+" as a positional item, so the signs stay in the list.
    p.add_argument("expression", nargs="+", metavar="OPERAND [+|- OPERAND …]")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Solve the analogy and print the nearest clips, classes and words."""
    from desktop_app.analysis.analogy import Expression, solve
    from desktop_app.analysis.space import EmbeddingSpace
    from desktop_app.errors import ActionLensError

    if not args.expression:
        raise ActionLensError('give an expression, e.g. "class:bounce ball" - word:ball + word:box')
    expression = Expression.from_argv(args.expression)
    with open_workspace(args, readonly=True) as ws:
        space = EmbeddingSpace.load(ws, args.run)
        result = solve(space, expression, args.k, args.metric)
    if args.json:
        print_json({"run": space.run_id, **result.to_json()})
        return 0
    unit = "cosine" if args.metric == "cosine" else "distance"
    print(f"{result.expression}  (run {space.run_id}, {unit})")
    print("clips:")
    for rank, hit in enumerate(result.clips, 1):
        print(
            f"  {rank:>3}. {hit['score']:.3f}  clip {hit['clip_id']:<6} {hit['class_name'] or '-':<24} {hit['name']}"
        )
    print("classes: " + ", ".join(f"{h['phrase']} ({h['score']:.3f})" for h in result.classes))
    if result.words:  # none in a space of its own (seed 004's video–paragraph runs)
        print("words:   " + ", ".join(f"{h['word']} ({h['score']:.3f})" for h in result.words))
    return 0
