"""``actionlens embed``: write every clip's and class's embedding of a run into the workspace."""

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
    """Add the ``embed`` subcommand."""
    p = subparsers.add_parser("embed", help="embed every clip with a trained run")
    add_workspace_arg(p)
    p.add_argument("--run", required=True, help="run id (a directory under WS/runs)")
    add_json_arg(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Embed and print where the embeddings went."""
    from desktop_app.evaluation.embed import embed_workspace

    with open_workspace(args) as ws, TerminalProgress(f"embed {args.run}", quiet=args.json) as bar:
        summary = embed_workspace(ws, args.run, progress=bar)
    if args.json:
        print_json(summary.to_json())
    else:
        print(
            f"embedded {summary.clips_embedded} clips ({summary.clips_missing} without features) and "
            f"{summary.classes} class means, {summary.dim}-d → {summary.directory}"
        )
    return 0
