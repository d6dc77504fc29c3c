"""Level of detail for the Map panel: an aggregated image when zoomed out, real points zoomed in.

pyqtgraph's ``ScatterPlotItem`` paints every point in view (200 ms a frame at a million points)
and takes a Python list of brushes to recolour (5 s). :class:`LevelOfDetail` keeps the scatter for
what it is good at, the few thousand points of a zoomed-in view, and otherwise draws the map as
one RGBA ``ImageItem`` of per-pixel counts and mixed colours from
:func:`desktop_app.analysis.density.aggregate` (datashader's idea, on numpy).

It renders a *region*: the view grown by half its size on each side, cut to the map's bounds,
at the screen's resolution. Panning and zooming only move and scale what was rendered (one image
or a few thousand points: a few milliseconds a frame); the region is rendered again, once the
view leaves it or its scale changes by more than :data:`RESCALE`, from a short single-shot
timer, so a burst of mouse moves causes one re-render, not one per move.

Colours come in as arrays (a group per point, an RGB per group, an emphasis mask), so recolouring
a million points is array work, never a list of brushes.

Given a :class:`~desktop_app.gui.tasks.TaskManager`, the images (the aggregate and the selection's
highlight) are computed by urgent tasks (issue 12: 0.2–1.3 s of the GUI thread at a million
points while other work ran); the old image stays, moved and scaled with the view, until the new
one is swapped in, and a newer render cancels an older one still running. Which level of detail
to show, and the real points and outlines of a zoomed-in view, are decided and drawn at once.
Without a task manager every image is computed on the spot.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QObject, QRectF, QTimer, Signal

from desktop_app.analysis.density import Raster, render_highlight, render_layers

#: At most this many points in the rendered region are drawn as real points (pyqtgraph markers).
POINT_LIMIT = 8000
#: A selection with at most this many points in the region is outlined point by point; a larger
#: one is drawn as a highlight image over the aggregate.
OUTLINE_LIMIT = 3000
#: The region is rendered again when the view's scale differs from the rendered one by this factor.
RESCALE = 1.3
#: The region extends the view by this share of its size on each side.
MARGIN = 0.5
#: Milliseconds from the first view change to the re-render it makes necessary.
REFRESH_MS = 40
#: Weight of a dimmed point in the aggregate (an emphasised one counts 1).
DIM_WEIGHT = 0.15
#: Task owners of the two images (a newer render of one cancels the older one still running).
IMAGE_TASK = "map:render"
HIGHLIGHT_TASK = "map:highlight"


def _layers_job(
    coords: np.ndarray,
    raster: Raster,
    group: np.ndarray,
    group_rgb: np.ndarray,
    emphasis: np.ndarray | None,
    rows: np.ndarray | None,
    progress: Any,
) -> np.ndarray:
    return render_layers(coords, raster, group, group_rgb, emphasis, rows)


def _highlight_job(
    coords: np.ndarray, raster: Raster, rows: np.ndarray, rgb: tuple[int, int, int], progress: Any
) -> np.ndarray:
    return render_highlight(coords, raster, rows, rgb)


class LevelOfDetail(QObject):
    """Decides, for the view shown, between an aggregate image and real points, and draws it.

    Parameters
    ----------
    view_box
        The plot's view box (its range and size in pixels decide the region and resolution).
    draw_points
        Called with the rows to draw as real points (an int64 array, possibly empty) whenever the
        region changes in points mode, and with ``None`` when the aggregate takes over (clear the
        scatter then).
    draw_outline
        Called with the selected rows in the region to outline point by point (``None``: none,
        the selection is in the overlay image), after every render.
    tasks
        The :class:`~desktop_app.gui.tasks.TaskManager` whose urgent lane computes the images
        (``None``: computed on the calling thread).
    owner
        The prefix of its two tasks' owners (``<owner>:render``, ``<owner>:highlight``): each
        map of a window needs its own, or one map's render cancels another's.

    Signals
    -------
    rendered(str)
        ``"points"`` or ``"aggregate"``, after every render.
    """

    rendered = Signal(str)

    def __init__(
        self,
        view_box: pg.ViewBox,
        draw_points: Callable[[np.ndarray | None], None],
        draw_outline: Callable[[np.ndarray | None], None],
        highlight_rgb: tuple[int, int, int] = (48, 140, 198),
        tasks: Any = None,
        owner: str = "map",
    ) -> None:
        # A child of the view box: it and its timer go when the view box goes (a refresh queued
        # for a closed map would otherwise ask a deleted view box for its size).
        super().__init__(view_box)
        self.view_box = view_box
        self._draw_points = draw_points
        self._draw_outline = draw_outline
        self.highlight_rgb = highlight_rgb
        self._tasks = tasks
        self._image_task = IMAGE_TASK if owner == "map" else f"{owner}:render"
        self._highlight_task = HIGHLIGHT_TASK if owner == "map" else f"{owner}:highlight"
        self._jobs: dict[str, Any] = {}  # task owner -> the Task computing that image
        self.image = pg.ImageItem(axisOrder="row-major")
        self.image.setZValue(-1)
        self.image.hide()
        self.overlay = pg.ImageItem(axisOrder="row-major")
        self.overlay.setZValue(4)
        self.overlay.hide()
        view_box.addItem(self.image, ignoreBounds=True)
        view_box.addItem(self.overlay, ignoreBounds=True)
        self.coords = np.zeros((0, 2), dtype=np.float32)
        self.bounds = (0.0, 0.0, 1.0, 1.0)  # x0, y0, x1, y1 of the points
        self._group = np.zeros(0, dtype=np.int64)
        self._group_rgb = np.zeros((0, 3), dtype=np.float64)
        self._emphasis: np.ndarray | None = None
        self._selected: np.ndarray | None = None  # bool mask over the points, or None
        self._selected_input: np.ndarray | None = None  # the mask set_selected was given last
        self._outlined: np.ndarray | None = None  # the rows of the last draw_outline call
        self.raster: Raster | None = None  # the region rendered last
        self.mode = "empty"  # "points", "aggregate" or "empty"
        self.region_rows = np.zeros(0, dtype=np.int64)  # points mode: the rows drawn
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(REFRESH_MS)
        self._timer.timeout.connect(self.refresh)
        view_box.sigRangeChanged.connect(self._on_range_changed)
        view_box.sigResized.connect(self._on_range_changed)

    # ------------------------------------------------------------ data
    def set_points(self, coords: np.ndarray) -> None:
        """Show these ``(n, 2)`` points (styles must follow with :meth:`set_style`)."""
        self.coords = np.ascontiguousarray(coords, dtype=np.float32).reshape(-1, 2)
        if len(self.coords):
            x, y = self.coords[:, 0], self.coords[:, 1]  # per column: 10x faster than axis=0 on (n, 2)
            lo, hi = np.array([x.min(), y.min()]), np.array([x.max(), y.max()])
            span = np.maximum(hi - lo, 1e-6)
            lo, hi = lo - 0.01 * span, hi + 0.01 * span  # room for the markers at the edge
            self.bounds = (float(lo[0]), float(lo[1]), float(hi[0]), float(hi[1]))
        self._selected = self._selected_input = self._outlined = None
        self.raster = None

    def data_rect(self) -> QRectF:
        """The rectangle that holds every point (what "Fit" shows)."""
        x0, y0, x1, y1 = self.bounds
        return QRectF(x0, y0, x1 - x0, y1 - y0)

    def set_style(
        self, group_of_point: np.ndarray, group_rgb: np.ndarray, emphasis: np.ndarray | None
    ) -> None:
        """Colours: each point's group, each group's RGB (0–255) and the emphasised points
        (``None``: all at full strength); re-renders now."""
        self._group = np.asarray(group_of_point, dtype=np.int64)
        self._group_rgb = np.asarray(group_rgb, dtype=np.float64).reshape(-1, 3)
        self._emphasis = None if emphasis is None else np.asarray(emphasis, dtype=bool)
        self.refresh()

    def set_selected(self, mask: np.ndarray | None) -> None:
        """The selected points (a bool mask over them, ``None``: none); redraws the highlight.

        The same mask object as last time keeps the highlight drawn for it (a render follows
        the view by itself) and only repeats the last outline call, so a caller may re-send the
        selection with every recolour."""
        if mask is not None and mask is self._selected_input and self.raster is not None:
            self._draw_outline(self._outlined)
            return
        self._selected_input = mask
        self._selected = None if mask is None or not mask.any() else np.asarray(mask, dtype=bool)
        if self.raster is not None:
            self._render_selection(self.raster)

    # ------------------------------------------------------------ view
    def _view(self) -> tuple[float, float, float, float, int, int] | None:
        rect = self.view_box.viewRect()
        width, height = int(self.view_box.width()), int(self.view_box.height())
        if width < 2 or height < 2 or rect.width() <= 0 or rect.height() <= 0:
            return None
        return rect.left(), rect.top(), rect.right(), rect.bottom(), width, height

    def _wanted(self) -> Raster | None:
        """The region the view needs now (``None``: the view shows no point)."""
        view = self._view()
        if view is None or not len(self.coords):
            return None
        vx0, vy0, vx1, vy1, width, height = view
        mx, my = (vx1 - vx0) * MARGIN, (vy1 - vy0) * MARGIN
        bx0, by0, bx1, by1 = self.bounds
        x0, y0 = max(vx0 - mx, bx0), max(vy0 - my, by0)
        x1, y1 = min(vx1 + mx, bx1), min(vy1 + my, by1)
        if x1 <= x0 or y1 <= y0:
            return None
        px, py = (vx1 - vx0) / width, (vy1 - vy0) / height
        cols = max(1, int(np.ceil((x1 - x0) / px)))
        rows = max(1, int(np.ceil((y1 - y0) / py)))
        return Raster(x0, y0, x0 + cols * px, y0 + rows * py, cols, rows)

    def needs_refresh(self) -> bool:
        """Whether the view left the rendered region or its scale changed by over :data:`RESCALE`."""
        view = self._view()
        if view is None or not len(self.coords):
            return self.mode != "empty"
        if self.raster is None:
            return True
        vx0, vy0, vx1, vy1, width, height = view
        bx0, by0, bx1, by1 = self.bounds
        seen = (max(vx0, bx0), max(vy0, by0), min(vx1, bx1), min(vy1, by1))
        if seen[2] <= seen[0] or seen[3] <= seen[1]:
            return self.mode != "empty"
        rx, ry = self.raster.pixel_size
        px, py = (vx1 - vx0) / width, (vy1 - vy0) / height
        scale = max(px / rx, rx / px, py / ry, ry / py)
        return scale > RESCALE or not self.raster.contains(*seen)

    @property
    def pending(self) -> bool:
        """Whether an image for the current region is still being computed (the one shown is
        the previous region's, moved and scaled with the view)."""
        return any(task.is_running() for task in self._jobs.values())

    def _on_range_changed(self, *_: object) -> None:
        if not self._timer.isActive() and self.needs_refresh():
            self._timer.start()

    # ------------------------------------------------------------ rendering
    def refresh(self) -> None:
        """Render the region the view needs now, as points or as an aggregate."""
        self._timer.stop()
        raster = self._wanted()
        self.raster = raster
        if raster is None:
            self.mode = "empty"
            self.region_rows = np.zeros(0, dtype=np.int64)
            self._cancel(self._image_task)
            self._cancel(self._highlight_task)
            self.image.hide()
            self.overlay.hide()
            self._draw_points(self.region_rows)
            self._outline(None)
            self.rendered.emit(self.mode)
            return
        c = self.coords
        if self._covers_all(raster):  # zoomed out: every point is in the region, no mask needed
            in_region = None
            count = len(c)
        else:
            in_region = (
                (c[:, 0] >= raster.x0)
                & (c[:, 0] <= raster.x1)
                & (c[:, 1] >= raster.y0)
                & (c[:, 1] <= raster.y1)
            )
            count = int(np.count_nonzero(in_region))
        if count <= POINT_LIMIT:
            self.mode = "points"
            self.region_rows = np.flatnonzero(in_region) if in_region is not None else np.arange(len(c))
            self._cancel(self._image_task)
            self.image.hide()
            self._draw_points(self.region_rows)
        else:
            self.mode = "aggregate"
            self.region_rows = np.zeros(0, dtype=np.int64)
            self._draw_points(None)
            rows = np.flatnonzero(in_region) if in_region is not None and count < len(c) // 2 else None
            self._render_aggregate(raster, rows)
        self._render_selection(raster)
        self.rendered.emit(self.mode)

    def _outline(self, rows: np.ndarray | None) -> None:
        self._outlined = rows
        self._draw_outline(rows)

    def _covers_all(self, raster: Raster) -> bool:
        bx0, by0, bx1, by1 = self.bounds
        return raster.x0 <= bx0 and raster.y0 <= by0 and bx1 <= raster.x1 and by1 <= raster.y1

    def _cancel(self, owner: str) -> None:
        task = self._jobs.pop(owner, None)
        if task is not None:
            task.cancel()

    def _start(
        self, owner: str, item: pg.ImageItem, raster: Raster, job: Callable[..., np.ndarray], *args: Any
    ) -> None:
        """Compute ``job(*args)`` for ``item`` over ``raster``: in an urgent task (swapped in when it
        lands, unless a newer one replaced it) or, without a task manager, at once."""
        if self._tasks is None:
            self._place(item, job(*args, None), raster)
            return
        self._cancel(owner)
        task = self._tasks.start(owner, "Drawing the map", job, *args, quiet=True, urgent=True)
        self._jobs[owner] = task
        task.finished.connect(lambda image, t=task: self._landed(owner, t, item, image, raster))

    def _landed(self, owner: str, task: Any, item: pg.ImageItem, image: np.ndarray, raster: Raster) -> None:
        if self._jobs.get(owner) is not task:
            return  # replaced by a newer render
        del self._jobs[owner]
        if item is self.image and self.mode != "aggregate":
            return
        self._place(item, image, raster)

    def _place(self, item: pg.ImageItem, image: np.ndarray, raster: Raster) -> None:
        item.setImage(image, autoLevels=False, levels=None)  # RGBA uint8: no level scaling
        item.setRect(QRectF(raster.x0, raster.y0, raster.x1 - raster.x0, raster.y1 - raster.y0))
        item.show()

    def _render_aggregate(self, raster: Raster, rows: np.ndarray | None) -> None:
        # Dimmed points as a faint layer, the emphasised ones over it (density.render_layers).
        self._start(
            self._image_task,
            self.image,
            raster,
            _layers_job,
            self.coords,
            raster,
            self._group,
            self._group_rgb,
            self._emphasis,
            rows,
        )

    def _render_selection(self, raster: Raster) -> None:
        selected = self._selected
        if selected is None:
            self._cancel(self._highlight_task)
            self.overlay.hide()
            self._outline(None)
            return
        c = self.coords
        rows = np.flatnonzero(selected)
        if not self._covers_all(raster):
            rows = rows[
                (c[rows, 0] >= raster.x0)
                & (c[rows, 0] <= raster.x1)
                & (c[rows, 1] >= raster.y0)
                & (c[rows, 1] <= raster.y1)
            ]
        if self.mode == "points" or len(rows) <= OUTLINE_LIMIT:
            self._cancel(self._highlight_task)
            self.overlay.hide()
            self._outline(rows)
            return
        self._outline(None)
        # A translucent tint of the highlight colour over the selected points' pixels.
        self._start(
            self._highlight_task, self.overlay, raster, _highlight_job, c, raster, rows, self.highlight_rgb
        )
