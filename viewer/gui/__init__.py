"""The desktop GUI (PySide6). Sits on :mod:`viewer.core`; never imported by it."""
