"""The Map panel at scale: frame times for pan and zoom, hover, lasso and recolour, before/after.

Drives the real :class:`~desktop_app.gui.panels.map.MapPanel` offscreen on a synthetic workspace
(:func:`desktop_app.data.scale.build_scale_workspace`: catalog rows, classes, a split) and a map of
``--clips`` points (400 Gaussian clusters in 2-D, one per class, ids = clip ids). The map is handed
to the panel the way its loading task hands it over, so what is measured is drawing and
interaction, not computing a layout (``bench_maps.py`` measures that).

Each ``--tree`` runs in its own process with that source tree first on ``sys.path``; give the
tree of an older commit (``git worktree add /tmp/wt_map_before f6b3c0f``) to measure before and
after in the same run::

    .venv/bin/python benchmarks/bench_map_render.py --clips 1000000 --tree /tmp/wt_map_before --tree .

Figures (milliseconds): a frame is ``setRange`` + the event loop + a synchronous repaint of the
plot (what a user waits for between two mouse moves), as median and maximum over the frames;
"hover" is the look-up and the hover card with the repaint; lasso and recolour include the
selection's or the legend's update and the repaint.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
ROWS = (
    ("pan, whole map in view", "pan_all"),
    ("zoom, whole map in view", "zoom_all"),
    ("pan, zoomed in", "pan_in"),
    ("hover, with repaint", "hover"),
    ("lasso", "lasso"),
    ("recolour by class", "recolour_class"),
    ("recolour by score", "recolour_score"),
    ("map shown (set points)", "show"),
)


def map_coords(class_of_clip: np.ndarray, seed: int = 0) -> np.ndarray:
    """One 2-D Gaussian cluster per class, float32, row = clip id."""
    rng = np.random.default_rng(seed)
    n_classes = int(class_of_clip.max()) + 1
    centres = rng.uniform(-50, 50, size=(n_classes, 2))
    spread = rng.uniform(0.8, 3.0, size=n_classes)
    coords = centres[class_of_clip] + rng.normal(size=(len(class_of_clip), 2)) * spread[class_of_clip, None]
    return coords.astype(np.float32)


def ensure_workspace(root: Path, n_clips: int) -> Path:
    """A scale workspace of ``n_clips`` clips without embeddings (so no map task starts)."""
    marker = root / ".bench_map_render"
    if marker.is_file() and marker.read_text() == str(n_clips):
        return root
    from desktop_app.data.scale import build_scale_workspace

    if root.exists():
        shutil.rmtree(root)
    build_scale_workspace(root, n_clips, n_classes=400)
    shutil.rmtree(root / "embeddings")
    (root / "embeddings").mkdir()
    marker.write_text(str(n_clips))
    return root


def _frames(app: Any, panel: Any, rects: list[tuple[float, float, float, float]]) -> list[float]:
    from PySide6.QtCore import QRectF

    times = []
    viewport = panel.plot_widget.viewport()
    for x0, y0, w, h in rects:
        t0 = time.perf_counter()
        panel.view_box.setRange(QRectF(x0, y0, w, h), padding=0)
        app.processEvents()
        viewport.repaint()
        times.append(time.perf_counter() - t0)
    return times


def worker(workspace: Path, seed: int) -> dict[str, Any]:
    """Measure one tree's panel (the tree is first on ``sys.path``)."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    import pyqtgraph as pg
    from PySide6.QtCore import QPointF

    import desktop_app.gui.panels.map as map_module
    from desktop_app.analysis.maps import Map2D
    from desktop_app.gui.models import AppModels

    app = pg.mkQApp()
    models = AppModels.create()
    models.workspace.open(workspace)
    panel = map_module.MapPanel(models)
    panel.resize(1000, 700)
    panel.show()
    app.processEvents()
    ws = models.workspace.workspace
    assert ws is not None
    class_of_clip = ws.catalog.clip_columns().class_id
    n = len(class_of_clip)
    coords = map_coords(class_of_clip, seed)
    ids = np.arange(n, dtype=np.int64)
    result = Map2D(coords=coords, ids=ids, of="clips", method="pca", params={}, quality={}, run_id="bench")
    handed: Any = result
    if hasattr(map_module, "PreparedMap"):  # the task prepares the map off the GUI thread
        space = SimpleNamespace(
            embedded_clip_ids=ids, class_ids=np.unique(class_of_clip), clip_class_ids=class_of_clip
        )
        handed = map_module.PreparedMap(result, space, ws)
        from desktop_app.gui.panels.map_colours import _palette

        _palette()  # as the map's task does: colorcet is imported off the GUI thread
    out: dict[str, Any] = {"points": n, "module": map_module.__file__}
    panel._fill_colour_combo()
    t0 = time.perf_counter()
    panel._on_map(handed)
    app.processEvents()
    panel.plot_widget.viewport().repaint()
    out["show"] = [time.perf_counter() - t0]

    lo, hi = coords.min(axis=0), coords.max(axis=0)
    span = hi - lo
    x0, y0 = lo - 0.05 * span
    w, h = span * 1.1
    out["pan_all"] = _frames(app, panel, [(x0 + 0.004 * k * w, y0 + 0.002 * k * h, w, h) for k in range(30)])
    out["zoom_all"] = _frames(
        app,
        panel,
        [(x0 + w * (1 - f) / 2, y0 + h * (1 - f) / 2, w * f, h * f) for f in np.linspace(1.0, 0.6, 30)],
    )
    centre = coords[int(np.argmax(class_of_clip == class_of_clip[n // 3]))]
    zw, zh = w / 60, h / 60
    out["pan_in"] = _frames(
        app, panel, [(centre[0] - zw / 2 + 0.02 * k * zw, centre[1] - zh / 2, zw, zh) for k in range(30)]
    )

    # Hover: back to the whole map, over 20 points spread over it.
    _frames(app, panel, [(x0, y0, w, h)])
    hover = []
    rng = np.random.default_rng(seed)
    viewport = panel.plot_widget.viewport()
    for row in rng.choice(n, 20, replace=False).tolist():
        scene = panel.view_box.mapViewToScene(QPointF(float(coords[row, 0]), float(coords[row, 1])))
        t0 = time.perf_counter()
        panel._on_mouse_moved((scene,))
        app.processEvents()
        viewport.repaint()
        hover.append(time.perf_counter() - t0)
    out["hover"] = hover
    panel.hover_card.hide()

    # Lasso: a 200-vertex ellipse over the middle of the map.
    t = np.linspace(0, 2 * np.pi, 200, endpoint=False)
    mid = (lo + hi) / 2
    polygon = np.c_[mid[0] + 0.35 * span[0] * np.cos(t), mid[1] + 0.3 * span[1] * np.sin(t)]
    t0 = time.perf_counter()
    panel.select_region(polygon)
    app.processEvents()
    viewport.repaint()
    out["lasso"] = [time.perf_counter() - t0]
    out["lasso_selected"] = len(models.selection.clip_ids)
    models.selection.clear("bench")
    app.processEvents()

    panel.set_colouring("verb")
    app.processEvents()
    t0 = time.perf_counter()
    panel.set_colouring("class")
    app.processEvents()
    viewport.repaint()
    out["recolour_class"] = [time.perf_counter() - t0]

    hits = rng.choice(n, 10_000, replace=False)
    models.query.set(
        "bench", {int(c): float(s) for c, s in zip(hits, rng.random(len(hits)), strict=True)}, "bench"
    )
    app.processEvents()
    t0 = time.perf_counter()
    panel.set_colouring("score")
    app.processEvents()
    viewport.repaint()
    out["recolour_score"] = [time.perf_counter() - t0]
    out["mode"] = panel.render_mode() if hasattr(panel, "render_mode") else "points"
    models.shutdown(timeout=5.0)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clips", type=int, default=1_000_000)
    parser.add_argument("--tree", action="append", help="source trees to measure (default: this one)")
    parser.add_argument("--workspace", type=Path, default=Path("/tmp/bench_map_render_ws"))
    parser.add_argument("--worker", nargs=2, metavar=("WORKSPACE", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        result = worker(Path(args.worker[0]), 0)
        Path(args.worker[1]).write_text(json.dumps(result))
        return
    workspace = ensure_workspace(args.workspace, args.clips)
    trees = args.tree or [str(REPO)]
    results = {}
    for tree in trees:
        out = args.workspace.parent / "bench_map_render.json"
        env = dict(
            os.environ, PYTHONPATH=str(Path(tree).resolve()), QT_QPA_PLATFORM="offscreen", OMP_NUM_THREADS="1"
        )
        subprocess.run(
            [sys.executable, str(Path(__file__).resolve()), "--worker", str(workspace), str(out)],
            check=True,
            env=env,
            cwd=str(Path(tree).resolve()),
        )
        results[tree] = json.loads(out.read_text())
    n = next(iter(results.values()))["points"]
    print(f"\nMap panel, {n:,} points, 1000 x 700 px, milliseconds (median / max over the frames)\n")
    header = f"| {'':28} | " + " | ".join(f"{Path(t).name or t:>22}" for t in trees) + " |"
    print(header)
    print("|" + "-" * 30 + "|" + "|".join("-" * 24 for _ in trees) + "|")
    for label, key in ROWS:
        cells = []
        for tree in trees:
            values = np.asarray(results[tree][key]) * 1000
            cells.append(
                f"{np.median(values):9.1f} / {values.max():8.1f}" if len(values) > 1 else f"{values[0]:20.1f}"
            )
        print(f"| {label:28} | " + " | ".join(f"{c:>22}" for c in cells) + " |")
    for tree in trees:
        r = results[tree]
        print(f"{tree}: {r['module']}; lasso selected {r['lasso_selected']:,} clips; drawn as {r['mode']}")


if __name__ == "__main__":
    main()
