"""PySide6 desktop app of MLP Studio."""
