"""``python -m desktop_app`` runs the ``actionlens`` command line."""

from desktop_app.cli import main

raise SystemExit(main())
