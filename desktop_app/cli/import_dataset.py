"""``actionlens import``: read a dataset from disk into a workspace."""

from __future__ import annotations

import argparse
from pathlib import Path

from desktop_app.cli.common import TerminalProgress, add_json_arg, add_workspace_arg, print_json
from desktop_app.errors import ActionLensError

FORMATS = ("ucf101", "hmdb51", "kinetics", "activitynet", "folder")


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``import`` subcommand."""
    p = subparsers.add_parser(
        "import",
        help="import a dataset from disk into a workspace",
        description="Import a dataset from disk into a workspace (created if missing). Missing, empty, "
        "corrupt and non-video files are reported and skipped; the rest is imported.",
    )
    p.add_argument("format", choices=FORMATS, help="the dataset's layout on disk")
    p.add_argument("source", metavar="SRC", help="the dataset's root directory")
    add_workspace_arg(p)
    p.add_argument(
        "--no-probe", action="store_true", help="do not open every video to read its size and length"
    )
    p.add_argument("--csv", help="kinetics: the annotation CSV (default: the only *.csv in SRC)")
    p.add_argument("--splits-dir", help="hmdb51: the directory of *_test_splitN.txt files")
    p.add_argument(
        "--allow-split-overlap",
        action="store_true",
        help="ucf101/hmdb51: import clips that a split lists for both training and testing (a "
        "train/test leak), without a role in that split, instead of refusing the import",
    )
    add_json_arg(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Import, print what was added and what was skipped."""
    from desktop_app.data.importers import get_importer
    from desktop_app.workspace import Workspace, building

    source = Path(args.source)
    if not source.is_dir():
        raise ActionLensError(f"{source} is not a directory; give the root folder of the dataset")
    options: dict[str, object] = {
        k: Path(v) for k, v in (("csv", args.csv), ("splits_dir", args.splits_dir)) if v
    }
    if args.allow_split_overlap:
        if args.format not in ("ucf101", "hmdb51"):
            raise ActionLensError(
                f"--allow-split-overlap is for ucf101 and hmdb51 split lists, not {args.format}; drop it"
            )
        options["allow_split_overlap"] = True
    importer = get_importer(args.format)
    with TerminalProgress(f"import {args.format}", quiet=args.json) as progress:
        result = importer(source, progress=progress, probe=not args.no_probe, **options)
    if not result.clips:
        raise ActionLensError(
            f"no usable videos found in {source} as {args.format} "
            f"({len(result.skipped)} skipped); check the path and the format"
        )
    from desktop_app.evaluation.anomaly import mark_demo_anomalies

    workspace = Path(args.workspace)
    if workspace.is_dir() and any(workspace.iterdir()):
        with Workspace.open(workspace) as ws:
            summary = ws.add_import(result)
            mark_demo_anomalies(ws, source)  # a demo dataset generated with --anomalies
    else:
        with building(workspace, dataset=args.format) as ws:
            summary = ws.add_import(result)
            mark_demo_anomalies(ws, source)
    if args.json:
        print_json({"workspace": str(workspace.absolute()), **summary.to_json()})
        return 0
    print(
        f"imported {summary.clips_added} clips of {summary.classes} classes into {workspace}"
        + (f" ({summary.clips_present} already there)" if summary.clips_present else "")
    )
    if summary.skipped:
        print(f"skipped {len(summary.skipped)}:")
        for s in summary.skipped[:50]:
            print(f"  {s.path}: {s.reason}")
        if len(summary.skipped) > 50:
            print(f"  … and {len(summary.skipped) - 50} more (see --json)")
    if summary.notes:
        print(f"imported with changes ({len(summary.notes)}):")
        for n in summary.notes[:50]:
            print(f"  {n.path}: {n.note}")
        if len(summary.notes) > 50:
            print(f"  … and {len(summary.notes) - 50} more (see --json)")
    return 0
