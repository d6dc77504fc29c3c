"""``actionlens extract``: per-clip feature sequences for every clip of a workspace."""

from __future__ import annotations

import argparse
import sys

from desktop_app.cli.common import (
    TerminalProgress,
    add_json_arg,
    add_wait_arg,
    add_workspace_arg,
    open_workspace,
    print_json,
    writer_lock,
)


def _steps(text: str) -> int | str:
    if text == "mean":
        return text
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--steps takes a number or 'mean', not {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError("--steps must be at least 1")
    return value


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``extract`` subcommand."""
    p = subparsers.add_parser(
        "extract",
        help="extract appearance / motion / audio feature sequences of every clip",
        description="Decode every clip, sample frames, compute optical flow and per-frame features, "
        "store them in WS/features/<store>/ (raw: each run fits its own PCA on its training clips). "
        "Interrupted runs resume where they stopped.",
    )
    add_workspace_arg(p)
    p.add_argument(
        "--extractor",
        default="handcrafted",
        help="handcrafted (default; HOG+colour, HOF+MBH), torchvision:resnet18|resnet50|vgg16 "
        "(needs --weights and the 'cnn' extra), motion-cnn (needs --cnn), audio, or precomputed "
        "(needs --features-from)",
    )
    sampling = p.add_mutually_exclusive_group()
    sampling.add_argument("--fps", type=float, default=None, help="sample at this rate (default 10 fps)")
    sampling.add_argument(
        "--steps",
        type=_steps,
        default=None,
        metavar="N|mean",
        help="fixed number of steps (clip / zero-pad), or 'mean' for the mean clip length at 10 fps",
    )
    sampling.add_argument(
        "--adaptive", action="store_true", help="more frames where optical flow is faster (mean rate 10 fps)"
    )
    p.add_argument(
        "--flow", choices=("dis", "farneback"), default="dis", help="optical flow method (default dis)"
    )
    p.add_argument("--workers", type=int, default=None, help="worker processes (default: number of CPUs)")
    p.add_argument(
        "--cluster",
        metavar="tcp://HOST:8786",
        help="encode the clips on the workers of this Dask scheduler (they must see the videos at "
        "the same paths; needs the 'cluster' extra); this process still writes the store",
    )
    p.add_argument(
        "--cluster-timeout",
        type=float,
        default=10.0,
        metavar="SECONDS",
        help="how long to wait for the scheduler and its first worker (default 10)",
    )
    p.add_argument("--weights", metavar="FILE", help="state-dict file for torchvision:<arch>")
    p.add_argument(
        "--cnn", metavar="NAME|FILE", help="motion CNN for motion-cnn (see actionlens train-motion-cnn)"
    )
    p.add_argument("--features-from", metavar="PATH", help="directory of <clip>.npy/.npz, or an HDF5 file")
    p.add_argument("--no-audio", action="store_true", help="skip the log-mel audio stream")
    add_wait_arg(p)
    add_json_arg(p)
    p.set_defaults(func=run)


def _quiet_dask_logs() -> None:
    """Keep Dask's loggers to what is fatal.

    Dask logs a lost or refused connection with whole tracebacks from its event loop; the
    command's error says the same in one line (``desktop_app/features/cluster.py``). Dask sets
    its loggers' levels when it is imported, so this imports it first.
    """
    import logging

    try:
        import distributed  # noqa: F401
    except ImportError:
        return  # extract_features says what to install
    manager = logging.Logger.manager
    for name in ["distributed", *[n for n in manager.loggerDict if n.startswith("distributed.")]]:
        logging.getLogger(name).setLevel(logging.CRITICAL)


def run(args: argparse.Namespace) -> int:
    """Run the extraction and print a summary (clips/s, bad clips)."""
    from desktop_app.features.extract import ExtractSettings, extract_features, resolve_settings
    from desktop_app.features.store import store_name

    settings = ExtractSettings(
        extractor=args.extractor,
        fps=args.fps if args.fps is not None else 10.0,
        steps=args.steps,
        adaptive=args.adaptive,
        flow=args.flow,
        weights=args.weights,
        features_from=args.features_from,
        audio=not args.no_audio,
    )
    if args.cluster:
        _quiet_dask_logs()
    ws = open_workspace(args)
    try:
        if getattr(args, "cnn", None):  # a workspace CNN's name, or its file
            from desktop_app.features.motion_cnn import resolve_cnn_file

            settings.weights = str(resolve_cnn_file(ws, args.cnn))
        # One writer per feature store: two processes appending to one store interleave records.
        store = settings.name or store_name(resolve_settings(ws, settings))
        with (
            writer_lock(ws.root, f"feature store {store}", args),
            TerminalProgress("extract", quiet=args.json) as progress,
        ):
            summary = extract_features(
                ws,
                settings,
                progress=progress,
                workers=args.workers,
                cluster=args.cluster,
                cluster_timeout=args.cluster_timeout,
            )
    finally:
        ws.close()
    if args.json:
        print_json(summary.to_json())
        return 0
    print(
        f"feature store {summary.store}: {summary.clips_extracted} clips extracted, "
        f"{summary.clips_already_done} already done, {len(summary.bad_clips)} bad, "
        f"{summary.clips_without_features} without features"
    )
    print("streams: " + ", ".join(f"{s} ({d}-d)" for s, d in summary.streams.items()))
    print(f"{summary.clips_per_second:.2f} clips/s over {summary.seconds:.1f} s")
    for bad in summary.bad_clips:
        print(f"  bad clip {bad['name']}: {bad['reason']}", file=sys.stderr)
    return 0
