"""Small helpers shared by the widgets' QTableWidgets."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QTableWidget, QTableWidgetItem


def set_row(table: QTableWidget, row: int, values, bold: bool = False) -> None:
    """Fill ``row`` of ``table`` with ``values`` (strings): the first column as a label, the
    others right-aligned as numbers; ``bold`` for totals and averages."""
    for col, value in enumerate(values):
        item = QTableWidgetItem(value)
        if col:
            item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if bold:
            font = item.font()
            font.setBold(True)
            item.setFont(font)
        table.setItem(row, col, item)
