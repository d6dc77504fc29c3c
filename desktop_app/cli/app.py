"""``actionlens app [WORKSPACE]``: open the desktop application."""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``app`` subcommand."""
    p = subparsers.add_parser(
        "app",
        help="open the desktop application",
        description="Open the ActionLens desktop application on WORKSPACE, or on the last workspace "
        "opened; with none, it offers to build the demo workspace.",
    )
    p.add_argument("workspace", nargs="?", metavar="WORKSPACE", help="workspace directory to open")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run the application until its window closes."""
    from desktop_app.gui.app import run_app

    return run_app(args.workspace, argv=["actionlens"])
