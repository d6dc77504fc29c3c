"""The selection shared by every panel."""

from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtCore import QObject, Signal


class SelectionModel(QObject):
    """The set of selected clip ids, the same selection in every panel.

    Signals
    -------
    changed(frozenset[int], str)
        The new selection and the ``source`` tag of whoever changed it.
    """

    changed = Signal(object, str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._clip_ids: frozenset[int] = frozenset()

    @property
    def clip_ids(self) -> frozenset[int]:
        """The selected clip ids."""
        return self._clip_ids

    def __len__(self) -> int:
        return len(self._clip_ids)

    def __contains__(self, clip_id: object) -> bool:
        return clip_id in self._clip_ids

    def set(self, clip_ids: Iterable[int], source: str = "") -> None:
        """Replace the selection."""
        new = frozenset(int(i) for i in clip_ids)
        if new != self._clip_ids:
            self._clip_ids = new
            self.changed.emit(new, source)

    def add(self, clip_ids: Iterable[int], source: str = "") -> None:
        """Add clips to the selection."""
        self.set(self._clip_ids | {int(i) for i in clip_ids}, source)

    def remove(self, clip_ids: Iterable[int], source: str = "") -> None:
        """Remove clips from the selection."""
        self.set(self._clip_ids - {int(i) for i in clip_ids}, source)

    def clear(self, source: str = "") -> None:
        """Select nothing."""
        self.set((), source)
