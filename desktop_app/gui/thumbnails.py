"""Clip thumbnails for every panel, loaded off the GUI thread and kept in an LRU cache.

The pipeline writes ``thumbnails/<id>.jpg`` (the middle frame) and ``<id>_strip.jpg`` (eight
frames in a row). Where one is missing, the middle frame is decoded from the video instead (in
memory only: the GUI never writes into the workspace behind the pipeline's back).

Requests are served newest first, so when the user scrolls through thousands of clips the
thumbnails that are on screen now load before those scrolled past.

The loader threads start with the cache (at launch), not at the first request: starting a
thread makes the caller wait until the new thread runs, which is as long as another worker
holds the GIL in a C call (135 ms of the GUI thread while a million-clip workspace opened, with
``ThreadPoolExecutor``'s threads started on demand). A request is then an append to a deque and a
put on a ``SimpleQueue`` (neither blocks nor takes a lock the workers hold).
"""

from __future__ import annotations

import queue
import threading
from collections import OrderedDict, deque
from collections.abc import Mapping
from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QImage, QPixmap

from desktop_app.workspace import Workspace

THUMB = "thumb"
STRIP = "strip"
#: Pixmaps kept in memory (a 160×120 thumbnail is about 75 KB).
CACHE_SIZE = 2000


def load_thumbnail_image(ws: Workspace, clip_id: int, clip_path: str | None, kind: str = THUMB) -> QImage:
    """Read a clip's thumbnail (or strip) image, decoding the video where the file is missing.

    Safe to call on a worker thread (QImage, unlike QPixmap, is). Returns a null image when
    neither the file nor the video can be read.
    """
    name = f"{clip_id}.jpg" if kind == THUMB else f"{clip_id}_strip.jpg"
    image = QImage(str(ws.thumbnails_dir / name))
    if not image.isNull() or clip_path is None or ws.data_root is None:
        return image
    return _decode_middle_frame(ws.clip_path(clip_path))


def _decode_middle_frame(path: Path, width: int = 160) -> QImage:
    import cv2

    capture = cv2.VideoCapture(str(path))
    try:
        count = int(capture.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
        if count > 2:
            capture.set(cv2.CAP_PROP_POS_FRAMES, count // 2)
        ok, frame = capture.read()
    finally:
        capture.release()
    if not ok or frame is None:
        return QImage()
    height = max(1, int(round(frame.shape[0] * width / frame.shape[1])))
    frame = cv2.resize(frame, (width, height), interpolation=cv2.INTER_AREA)
    rgb = cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)
    h, w = rgb.shape[:2]
    return QImage(rgb.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()


class ThumbnailCache(QObject):
    """Thumbnails of the open workspace's clips.

    Call :meth:`pixmap`; when it returns ``None`` the image is being loaded and :attr:`ready`
    fires with the clip id once it is there.

    Signals
    -------
    ready(int, str)
        Clip id and kind (``"thumb"`` or ``"strip"``) of an image that just arrived (or failed:
        :meth:`pixmap` then keeps returning ``None`` and :meth:`failed` is true).
    """

    ready = Signal(int, str)
    _loaded = Signal(int, int, str, object)  # generation, clip id, kind, QImage (worker → GUI)

    def __init__(self, parent: QObject | None = None, workers: int = 2) -> None:
        super().__init__(parent)
        # A stack (newest request first): deque.append/pop are atomic, so no lock is shared
        # between the GUI thread and the loaders.
        self._pending: deque[tuple[int, int, str]] = deque()
        self._wake: queue.SimpleQueue[bool] = queue.SimpleQueue()  # one True per request, False: stop
        self._requested: set[tuple[int, str]] = set()
        self._failed: set[tuple[int, str]] = set()
        self._cache: OrderedDict[tuple[int, str], QPixmap] = OrderedDict()
        self._workspace: Workspace | None = None
        self._paths: Mapping[int, str] = {}
        self._generation = 0
        self._loaded.connect(self._on_loaded)
        self._threads = [
            threading.Thread(target=self._serve, name=f"actionlens-thumb-{i}", daemon=True)
            for i in range(workers)
        ]
        for thread in self._threads:
            thread.start()

    def set_workspace(self, workspace: Workspace | None, clip_paths: Mapping[int, str] | None = None) -> None:
        """Forget everything and serve ``workspace``'s clips (``clip_paths``: id → catalog path)."""
        self._generation += 1
        self._pending.clear()
        self._requested.clear()
        self._failed.clear()
        self._cache.clear()
        self._workspace = workspace
        self._paths = clip_paths if clip_paths is not None else {}  # kept, not copied: may be lazy

    def pixmap(self, clip_id: int, kind: str = THUMB) -> QPixmap | None:
        """The cached image, or ``None`` (loading is then scheduled)."""
        key = (clip_id, kind)
        pixmap = self._cache.get(key)
        if pixmap is not None:
            self._cache.move_to_end(key)
            return pixmap
        if key not in self._requested and key not in self._failed and self._workspace is not None:
            self._requested.add(key)
            self._pending.append((self._generation, clip_id, kind))
            self._wake.put(True)
        return None

    def failed(self, clip_id: int, kind: str = THUMB) -> bool:
        """True when the image could not be read."""
        return (clip_id, kind) in self._failed

    def shutdown(self) -> None:
        """Drop pending requests and stop the workers (they finish the image in hand)."""
        self._generation += 1
        self._pending.clear()
        for _ in self._threads:
            self._wake.put(False)

    def _serve(self) -> None:
        while self._wake.get():
            try:
                self._load_newest()
            except RuntimeError:  # the cache's Qt object is gone (the app is closing): stop
                return

    def _load_newest(self) -> None:
        try:
            generation, clip_id, kind = self._pending.pop()
        except IndexError:  # served by another loader, or dropped by set_workspace
            return
        workspace = self._workspace
        if generation != self._generation or workspace is None:
            return
        try:
            image = load_thumbnail_image(workspace, clip_id, self._paths.get(clip_id), kind)
        except Exception:  # an unreadable file is shown as "no thumbnail", never a crash
            image = QImage()
        self._loaded.emit(generation, clip_id, kind, image)

    def _on_loaded(self, generation: int, clip_id: int, kind: str, image: QImage) -> None:
        if generation != self._generation:
            return
        key = (clip_id, kind)
        self._requested.discard(key)
        if image.isNull():
            self._failed.add(key)
        else:
            self._cache[key] = QPixmap.fromImage(image)
            while len(self._cache) > CACHE_SIZE:
                self._cache.popitem(last=False)
        self.ready.emit(clip_id, kind)
