"""The application object and the ``actionlens app`` command."""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication

from desktop_app.cli import build_parser
from desktop_app.cli.app import run
from desktop_app.gui.app import app_icon, create_application


def test_the_application_is_named_for_settings_and_has_an_icon(qapp):
    assert create_application() is qapp
    icon = app_icon()
    assert not icon.isNull()
    image = icon.pixmap(64, 64).toImage()
    assert image.pixelColor(16, 26).alpha() > 0 and image.pixelColor(1, 62).alpha() == 0
    # the names QSettings files itself under (set here when pytest-qt made the app first)
    QCoreApplication.setOrganizationName("ActionLens")
    assert QCoreApplication.organizationName() == "ActionLens"


def test_app_command_takes_an_optional_workspace():
    parser = build_parser()
    args = parser.parse_args(["app", "/some/ws"])
    assert args.func is run and args.workspace == "/some/ws"
    assert parser.parse_args(["app"]).workspace is None
