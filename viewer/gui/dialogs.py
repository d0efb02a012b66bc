"""Small questions the window asks the user: files, folders, export, recent files.

Each is a plain function so tests can replace it (``monkeypatch``) instead of
driving a native dialog.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtWidgets import QDialog, QFileDialog, QInputDialog, QMenu, QMessageBox, QWidget

from viewer.core.formats.registry import FORMATS
from viewer.core.images import IMAGE_EXTENSIONS
from viewer.core.pairing import is_mask_name
from viewer.core.segmentation import Segmentation
from viewer.gui.export_dialog import ExportChoice, ExportDialog

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
               last: ExportChoice | None) -> ExportChoice | None:
    """Run the export dialog; None when cancelled."""
    dialog = ExportDialog(seg, stem, last, parent)
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
    answer = QMessageBox.question(
        parent, "Cannot save to the same file",
        "\n".join(problems) + "\n\nExport the mask in another format instead?")
    return answer == QMessageBox.StandardButton.Yes


def ask_restore(parent: QWidget, session) -> bool:
    """Offer to restore edits autosaved before a crash."""
    source = session.source or "a mask"
    answer = QMessageBox.question(
        parent, "Restore unsaved edits?",
        f"SegView closed with unsaved edits to {source} "
        f"(autosaved {session.saved_at:%Y-%m-%d %H:%M} UTC). Restore them?\n\n"
        "No deletes the autosaved copy.")
    return answer == QMessageBox.StandardButton.Yes


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
        action.setToolTip(str(path))
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
