import os

# Qt must never need a screen in tests; set before any test imports PySide6.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np
import pytest


@pytest.fixture
def rng():
    """A seeded generator: tests never touch NumPy's global random state."""
    return np.random.default_rng(12345)
