"""The bad-input corpus: ``generate(root)`` writes every case's files under ``root`` and lists them.

Families (each a function below): byte damage of every file of every format,
JSON poisons for every JSON reader, wrong values in format fields, allocation
bombs, FIFOs and devices where files belong, damaged sidecars beside valid
masks, cut videos, bad model manifests, damaged recovery files, and paths
with NUL bytes or 5000-character names. Every case folder is its own, so a
sniffer that looks at a folder's other files sees only that case's.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from tests.corpus import files
from tests.corpus.bases import Base, make_bases
from tests.corpus.cases import CLEAN, ERROR, OK, Case


class Corpus:
    """Collects cases; ``folder(id)`` is a fresh case folder under the root."""

    def __init__(self, root: Path):
        self.root = root
        self.cases: list[Case] = []
        self.bases: dict[str, Base] = {}

    def folder(self, case_id: str) -> Path:
        path = self.root / case_id
        path.mkdir(parents=True)
        return path

    def rel(self, path: Path) -> str:
        return path.relative_to(self.root).as_posix()

    def add(self, case_id: str, argv: list, expect: str, **kwargs) -> Case:
        assert all(c.id != case_id for c in self.cases), case_id
        case = Case(case_id, [str(a) for a in argv], expect, **kwargs)
        self.cases.append(case)
        return case

    def copy_base(self, case_id: str, base: str) -> tuple[Path, Base]:
        b = self.bases[base]
        folder = self.folder(case_id)
        files.copy_tree(b.folder, folder)
        return folder, b


def generate(root: str | Path) -> list[Case]:
    """Write the corpus under ``root`` (created, must be empty) and return its cases."""
    from tests.corpus import families, families_apps, families_more

    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    corpus = Corpus(root)
    corpus.bases = make_bases(root / "_bases")
    for family in (*families.FAMILIES, *families_more.FAMILIES, *families_apps.FAMILIES):
        family(corpus)
    return corpus.cases


def fifo(path: Path) -> Path:
    os.mkfifo(path)
    return path


def write_cases(cases: list[Case], path: Path) -> Path:
    path.write_text(json.dumps([c.to_json() for c in cases]), encoding="utf-8")
    return path


__all__ = ["CLEAN", "ERROR", "OK", "Corpus", "generate", "fifo", "write_cases"]
