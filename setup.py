"""The package list only; everything else is in pyproject.toml.

resources/ and models/ ship as the packages viewer._resources and viewer._models
(package-dir in pyproject.toml says why). pyproject.toml's ``packages`` can be a
find or a list, not both; finding viewer's subpackages here (with or without an
``__init__.py``) means a new one is never left out of the wheel.
"""

from setuptools import find_namespace_packages, setup

setup(packages=[*find_namespace_packages(include=["viewer", "viewer.*"],
                                         exclude=["*.__pycache__"]),
                "viewer._resources", "viewer._models"])
