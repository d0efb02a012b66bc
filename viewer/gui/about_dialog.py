"""Help > About SegView: the version, the bundled models' licences and the libraries' licences.

What it shows comes from :mod:`viewer.about` (headless); the libraries are read from
their installed metadata when the dialog is built, so it lists what actually runs.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from viewer import __version__, _paths, about

ICON_SIZE = 64


class AboutDialog(QDialog):
    """Version, model and library licences, in three tabs."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("About SegView")
        self.models = about.bundled_model_licences()
        self.libraries = about.dependency_licences()
        self.tabs = QTabWidget()
        self.tabs.addTab(self._about_tab(), "SegView")
        self.tabs.addTab(self._models_tab(), "Bundled models")
        self.tabs.addTab(self._libraries_tab(), "Libraries")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs)
        layout.addWidget(buttons)
        self.resize(720, 480)

    # -- tabs --------------------------------------------------------------------------
    def _about_tab(self) -> QWidget:
        page = QWidget()
        icon = QLabel()
        pixmap = QPixmap(str(_paths.resources_dir() / "icons" / "segview.png"))
        if not pixmap.isNull():
            icon.setPixmap(pixmap.scaled(ICON_SIZE, ICON_SIZE, Qt.AspectRatioMode.KeepAspectRatio,
                                         Qt.TransformationMode.SmoothTransformation))
        icon.setAlignment(Qt.AlignmentFlag.AlignTop)
        from PySide6 import __version__ as pyside_version

        self.version_label = QLabel(f"<h2>SegView {__version__}</h2>")
        self.details_label = QLabel(
            "A desktop viewer and editor for image and video segmentation masks.<br><br>"
            f"Licence: {about.project_licence()}<br>"
            f"{about.version_text()}, Qt for Python {pyside_version}<br>"
            f"Resources: {_paths.resources_dir()}")
        self.details_label.setWordWrap(True)
        self.details_label.setTextInteractionFlags(
            Qt.TextInteractionFlag.TextSelectableByMouse)
        text = QVBoxLayout()
        text.addWidget(self.version_label)
        text.addWidget(self.details_label)
        text.addStretch(1)
        row = QHBoxLayout(page)
        row.addWidget(icon)
        row.addLayout(text, 1)
        return page

    def _models_tab(self) -> QWidget:
        page = QWidget()
        self.models_table = _table(["Model", "Licence", "Source"],
                                   [(f"{m.name} ({m.id})", m.licence, m.source)
                                    for m in self.models])
        self.licence_text = QPlainTextEdit()
        self.licence_text.setReadOnly(True)
        self.models_table.currentCellChanged.connect(lambda row, *_: self._show_licence(row))
        layout = QVBoxLayout(page)
        layout.addWidget(self.models_table, 1)
        layout.addWidget(QLabel("Licence text:"))
        layout.addWidget(self.licence_text, 2)
        if self.models:
            self.models_table.selectRow(0)
            self._show_licence(0)
        return page

    def _libraries_tab(self) -> QWidget:
        page = QWidget()
        self.libraries_table = _table(["Library", "Version", "Licence"],
                                      [(p.name, p.version, p.licence) for p in self.libraries])
        for row, package in enumerate(self.libraries):
            self.libraries_table.item(row, 0).setToolTip(package.summary)
        note = QLabel("Read from the installed packages' metadata. Each licence's full text "
                      "is in the package's files.")
        note.setWordWrap(True)
        layout = QVBoxLayout(page)
        layout.addWidget(self.libraries_table)
        layout.addWidget(note)
        return page

    def _show_licence(self, row: int) -> None:
        path = self.models[row].licence_file if 0 <= row < len(self.models) else None
        self.licence_text.setPlainText(path.read_text("utf-8") if path else "")


def _table(headers: list[str], rows: list[tuple[str, ...]]) -> QTableWidget:
    table = QTableWidget(len(rows), len(headers))
    table.setHorizontalHeaderLabels(headers)
    table.verticalHeader().hide()
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setWordWrap(True)
    for r, values in enumerate(rows):
        for c, value in enumerate(values):
            item = QTableWidgetItem(value)
            item.setToolTip(value)
            table.setItem(r, c, item)
    header = table.horizontalHeader()
    for c in range(len(headers) - 1):
        header.setSectionResizeMode(c, QHeaderView.ResizeMode.ResizeToContents)
    header.setSectionResizeMode(len(headers) - 1, QHeaderView.ResizeMode.Stretch)
    return table


def show_about(parent: QWidget) -> AboutDialog:
    """Open the About dialog without blocking (``open()``, never ``exec()``); it deletes
    itself when closed."""
    dialog = AboutDialog(parent)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.open()
    return dialog
