"""``actionlens add-clips``: your own videos in the space, as user clips of the workspace."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from desktop_app.cli.common import (
    TerminalProgress,
    add_json_arg,
    add_wait_arg,
    add_workspace_arg,
    open_workspace,
    print_json,
    writer_lock,
)


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``add-clips`` subcommand."""
    p = subparsers.add_parser(
        "add-clips",
        help="add your own video files (or folders) as user clips, embedded by a run",
        description="Extract each video with the run's feature-store settings, embed it with the "
        "run, add it to the workspace as a user clip (no class, no split role), place it on the "
        "run's cached clip maps and print its nearest classes, clips and words. A file that "
        "cannot be decoded is named and skipped; running the command again finishes an "
        "interrupted one.",
    )
    add_workspace_arg(p)
    p.add_argument("files", nargs="+", metavar="FILE", help="video files or folders of them")
    p.add_argument("--run", help="run to embed with (default: the workspace's active run)")
    p.add_argument("-k", type=int, default=5, help="nearest clips and words to list (default 5)")
    add_wait_arg(p)
    add_json_arg(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Add the files and print each one's neighbours; 1 when no file could be added."""
    from desktop_app.analysis.new_clips import add_clips
    from desktop_app.analysis.space import default_run
    from desktop_app.errors import ActionLensError
    from desktop_app.training.runs import read_meta

    if args.k < 1:
        raise ActionLensError(f"-k {args.k}: give the number of neighbours to show, 1 or more")
    with open_workspace(args) as ws:
        run_id = args.run or default_run(ws)
        meta = read_meta(ws.runs_dir / run_id) if (ws.runs_dir / run_id / "meta.json").is_file() else {}
        store = str((meta.get("features") or {}).get("name") or "")
        # The feature store's writer lock, as `actionlens extract` takes it: one appender at a time.
        with (
            writer_lock(ws.root, f"feature store {store}" if store else None, args),
            TerminalProgress("add-clips", quiet=args.json) as progress,
        ):
            summary = add_clips(ws, list(args.files), run_id, args.k, progress)
    for failed in summary.failed:
        print(f"actionlens: {failed.message}", file=sys.stderr)
    if args.json:
        print_json(summary.to_json())
        return 0 if summary.clips else 1
    for clip in summary.clips:
        print(
            f"{clip.status} clip {clip.clip_id} {clip.name} ({clip.path}), embedded by run {summary.run_id}"
        )
        _print_neighbours(clip.neighbours.to_json())
    for entry in summary.maps:
        if "recompute" in entry:
            print(f"map {entry['key']}: not placed ({entry['recompute']}); recompute it")
        else:
            print(f"map {entry['key']}: placed, {entry['placement']}")
    if summary.padded_runs:
        print(
            f"runs {', '.join(summary.padded_runs)}: no embedding of the new clips (run `actionlens embed`)"
        )
    if summary.stale_runs:
        print(f"runs {', '.join(summary.stale_runs)}: embeddings were already stale; run `actionlens embed`")
    return 0 if summary.clips else 1


def _print_neighbours(neighbours: dict[str, Any]) -> None:
    """Three lines: nearest classes, clips and words with their cosines."""
    print("  classes: " + ", ".join(f"{h['phrase']} ({h['score']:+.3f})" for h in neighbours["classes"]))
    print(
        "  clips:   "
        + ", ".join(
            f"{h['name']} [{h['class_name'] or '-'}] ({h['score']:+.3f})" for h in neighbours["clips"]
        )
    )
    print("  words:   " + ", ".join(f"{h['word']} ({h['score']:+.3f})" for h in neighbours["words"]))
