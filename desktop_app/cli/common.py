"""Pieces every CLI command shares: the workspace argument, JSON output, a terminal progress bar."""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from collections.abc import Iterator
from pathlib import Path
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


def add_wait_arg(parser: argparse.ArgumentParser) -> None:
    """Add ``--wait``: wait for another writer of the same resource instead of refusing."""
    parser.add_argument(
        "--wait",
        action="store_true",
        help="if another process is writing the same feature store or run, wait for it instead of stopping",
    )


def _note(message: str) -> None:
    print(f"actionlens: {message}", file=sys.stderr, flush=True)


@contextlib.contextmanager
def writer_lock(workspace_root: Path, resource: str | None, args: argparse.Namespace) -> Iterator[None]:
    """Hold the workspace's writer lock on ``resource`` (see ``desktop_app.workspace.lock``).

    A second writer stops at once with a one-line error naming the holder, or waits with a
    message on stderr when ``args.wait`` is set. ``resource`` None takes no lock (a worker rank
    of a distributed run, whose main rank holds it).
    """
    from desktop_app.workspace.lock import writer_lock as hold

    if resource is None:
        yield
        return
    wait = bool(getattr(args, "wait", False))
    with hold(Path(workspace_root), resource, wait=wait, on_wait=_note, on_takeover=_note):
        yield


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
