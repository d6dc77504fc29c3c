"""Drag-and-drop payloads shared by panels: analogy operands (clips, classes, words).

A drag carries ``application/x-actionlens-operands``: a JSON list of operands such as
``[{"kind": "clip", "id": 3, "label": "bounce ball · v_BounceBall_g01_c01"}]``
(``kind`` is ``"clip"``, ``"class"`` or ``"word"``; words carry ``"text"``) plus the labels as
``text/plain`` for other programs.
"""

from __future__ import annotations

import json
from typing import Any

from PySide6.QtCore import QMimeData

OPERANDS_MIME = "application/x-actionlens-operands"
OPERAND_KINDS = ("clip", "class", "word")


def operands_mime_data(operands: list[dict[str, Any]]) -> QMimeData:
    """MIME data for dragging ``operands`` (dicts with ``kind`` and ``id``/``text``, ``label``)."""
    mime = QMimeData()
    mime.setData(OPERANDS_MIME, json.dumps(operands).encode("utf-8"))
    mime.setText("\n".join(str(op.get("label") or op.get("text") or op.get("id")) for op in operands))
    return mime


def parse_operands(mime: QMimeData) -> list[dict[str, Any]]:
    """The operands carried by ``mime`` (empty when it carries none or malformed data)."""
    if not mime.hasFormat(OPERANDS_MIME):
        return []
    try:
        payload = json.loads(bytes(mime.data(OPERANDS_MIME).data()).decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return []
    if not isinstance(payload, list):
        return []
    return [op for op in payload if isinstance(op, dict) and op.get("kind") in OPERAND_KINDS]
