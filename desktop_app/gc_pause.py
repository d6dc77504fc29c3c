"""Keep long-lived objects out of the cyclic garbage collector's full passes (issue 12).

A full (generation-2) collection walks every tracked object of the process while holding the
GIL. In an app that has imported Qt, numpy, pyqtgraph, torch and scikit-learn that is
hundreds of thousands of objects and 100–330 ms a pass; when a worker's allocations trigger
one (importing a library, building NLTK's lemma index), the GUI thread waits that long.
:func:`gc.freeze` moves every object alive into a permanent generation that later passes skip;
objects in it that die are still freed by reference counting, only cycles that are garbage at
the moment of freezing are never collected. It is the standard library's tool for this (there
is no per-object alternative).
"""

from __future__ import annotations

import contextlib
import gc
import threading
from collections.abc import Iterator

_lock = threading.RLock()


@contextlib.contextmanager
def long_lived() -> Iterator[None]:
    """Build long-lived objects (an import, an index that lives as long as the process) with the
    collector paused, then freeze what is alive, so no full pass runs meanwhile or walks them
    later. The pause is process-wide: keep the block to building what stays."""
    with _lock:
        enabled = gc.isenabled()
        gc.disable()
        try:
            yield
        finally:
            gc.freeze()
            if enabled:
                gc.enable()


def freeze() -> None:
    """Move every object alive now (the start-up's modules, classes and widgets) out of every
    later full collection."""
    with _lock:
        gc.freeze()
