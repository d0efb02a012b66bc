"""No injection: report cells a spreadsheet would run are neutralised, HTML is escaped,
and errors from the system are said in a user's words."""

import csv
import errno

import numpy as np
import pytest

from viewer.core import metrics, report
from viewer.core.error_text import describe
from viewer.core.review import Review, State
from viewer.core.segmentation import Segmentation
from viewer.core.text import csv_cell

HOSTILE = ["=HYPERLINK(\"http://evil\",\"x\")", "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)",
           "\tnew", "\rline"]


@pytest.mark.parametrize("text", HOSTILE)
def test_a_cell_a_spreadsheet_would_run_gets_a_quote(text):
    assert csv_cell(text) == "'" + text


@pytest.mark.parametrize("value", ["cat", "", "a=b", "-3", "-0.25", "+4", 7, -1, 0.5, None])
def test_other_cells_are_unchanged(value):
    assert csv_cell(value) == value


def test_report_csv_and_html_hold_hostile_names_as_text(tmp_path):
    review = Review()
    name = '=HYPERLINK("http://evil","<img src=x>.png")'
    review.set_state(name, State.FLAGGED, author="@eve", when="2024-05-02T09:00:00.000+00:00")
    review.add_comment(name, "-1 looks wrong", author="+bob",
                       when="2024-05-02T09:00:00.000+00:00")
    files = report.write_report(tmp_path, [report.ReportItem(name, review.item(name))])
    with open(files.csv, newline="", encoding="utf-8") as handle:
        [row] = list(csv.DictReader(handle))
    assert row["item"] == "'" + name and row["author"] == "'@eve"
    assert row["comment_text"] == "'+bob: -1 looks wrong"
    page = files.html.read_text(encoding="utf-8")
    assert "<img src=x>" not in page and "&lt;img src=x&gt;.png" in page


def test_metrics_csv_neutralises_class_and_item_names(tmp_path):
    values = np.array([[0, 1], [1, 1]])
    gt = Segmentation.from_values(values, names={0: "background", 1: "=1+1"})
    scores = metrics.compare(gt, gt)
    path = metrics.write_metrics_csv(tmp_path / "m.csv", scores, [("@item.png", scores)])
    text = path.read_text(encoding="utf-8")
    assert "'@item.png" in text and "\n@" not in text and ",=" not in text


@pytest.mark.parametrize(("exc", "words"), [
    (ValueError("embedded null byte"), "the file name contains a NUL byte"),
    (OSError(errno.ENAMETOOLONG, "File name too long"), "the file name is too long"),
    (OSError(errno.ENOSPC, "No space left on device"), "the disk is full"),
    (PermissionError(errno.EACCES, "Permission denied"), "permission denied"),
    (IsADirectoryError(errno.EISDIR, "Is a directory"), "it is a folder, not a file"),
    (MemoryError(), "there is not enough memory"),
    (ValueError("Exceeds the limit (4300 digits) for integer string conversion"),
     "a number in it is too long"),
])
def test_system_errors_are_said_in_a_user_s_words(exc, words):
    assert describe(exc) == words


def test_an_unknown_error_has_no_words():
    assert describe(KeyError("x")) is None
