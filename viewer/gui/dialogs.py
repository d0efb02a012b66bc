"""Small questions the window asks the user: files, folders, export, recent files.

Each is a plain function so tests can replace it (``monkeypatch``) instead of
driving a native dialog.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QFileDialog, QInputDialog, QMenu, QMessageBox, QWidget

from viewer.core.error_text import describe
from viewer.core.errors import ViewerError
from viewer.core.formats.registry import FORMATS
from viewer.core.images import IMAGE_EXTENSIONS
from viewer.core.pairing import is_mask_name
from viewer.core.segmentation import Segmentation
from viewer.gui.export_dialog import ExportChoice, ExportDialog
from viewer.gui.richtext import tip

IMAGE_FILTER = ("Images (" + " ".join(f"*{ext}" for ext in sorted(IMAGE_EXTENSIONS)) + ")"
                ";;All files (*)")


def mask_filter() -> str:
    """File-dialog filter with every extension a registered format reads."""
    extensions = sorted({ext for spec in FORMATS if spec.read for ext in spec.extensions})
    return f"Masks ({' '.join('*' + ext for ext in extensions)});;All files (*)"


def ask_open_file(parent: QWidget, title: str, folder: str, filters: str) -> str:
    """The path the user picked, or "" when cancelled."""
    path, _ = QFileDialog.getOpenFileName(parent, title, folder, filters)
    return path


def ask_save_file(parent: QWidget, title: str, suggested: str, filters: str) -> str:
    """The path the user chose to write, or "" when cancelled."""
    path, _ = QFileDialog.getSaveFileName(parent, title, suggested, filters)
    return path


def ask_folder(parent: QWidget, title: str, folder: str) -> str:
    """The folder the user picked, or "" when cancelled."""
    return QFileDialog.getExistingDirectory(parent, title, folder)


def ask_export(parent: QWidget, seg: Segmentation, stem: str,
               last: ExportChoice | None, photo: Path | None = None) -> ExportChoice | None:
    """Run the export dialog; None when cancelled."""
    dialog = ExportDialog(seg, stem, last, parent, photo=photo)
    if dialog.exec() == QDialog.DialogCode.Accepted:
        return dialog.choice()
    return None


def ask_text(parent: QWidget, title: str, label: str, text: str = "") -> str | None:
    """A line of text (stripped), or None when cancelled or empty."""
    value, ok = QInputDialog.getText(parent, title, label, text=text)
    return value.strip() or None if ok else None


def ask_int(parent: QWidget, title: str, label: str, value: int, low: int,
            high: int) -> int | None:
    """A whole number in ``[low, high]``, or None when cancelled."""
    number, ok = QInputDialog.getInt(parent, title, label, value, low, high)
    return number if ok else None


def ask_unsaved(parent: QWidget) -> str:
    """"save", "discard" or "cancel" for unsaved edits."""
    button = QMessageBox.StandardButton
    answer = QMessageBox.question(
        parent, "Unsaved edits", "The mask has edits that are not saved. Save them?",
        button.Save | button.Discard | button.Cancel, button.Save)
    return {button.Save: "save", button.Discard: "discard"}.get(answer, "cancel")


def ask_unexported(parent: QWidget, what: str) -> str:
    """"save" (export), "discard" or "cancel" for a video's unexported frame edits."""
    button = QMessageBox.StandardButton
    box = QMessageBox(QMessageBox.Icon.Question, "Unexported video edits",
                      f"{what} not exported yet. Export the video's masks now?",
                      button.Save | button.Discard | button.Cancel, parent)
    box.button(button.Save).setText("Export…")
    box.setDefaultButton(button.Save)
    answer = box.exec()
    return {button.Save: "save", button.Discard: "discard"}.get(answer, "cancel")


def ask_export_instead(parent: QWidget, problems: list[str]) -> bool:
    """Say why the mask cannot be saved to its own file; True to export instead."""
    box = plain_box(QMessageBox.Icon.Question, "Cannot save to the same file",
                    "\n".join(problems) + "\n\nExport the mask in another format instead?",
                    parent, QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No)
    return box.exec() == QMessageBox.StandardButton.Yes


def ask_restore(parent: QWidget, session) -> bool:
    """Offer to restore edits autosaved by a window that crashed."""
    return restore_box(parent, session).exec() == QMessageBox.StandardButton.Yes


def restore_box(parent: QWidget | None, session) -> QMessageBox:
    """The question :func:`ask_restore` asks (the file name shown as written)."""
    source = session.source or "a mask"
    return plain_box(QMessageBox.Icon.Question, "Restore unsaved edits?",
                     f"SegView closed with unsaved edits to {source} "
                     f"(autosaved {session.saved_at:%Y-%m-%d %H:%M} UTC). Restore them?\n\n"
                     "No deletes the autosaved copy.", parent,
                     QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No)


def tell_skipped_recovery(parent: QWidget, lines: list[str]) -> None:
    """Say which recovery files were damaged and skipped (does not wait for an answer)."""
    # One text: the informative label of a message box may take markup.
    box = plain_box(QMessageBox.Icon.Warning, "Recovery files skipped",
                    "These autosaved files could not be used and were skipped:\n\n"
                    + "\n".join(lines), parent)
    box.setModal(False)
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    box.show()


def show_error(parent: QWidget, title: str, error: BaseException, *,
               note: str | None = None) -> QMessageBox:
    """Show an error in a user's words, naming the file; technical text under "Details".

    A :class:`ViewerError` already says what is wrong with which file. Other
    exceptions are bugs or surprises: a short sentence, with the exception and
    its traceback in the expandable Details section.
    """
    text, details = error_message(title, error)
    box = plain_box(QMessageBox.Icon.Critical, title, f"{text}\n\n{note}" if note else text,
                    parent)
    if details:
        box.setDetailedText(details)
    run_message(box)
    return box


def error_message(title: str, error: BaseException) -> tuple[str, str | None]:
    """The one-line text of an error dialog, and its technical details (or None)."""
    details = getattr(error, "details", None)
    if isinstance(error, ViewerError):
        return str(error), details
    words = describe(error)
    trace = "".join(traceback.format_exception(error)).strip()
    if words is not None:
        where = getattr(error, "filename", None)
        return (f"{title}: {where}: {words}" if where else f"{title}: {words}"), trace
    return (f"{title}: something went wrong that SegView did not expect. "
            "The details below help to report it."), trace


def plain_box(icon: QMessageBox.Icon, title: str, text: str, parent: QWidget | None,
              buttons: QMessageBox.StandardButton = QMessageBox.StandardButton.Ok
              ) -> QMessageBox:
    """A message box that shows ``text`` as written: file names like ``<b>.png`` are not markup."""
    box = QMessageBox(icon, title, text, buttons, parent)
    box.setTextFormat(Qt.TextFormat.PlainText)
    return box


def run_message(box: QMessageBox) -> int:
    """Show a modal message box (tests replace this to record it instead of waiting)."""
    return box.exec()


def run_dialog(dialog: QDialog) -> bool:
    """Show a modal dialog; True when accepted (tests replace this to answer it)."""
    return dialog.exec() == QDialog.DialogCode.Accepted


def fill_recent_menu(menu: QMenu, paths: list[Path], open_path: Callable[[Path], object],
                     clear: Callable[[], None]) -> None:
    """List ``paths`` in ``menu`` (missing ones greyed out) with a "Clear" entry."""
    menu.clear()
    for number, path in enumerate(paths, 1):
        label = f"&{number} {path.name or path}" if number < 10 else f"{path.name or path}"
        action = menu.addAction(label + ("/" if path.is_dir() else ""))
        action.setToolTip(tip(str(path)))
        action.setStatusTip(str(path))
        action.setEnabled(path.exists())
        action.triggered.connect(lambda _=False, p=path: open_path(p))
    if not paths:
        menu.addAction("(none)").setEnabled(False)
    menu.addSeparator()
    menu.addAction("&Clear list", clear).setEnabled(bool(paths))


def sort_dropped(paths: list[Path], have_image: bool) -> tuple[Path | None, Path | None]:
    """Split dropped files into (image or folder, mask).

    One folder opens the folder. Of two files, the one named or typed as a mask
    is the mask. One file is a mask for the open image when it looks like a
    mask (``_mask`` name, or not an image type), else a new image.
    """
    if any(p.is_dir() for p in paths):
        return next(p for p in paths if p.is_dir()), None
    if len(paths) >= 2:
        first, second = paths[:2]
        if _looks_like_mask(first) and not _looks_like_mask(second):
            first, second = second, first
        return first, second
    path = paths[0]
    if have_image and _looks_like_mask(path):
        return None, path
    return path, None


def _looks_like_mask(path: Path) -> bool:
    return is_mask_name(path.name) or path.suffix.lower() not in IMAGE_EXTENSIONS
