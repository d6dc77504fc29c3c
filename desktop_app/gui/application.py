"""The ``QApplication``: high-DPI, a palette that follows the system, names for QSettings, icon.

A leaf of the GUI: a panel shown on its own (``panels.preview_panel``) and the main window's
:func:`~desktop_app.gui.app.run_app` both make their application here.
"""

from __future__ import annotations

import sys

from PySide6.QtCore import QCoreApplication, QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QGuiApplication, QIcon, QPainter, QPen, QPixmap
from PySide6.QtWidgets import QApplication

from desktop_app import __version__, quiet_video_library_logs

ORGANIZATION = "ActionLens"
APPLICATION = "ActionLens"


def app_icon() -> QIcon:
    """The ActionLens icon (a lens over a play triangle), drawn at several sizes."""
    icon = QIcon()
    for size in (16, 24, 32, 48, 64, 128, 256):
        pixmap = QPixmap(size, size)
        pixmap.fill(Qt.GlobalColor.transparent)
        painter = QPainter(pixmap)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        s = size / 64.0
        painter.setBrush(QBrush(QColor(38, 110, 190)))
        painter.setPen(Qt.PenStyle.NoPen)
        painter.drawEllipse(QRectF(4 * s, 4 * s, 44 * s, 44 * s))
        painter.setBrush(QBrush(QColor(255, 255, 255)))
        painter.drawPolygon([QPointF(20 * s, 15 * s), QPointF(20 * s, 37 * s), QPointF(37 * s, 26 * s)])
        painter.setPen(QPen(QColor(38, 110, 190), 8 * s, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap))
        painter.drawLine(QPointF(42 * s, 42 * s), QPointF(58 * s, 58 * s))
        painter.end()
        icon.addPixmap(pixmap)
    return icon


def create_application(argv: list[str] | None = None) -> QApplication:
    """The ``QApplication`` (created once), set up for ActionLens.

    * High DPI: fractional scale factors are passed through (Qt 6 scales by default), so the
      window is sharp at 125 % and 150 %.
    * Palette: the platform's own (Qt 6.5+ follows the system's light/dark scheme and updates
      live); on platforms whose native style ignores dark mode, the Fusion style is used with
      the platform's palette.
    * Organisation and application names, which :class:`~PySide6.QtCore.QSettings` uses.
    """
    existing = QApplication.instance()
    if isinstance(existing, QApplication):
        return existing
    quiet_video_library_logs()
    QGuiApplication.setHighDpiScaleFactorRoundingPolicy(Qt.HighDpiScaleFactorRoundingPolicy.PassThrough)
    QCoreApplication.setOrganizationName(ORGANIZATION)
    QCoreApplication.setOrganizationDomain("actionlens.invalid")
    QCoreApplication.setApplicationName(APPLICATION)
    QCoreApplication.setApplicationVersion(__version__)
    app = QApplication(list(argv if argv is not None else sys.argv))
    QGuiApplication.setDesktopFileName("actionlens")
    if sys.platform.startswith("linux") and app.style().name().lower() not in ("fusion", "breeze", "oxygen"):
        # The bare "windows" style Qt falls back to without a desktop theme looks dated and ignores
        # the dark scheme; Fusion draws with the palette Qt reads from the platform.
        app.setStyle("Fusion")
    app.setWindowIcon(app_icon())
    return app
