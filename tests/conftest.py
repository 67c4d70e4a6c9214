import os

# Qt must never need a screen in tests; set before any test imports PySide6.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np
import pytest


@pytest.fixture
def rng():
    """A seeded generator: tests never touch NumPy's global random state."""
    return np.random.default_rng(12345)


@pytest.fixture
def isolated_env(tmp_path, monkeypatch):
    """Point every user/data/cache location into tmp_path and hide the real data; no proxy
    for the local HTTP servers of the download tests. Returns tmp_path."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("MLP_STUDIO_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("MLP_STUDIO_DATA", raising=False)
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    return tmp_path
