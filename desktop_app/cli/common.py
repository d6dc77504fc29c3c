"""Pieces every CLI command shares: the workspace argument, JSON output, a terminal progress bar."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from desktop_app.progress import ProgressBase
from desktop_app.workspace import Workspace


def add_workspace_arg(parser: argparse.ArgumentParser, required: bool = True) -> None:
    """Add ``--workspace WS``."""
    parser.add_argument(
        "--workspace", "-w", required=required, metavar="WS", help="path of the workspace directory"
    )


def add_json_arg(parser: argparse.ArgumentParser) -> None:
    """Add ``--json``: print one JSON document on stdout instead of text."""
    parser.add_argument("--json", action="store_true", help="print machine-readable JSON on stdout")


def open_workspace(args: argparse.Namespace, readonly: bool = False) -> Workspace:
    """Open the workspace named by ``--workspace`` (errors are ActionLensErrors with the fix)."""
    return Workspace.open(args.workspace, readonly=readonly)


def print_json(obj: Any) -> None:
    """Write ``obj`` as indented JSON to stdout."""
    json.dump(obj, sys.stdout, indent=2, ensure_ascii=False, default=str)
    sys.stdout.write("\n")


class TerminalProgress(ProgressBase):
    """A progress handle drawn as a tqdm bar on stderr; Ctrl-C cancels the task.

    No bar when ``quiet`` (``--json`` output, a worker process) or when stderr is not a terminal,
    so logs and pipes get the command's result lines only.
    """

    def __init__(self, description: str = "", quiet: bool = False) -> None:
        super().__init__()
        from tqdm import tqdm

        self._bar = tqdm(
            total=1000,
            desc=description,
            disable=quiet or not sys.stderr.isatty(),
            unit="‰",
            bar_format="{l_bar}{bar}| {elapsed}<{remaining} {postfix}",
        )

    def set_progress(self, fraction: float, message: str = "") -> None:
        super().set_progress(fraction, message)
        self._bar.n = int(self.fraction * 1000)
        if message:
            self._bar.set_postfix_str(message[:60], refresh=False)
        self._bar.refresh()

    def close(self) -> None:
        """Finish the bar."""
        self._bar.close()

    def __enter__(self) -> TerminalProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
