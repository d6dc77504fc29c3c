"""The Qt binding we run on must not leak on signal emission (PySide6 6.12.0 did, and aborted)."""

from __future__ import annotations

import sys

from PySide6.QtCore import QObject, Signal


class _Emitter(QObject):
    bare = Signal()
    carrying = Signal(object)


def test_signal_emit_keeps_reference_counts() -> None:
    emitter = _Emitter()
    emitter.carrying.connect(lambda _value: None)
    before = sys.getrefcount(True)
    for i in range(500):
        emitter.bare.emit()
        emitter.carrying.emit(i)
    # The broken binding drops one reference per emit (-1000 here); allow noise from the runtime.
    assert abs(sys.getrefcount(True) - before) < 50
