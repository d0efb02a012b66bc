import gc

import pytest

from viewer import _paths
from viewer.gui import dialogs
from viewer.gui.main_window import MainWindow


@pytest.fixture(autouse=True)
def _collect_in_the_gui_thread():
    """Python's cycle collector runs in whichever thread allocates. Run in a
    worker (a mask being read), it may destroy a window left from an earlier
    test there, and Qt deadlocks on the GIL. The app collects on a GUI-thread
    timer instead (viewer.gui.app); here, after each test, in the main thread."""
    gc.disable()
    yield
    gc.collect()
    gc.enable()


@pytest.fixture(autouse=True)
def _no_waiting_prompts(monkeypatch):
    """Offscreen, a modal question would wait for ever. Unless a test answers
    them itself, windows closed at teardown discard their unsaved edits and
    no start offers a recovery."""
    monkeypatch.setattr(dialogs, "ask_unsaved", lambda parent: "discard")
    monkeypatch.setattr(dialogs, "ask_restore", lambda parent, session: False)


@pytest.fixture
def window(qtbot):
    """The main window with the bundled sample open, shown offscreen."""
    win = MainWindow()
    qtbot.addWidget(win)
    win.resize(1400, 1000)  # room to show the 512 px sample enlarged, unsmoothed
    win.show()
    qtbot.waitExposed(win)
    assert win.open_image(_paths.sample_image(), _paths.sample_mask())
    return win


@pytest.fixture
def edit_window(qtbot, files):
    """A shown window on ``photo.png`` and ``photo_mask.png`` from the test's ``files``."""
    folder = files[0]
    win = MainWindow()
    qtbot.addWidget(win)
    win.resize(1300, 900)
    win.show()
    qtbot.waitExposed(win)
    assert win.open_image(folder / "photo.png", folder / "photo_mask.png")
    return win

