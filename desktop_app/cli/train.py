"""``actionlens train``: train a joint-embedding model on the workspace's features."""

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

MODEL_NAMES = (
    "ste, action2vec, action2vec-literal, pooled-ridge, lstm, stacked-lstm, rnnfv, gmmfv, "
    "meanpool-svm, multistream, autoencoder, hse, fse"
)


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``train`` subcommand."""
    p = subparsers.add_parser(
        "train", help="train a model (clips → word space, Fisher vectors, anomaly scores, paragraphs)"
    )
    add_workspace_arg(p)
    p.add_argument("--model", required=True, help=f"model name ({MODEL_NAMES})")
    p.add_argument(
        "--preset", default="small", choices=("paper", "small"), help="model size (default: small)"
    )
    p.add_argument(
        "--zsl-split",
        metavar="SPLIT",
        help="train for zero-shot: 50/50, 80/20, 90/10, 51/50 classes, or unseen-noun / unseen-verb",
    )
    p.add_argument("--fold", type=int, default=0, help="zero-shot fold (default 0)")
    p.add_argument(
        "--purpose",
        default="test",
        choices=("test", "dev"),
        help="zero-shot fold kind: test (reported) or dev (for choosing settings); default test",
    )
    p.add_argument("--split", default="1", help="dataset split for recognition training (default 1)")
    p.add_argument("--epochs", type=int, help="number of epochs (default: the preset's)")
    p.add_argument(
        "--resume",
        action="store_true",
        help="continue from the run's last checkpoint (an interrupted run does so anyway; --overwrite starts over)",
    )
    p.add_argument("--overwrite", action="store_true", help="train again over an existing run")
    p.add_argument("--features", metavar="NAME", help="feature store (default: the workspace's default)")
    p.add_argument("--word-vectors", metavar="SRC", help="word-vector file (default: GloVe 6B 50d)")
    p.add_argument("--seed", type=int, default=0, help="training seed; folds do not depend on it (default 0)")
    p.add_argument(
        "--input-scale", type=float, help="factor on the unit input rows, any model (default: the preset's)"
    )
    p.add_argument(
        "--pca-dims",
        type=int,
        help="PCA dimensions per stream, fitted on the training clips; 0: none (default 500)",
    )
    p.add_argument(
        "--source-run",
        metavar="RUN",
        help="autoencoder only: the recognition run whose clip embeddings it learns to reconstruct",
    )
    p.add_argument("--run-id", help="name of the run (default: model-preset-task)")
    p.add_argument(
        "--device", default="auto", choices=("auto", "cpu", "cuda"), help="default: CUDA when present"
    )
    p.add_argument("--threads", type=int, default=0, help="CPU threads (default: all cores)")
    add_wait_arg(p)
    add_json_arg(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Train, save the run, and print its id and validation accuracy."""
    from desktop_app.evaluation.zsl import check_zsl_split
    from desktop_app.training.experiment import default_run_id, train_in_workspace
    from desktop_app.training.trainer import distributed_context

    if args.zsl_split:
        check_zsl_split(args.zsl_split)
    if args.model == "autoencoder" or args.source_run:
        return _run_autoencoder(args)
    ctx = distributed_context()
    run_id = args.run_id or default_run_id(
        args.model, args.preset, args.zsl_split, args.fold, args.split, args.seed, args.purpose
    )
    with (
        open_workspace(args) as ws,
        # One writer per run id (the main rank holds it for all ranks of a distributed run).
        writer_lock(ws.root, f"run {run_id}" if ctx.is_main else None, args),
        TerminalProgress(f"train {args.model}", quiet=args.json or not ctx.is_main) as bar,
    ):
        result = train_in_workspace(
            ws,
            args.model,
            preset=args.preset,
            zsl_split=args.zsl_split,
            fold=args.fold,
            purpose=args.purpose,
            epochs=args.epochs,
            resume=args.resume,
            overwrite=args.overwrite,
            features=args.features,
            word_vectors=args.word_vectors,
            split=args.split,
            seed=args.seed,
            run_id=args.run_id,
            train_overrides={
                "device": args.device,
                "num_threads": args.threads,
                **({} if args.input_scale is None else {"input_scale": args.input_scale}),
                **({} if args.pca_dims is None else {"pca_dims": args.pca_dims}),
            },
            progress=bar,
        )
    if not ctx.is_main:
        return 0
    training = result.meta["training"]
    summary = {
        "run_id": result.run_id,
        "model": args.model,
        "epochs_run": training["epochs_run"],
        "best_epoch": training["best_epoch"],
        "val_accuracy": result.meta["metrics"]["validation"]["accuracy"],
        "directory": str(result.run_dir),
    }
    if args.json:
        print_json(summary)
    else:
        print(
            f"run {summary['run_id']}: {summary['epochs_run']} epochs, best {summary['best_epoch'] + 1}, "
            f"validation accuracy {summary['val_accuracy']:.1%} → {summary['directory']}"
        )
    return 0


def _run_autoencoder(args: argparse.Namespace) -> int:
    """``train --model autoencoder --source-run RUN`` (seed 003 §VII): train on the source run's
    embeddings of its training clips, score every clip, print the run and where the scores went."""
    from desktop_app.errors import ActionLensError
    from desktop_app.training.anomaly import autoencoder_run_id, train_autoencoder

    if args.model != "autoencoder" or not args.source_run:
        raise ActionLensError(
            "--source-run goes with --model autoencoder, and the autoencoder needs it: "
            "actionlens train --model autoencoder --source-run RUN"
        )
    if args.zsl_split:
        raise ActionLensError("the autoencoder trains on its source run's split; drop --zsl-split")
    run_id = args.run_id or autoencoder_run_id(args.source_run, args.preset, args.seed)
    with (
        open_workspace(args) as ws,
        writer_lock(ws.root, f"run {run_id}", args),
        TerminalProgress("train autoencoder", quiet=args.json) as bar,
    ):
        result = train_autoencoder(
            ws,
            args.source_run,
            preset=args.preset,
            seed=args.seed,
            epochs=args.epochs,
            run_id=run_id,
            resume=args.resume,
            overwrite=args.overwrite,
            train_overrides={"device": args.device, "num_threads": args.threads},
            progress=bar,
        )
    training = result.meta["training"]
    summary = {
        "run_id": result.run_id,
        "model": args.model,
        "source_run": args.source_run,
        "epochs_run": training["epochs_run"],
        "best_epoch": training["best_epoch"],
        "val_reconstruction_error": result.meta["metrics"]["validation"]["reconstruction_error"],
        "scored_clips": result.meta["anomaly"]["clips"],
        "directory": str(result.run_dir),
    }
    if args.json:
        print_json(summary)
    else:
        print(
            f"run {summary['run_id']}: {summary['epochs_run']} epochs, best {summary['best_epoch'] + 1}, "
            f"validation reconstruction error {summary['val_reconstruction_error']:.4g}; anomaly scores of "
            f"{summary['scored_clips']} clips → {summary['directory']}"
        )
    return 0
