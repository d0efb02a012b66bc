"""Guards against Qt binding bugs that would crash the app in use, not just in tests."""

import sys

import pytest
from PySide6.QtCore import QObject, Signal

pytestmark = pytest.mark.gui


class _Emitter(QObject):
    changed = Signal(object)


def test_emitting_a_signal_keeps_reference_counts():
    # PySide6 6.12.0 dropped a reference to True on every emit(); after a few
    # thousand (hovering the canvas emits per mouse move) Python 3.11 aborts
    # with "bool_dealloc: deallocating True or False".
    emitter = _Emitter()
    emitter.changed.connect(lambda value: None)
    emitter.changed.emit(1)
    before = sys.getrefcount(True)
    for _ in range(200):
        emitter.changed.emit(1)
    assert sys.getrefcount(True) >= before - 5
