"""``actionlens project``: compute (or open from the cache) a 2-D map of a run's embeddings."""

from __future__ import annotations

import argparse
from typing import Any

from desktop_app.cli.common import (
    TerminalProgress,
    add_json_arg,
    add_workspace_arg,
    open_workspace,
    print_json,
)


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``project`` subcommand."""
    p = subparsers.add_parser(
        "project",
        help="compute a 2-D map (PCA, UMAP, t-SNE, semantic axes) or import one",
        description="Compute a 2-D map of a run's clip embeddings or class means and cache it in the "
        "workspace (maps/); a current cached map is opened instead of recomputed. "
        "--import caches a layout you already have (.csv with clip,x,y or .npy of shape (clips, 2)).",
    )
    add_workspace_arg(p)
    p.add_argument(
        "--method", choices=("pca", "umap", "tsne", "axes"), default="pca", help="projection (default pca)"
    )
    p.add_argument("--of", choices=("clips", "classes"), default="clips", help="map clips or class means")
    p.add_argument(
        "--axes",
        metavar="A,B,C,D",
        help='semantic axes: x from A to B, y from C to D, e.g. "slow,fast,down,up"',
    )
    p.add_argument("--run", metavar="RUN", help="run whose embeddings to map (default: the active run)")
    p.add_argument("--import", dest="import_file", metavar="FILE", help="import a layout file as a map")
    p.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a method parameter, e.g. n_epochs=100, perplexity=50, max_points=0 (repeatable); "
        "max_points is how many clips the layout is fitted on, the rest are placed by its transform",
    )
    p.add_argument("--force", action="store_true", help="recompute even if a current map is cached")
    add_json_arg(p)
    p.set_defaults(func=run)


def _parse_params(pairs: list[str]) -> dict[str, Any]:
    import json

    from desktop_app.errors import ActionLensError

    params: dict[str, Any] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise ActionLensError(f"--param {pair!r}: write NAME=VALUE, e.g. n_epochs=100")
        try:
            params[name.strip()] = json.loads(value)
        except ValueError:
            params[name.strip()] = value
    return params


def run(args: argparse.Namespace) -> int:
    """Compute, open or import the map and print what it is."""
    import time

    from desktop_app.analysis.maps import import_layout, load_or_compute_map
    from desktop_app.errors import ActionLensError

    started = time.perf_counter()
    with open_workspace(args) as ws:
        if args.import_file:
            result = import_layout(ws, args.run, args.import_file)
        else:
            params = _parse_params(args.param)
            if args.method == "axes":
                if not args.axes:
                    raise ActionLensError('--method axes needs --axes "A,B,C,D", e.g. "slow,fast,down,up"')
                params["axes"] = args.axes
            with TerminalProgress(f"{args.method} map", quiet=args.json) as progress:
                result = load_or_compute_map(
                    ws, args.run, args.method, args.of, params, progress, force=args.force
                )
    wall = round(time.perf_counter() - started, 3)
    summary = {
        "key": result.key,
        "method": result.method,
        "of": result.of,
        "run_id": result.run_id,
        "points": len(result),
        "from_cache": result.from_cache,
        "elapsed": result.elapsed,
        "wall_seconds": wall,
        "quality": result.quality,
        "subsampled": result.subsampled,
        "placement": result.placement,
        "params": result.params,
        "file": str(ws.maps_dir / f"{result.key}.npy"),
    }
    if args.json:
        print_json(summary)
        return 0
    origin = "opened from the cache" if result.from_cache else f"computed in {result.elapsed:.2f} s"
    print(f"map         {result.key} ({origin})")
    print(f"points      {len(result)} {result.of} of run {result.run_id}")
    q = result.quality
    if "trustworthiness" in q:
        sample = (
            f" on a random subsample of {q['sampled_points']} of {q['num_points']} points"
            if q.get("sampled")
            else ""
        )
        print(
            f"quality     trustworthiness {q['trustworthiness']:.3f}{sample}, "
            f"{q['k']}-NN preservation {q['knn_preservation']:.3f}"
        )
    if "axes_cosine" in q:
        print(f"axes        cosine between the two directions {q['axes_cosine']:.3f}")
    placement = result.placement
    if placement and placement.get("placed"):
        print(
            f"placed      {placement['fitted']} fitted, {placement['placed']} placed by {placement['placed_by']}"
        )
    elif placement:
        print(f"placed      all {placement['fitted']} fitted")
    if result.subsampled:  # a map cached before map version 2
        s = result.subsampled
        print(f"SUBSAMPLED  {s['to']} of {s['from']} points placed: {s['reason']}")
    print(f"file        {summary['file']}")
    return 0
