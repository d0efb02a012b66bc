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
    monkeypatch.setattr(dialogs, "ask_unexported", lambda parent, what: "discard")
    monkeypatch.setattr(dialogs, "ask_restore", lambda parent, session: False)


@pytest.fixture(autouse=True)
def shown_messages(monkeypatch) -> list[str]:
    """The texts of the message boxes shown (errors, warnings), recorded instead of
    waiting offscreen for a click; their "Details" go to ``shown_messages.details``."""
    shown = _Shown()

    def record(box):
        shown.append(box.text())
        shown.details.append(box.detailedText())
        shown.formats.append(box.textFormat())
        return 0

    monkeypatch.setattr(dialogs, "run_message", record)
    return shown


class _Shown(list):
    def __init__(self):
        super().__init__()
        self.details: list[str] = []
        self.formats: list = []


@pytest.fixture
def open_window(qtbot):
    """``open_window(image, mask, size)``: a main window shown offscreen with them open."""

    def shown(image, mask, size=(1400, 1000)) -> MainWindow:
        win = MainWindow()
        qtbot.addWidget(win)
        win.resize(*size)
        win.show()
        qtbot.waitExposed(win)
        assert win.open_image(image, mask)
        return win

    return shown


@pytest.fixture
def window(open_window):
    """The main window with the bundled sample open (1400x1000: room to show the 512 px
    sample enlarged, unsmoothed)."""
    return open_window(_paths.sample_image(), _paths.sample_mask())


@pytest.fixture
def edit_window(open_window, files):
    """A shown window on ``photo.png`` and ``photo_mask.png`` from the test's ``files``."""
    folder = files[0]
    return open_window(folder / "photo.png", folder / "photo_mask.png", (1300, 900))

