"""Data files shipped with MLP Studio (style sheet, icons, bundled models).

Installed as the package ``mlp_studio_resources`` so both ``mlp_engine`` and ``mlp_gui``
find them after a plain ``pip install .``, not only from the source tree.
"""
from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent


def resource_path(*parts: str) -> Path:
    """Absolute path of a bundled resource, e.g. ``resource_path("models", "mnist.npz")``."""
    return ROOT.joinpath(*parts)
