"""The thumbnail cache: images load on threads started with the cache, never at a request."""

from __future__ import annotations

import threading

from desktop_app.gui.thumbnails import ThumbnailCache
from desktop_app.workspace import Workspace


def test_requests_start_no_thread_and_every_thumbnail_arrives(qtbot, tiny_workspace):
    ws = Workspace.open(tiny_workspace)
    before = {t.ident for t in threading.enumerate()}
    cache = ThumbnailCache(workers=2)
    try:
        cache.set_workspace(ws, ws.catalog.clip_paths())
        threads = {t.ident for t in threading.enumerate()}
        arrived: list[int] = []
        cache.ready.connect(lambda clip_id, _kind: arrived.append(clip_id))
        clip_ids = list(range(ws.catalog.num_clips()))
        assert all(cache.pixmap(c) is None for c in clip_ids)  # all scheduled
        # A request only queues work for the loaders started with the cache: starting a thread
        # would make the GUI thread wait for the GIL that another worker may hold.
        assert {t.ident for t in threading.enumerate()} == threads
        qtbot.waitUntil(lambda: len(arrived) == len(clip_ids), timeout=20_000)
        assert sorted(arrived) == clip_ids
        assert all(cache.pixmap(c) is not None and not cache.pixmap(c).isNull() for c in clip_ids)
        assert {t.ident for t in threading.enumerate()} == threads
    finally:
        cache.shutdown()
        ws.close()
    # Shut down, its loaders end.
    qtbot.waitUntil(lambda: {t.ident for t in threading.enumerate()} <= before, timeout=5_000)
