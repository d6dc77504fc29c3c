"""The categorical palette: colorcet's Glasbey colours, kept in the user cache after the first read."""

from __future__ import annotations

import subprocess
import sys

import numpy as np

from desktop_app.gui.panels import map_colours


def test_the_palette_is_colorcets_and_is_read_from_the_cache_afterwards(tmp_path, monkeypatch):
    import colorcet

    monkeypatch.setenv("ACTIONLENS_CACHE", str(tmp_path))
    expected = np.round(np.asarray(colorcet.glasbey_category10) * 255).astype(np.uint8)
    first = map_colours._cached_palette()
    assert np.array_equal(first, expected)
    entry = map_colours._palette_cache()
    assert entry.is_file() and entry.parent.parent == tmp_path
    # A later process reads the entry and never imports colorcet (nor matplotlib with it).
    code = (
        "import sys; from desktop_app.gui.panels import map_colours as m; p = m._palette(); "
        "print(p.shape, 'colorcet' in sys.modules, 'matplotlib' in sys.modules)"
    )
    env = {"ACTIONLENS_CACHE": str(tmp_path), "QT_QPA_PLATFORM": "offscreen", "PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert out.stdout.split() == ["(256,", "3)", "False", "False"]
    # A damaged entry is made again from colorcet.
    entry.write_bytes(b"not a palette")
    assert np.array_equal(map_colours._cached_palette(), expected)
    assert np.array_equal(np.load(entry), expected)
