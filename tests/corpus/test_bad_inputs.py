"""Issue 16's bad-input corpus: every generated file meets a clear error or a correct result.

The corpus (``generate.py``) is written once per session into a temporary
folder and run by ``runner.py`` in a few child processes; each case below
only asserts its own result. ``STILL_FAILING`` lists the cases that fail on
main while their fixes are landing: each is a strict xfail, so a fix turns it
into an XPASS failure, which says to remove it from the set.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from pathlib import Path

import pytest

from tests.corpus.cases import judge
from tests.corpus.generate import generate, write_cases
from tests.corpus.known_failures import SLOW, STILL_FAILING
from tests.corpus.runner import run_cases

# Generated once, at collection, because the parameters are the case ids; removed at exit.
_ROOT = Path(tempfile.mkdtemp(prefix="segview-corpus-"))
atexit.register(shutil.rmtree, _ROOT, ignore_errors=True)
_CASES = generate(_ROOT / "files")
_IDS = [c.id for c in _CASES]


@pytest.fixture(scope="session")
def corpus_run():
    """Run every case once: (cases by id, results by id)."""
    cases_file = write_cases(_CASES, _ROOT / "cases.json")
    env = {"SEGVIEW_CONFIG_DIR": str(_ROOT / "config"),
           "SEGVIEW_RECOVERY_DIR": str(_ROOT / "recovery"),
           "XDG_DATA_HOME": str(_ROOT / "data"),  # the user models folder
           "SEGVIEW_DEBUG": "1"}  # a bug escapes as its traceback, which the runner records
    results = run_cases(_CASES, _ROOT / "files", cases_file, env=env, unset=("SEGVIEW_MODELS_DIR",))
    return {c.id: c for c in _CASES}, results


def test_the_corpus_is_large_and_covers_every_reader():
    from viewer.core.formats.registry import FORMATS

    assert len(_IDS) >= 300
    text = " ".join(_IDS)
    for spec in FORMATS:
        if spec.write is not None:
            assert f"bytes-{spec.name}-" in text, spec.name
    for family in ("json-", "sidecar-", "fifo-", "npz-", "npy-", "png-", "video-", "render-",
                   "manifest-", "describe-", "recovery-", "settings-", "palette-", "review-",
                   "path-", "coco-rle-counts-", "celantur-17000", "deepstream-5000",
                   "opencv-5000"):
        assert family in text, family


def test_the_xfail_set_names_only_real_cases():
    assert not set(STILL_FAILING) - set(_IDS), sorted(set(STILL_FAILING) - set(_IDS))


@pytest.mark.parametrize("case_id", [
    pytest.param(cid, marks=pytest.mark.xfail(strict=cid not in SLOW,
                                              reason=f"issue 16: {owner} fixes"))
    if (owner := STILL_FAILING.get(cid)) else cid
    for cid in _IDS])
def test_bad_input(corpus_run, case_id):
    cases, results = corpus_run
    case = cases[case_id]
    result = results.get(case_id, {"error": "no result from the runner"})
    why = judge(case, result)
    assert why is None, (f"\ncase:    {case.id} ({case.problem})\ncommand: {case.command()}\n"
                         f"wanted:  {case.expect}\nhappened: {why}")
