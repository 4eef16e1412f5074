"""The /stats chart: a real PNG, drawn from the numbers it is given."""

from __future__ import annotations

import struct

from matplotlib.patches import Rectangle

from bot.staff.charts import ChartLabels, chart_figure, stats_png
from bot.staff.moderation import Stats
from bot.staff.roles import PROVINCE

PNG = b"\x89PNG\r\n\x1a\n"
LABELS = ChartLabels(
    title="Biểu đồ ý kiến theo huyện và chủ đề", by_district="Theo huyện",
    by_topic="Theo chủ đề", count="Số ý kiến",
    districts={"DHA": "Huyện Đắk Hà", "KTM": "Thành phố Kon Tum"},
    topics={"injuries": "Tai nạn thương tích, đuối nước, giao thông",
            "online": "Bảo vệ trẻ em trên môi trường mạng"},
    statuses={"pending": "chờ duyệt", "approved": "đã duyệt", "rejected": "từ chối",
              "safeguarding": "bảo vệ trẻ em"})
STATS = Stats(
    PROVINCE,
    {("DHA", "injuries", "pending"): 3, ("DHA", "online", "approved"): 2,
     ("KTM", "injuries", "rejected"): 1, ("KTM", "online", "safeguarding"): 4},
    {"10-12": 7}, {None: 7}, children=7, groups=3)


def _size(png: bytes) -> tuple[int, int]:
    """Width and height from the IHDR chunk."""
    assert png[12:16] == b"IHDR"
    width, height = struct.unpack(">II", png[16:24])
    return width, height


def _bars(axes_index: int) -> dict[str, float]:
    """Total bar length per tick label of one panel."""
    axes = chart_figure(STATS, LABELS).axes[axes_index]
    labels = [tick.get_text() for tick in axes.get_yticklabels()]
    totals = dict.fromkeys(labels, 0.0)
    for patch in axes.patches:
        assert isinstance(patch, Rectangle)
        row = round(patch.get_y() + patch.get_height() / 2)
        totals[labels[row]] += patch.get_width()
    return totals


def test_the_chart_is_a_real_png() -> None:
    png = stats_png(STATS, LABELS)
    assert png.startswith(PNG) and png.endswith(b"IEND\xaeB`\x82")
    width, height = _size(png)
    assert 800 <= width <= 2000 and 400 <= height <= 1200
    assert 10_000 < len(png) < 10 * 1024 * 1024  # well under sendPhoto's limit


def test_the_bars_are_the_numbers_given() -> None:
    assert _bars(0) == {"Huyện Đắk Hà": 5, "Thành phố Kon Tum": 5}
    assert _bars(1) == {"Tai nạn thương tích,\nđuối nước, giao thông": 4,
                        "Bảo vệ trẻ em trên môi\ntrường mạng": 6}


def test_different_numbers_make_a_different_chart() -> None:
    fewer = Stats(PROVINCE, {("DHA", "injuries", "pending"): 1}, {}, {}, children=1, groups=0)
    assert stats_png(fewer, LABELS) != stats_png(STATS, LABELS)


def test_no_proposals_yet_still_draws() -> None:
    empty = Stats(PROVINCE, {}, {}, {}, children=0, groups=0)
    assert stats_png(empty, LABELS).startswith(PNG)
