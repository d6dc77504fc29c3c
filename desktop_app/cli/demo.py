"""``actionlens demo``: build the demo workspace if it is missing, then open it."""

from __future__ import annotations

import argparse
from pathlib import Path

from desktop_app.cli.common import TerminalProgress, add_json_arg, print_json


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``demo`` subcommand."""
    p = subparsers.add_parser(
        "demo",
        help="build the demo workspace (synthetic videos, whole pipeline) and open it",
        description="Build the demo workspace if it is missing or unfinished (generate the synthetic "
        "dataset, import it and run every pipeline stage), then open it in the app.",
    )
    p.add_argument(
        "--workspace",
        "-w",
        help="where the demo workspace goes (default: ~/.local/share/actionlens/demo/workspace)",
    )
    p.add_argument("--data", help="where the generated videos go (default: beside the workspace)")
    p.add_argument("--preset", default="small", help="demo dataset size preset (default: small)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    p.add_argument(
        "--stories",
        nargs="?",
        type=int,
        const=-1,
        default=0,
        metavar="N",
        help="also render story videos with paragraphs, for actionlens train --model hse/fse "
        "(N of them, the last quarter for evaluation; default: the preset's number, small: 48)",
    )
    p.add_argument(
        "--anomalies",
        type=float,
        default=0.0,
        metavar="RATE",
        help="share of clips with an impossible motion, marked in the catalog (e.g. 0.05; default 0)",
    )
    p.add_argument("--build-only", action="store_true", help="build the workspace but do not open the app")
    add_json_arg(p)
    p.set_defaults(func=run)


def _story_count(args: argparse.Namespace) -> int:
    """``--stories`` alone: the preset's number of stories; ``--stories N``: N (at least 2)."""
    from desktop_app.data.demo_scenes import get_preset
    from desktop_app.errors import ActionLensError

    if args.stories == -1:
        return int(get_preset(args.preset).stories)
    if args.stories != 0 and args.stories < 2:
        raise ActionLensError(f"--stories {args.stories}: give 2 or more (one train and one val story)")
    return int(args.stories)


def run(args: argparse.Namespace) -> int:
    """Build, print what was built, and open the app where it exists."""
    from desktop_app.cli.info import describe_workspace
    from desktop_app.pipeline import build_demo_workspace
    from desktop_app.workspace import Workspace

    with TerminalProgress("demo", quiet=args.json) as progress:
        build = build_demo_workspace(
            Path(args.workspace) if args.workspace else None,
            data=Path(args.data) if args.data else None,
            preset=args.preset,
            seed=args.seed,
            stories=_story_count(args),
            anomalies=args.anomalies,
            progress=progress,
        )
    with Workspace.open(build.workspace) as ws:
        info = describe_workspace(ws)
    if args.json:
        print_json({"stages": build.done, **info})
    else:
        print(f"demo workspace ready at {build.workspace}")
        print(f"  {info['clips']} clips of {info['classes']} classes, videos in {build.data}")
        for split, roles in info["splits"].items():
            print(f"  split {split}: " + ", ".join(f"{role} {n}" for role, n in roles.items()))
        zsl = build.report.get("zsl")
        if zsl and zsl.get("accuracy") is not None:  # the evaluate stage ran in this build
            print(
                f"  zero-shot {zsl['model']} on {zsl['split']} (test folds 0–{zsl['folds'] - 1}, seed {zsl['seed']}): "
                f"{zsl['accuracy']:.1%}; the Evaluation panel's Zero-shot tab shows the table"
            )
        for line in info["missing"]:
            print(f"  next: {line}")
    if args.build_only:
        return 0
    from desktop_app.gui.app import run_app

    return run_app(build.workspace, argv=["actionlens"])
