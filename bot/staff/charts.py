"""The /stats chart: proposals by district and by topic, stacked by status, and (once answers are
published) the answer loop by district in percent, as a PNG.

Pure (counts in, bytes out) and safe in a worker thread: it builds a matplotlib Figure directly,
never pyplot, so no display, no GUI backend and no global figure state (PNG goes through Agg).
Labels are drawn in DejaVu Sans (shipped with matplotlib), which has every Vietnamese diacritic.
"""

from __future__ import annotations

import io
import math
import textwrap
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
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
    by_answers: str = ""  # answers by district
    series: Mapping[str, str] = field(default_factory=dict)  # answered, implemented, told, liked
    by_answers_topic: str = ""  # answers by topic


SERIES_COLOURS = {"answered": "#4472c4", "implemented": "#2e9e5b", "told": "#f2b134",
                  "liked": "#c8553d"}


def answer_rates(stats: Stats, by: str = "district") -> dict[str, dict[str, float]]:
    """By district (or topic): % of approved proposals answered and carried out, % of answered
    ones told, % of 👍 among the votes."""
    totals: dict[str, Counter[str]] = {}
    for count in stats.answers:
        cell = totals.setdefault(getattr(count, by), Counter())
        for name in ("approved", "answered", "implemented", "told", "up", "down"):
            cell[name] += getattr(count, name)

    def pct(part: int, whole: int) -> float:
        return 100 * part / whole if whole else 0.0

    # No votes is no bar (NaN draws nothing), not a bar at 0 % that reads as "all 👎".
    return {district: {"answered": pct(c["answered"], c["approved"]),
                       "implemented": pct(c["implemented"], c["approved"]),
                       "told": pct(c["told"], c["answered"]),
                       "liked": pct(c["up"], c["up"] + c["down"]) if c["up"] + c["down"]
                       else math.nan}
            for district, c in totals.items() if c["approved"]}


def _totals(stats: Stats, axis: int) -> dict[str, Counter[str]]:
    """Counts by district (axis 0) or topic (axis 1), then by status."""
    table: dict[str, Counter[str]] = {}
    for key, count in stats.by_district_topic_status.items():
        table.setdefault(key[axis], Counter())[key[2]] += count
    return table


def _panel(figure: Figure, position: tuple[int, int, int], title: str,
           rows: Mapping[str, Counter[str]], names: Mapping[str, str],
           labels: ChartLabels) -> None:
    """One horizontal stacked bar chart: a bar per row, a segment per status."""
    axes = figure.add_subplot(*position)
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

    rates = answer_rates(stats)
    rows = 2 if rates else 1  # proposals above; once answers are published, answers below
    figure = Figure(figsize=(12, 5.5 * rows), dpi=100, layout="constrained")
    figure.suptitle(labels.title, fontfamily=FONT, fontsize=14)
    _panel(figure, (rows, 2, 1), labels.by_district, _totals(stats, 0), labels.districts,
           labels)
    _panel(figure, (rows, 2, 2), labels.by_topic, _totals(stats, 1), labels.topics, labels)
    if stats.by_district_topic_status:
        handles, names = figure.axes[0].get_legend_handles_labels()
        figure.legend(handles, names, loc="outside lower center", ncols=len(STATUSES),
                      prop={"family": FONT})
    if rates:
        _answers_panel(figure, 3, labels.by_answers, rates, labels.districts, labels)
        _answers_panel(figure, 4, labels.by_answers_topic, answer_rates(stats, "topic"),
                       labels.topics, labels)
    return figure


def _answers_panel(figure: Figure, index: int, title: str,
                   rates: Mapping[str, Mapping[str, float]], names: Mapping[str, str],
                   labels: ChartLabels) -> None:
    """Grouped horizontal bars: for each district (or topic), one bar per series, in %."""
    axes = figure.add_subplot(2, 2, index)
    keys = sorted(rates, key=lambda key: names.get(key, key))
    height = 0.8 / len(SERIES_COLOURS)
    for index, (series, colour) in enumerate(SERIES_COLOURS.items()):
        positions = [row + index * height for row in range(len(keys))]
        axes.barh(positions, [rates[key][series] for key in keys], height=height, color=colour,
                  label=labels.series.get(series, series))
    axes.set_yticks([row + 0.4 - height / 2 for row in range(len(keys))],
                    [textwrap.fill(names.get(key, key), 24) for key in keys])
    axes.set_xlim(0, 100)
    axes.set_title(title, fontfamily=FONT)
    axes.set_xlabel("%", fontfamily=FONT)
    axes.invert_yaxis()
    axes.legend(prop={"family": FONT}, loc="best")


def stats_png(stats: Stats, labels: ChartLabels) -> bytes:
    """Render the /stats chart to PNG bytes."""
    buffer = io.BytesIO()
    chart_figure(stats, labels).savefig(buffer, format="png")
    return buffer.getvalue()
