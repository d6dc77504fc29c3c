"""Seed 004's ablations (its Table 3 shape) on a workspace's captioned videos: HSE with τ = 0,
with the weak low-level loss (eq. 13–14) and without ℓ^LOW, beside HSE and FSE at the preset.

    python benchmarks/hse_ablation.py WORKSPACE [--seeds 0 1 2] [--preset small]

Trains the runs that are missing (``<model>-<preset>-para-<split>-<variant>[-seed<N>]``) and
prints the retrieval table of ``actionlens evaluate --task paragraph-retrieval --runs …``.
Settings are the preset's; only the named option changes.
"""

from __future__ import annotations

import argparse

from desktop_app.evaluation.paragraphs import evaluate_cli
from desktop_app.progress import NullProgress
from desktop_app.training.experiment import train_in_workspace
from desktop_app.training.paragraphs import captioned_roles, paragraph_run_id
from desktop_app.training.runs import META
from desktop_app.workspace import Workspace

VARIANTS = {
    "": ("hse", {}),
    "tau0": ("hse", {"tau": 0.0}),
    "weak": ("hse", {"low_level": "weak"}),
    "nolow": ("hse", {"low_level": "none"}),
    "fse": ("fse", {}),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workspace")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--preset", default="small")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    run_ids = []
    with Workspace.open(args.workspace) as ws:
        split, _ = captioned_roles(ws, "official")
        for variant, (model, overrides) in VARIANTS.items():
            for seed in args.seeds:
                base = paragraph_run_id(model, args.preset, split)
                run_id = base if not variant or variant == "fse" else f"{base}-{variant}"
                run_id = run_id if seed == 0 else f"{run_id}-seed{seed}"
                if not (ws.runs_dir / run_id / META).is_file():
                    print(f"training {run_id}", flush=True)
                    train_in_workspace(
                        ws,
                        model,
                        preset=args.preset,
                        seed=seed,
                        run_id=run_id,
                        model_overrides=overrides,
                        train_overrides={"num_threads": args.threads},
                    )
                run_ids.append(run_id)
        ns = argparse.Namespace(
            runs=run_ids, models=None, seeds=args.seeds, preset=args.preset, split="official"
        )
        ns.train_missing, ns.epochs, ns.features, ns.word_vectors, ns.json = False, None, None, None, False
        _, text = evaluate_cli(ws, ns, NullProgress())
    print(text)


if __name__ == "__main__":
    main()
