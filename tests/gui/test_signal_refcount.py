"""PySide6 6.12.0 lost a reference to True on every signal emit, aborting Python 3.11 after
a few thousand emits (about ten epochs of per-batch reports). Guard against a regression."""
import subprocess
import sys

CODE = """
import mlp_gui
from PySide6.QtCore import QCoreApplication, QObject, Signal
app = QCoreApplication([])
class P(QObject):
    ping = Signal(object)
p = P()
for i in range(30000):
    p.ping.emit(i)
print("survived")
"""


def test_many_signal_emits_do_not_crash_the_interpreter():
    res = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True, timeout=60)
    assert res.returncode == 0 and "survived" in res.stdout, res.stderr[-2000:]
