"""Mask formats: one module each, registered in :mod:`viewer.core.formats.registry`."""
