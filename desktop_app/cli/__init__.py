"""The ``actionlens`` command line: one program, a subcommand per stage of the pipeline.

Each subcommand lives in its own module of this package with ``register(subparsers)``, which adds
its parser and sets ``func`` to a ``run(args) -> int``. Heavy libraries are imported inside
``run`` so that ``actionlens --help`` stays instant.
"""

from __future__ import annotations

import argparse
import importlib
import sqlite3
import sys
from collections.abc import Sequence

from desktop_app import __version__, quiet_video_library_logs
from desktop_app.errors import ActionLensError, TaskCancelled, unwritable_error

#: Subcommand modules, in the order ``--help`` lists them.
COMMAND_MODULES = (
    "demo",
    "generate_demo_data",
    "import_dataset",
    "extract",
    "motion_cnn",
    "info",
    "train",
    "embed",
    "evaluate",
    "report",
    "tune",
    "query",
    "add_clips",
    "analogy",
    "analogy_test",
    "wordnet",
    "project",
    "app",
)


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser with every subcommand registered."""
    parser = argparse.ArgumentParser(
        prog="actionlens",
        description="Build and explore joint video–word embeddings of human actions.",
    )
    parser.add_argument("--version", action="version", version=f"actionlens {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMAND_MODULES:
        module = importlib.import_module(f"desktop_app.cli.{name}")
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; a failure prints one line ``actionlens: error: …`` and returns non-zero."""
    quiet_video_library_logs()
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except TaskCancelled:
        print("actionlens: cancelled; run the same command again to resume", file=sys.stderr)
        return 130
    except KeyboardInterrupt:
        print("actionlens: interrupted; run the same command again to resume", file=sys.stderr)
        return 130
    except ActionLensError as exc:
        print(f"actionlens: error: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:  # a write that no module wrapped: still one line, never a traceback
        error = unwritable_error(exc)
        if error is None:
            raise
        print(f"actionlens: error: {error}", file=sys.stderr)
        return 1
    except sqlite3.OperationalError as exc:
        if "readonly" not in str(exc) and "read-only" not in str(exc):
            raise
        print(
            f"actionlens: error: the workspace catalog cannot be written ({exc}); the workspace must "
            "be writable to change it (check its permissions or whether its disk is mounted read-only)",
            file=sys.stderr,
        )
        return 1
