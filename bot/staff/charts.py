"""The /stats chart: proposals by district and by topic, stacked by status, as a PNG.

Pure (counts in, bytes out) and safe in a worker thread: it builds a matplotlib Figure directly,
never pyplot, so no display, no GUI backend and no global figure state (PNG goes through Agg).
Labels are drawn in DejaVu Sans (shipped with matplotlib), which has every Vietnamese diacritic.
"""

from __future__ import annotations

import io
import textwrap
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.staff.moderation import Stats

if TYPE_CHECKING:  # matplotlib loads only when a chart is drawn (it is large)
    from matplotlib.figure import Figure

FONT = "DejaVu Sans"
STATUSES = ("pending", "approved", "rejected", "safeguarding")
COLOURS = {"pending": "#f2b134", "approved": "#2e9e5b", "rejected": "#c8553d",
           "safeguarding": "#6c5b7b"}


@dataclass(frozen=True)
class ChartLabels:
    """The words on the chart, in the reader's language; unknown codes are shown as they are."""

    title: str
    by_district: str
    by_topic: str
    count: str
    districts: Mapping[str, str]
    topics: Mapping[str, str]
    statuses: Mapping[str, str]


def _totals(stats: Stats, axis: int) -> dict[str, Counter[str]]:
    """Counts by district (axis 0) or topic (axis 1), then by status."""
    table: dict[str, Counter[str]] = {}
    for key, count in stats.by_district_topic_status.items():
        table.setdefault(key[axis], Counter())[key[2]] += count
    return table


def _panel(figure: Figure, position: int, title: str, rows: Mapping[str, Counter[str]],
           names: Mapping[str, str], labels: ChartLabels) -> None:
    """One horizontal stacked bar chart: a bar per row, a segment per status."""
    axes = figure.add_subplot(1, 2, position)
    keys = sorted(rows, key=lambda key: names.get(key, key))
    ticks: Sequence[str] = [textwrap.fill(names.get(key, key), 24) for key in keys]
    left = [0] * len(keys)
    for status in [s for s in STATUSES if any(rows[k][s] for k in keys)]:
        widths = [rows[key][status] for key in keys]
        axes.barh(ticks, widths, left=left, color=COLOURS[status],
                  label=labels.statuses.get(status, status))
        left = [a + b for a, b in zip(left, widths, strict=True)]
    axes.set_title(title, fontfamily=FONT)
    axes.set_xlabel(labels.count, fontfamily=FONT)
    axes.invert_yaxis()
    from matplotlib.ticker import MaxNLocator

    axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    for tick in axes.get_yticklabels():
        tick.set_fontfamily(FONT)


def chart_figure(stats: Stats, labels: ChartLabels) -> Figure:
    """The chart as a Figure (tests read its bars); `stats_png` renders it."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=(12, 5.5), dpi=100, layout="constrained")
    figure.suptitle(labels.title, fontfamily=FONT, fontsize=14)
    _panel(figure, 1, labels.by_district, _totals(stats, 0), labels.districts, labels)
    _panel(figure, 2, labels.by_topic, _totals(stats, 1), labels.topics, labels)
    if stats.by_district_topic_status:
        handles, names = figure.axes[0].get_legend_handles_labels()
        figure.legend(handles, names, loc="outside lower center", ncols=len(STATUSES),
                      prop={"family": FONT})
    return figure


def stats_png(stats: Stats, labels: ChartLabels) -> bytes:
    """Render the /stats chart to PNG bytes."""
    buffer = io.BytesIO()
    chart_figure(stats, labels).savefig(buffer, format="png")
    return buffer.getvalue()
