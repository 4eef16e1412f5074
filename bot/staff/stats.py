"""/stats for staff: the counts of their areas as text and, where the channel shows pictures,
as a chart (bot.staff.charts): proposals by area, topic and status, the answer loop (answered,
carried out, children told, 👍), languages and translations, age bands and sexes.

One forum year at a time, the config's unless `/stats 2023` asks for another: a year's areas
and its words are its own (the 2023 forum's districts, "Theo huyện"; a commune forum's, "Theo
xã, phường"); the other years holding proposals are named under the total."""

from __future__ import annotations

import asyncio
import html
from collections.abc import Callable, Mapping, Sequence

from bot.staff import charts
from bot.staff.chat import Caller, pages
from bot.staff.moderation import Moderation, Refused, Stats
from bot.staff.words import Words
from bot.transport.outbox import Message


def _pct(part: int, whole: int) -> str:
    return f"{100 * part / whole:.0f}%" if whole else "-"


class StatsDesk:
    def __init__(self, moderation: Moderation, words: Words,
                 refused: Callable[[Caller, Refused], None]) -> None:
        """`refused`: how the staff desk words a refusal."""
        self.moderation, self.words, self.refused = moderation, words, refused

    async def show(self, caller: Caller, chart: bool = True, args: Sequence[str] = ()) -> None:
        """/stats [year]: the counts of a forum year (the config's by default) as text and,
        where the channel shows pictures, as a chart.

        Read-only: call it before opening the update's unit of work (the chart takes a moment
        to draw and no transaction should wait for it); `caller.work` only collects messages.
        """
        config = self.words.config
        year = config.forum_year
        if args:
            if len(args) > 1 or not (args[0].isdigit() and 2000 <= int(args[0]) <= 2100):
                caller.send(self.words.text("staff.stats.usage", caller.lang,
                                            year=config.forum_year))
                return
            year = int(args[0])
        stats = await self.moderation.stats(caller.user_id, year)
        if isinstance(stats, Refused):
            self.refused(caller, stats)
            return
        level = config.level_in(year)
        for text in pages(self._stats_lines(stats, caller.lang, level)):  # in parts
            caller.send(text)
        if chart and stats.total:  # nothing yet: the text says so, no empty axes
            png = await asyncio.to_thread(charts.stats_png, stats,
                                          self._chart_labels(caller.lang, level, year))
            caller.work.add(Message(caller.chat_id, self.words.text_at(
                level, "staff.stats.chart", caller.lang, year=year), op="photo",
                body=png, channel=caller.channel))

    def _stats_lines(self, stats: Stats, lang: str, level: str) -> list[str]:
        """The counts of one forum year, its headings in that year's words (`level`)."""
        def get(key: str, lang: str, **values: object) -> str:
            return self.words.text_at(level, key, lang, **values)

        scope = html.escape(self.words.scope(stats.scope, lang))
        lines = [get("staff.stats.head", lang, scope=scope, year=stats.year),
                 get("staff.stats.total", lang, total=stats.total, children=stats.children,
                     groups=stats.groups)]
        others = [(year, count) for year, count in stats.years if year != stats.year]
        if others:
            lines.append(get("staff.stats.years", lang, example=others[0][0], years=", ".join(
                get("staff.stats.year", lang, year=year, count=count) for year, count in others)))
        if not stats.total:
            return lines  # the total says it: no headings with nothing under them
        lines += ["", get("staff.stats.cells", lang)]
        order = {flow.id: index for index, flow in enumerate(self.words.catalog.topics)}
        cells: dict[tuple[str, str], dict[str, int]] = {}
        for (district, topic, status), count in sorted(
                stats.by_district_topic_status.items(),
                key=lambda cell: (cell[0][0], order.get(cell[0][1], len(order)), cell[0])):
            cells.setdefault((district, topic), {})[status] = count
        for (district, topic), statuses in cells.items():
            counts = " · ".join(f"{self.words.label('staff.status', s, lang)} {n}"
                                for s, n in statuses.items())
            lines.append(f"• {self._district(district, lang)} · {self._topic(topic, lang)}: "
                         f"{counts}")
        lines += self._answer_lines(stats, lang, level)
        if stats.languages:
            lines += ["", get("staff.stats.languages", lang), " · ".join(
                f"{html.escape(self.words.language(code, lang))} {count}" + (
                    get("staff.stats.translated", lang, translated=translated, waiting=waiting)
                    if translated or waiting else "")
                for code, count, translated, waiting in stats.languages)]
        lines += ["", get("staff.stats.bands", lang),
                  self._tally(stats.by_age_band, lang, lambda band: html.escape(band)),
                  "", get("staff.stats.genders", lang),
                  self._tally(stats.by_gender, lang,
                              lambda gender: html.escape(self.words.label("staff.gender", gender,
                                                                     lang)))]
        return lines

    def _answer_lines(self, stats: Stats, lang: str, level: str) -> list[str]:
        """The answer loop by district and topic: answered, carried out, children told, 👍."""
        rows = [count for count in stats.answers if count.approved]
        if not rows:
            return []
        get = self.words.text
        lines = ["", self.words.text_at(level, "staff.stats.answers", lang)]
        for count in rows:
            votes = count.up + count.down
            lines.append(get(
                "staff.stats.answer_line", lang, district=self._district(count.district, lang),
                topic=self._topic(count.topic, lang), approved=count.approved,
                answered=count.answered, answered_pct=_pct(count.answered, count.approved),
                implemented=count.implemented,
                implemented_pct=_pct(count.implemented, count.approved), told=count.told,
                told_pct=_pct(count.told, count.answered), up=count.up, votes=votes,
                up_pct=_pct(count.up, votes)))
        return lines

    def _tally(self, counts: Mapping[str | None, int], lang: str,
               label: Callable[[str], str]) -> str:
        """"a: 3 · b: 1 · unknown: 2" (unknown last)."""
        unknown = self.words.text("staff.unknown", lang)
        items = sorted(counts.items(), key=lambda kv: (kv[0] is None, kv[0] or ""))
        return " · ".join(f"{label(k) if k is not None else unknown}: {n}" for k, n in items)

    def _topic(self, topic: str, lang: str) -> str:
        return html.escape(self.words.topic(topic, lang))

    def _district(self, code: str | None, lang: str) -> str:
        return html.escape(self.words.district(code, lang))

    def _chart_labels(self, lang: str, level: str, year: int) -> charts.ChartLabels:
        def get(key: str, lang: str, **values: object) -> str:
            return self.words.text_at(level, key, lang, **values)

        config = self.words.config
        return charts.ChartLabels(
            title=get("staff.stats.chart", lang, year=year),
            by_district=get("staff.stats.by_district", lang),
            by_topic=get("staff.stats.by_topic", lang), count=get("staff.stats.count", lang),
            districts={d.code: d.label(lang) for d in config.every_area},
            topics={flow.id: flow.title[lang] for flow in self.words.catalog.topics},
            statuses={s: get(f"staff.status.{s}", lang) for s in charts.STATUSES},
            by_answers=get("staff.stats.chart_answers", lang),
            by_answers_topic=get("staff.stats.chart_answers_topic", lang),
            series={s: get(f"staff.stats.{s}", lang) for s in charts.SERIES_COLOURS})
