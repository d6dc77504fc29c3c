"""``actionlens generate-demo-data``: render the synthetic "motion verbs" dataset."""

from __future__ import annotations

import argparse
from pathlib import Path

from desktop_app.cli.common import TerminalProgress, add_json_arg, print_json


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``generate-demo-data`` subcommand."""
    from desktop_app.data.demo_scenes import DEMO_PRESETS

    p = subparsers.add_parser(
        "generate-demo-data",
        help="render the synthetic demo dataset (UCF101 layout)",
        description="Render the synthetic 'motion verbs' videos (verb + noun classes) in the UCF101 "
        "layout, deterministic by seed.",
    )
    p.add_argument("out", metavar="OUT", help="output directory")
    p.add_argument(
        "--preset", default="small", choices=sorted(DEMO_PRESETS), help="dataset size (default: small)"
    )
    p.add_argument(
        "--stories", action="store_true", help="also render multi-action story videos with paragraphs"
    )
    p.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    p.add_argument(
        "--anomalies",
        type=float,
        default=0.0,
        metavar="RATE",
        help="share of clips with an impossible motion (teleport, antigravity, split), listed in "
        "demo.json and marked on import (e.g. 0.05; default 0)",
    )
    add_json_arg(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Generate and print a summary."""
    from desktop_app.data.demo import generate_demo_dataset

    with TerminalProgress("generate", quiet=args.json) as progress:
        summary = generate_demo_dataset(
            Path(args.out),
            preset=args.preset,
            seed=args.seed,
            stories=args.stories,
            progress=progress,
            anomalies=args.anomalies,
        )
    report = {
        "out": str(Path(args.out).absolute()),
        "preset": args.preset,
        "seed": args.seed,
        "classes": summary.n_classes,
        "clips": summary.n_clips,
        "stories": summary.n_stories,
        "anomalies": summary.n_anomalies,
    }
    if args.json:
        print_json(report)
    else:
        print(
            f"wrote {report['clips']} clips of {report['classes']} classes"
            + (f" and {report['stories']} stories" if args.stories else "")
            + (f" ({report['anomalies']} with an anomaly)" if report["anomalies"] else "")
            + f" to {report['out']}"
        )
    return 0
