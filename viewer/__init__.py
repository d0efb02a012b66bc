"""SegView: view, inspect, edit and export segmentation masks."""

__version__ = "0.1.0"
