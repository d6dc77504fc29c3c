"""The ActionLens desktop application (PySide6).

Layout of this package (STYLE habits 2–5):

* :mod:`~desktop_app.gui.models` — small typed models with change signals (the open workspace and
  its active run, the clip selection, the clip being played, the current query). Panels read and
  write these and never import each other.
* :mod:`~desktop_app.gui.tasks` — runs plain ``fn(*args, progress)`` functions on worker threads,
  one slot per owner, results delivered to the GUI thread.
* :mod:`~desktop_app.gui.panels` — one module per panel and the panel registry
  (:data:`~desktop_app.gui.panels.PANELS`) the main window builds its docks from.
* :mod:`~desktop_app.gui.main_window`, :mod:`~desktop_app.gui.app` — the window and the
  application entry point.

Importing this package is cheap: nothing heavy (torch, sklearn, umap, gensim, nltk) is imported
before a task needs it.
"""
