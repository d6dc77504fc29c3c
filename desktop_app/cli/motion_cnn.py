"""``actionlens train-motion-cnn``: seed 003's motion CNN, trained from scratch on the workspace's
training clips, saved under ``WS/extractors/motion-cnn/`` for ``actionlens extract --extractor
motion-cnn --cnn NAME``."""

from __future__ import annotations

import argparse

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
    """Add the ``train-motion-cnn`` subcommand."""
    p = subparsers.add_parser(
        "train-motion-cnn",
        help="train seed 003's motion CNN on stacked optical flow of the training clips (an extractor)",
        description="Train the motion CNN of seed 003 (5 conv + 2 FC layers, batch norm) from scratch on "
        "stacks of 10 optical-flow fields of the training clips of a split (or the seen classes of a "
        "zero-shot fold) and save it as WS/extractors/motion-cnn/NAME.safetensors + NAME.json. Then "
        "`actionlens extract --extractor motion-cnn --cnn NAME` writes a store whose motion stream is its "
        "full7 layer. Test clips and unseen classes are never read.",
    )
    add_workspace_arg(p)
    p.add_argument(
        "--split", default="1", help="dataset split whose 'train' clips it is fitted on (default 1)"
    )
    p.add_argument(
        "--zsl-split",
        metavar="SPLIT",
        help="fit on the seen classes of a zero-shot split instead (50/50, 80/20 …), with --fold",
    )
    p.add_argument("--fold", type=int, default=0, help="zero-shot fold (with --zsl-split; default 0)")
    p.add_argument(
        "--purpose", choices=("test", "dev"), default="test", help="zero-shot fold kind (default test)"
    )
    p.add_argument("--preset", choices=("small", "paper"), default="small", help="sizes (default small)")
    p.add_argument(
        "--epochs", type=int, default=None, help="at most this many epochs (default: the preset's)"
    )
    p.add_argument("--seed", type=int, default=0, help="training seed (default 0)")
    p.add_argument("--name", help="file name under WS/extractors/motion-cnn (default split1-small-s0 …)")
    p.add_argument("--flow", choices=("dis", "farneback"), default="dis", help="optical flow (default dis)")
    p.add_argument("--fps", type=float, default=10.0, help="sampling rate of the flow frames (default 10)")
    p.add_argument("--device", default=None, help="torch device (default: cuda when available, else cpu)")
    p.add_argument(
        "--workers", type=int, default=None, help="processes computing optical flow (default: CPUs)"
    )
    p.add_argument("--overwrite", action="store_true", help="replace a CNN of the same name")
    add_wait_arg(p)
    add_json_arg(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Train, save and print where the CNN went and its validation accuracy."""
    from desktop_app.errors import ActionLensError
    from desktop_app.features.motion_cnn import FlowSettings, train_motion_cnn

    if args.epochs is not None and args.epochs < 1:
        raise ActionLensError("--epochs must be at least 1")
    if args.fps <= 0:
        raise ActionLensError("--fps must be positive")
    ws = open_workspace(args)
    try:
        with (
            writer_lock(
                ws.root,
                f"motion CNN {args.name or (args.zsl_split or args.split)}-{args.preset}-s{args.seed}",
                args,
            ),
            TerminalProgress("train-motion-cnn", quiet=args.json) as progress,
        ):
            trained = train_motion_cnn(
                ws,
                split=args.split,
                zsl_split=args.zsl_split,
                fold=args.fold,
                purpose=args.purpose,
                preset=args.preset,
                seed=args.seed,
                epochs=args.epochs,
                name=args.name,
                overwrite=args.overwrite,
                flow=FlowSettings(method=args.flow, fps=args.fps),
                device=args.device,
                workers=args.workers,
                progress=progress,
            )
    finally:
        ws.close()
    training = trained.meta["training"]
    if args.json:
        summary = {k: v for k, v in trained.meta.items() if k != "trained_on"}
        trained_on = trained.meta["trained_on"]
        summary["trained_on"] = {
            **{k: v for k, v in trained_on.items() if not k.endswith("clip_ids")},
            "clips": len(trained_on["clip_ids"]),
            "validation_clips": len(trained_on["validation_clip_ids"]),
        }
        print_json({"path": str(trained.path), **summary})
        return 0
    trained_on = trained.meta["trained_on"]
    print(f"motion CNN {trained.meta['name']}: {trained.path}")
    print(
        f"fitted on {len(trained_on['clip_ids'])} clips of {trained.meta['num_classes']} classes, "
        f"validated on {len(trained_on['validation_clip_ids'])}; best epoch {training['best_epoch']} of "
        f"{training['epochs_run']}, validation clip accuracy {training['val_accuracy']:.3f} "
        f"(chance {1 / trained.meta['num_classes']:.3f}), {training['seconds']:.0f} s"
    )
    print(
        f"use it: actionlens extract --workspace {args.workspace} --extractor motion-cnn --cnn {trained.meta['name']}"
    )
    return 0
