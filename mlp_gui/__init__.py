"""PySide6 desktop app of MLP Studio."""
import sys

from PySide6.QtCore import QObject, Signal


def protect_bool_refcounts() -> bool:
    """Work around a PySide6 6.12.0 reference-count bug in ``SignalInstance.emit``; True if applied.

    pyproject.toml excludes PySide6-Essentials 6.12.0, so a normal install never needs this;
    it guards an environment that has that version anyway (the probe below detects it).

    ``emit()`` returns ``True`` without taking a reference to it, so every emission whose
    result is dropped costs the interpreter one reference to ``True``. On Python 3.11 the
    count starts around 5000 and the interpreter aborts ("bool_dealloc: deallocating True")
    when it reaches zero: about ten epochs of per-batch reports. Python 3.12 made ``True``
    and ``False`` immortal; here we emulate that by adding 2**40 references, so the leak
    can never reach zero. The bug is detected with one probe emission, so a fixed PySide6
    (or Python 3.12+) leaves the interpreter untouched. Idempotent.
    """
    if sys.version_info >= (3, 12) or getattr(protect_bool_refcounts, "_applied", False):
        return False

    class _Probe(QObject):
        ping = Signal()

    probe = _Probe()
    before = sys.getrefcount(True)
    probe.ping.emit()
    if sys.getrefcount(True) >= before:
        return False
    import ctypes

    for obj in (True, False):
        # ob_refcnt is the first field of every CPython object.
        ctypes.c_ssize_t.from_address(id(obj)).value += 1 << 40
    protect_bool_refcounts._applied = True
    return True


protect_bool_refcounts()
