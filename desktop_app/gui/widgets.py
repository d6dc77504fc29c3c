"""Small widgets that several panels share."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QStackedWidget, QWidget


class MessageStack(QStackedWidget):
    """A panel's content, or in its place a centred message (no embeddings yet, an error).

    Rich text, so a message can carry the command to run or a link.
    """

    def __init__(self, content: QWidget, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.message = QLabel()
        self.message.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.message.setWordWrap(True)
        self.message.setMargin(16)
        self.message.setTextFormat(Qt.TextFormat.RichText)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.content = content
        self.addWidget(self.message)
        self.addWidget(content)

    def show_message(self, text: str) -> None:
        """Show ``text`` in place of the content."""
        self.message.setText(text)
        self.setCurrentWidget(self.message)

    def show_content(self) -> None:
        """Show the content."""
        self.setCurrentWidget(self.content)
