"""Exports sent to staff, as a service: what to send, and the record of what was sent.

No Telegram here: handlers/telegram/exports.py runs the JobQueue; this module decides, records and
queues each file or reminder in the outbox (which sends and retries it) together with its delivery
record. Roles are checked when a file is made (config.toml ∪ active grants, bot.staff.roles):

- a scheduled run (bot.jobs.schedule.Run) gives one file per district and format of the officer's
  table, unless nothing is new (bot.jobs.schedule.should_send) or the officer no longer holds the
  export duty there; those outcomes are recorded at once ("empty", "forbidden");
- a reminder run gives one Reminder per moderator in force, with the pending count of their scope;
- `on_demand` makes the file an officer asked for in chat (/export), within their scope.

`record` writes the delivery (scheduled runs, table deliveries; "sent" means handed to the outbox)
and, for every file sent, one audit row per district (action "export") in the same transaction.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from bot.config import Config
from bot.conversation.catalog import Catalog
from bot.exports import ExportError, ExportQuery, Format
from bot.exports.worker import export_elsewhere
from bot.jobs.schedule import Run, Schedule, should_send
from bot.staff.moderation import Moderation, Refused
from bot.staff.roles import Scope, can, scope_for
from bot.transport.outbox import Message, Outbox
from storage import audit as audit_log
from storage import deliveries as store
from storage import export_rows
from storage.db import Database
from storage.deliveries import DeliveryRow
from storage.moderation import pending_count

log = logging.getLogger("childforum.delivery")
Outcome = Literal["sent", "empty", "forbidden", "failed"]
Period = Literal["year", "30d", "all"]
ALL_DISTRICTS = "*"
RECENT_DAYS = 30


@dataclass(frozen=True)
class Choice:
    """What an officer asked for in chat. `district` None: all of their scope; `year` the
    forum year whose areas they chose among (None: the config's), the period's year."""

    district: str | None
    fmt: Format
    statuses: tuple[str, ...] = ("approved",)
    period: Period = "year"
    year: int | None = None


@dataclass(frozen=True)
class Outgoing:
    """One file ready to send. `run` None: asked for in chat (`choice`)."""

    user_id: int
    districts: tuple[str, ...]
    fmt: Format
    filename: str
    data: bytes
    rows: int
    as_of: datetime
    run: Run | None = None
    choice: Choice | None = None


@dataclass(frozen=True)
class Reminder:
    """A deadline reminder for one moderator: proposals still pending in their districts."""

    user_id: int
    run: Run
    pending: int


Parcel = Outgoing | Reminder


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def _moment(stamp: str | None) -> datetime | None:
    return datetime.fromisoformat(stamp) if stamp else None


def filename(districts: tuple[str, ...], every: bool, fmt: str, suffix: str) -> str:
    """"kien-nghi-DHA-2023.xlsx"; several districts: "kien-nghi-tat-ca-2023.xlsx"."""
    label = districts[0] if len(districts) == 1 and not every else "tat-ca"
    return f"kien-nghi-{label}-{suffix}.{fmt}"


class Delivery:
    """Scheduled files, reminders and on-demand exports over one database."""

    def __init__(self, db: Database, config: Config, catalog: Catalog, moderation: Moderation,
                 outbox: Outbox,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.db, self.config, self.catalog, self.moderation, self.outbox, self.clock = (
            db, config, catalog, moderation, outbox, clock)
        self.zone = config.timetable.zone

    def districts(self, scope: Scope) -> tuple[str, ...]:
        """The config's district codes within `scope`, in config order."""
        return tuple(d.code for d in self.config.districts if scope.covers(d.code))

    async def _holding(self, scope: Scope) -> list[tuple[int, str]]:
        """The (forum year, area) pairs within `scope` that hold proposals."""
        async with self.db.transaction() as db:
            found = await export_rows.years_and_areas(db)
        return [(year, code) for year, code in found if scope.covers(code)]

    async def years(self, scope: Scope) -> tuple[int, ...]:
        """The forum years an officer may export, newest first: the config's, and each
        other year with proposals within `scope` (the 2023 forum's, in a commune config)."""
        found = {year for year, _ in await self._holding(scope)}
        return tuple(sorted(found | {self.config.forum_year}, reverse=True))

    async def areas(self, scope: Scope, year: int) -> tuple[str, ...]:
        """The areas of the forum of `year` within `scope` (its districts for 2023), then the
        other areas holding proposals of that year within it, in the areas file's order."""
        holding = {code for found, code in await self._holding(scope) if found == year}
        areas = [area.code for area in self.config.areas_in(year) if scope.covers(area.code)]
        others = [area.code for area in self.config.every_area
                  if area.code in holding and area.code not in areas]
        return (*areas, *others, *sorted(holding - {*areas, *others}))

    async def export_scope(self, user_id: int) -> Scope:
        """Where `user_id` may export now (empty: nowhere)."""
        async with self.db.transaction() as db:
            return scope_for(await self.moderation.members(db), user_id, "export")

    async def last_runs(self) -> dict[str, datetime]:
        """The latest recorded due time of each stream (bot.jobs.schedule.missed_runs' `last`)."""
        async with self.db.transaction() as db:
            found = await store.last_runs(db)
        return {stream: datetime.fromisoformat(due) for stream, due in found.items()}

    # --- scheduled runs ----------------------------------------------------------------------

    async def execute(self, run: Run) -> int:
        """Make a run's files (or reminders) and queue each, with its delivery record, in one
        transaction: the outbox sends it (and retries it) from there. Returns how many."""
        parcels: list[Parcel] = list(await (self.files(run) if run.schedule
                                            else self.reminders(run)))
        for parcel in parcels:
            async with self.db.transaction() as tx:
                await self.outbox.enqueue(tx, [self.message(parcel)])
                await self.record(parcel, "sent", 0)
        return len(parcels)

    def message(self, parcel: Parcel) -> Message:
        """What the recipient gets: a reminder, or a file with why it comes now (in both
        languages: the reader's is not known to a schedule)."""
        if isinstance(parcel, Reminder):
            text = self._both(lambda lang: self._when(parcel.run, lang) + "\n" + self._text(
                "schedule.reminder", lang, pending=parcel.pending))
            return Message(parcel.user_id, text, kind="notice")
        run = parcel.run
        assert run is not None
        caption = self._both(lambda lang: self._when(run, lang) + "\n"
                             + self._file_line(parcel, lang))
        return Message(parcel.user_id, caption, op="document", filename=parcel.filename,
                       body=parcel.data, kind="notice")

    def _text(self, key: str, lang: str, **values: object) -> str:
        return self.catalog.texts.get_at(key, lang, self.config.area_level, **values)

    def _file_line(self, parcel: Outgoing, lang: str) -> str:
        district = self.config.area(parcel.districts[0])
        name = district.label(lang) if district else parcel.districts[0]
        return self._text("schedule.file", lang, rows=parcel.rows, district=html.escape(name),
                          year=self.config.forum_year)

    def _when(self, run: Run, lang: str) -> str:
        """Why this arrives now: the weekly schedule, or the days left to a deadline."""
        days = run.days_left(self.zone)
        if run.deadline is None or days is None:
            return self._text("schedule.when.weekly", lang)
        return self._text("schedule.when.today" if days == 0 else "schedule.when.deadline",
                          lang, days=days, deadline=html.escape(run.deadline.label(lang)),
                          date=f"{run.deadline.date:%d/%m/%Y}")

    def _both(self, render: Callable[[str], str]) -> str:
        """Schedules go to staff of any language: the texts in each language that has them."""
        langs = self.catalog.texts.readers("schedule.when.weekly")
        return "\n\n".join(render(lang) for lang in langs)

    async def files(self, run: Run) -> list[Outgoing]:
        """The files of an officer's run; what is not sent is recorded here with its reason."""
        schedule = run.schedule
        assert schedule is not None
        found = []
        for district in self.districts(schedule.scope):
            for fmt in schedule.formats:
                item = await self._scheduled_file(run, schedule, district, fmt)
                if item is not None:
                    found.append(item)
        return found

    async def _scheduled_file(self, run: Run, schedule: Schedule, district: str,
                              fmt: Format) -> Outgoing | None:
        as_of = self.clock()
        async with self.db.transaction() as db:
            outcome: Outcome | None = None
            if not can(await self.moderation.members(db), schedule.user_id, "export", district):
                log.warning("Scheduled export for %d of %s skipped: no export duty there",
                            schedule.user_id, district)
                outcome = "forbidden"
            elif not should_send(
                    _moment(await store.last_sent(db, schedule.user_id, district, fmt)),
                    _moment(await store.last_change(db, district, self.config.forum_year)),
                    schedule.send_when_empty):
                outcome = "empty"
            if outcome is not None:
                await store.record(db, self._row(run, schedule.user_id, district, fmt, outcome,
                                                 0, as_of, 0))
                return None
        query = ExportQuery(districts=(district,), forum_year=self.config.forum_year)
        name = filename((district,), False, fmt, str(self.config.forum_year))
        try:
            return await self._make(schedule.user_id, query, fmt, name, as_of, run=run)
        except ExportError as error:
            log.error("Scheduled export for %d of %s failed: %s", schedule.user_id, district,
                      error)
            await self._record_row(self._row(run, schedule.user_id, district, fmt, "failed", 0,
                                             as_of, 0))
            return None

    async def reminders(self, run: Run) -> list[Reminder]:
        """One reminder per moderator in force (the "moderate" duty), with their pending count."""
        async with self.db.transaction() as db:
            members = await self.moderation.members(db)
            found = []
            for user_id in sorted({member.user_id for member in members}):
                scope = scope_for(members, user_id, "moderate")
                if not scope.empty:
                    found.append(Reminder(user_id, run, await pending_count(db, scope.districts)))
        return found

    # --- on demand ---------------------------------------------------------------------------

    async def on_demand(self, user_id: int, choice: Choice) -> Outgoing | Refused:
        """The file an officer asked for in chat: "not_staff" without the export duty,
        "forbidden" for a district outside their scope, "invalid" for an unknown one."""
        scope = await self.export_scope(user_id)
        if scope.empty:
            return Refused("not_staff")
        if choice.district is not None and self.config.area(choice.district) is None:
            return Refused("invalid", choice.district)
        if choice.district is not None and not scope.covers(choice.district):
            return Refused("forbidden")
        year = choice.year or self.config.forum_year
        if choice.district is not None:
            districts: tuple[str, ...] = (choice.district,)
            asked: tuple[str, ...] | None = districts
        else:
            # All of the scope: the year's areas (and any holding its proposals), or every
            # area the scope holds proposals in for another period, as `--district all` on
            # the command line; the whole province asks for no area at all.
            districts = await self.areas(scope, year)
            if choice.period != "year":
                holding = {code for _, code in await self._holding(scope)}
                districts += tuple(sorted(holding - set(districts)))
            if not districts and not scope.whole:
                return Refused("forbidden")  # none of the scope's areas that year
            asked = None if scope.whole else districts
        as_of = self.clock()
        query, suffix = self._period(choice, asked, year, as_of)
        name = filename(districts, choice.district is None, choice.fmt, suffix)
        return await self._make(user_id, query, choice.fmt, name, as_of, choice=choice,
                                districts=districts)

    def _period(self, choice: Choice, districts: tuple[str, ...] | None, year: int,
                now: datetime) -> tuple[ExportQuery, str]:
        """The query of a chat choice, and the filename's suffix for its period."""
        if choice.period == "year":
            return ExportQuery(districts, choice.statuses, forum_year=year), str(year)
        if choice.period == "30d":
            today = now.astimezone(self.zone).date()
            start = today - timedelta(days=RECENT_DAYS - 1)
            return (ExportQuery(districts, choice.statuses, date_from=start, date_to=today),
                    f"{start:%Y%m%d}-{today:%Y%m%d}")
        return ExportQuery(districts, choice.statuses), "moi-thoi-gian"

    async def _make(self, user_id: int, query: ExportQuery, fmt: Format, name: str,
                    as_of: datetime, *, run: Run | None = None, choice: Choice | None = None,
                    districts: tuple[str, ...] = ()) -> Outgoing:
        """The file, made in another process; `districts` the areas it is of (the query's,
        unless it asks for all)."""
        data, rows = await export_elsewhere(self.config, query, fmt)
        return Outgoing(user_id, districts or query.districts or (), fmt, name, data, rows,
                        as_of, run, choice)

    # --- the record --------------------------------------------------------------------------

    def _row(self, run: Run, user_id: int, district: str, fmt: str, outcome: Outcome,
             rows: int, as_of: datetime, attempts: int) -> DeliveryRow:
        return DeliveryRow(run.stream, _stamp(run.due), user_id, district, fmt, outcome, rows,
                           _stamp(as_of), attempts)

    def _rows(self, parcel: Parcel, outcome: Outcome, attempts: int) -> list[DeliveryRow]:
        """The deliveries of a parcel: none for a file asked for in chat."""
        if isinstance(parcel, Reminder):
            return [self._row(parcel.run, parcel.user_id, ALL_DISTRICTS, "reminder", outcome,
                              parcel.pending, self.clock(), attempts)]
        if parcel.run is None:
            return []
        return [self._row(parcel.run, parcel.user_id, district, parcel.fmt, outcome, parcel.rows,
                          parcel.as_of, attempts) for district in parcel.districts]

    async def _record_row(self, row: DeliveryRow) -> None:
        async with self.db.transaction() as db:
            await store.record(db, row)

    async def record(self, parcel: Parcel, outcome: Outcome, attempts: int) -> None:
        """After sending (or giving up): the delivery of a scheduled run, and an audit row per
        district for each file sent, in one transaction."""
        async with self.db.transaction() as db:
            delivery_id = None
            for row in self._rows(parcel, outcome, attempts):
                delivery_id = await store.record(db, row)
            if outcome == "sent" and isinstance(parcel, Outgoing):
                for district in parcel.districts:
                    await audit_log.append(db, parcel.user_id, "export", "export", delivery_id,
                                           district, self._detail(parcel))

    @staticmethod
    def _detail(parcel: Outgoing) -> dict[str, Any]:
        detail: dict[str, Any] = {"file": parcel.filename, "format": parcel.fmt,
                                  "rows": parcel.rows}
        if parcel.run is not None:
            return detail | {"trigger": "schedule", "due": _stamp(parcel.run.due)}
        assert parcel.choice is not None
        return detail | {"trigger": "chat", "statuses": list(parcel.choice.statuses),
                         "period": parcel.choice.period,
                         **({"year": parcel.choice.year} if parcel.choice.year else {})}
