"""The review report: JSON, CSV and an HTML page with thumbnails."""

import csv
import json
from html.parser import HTMLParser

import numpy as np
import pytest
from PIL import Image

from viewer.core import metrics, report
from viewer.core.review import Review, State
from viewer.core.segment_table import Segment, SegmentTable
from viewer.core.segmentation import Segmentation

T1 = "2024-05-02T09:00:00.000+00:00"


def _seg(values):
    return Segmentation.from_values(np.asarray(values), void_values=(255,))


GT = _seg([[0, 0, 1, 1], [0, 2, 2, 1], [255, 255, 2, 2]])
PRED = _seg([[0, 1, 1, 1], [0, 2, 3, 1], [0, 255, 2, 2]])


def _items():
    r = Review()
    r.set_state("a.png", State.ACCEPTED, author="ana", when=T1)
    r.set_state("b.png", State.FLAGGED, author="bo", when=T1)
    r.set_segment_state("b.png", 2, State.REJECTED, label="bicycle", when=T1)
    r.add_comment("b.png", "<script>alert(1)</script> & wheel", point=(1, 2), author="bo",
                  when=T1)
    scores = metrics.compare(GT, PRED)
    thumbs = (("prediction", report.thumbnail(seg=PRED)),
              ("diff", report.diff_thumbnail(metrics.diff_map(GT, PRED))))
    return [report.ReportItem("a.png", r.item("a.png"), metrics.compare(GT, GT)),
            report.ReportItem("b.png", r.item("b.png"), scores, thumbs,
                              {"prediction": "pred/b.png"}),
            report.ReportItem("c.png")]


def test_thumbnail_of_a_mask_alone_shows_its_colours():
    values = np.zeros((30, 60), np.int32)
    values[:, 30:] = 1
    seg = _seg(values)
    before = [s.area for s in seg.table]
    thumb = report.thumbnail(seg=seg)
    assert thumb.shape == (80, 160, 3) and thumb.dtype == np.uint8
    assert tuple(thumb[40, 120]) == seg.table[1].color  # alpha 1 without a photo
    assert tuple(thumb[40, 10]) == (48, 48, 48)         # background is hidden
    assert [s.area for s in seg.table] == before        # the table is not touched


def test_thumbnail_blends_over_the_photo_and_handles_wide_ids():
    photo = np.full((200, 100, 3), 200, np.uint8)
    labels = np.zeros((200, 100), np.uint32)
    labels[:100] = 70_000
    seg = Segmentation(labels, SegmentTable([Segment(0, visible=False),
                                             Segment(70_000, color=(0, 0, 0))]))
    thumb = report.thumbnail(photo, seg, size=50)
    assert thumb.shape == (50, 25, 3)
    assert tuple(thumb[5, 5]) == (100, 100, 100) and tuple(thumb[45, 5]) == (200, 200, 200)
    assert report.thumbnail(photo).shape == (160, 80, 3)
    with pytest.raises(ValueError):
        report.thumbnail()


def test_diff_thumbnail_colours():
    thumb = report.diff_thumbnail(metrics.diff_map(GT, PRED), size=8)
    assert thumb.shape == (6, 8, 3)
    # pixel (0, 1) of the 3 x 4 map is a false positive; it covers thumb rows 0-1, cols 2-3
    assert tuple(thumb[0, 2]) == metrics.DIFF_COLORS[metrics.Diff.FALSE_POSITIVE][:3]
    assert tuple(thumb[0, 0]) == (48, 48, 48)


def test_report_files(tmp_path):
    items = _items()
    overall = metrics.scores(metrics.accumulate(i.scores.confusion for i in items if i.scores))
    files = report.write_report(tmp_path / "out", items, overall=overall, title="Batch 7")
    doc = json.loads(files.json.read_text(encoding="utf-8"))
    assert doc["title"] == "Batch 7" and doc["schema"] == "segview-report"
    assert doc["progress"]["text"] == "2 / 3 reviewed"
    assert doc["progress"]["counts"] == {"unreviewed": 1, "accepted": 1, "rejected": 0,
                                         "flagged": 1}
    b = doc["items"][1]
    assert b["state"] == "flagged" and b["segments"]["2"]["state"] == "rejected"
    assert b["comments"][0]["point"] == [1, 2]
    assert b["metrics"]["mean_iou"] == items[1].scores.mean_iou
    assert "confusion" not in b["metrics"]
    assert doc["overall"]["pixel_accuracy"] == overall.pixel_accuracy
    assert doc["items"][2]["metrics"] is None
    assert [t["file"] for t in b["thumbnails"]] == ["thumbs/00002-prediction.png",
                                                    "thumbs/00002-diff.png"]
    for path in files.thumbnails:
        with Image.open(path) as img:
            assert img.mode == "RGB" and max(img.size) == 160

    rows = list(csv.DictReader(files.csv.open(encoding="utf-8")))
    assert [r["item"] for r in rows] == ["a.png", "b.png", "c.png"]
    assert rows[1]["state"] == "flagged" and rows[1]["segments_rejected"] == "1"
    assert rows[1]["comments"] == "1" and "wheel @(1, 2)" in rows[1]["comment_text"]
    assert float(rows[1]["mean_iou"]) == pytest.approx(items[1].scores.mean_iou, abs=1e-4)
    assert rows[2]["mean_iou"] == ""


def test_html_is_escaped_and_links_the_thumbnails(tmp_path):
    files = report.write_report(tmp_path, _items())
    page = files.html.read_text(encoding="utf-8")
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert "2 / 3 reviewed" in page

    class Images(HTMLParser):
        sources = []

        def handle_starttag(self, tag, attrs):
            if tag == "img":
                self.sources.append(dict(attrs)["src"])

    parser = Images()
    parser.feed(page)
    assert parser.sources and all((tmp_path / s).is_file() for s in parser.sources)


def test_report_without_metrics_or_items(tmp_path):
    files = report.write_report(tmp_path, [])
    doc = json.loads(files.json.read_text(encoding="utf-8"))
    assert doc["items"] == [] and doc["overall"] is None
    assert "0 / 0 reviewed" in files.html.read_text(encoding="utf-8")
