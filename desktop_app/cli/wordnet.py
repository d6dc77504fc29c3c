"""``actionlens wordnet``: agreement of the embeddings with WordNet (seed 001, section 4.2.1)."""

from __future__ import annotations

import argparse

from desktop_app.cli.common import add_json_arg, add_workspace_arg, open_workspace, print_json


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``wordnet`` subcommand."""
    p = subparsers.add_parser(
        "wordnet",
        help="row-wise Spearman correlation of cosine matrices with the Wu-Palmer matrix",
        description="Compare the cosine-similarity matrices of the run's class means, of the "
        "labels' word vectors and of mean-pooled raw features with WordNet's Wu-Palmer matrix of "
        "the class verbs, by Spearman correlation row by row, averaged over rows. With --labels, "
        "only the word-vector row, for a plain list of class names (no workspace needed).",
    )
    add_workspace_arg(p, required=False)
    p.add_argument("--run", help="run to test (default: the workspace's active run)")
    p.add_argument(
        "--labels",
        metavar="FILE",
        help="class names, one a line (e.g. desktop_app/resources/ucf101_classes.txt)",
    )
    p.add_argument(
        "--senses",
        default="best",
        choices=("best", "first"),
        help="Wu-Palmer over all sense pairs (best) or first senses",
    )
    p.add_argument("--word-vectors", metavar="SRC", help="word vectors for --labels (default: GloVe 6B 50d)")
    p.add_argument("--no-features", action="store_true", help="skip the pooled-feature row")
    add_json_arg(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Compute and print the correlations."""
    from desktop_app.analysis.wordnet_corr import labels_correlation, space_correlation
    from desktop_app.errors import ActionLensError
    from desktop_app.words.wordnet import WordNet

    wordnet = WordNet.load(senses=args.senses)
    if args.labels:
        from desktop_app.words.labels import read_class_list
        from desktop_app.words.vectors import WordVectors

        names = read_class_list(args.labels)
        result = labels_correlation(names, wordnet, WordVectors.load(args.word_vectors))
        source = {"labels": args.labels}
    else:
        if not args.workspace:
            raise ActionLensError("give --workspace WS, or --labels FILE for a plain list of class names")
        from desktop_app.analysis.space import EmbeddingSpace

        with open_workspace(args, readonly=True) as ws:
            space = EmbeddingSpace.load(ws, args.run)
            result = space_correlation(space, wordnet, pooled_features=not args.no_features)
        source = {"run": space.run_id}
    if args.json:
        print_json({**source, **result.to_json()})
        return 0
    where = f"run {source['run']}" if "run" in source else source["labels"]
    print(
        f"WordNet test of {where}: {len(result.classes)} classes, Wu-Palmer senses {result.senses}, diagonal excluded"
    )
    print(f"  {'WordNet vs':<16} {'Spearman':>9} {'rows':>5}")
    for name, value in result.correlations.items():
        print(f"  {name:<16} {value:>9.4f} {result.rows_used(name):>5}")
    for line in result.dropped:
        print(f"  dropped {line}")
    return 0
