import pytest

from viewer import _paths
from viewer.gui.main_window import MainWindow


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
