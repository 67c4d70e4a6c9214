"""Widgets of the MLP Studio window, one class per area."""
