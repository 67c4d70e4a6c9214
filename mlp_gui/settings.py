"""What the app remembers between sessions, behind one small class over QSettings.

Everything read back is checked: a stored configuration from an older version, or a file
edited by hand, is ignored rather than crashing the start-up.
"""
from __future__ import annotations

import json
from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings

from mlp_engine import TrainConfig

ORGANIZATION = "MLP Studio"
APPLICATION = "MLP Studio"
MAX_RECENT = 8


class Settings:
    """Typed access to the app's QSettings.

    Parameters
    ----------
    path : str or Path, optional
        An INI file to use instead of the platform's settings store (tests, portable use).
        Without it, ``QSettings(ORGANIZATION, APPLICATION)`` is used.
    """

    def __init__(self, path: str | Path | None = None) -> None:
        if path is None:
            self._s = QSettings(ORGANIZATION, APPLICATION)
        else:
            self._s = QSettings(str(path), QSettings.Format.IniFormat)

    @property
    def qsettings(self) -> QSettings:
        """The underlying QSettings, for widgets that keep their own keys (e.g. the Data tab)."""
        return self._s

    def sync(self) -> None:
        self._s.sync()

    # -- window ---------------------------------------------------------------------------------
    def geometry(self) -> QByteArray | None:
        value = self._s.value("window/geometry")
        return value if isinstance(value, QByteArray) and not value.isEmpty() else None

    def set_geometry(self, geometry: QByteArray) -> None:
        self._s.setValue("window/geometry", geometry)

    def window_state(self) -> QByteArray | None:
        value = self._s.value("window/state")
        return value if isinstance(value, QByteArray) and not value.isEmpty() else None

    def set_window_state(self, state: QByteArray) -> None:
        self._s.setValue("window/state", state)

    def current_tab(self) -> str:
        value = self._s.value("window/tab", "")
        return value if isinstance(value, str) else ""

    def set_current_tab(self, name: str) -> None:
        self._s.setValue("window/tab", name)

    # -- training configuration ----------------------------------------------------------------
    def last_config(self) -> TrainConfig | None:
        """The configuration of the last session, or None if absent or no longer valid."""
        text = self._s.value("train/last_config")
        if not isinstance(text, str) or not text:
            return None
        try:
            return TrainConfig.from_dict(json.loads(text))
        except (ValueError, TypeError, AttributeError):
            # Stale (fields renamed since) or hand-edited: start from the defaults instead.
            return None

    def set_last_config(self, config: TrainConfig) -> None:
        self._s.setValue("train/last_config", json.dumps(config.to_dict()))

    # -- recent model files ---------------------------------------------------------------------
    def recent_models(self) -> list[str]:
        text = self._s.value("files/recent_models", "[]")
        try:
            paths = json.loads(text) if isinstance(text, str) else []
        except json.JSONDecodeError:
            return []
        return [p for p in paths if isinstance(p, str)][:MAX_RECENT]

    def add_recent_model(self, path: str | Path) -> list[str]:
        path = str(Path(path).resolve())
        paths = [path] + [p for p in self.recent_models() if p != path]
        self._s.setValue("files/recent_models", json.dumps(paths[:MAX_RECENT]))
        return paths[:MAX_RECENT]

    def remove_recent_model(self, path: str | Path) -> list[str]:
        paths = [p for p in self.recent_models() if p != str(path)]
        self._s.setValue("files/recent_models", json.dumps(paths))
        return paths

    def clear_recent_models(self) -> None:
        self._s.setValue("files/recent_models", "[]")

    # -- folders used by file dialogs -----------------------------------------------------------
    def last_dir(self) -> str:
        value = self._s.value("files/last_dir", "")
        return value if isinstance(value, str) and Path(value).is_dir() else str(Path.home())

    def set_last_dir(self, path: str | Path) -> None:
        p = Path(path)
        self._s.setValue("files/last_dir", str(p if p.is_dir() else p.parent))
