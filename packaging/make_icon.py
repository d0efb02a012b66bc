"""Render resources/icons/segview.svg to the PNG beside it (256 px), with Qt's SVG renderer.

    .venv/bin/python packaging/make_icon.py

Run after editing the SVG; both files are committed. The PNG is what PyInstaller turns
into the Windows .ico and macOS .icns, and what desktops without SVG support show.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ICONS = Path(__file__).resolve().parent.parent / "resources" / "icons"


def main(size: int = 256) -> int:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QGuiApplication, QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])  # noqa: F841
    renderer = QSvgRenderer(str(ICONS / "segview.svg"))
    if not renderer.isValid():
        print("segview.svg is not valid SVG", file=sys.stderr)
        return 1
    image = QImage(size, size, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    renderer.render(painter)
    painter.end()
    out = ICONS / "segview.png"
    image.save(str(out))
    print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
