"""Does seed 003's learned motion stream beat the handcrafted one? A linear probe on each.

For every seed, the motion CNN (``desktop_app/features/motion_cnn.py``) is trained from scratch
on split 1's ``train`` clips (a stratified share of them held out to choose its epoch); the probe
then embeds every split-1 clip with it (full7 of each step's flow stack, on the handcrafted
store's own fixed-rate grid — checked on one clip against the ``motion-cnn`` extractor itself) and
fits the same linear probe on both motion streams:

* a clip is ``[mean; std; mean |Δ|]`` of its steps (as ``probe_static.py``'s over-time row);
* ``StandardScaler`` + ``LogisticRegression(C=1)`` fitted on split 1's train clips, scored on
  its test clips, for the class (verb + noun) and for the verb alone;
* motion alone, and handcrafted appearance + motion (concatenated clip vectors).

The CNN never sees a test clip (:func:`check_not_fitted_on` is called on its recorded clips).
Mean ± std over the CNN's training seeds; the handcrafted rows are deterministic (one value).
Chance (one over the number of test classes / verbs) is beside every figure. The CNN's own
softmax (mean over 5 stacks per clip) is reported too.

Usage::

    .venv/bin/python benchmarks/probe_motion_cnn.py --workspace WS [--seeds 0 1 2]
        [--preset small] [--epochs N] [--store handcrafted-fps10-dis] [--workers 2] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from desktop_app.features import FeatureStore
from desktop_app.features import motion_cnn as mc
from desktop_app.workspace import Workspace


def pooled(seq: np.ndarray) -> np.ndarray:
    """``[mean; std; mean |Δ|]`` over a clip's steps."""
    seq = seq.astype(np.float64)
    delta = np.abs(np.diff(seq, axis=0)).mean(0) if len(seq) > 1 else np.zeros(seq.shape[1])
    return np.concatenate([seq.mean(0), seq.std(0), delta])


def probe(x: np.ndarray, y: np.ndarray, fit: np.ndarray) -> float:
    """Test accuracy of a standardised logistic regression fitted on the ``fit`` rows."""
    model = make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=3000))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(x[fit], y[fit])
        return float(model.score(x[~fit], y[~fit]))


def _store_settings(trained: mc.TrainedCNN) -> dict[str, object]:
    return {
        "extractor": mc.EXTRACTOR_NAME,
        "weights": str(trained.path),
        "cnn": mc.cnn_spec_summary(trained.meta),
    }


def ste_rows(
    ws: Workspace,
    args: argparse.Namespace,
    trained: mc.TrainedCNN,
    handcrafted_store: str,
    test_ids: np.ndarray,
    seed: int,
    add: Callable[[str, str, float], None],
) -> None:
    """An ``ste`` run (seed 000, small preset, training seed ``seed``) on the handcrafted store and
    on a store extracted with the CNN by ``actionlens extract --extractor motion-cnn``'s code."""
    from desktop_app.features.extract import ExtractSettings, extract_features
    from desktop_app.training.experiment import evaluate_run, train_in_workspace

    summary = extract_features(
        ws,
        ExtractSettings(extractor=mc.EXTRACTOR_NAME, weights=str(trained.path), thumbnails=False),
        workers=args.workers,
    )
    learned = FeatureStore.open(ws, summary.store)
    mc.check_not_fitted_on(learned.settings, test_ids, "split 1 test")
    for label, store_name in (
        ("handcrafted store", handcrafted_store),
        (f"motion-cnn store ({args.preset})", summary.store),
    ):
        run = train_in_workspace(
            ws,
            "ste",
            features=store_name,
            seed=seed,
            run_id=f"probe-ste-{store_name}-s{seed}",
            overwrite=True,
        )
        metrics = evaluate_run(ws, run)
        add(f"ste run on the {label}: word space", "class", float(metrics["accuracy"]))
        add(f"ste run on the {label}: softmax head", "class", float(metrics["classifier_accuracy"]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workspace", required=True)
    parser.add_argument(
        "--store", default="handcrafted-fps10-dis", help="the handcrafted store to compare with"
    )
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--preset", default="small")
    parser.add_argument("--epochs", type=int, default=None)
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--device", default=None)
    parser.add_argument("--json", default=None, help="also write the figures to this JSON file")
    parser.add_argument(
        "--ste",
        action="store_true",
        help="also extract a motion-cnn store per seed and train an ste run on it and on the handcrafted store",
    )
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="load a seed's probe CNN from an earlier run of this script if it exists",
    )
    args = parser.parse_args()
    torch.set_num_threads(1)

    ws = Workspace.open(args.workspace)
    store = FeatureStore.open(ws, args.store)
    if store.settings.get("adaptive") or store.settings.get("steps"):
        raise SystemExit(
            f"store {store.name} is not sampled at a fixed rate; give a fixed-rate handcrafted store"
        )
    flow = mc.FlowSettings(
        method=str(store.settings["flow"]),
        fps=float(store.settings["fps"]),
        work_width=int(store.settings["work_width"]),
    )
    config = mc.get_preset(args.preset)
    roles = ws.catalog.split("1")
    class_of = {c.id: c.class_id for c in ws.catalog.clips(status="ok") if c.class_id is not None}
    verb_of = {c.id: c.verb for c in ws.catalog.classes()}
    have = set(store.clip_ids("motion").tolist()) & set(store.clip_ids("appearance").tolist())
    ids = np.array(
        sorted(c for c, r in roles.items() if r in ("train", "test") and c in class_of and c in have),
        np.int64,
    )
    started = time.perf_counter()
    flows = mc.compute_flow_set(ws, ids, flow, config.input_size, config.subtract_mean, workers=args.workers)
    print(f"optical flow of {len(ids)} clips: {time.perf_counter() - started:.0f} s", flush=True)
    ids = flows.clip_ids
    fit = np.array([roles[int(c)] == "train" for c in ids])
    test_ids = ids[~fit]
    labels = {
        "class": np.array([class_of[int(c)] for c in ids]),
        "verb": np.array([verb_of[class_of[int(c)]] for c in ids]),
    }
    chance = {k: 1.0 / len(set(v[~fit].tolist())) for k, v in labels.items()}
    appearance = np.array([pooled(store.get(int(c), "appearance", reduced=False)) for c in ids])
    handcrafted = np.array([pooled(store.get(int(c), "motion", reduced=False)) for c in ids])
    for row, c in enumerate(ids):
        if store.length(int(c), "motion") != int(flows.steps[row]):
            raise SystemExit(
                f"clip {c}: {flows.steps[row]} flow steps but {store.length(int(c), 'motion')} store steps"
            )

    results: dict[str, dict[str, list[float]]] = {}

    def add(row: str, column: str, value: float) -> None:
        results.setdefault(row, {}).setdefault(column, []).append(value)

    for target, y in labels.items():
        add("handcrafted motion", target, probe(handcrafted, y, fit))
        add(
            "handcrafted appearance + handcrafted motion",
            target,
            probe(np.hstack([appearance, handcrafted]), y, fit),
        )
        add("handcrafted appearance alone", target, probe(appearance, y, fit))
    training: list[dict[str, object]] = []
    for seed in args.seeds:
        name = f"probe-split1-{args.preset}-s{seed}"
        earlier = mc.cnn_dir(ws) / f"{name}.safetensors"
        if args.reuse and earlier.is_file():
            model, meta = mc.load_motion_cnn(earlier)
            trained = mc.TrainedCNN(earlier, meta, model)
        else:
            trained = mc.train_motion_cnn(
                ws,
                split="1",
                preset=args.preset,
                seed=seed,
                epochs=args.epochs,
                name=name,
                overwrite=True,
                flow=flow,
                device=args.device,
                flow_set=flows,
            )
        mc.check_not_fitted_on(_store_settings(trained), test_ids, "split 1 test")
        model = trained.model.eval()
        sequences = [
            mc.embed_fields(model, flows.fields[s : s + n], int(t))
            for s, n, t in zip(flows.starts, flows.counts, flows.steps, strict=True)
        ]
        if seed == args.seeds[0]:  # the probe's motion stream is the extractor's
            encoder = mc.MotionCNNEncoder({**store.settings, "weights": str(trained.path)})
            clip = ws.catalog.clip(int(test_ids[0]))
            encoded = encoder.encode(ws.clip_path(clip.path), False)
            np.testing.assert_allclose(
                encoded.features["motion"], sequences[int(np.flatnonzero(~fit)[0])], rtol=1e-3, atol=1e-3
            )
        learned = np.array([pooled(s) for s in sequences])
        for target, y in labels.items():
            add(f"motion CNN ({args.preset}) motion", target, probe(learned, y, fit))
            add(
                f"handcrafted appearance + motion CNN ({args.preset}) motion",
                target,
                probe(np.hstack([appearance, learned]), y, fit),
            )
        index = {c["id"]: i for i, c in enumerate(trained.meta["classes"])}
        truth = np.array([index[int(c)] for c in labels["class"][~fit]])
        scores = mc.clip_scores(model, flows, np.flatnonzero(~fit), torch.device("cpu"))
        add(f"motion CNN ({args.preset}) own softmax", "class", float(np.mean(scores.argmax(1) == truth)))
        training.append(
            {
                "seed": seed,
                **{
                    k: trained.meta["training"][k]
                    for k in ("best_epoch", "epochs_run", "val_accuracy", "seconds")
                },
            }
        )
        print(f"seed {seed}: {training[-1]}", flush=True)
        if args.ste:
            ste_rows(ws, args, trained, store.name, test_ids, seed, add)

    print(
        f"\nworkspace {args.workspace}: split 1, {int(fit.sum())} train clips fit, {int((~fit).sum())} test clips "
        f"scored; linear probe on [mean; std; mean|Δ|] of each stream; {len(args.seeds)} CNN seeds"
    )
    print("| stream(s)                                                | class acc     | verb acc      |")
    print("|----------------------------------------------------------|---------------|---------------|")
    for row, columns in results.items():
        cells = []
        for target in ("class", "verb"):
            values = columns.get(target)
            if not values:
                cells.append(f"{'—':<13}")
            elif len(values) == 1:
                cells.append(f"{values[0]:.3f}        ")
            else:
                cells.append(f"{np.mean(values):.3f} ± {np.std(values):.3f}")
        print(f"| {row:<56} | {cells[0]} | {cells[1]} |")
    print(f"| {'chance':<56} | {chance['class']:.3f}         | {chance['verb']:.3f}         |")
    if args.json:
        Path(args.json).write_text(
            json.dumps(
                {"results": results, "chance": chance, "training": training, "preset": args.preset}, indent=2
            )
        )
    ws.close()


if __name__ == "__main__":
    main()
