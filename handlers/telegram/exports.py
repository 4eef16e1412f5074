"""Exports for staff in chat: `/export`, the scheduled files and the deadline reminders.

`/export`, for staff with the export duty (group -1, ahead of the child conversation)::

    /export ─▶ [forum year] ─▶ district ─▶ format ─▶ statuses (toggles, then Next) ─▶ period
            ─▶ the file

The forum year is asked first when the caller's areas hold proposals of another year than the
config's (the 2023 forum's, in a commune config): each year's areas are those it was held in
(its districts for 2023), named in its words. The conversation's state is the callback data
itself, "x|@<year>|<district>|<format>|<statuses>|<period>", one more field per step (the year
only when it was asked; district "*": all of the caller's, as `--district all`; statuses:
letters of STATUS_CODES, after a "~" while the toggles are open; period: a letter of
PERIOD_CODES: the year's, the last 30 days, or every year, not for the report, which is of one
forum year). Nothing is kept in memory or in a table, so a restart loses nothing. Roles are
checked again at every press.
Anyone without the export duty falls through untouched: /export gets the unknown-command answer
and an "x|" button the unknown-button answer. A district outside the caller's scope is refused.

Everything said, and the file itself, goes through the outbox in the update's unit of work: a
crash replays the press, never sends the file twice. The file is made before that transaction
opens (it can take a while; no transaction waits for it).

Jobs (bot.jobs.schedule computes, bot.jobs.delivery makes and queues): at start, the missed run
of each stream is caught up and the next run of each stream is planned; a run plans the next one
of its stream before it executes. The outbox sends and retries what a run queued.
"""

from __future__ import annotations

import contextlib
import html
import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import cast

from telegram import Message as TgMessage
from telegram import Update
from telegram.error import BadRequest
from telegram.ext import (
    Application,
    ApplicationHandlerStop,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    JobQueue,
    filters,
)

from bot.conversation.catalog import Catalog
from bot.exports import ExportError
from bot.exports.common import MIN_KEY_CHARS, pseudonym_key
from bot.jobs.delivery import ALL_DISTRICTS, Choice, Delivery, Outgoing, Period
from bot.jobs.schedule import FORMATS, Format, Run, missed_runs, next_run, next_runs
from bot.messages import Button, Keyboard
from bot.staff.moderation import Refused
from bot.staff.roles import NOWHERE, Scope
from bot.transport.outbox import Message, Outbox
from handlers.telegram.render import staff_lang

log = logging.getLogger("childforum.exports")
Context = ContextTypes.DEFAULT_TYPE
PREFIX = "x"
STATUS_CODES = {"a": "approved", "p": "pending", "r": "rejected"}
PERIOD_CODES: dict[str, Period] = {"y": "year", "m": "30d", "a": "all"}
ALL_TIME = "a"
YEAR_MARK, FIRST_YEAR, LAST_YEAR = "@", 2000, 2100  # "x|@2023|…": the forum year chosen
MAX_DATA = 64  # bytes of callback data Telegram accepts
# APScheduler skips a job more than a second late by default: a busy loop (a big export) or a
# slow start would then silently drop a run, and with it the plan of the stream's next runs.
LATE_IS_FINE = {"misfire_grace_time": None}
EXPORT_JOBS = "exports."  # the export schedule's jobs: planned in every worker (see jobqueue)


@dataclass(frozen=True)
class Step:
    """Where an /export conversation is: what was chosen so far (its callback data)."""

    district: str | None  # a code, or ALL_DISTRICTS; None: a year chosen, its area not yet
    fmt: Format | None = None
    statuses: str | None = None  # letters of STATUS_CODES, in their order
    choosing: bool = True  # the status toggles are still open
    period: str | None = None
    year: int | None = None  # the forum year chosen first (None: the config's, not asked)

    @property
    def data(self) -> str:
        fields = [self.year and f"{YEAR_MARK}{self.year}", self.district, self.fmt,
                  self.statuses and ("~" * self.choosing + self.statuses), self.period]
        return "|".join([PREFIX, *(f for f in fields if f)])

    @classmethod
    def parse(cls, data: str) -> Step | None:
        """A step from callback data; None when it is not one of ours or is malformed."""
        parts = data.split("|")
        if parts[0] != PREFIX or len(data.encode()) > MAX_DATA:
            return None
        year = None
        if len(parts) > 1 and parts[1].startswith(YEAR_MARK):
            digits = parts.pop(1)[len(YEAR_MARK):]
            if not (digits.isdigit() and FIRST_YEAR <= int(digits) <= LAST_YEAR):
                return None
            year = int(digits)
        if not (2 if year is None else 1) <= len(parts) <= 5:
            return None
        district = parts[1] if len(parts) > 1 else None
        fmt, marked, period = (*parts[2:], None, None, None)[:3]
        statuses = marked.removeprefix("~") if marked else None
        choosing = marked is None or marked.startswith("~")
        valid = ((district is None or district == ALL_DISTRICTS
                  or (district.isalnum() and len(district) <= 8))
                 and (fmt is None or fmt in FORMATS)
                 and (statuses is None or (bool(statuses) and statuses == _canonical(statuses)))
                 and (period is None or (period in PERIOD_CODES and not choosing))
                 and not (fmt == "docx" and period == ALL_TIME))  # a report is of one year
        if not valid:
            return None
        return cls(district, cast(Format | None, fmt), statuses, choosing, period, year)

    def choice(self) -> Choice | None:
        """What to export, once every step is done."""
        if self.fmt is None or self.statuses is None or self.period is None:
            return None
        return Choice(None if self.district == ALL_DISTRICTS else self.district, self.fmt,
                      tuple(STATUS_CODES[code] for code in self.statuses),
                      PERIOD_CODES[self.period], self.year)


def _canonical(letters: str) -> str:
    """Status letters in STATUS_CODES order, each once (only known ones)."""
    return "".join(code for code in STATUS_CODES if code in letters)


def _toggle(statuses: str, code: str) -> str:
    """Statuses with one toggled; the last one left stays (at least one status)."""
    toggled = _canonical(statuses.replace(code, "") if code in statuses else statuses + code)
    return toggled or statuses


@dataclass(frozen=True)
class Officer:
    """Someone with the export duty, in a chat, with the language they read."""

    user_id: int
    chat_id: int
    lang: str


class ExportHandlers:
    """The chat side of bot.jobs.delivery.Delivery: /export, scheduled files and reminders."""

    def __init__(self, delivery: Delivery, catalog: Catalog, outbox: Outbox) -> None:
        self.delivery, self.catalog, self.outbox = delivery, catalog, outbox
        self.config, self.timetable = delivery.config, delivery.config.timetable

    def register(self, application: Application) -> None:  # type: ignore[type-arg]
        """The /export conversation (group -1) and the start-up job that plans the schedule."""
        private = filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE
        application.add_handlers([
            CommandHandler("export", self.on_command, filters=private),
            CallbackQueryHandler(self.on_press, pattern=rf"^{PREFIX}\|"),
        ], group=-1)
        assert application.job_queue is not None
        application.job_queue.run_once(self.start_schedule, when=0, name=f"{EXPORT_JOBS}start",
                                       job_kwargs=LATE_IS_FINE)

    # --- /export -----------------------------------------------------------------------------

    async def on_command(self, update: Update, context: Context) -> None:
        caller, scope = await self._caller(update)
        if caller is None:
            return  # not an officer: the child handlers answer "unknown command"
        years = await self.delivery.years(scope)
        if len(years) > 1:  # earlier forums' proposals too: their year first, then its areas
            ask, keyboard = "export.ask.year", self._year_keyboard(caller.lang, years)
        else:
            ask = "export.ask.district"
            keyboard = await self._district_keyboard(caller.lang, scope, None)
        async with self.outbox.work(update.update_id) as work:
            if work.fresh:
                work.add(Message(caller.chat_id, self._screen(caller.lang, None, ask),
                                 keyboard))
        raise ApplicationHandlerStop

    async def on_press(self, update: Update, context: Context) -> None:
        caller, scope = await self._caller(update)
        query = update.callback_query
        if caller is None or query is None:
            return  # the child handlers answer it as a button they do not know
        with contextlib.suppress(BadRequest):  # too old to answer: the press still counts
            await query.answer()
        step = Step.parse(query.data or "")
        made: Outgoing | Message | None = None
        if step is None or not await self._known(step, scope):
            messages = [self._say(caller, "export.unknown_button")]
        elif step.district not in (None, ALL_DISTRICTS) and not scope.covers(step.district):
            messages = [self._say(caller, "export.out_of_scope", step.year)]
        else:
            pressed = query.message.message_id if isinstance(query.message, TgMessage) else None
            messages = await self._advance(caller, step, pressed, scope)
            choice = step.choice()
            if choice is not None:
                # "Making the file…" now: the file takes seconds (another process makes it).
                # The update is done only with the file, so a crash meanwhile makes it again.
                await self.outbox.send(messages)
                messages = []
                made = await self._make(caller, choice)
        async with self.outbox.work(update.update_id) as work:
            if work.fresh:
                work.add(*messages)
                if isinstance(made, Outgoing):
                    assert step is not None
                    work.add(self._document(caller, step, made))
                    await self.delivery.record(made, "sent", 0)
                elif made is not None:
                    work.add(made)
        raise ApplicationHandlerStop

    async def _caller(self, update: Update) -> tuple[Officer | None, Scope]:
        """The officer behind an update and where they may export; None for anyone else."""
        user, chat = update.effective_user, update.effective_chat
        if user is None or chat is None:
            return None, NOWHERE
        scope = await self.delivery.export_scope(user.id)
        if scope.empty:
            return None, scope
        return Officer(user.id, chat.id, staff_lang(user, self.catalog.texts.langs)), scope

    async def _known(self, step: Step, scope: Scope) -> bool:
        """An area of the records (of any forum year) or all; a year the caller may export."""
        if step.year is not None and step.year not in await self.delivery.years(scope):
            return False
        return step.district in (None, ALL_DISTRICTS) or (
            self.config.area(step.district) is not None)

    async def _advance(self, caller: Officer, step: Step, pressed: int | None,
                       scope: Scope) -> list[Message]:
        """The next question, on the pressed message (in a new one if it is gone)."""
        if step.district is None:  # a year chosen: its areas
            ask = "export.ask.district"
            keyboard = await self._district_keyboard(caller.lang, scope, step.year)
        else:
            ask, keyboard = self._question(caller.lang, step)
        text = self._screen(caller.lang, step, ask)
        if pressed is None:
            return [Message(caller.chat_id, text, keyboard)]
        return [Message(caller.chat_id, text, keyboard, op="edit", message_id=pressed,
                        or_send=True)]

    async def _make(self, caller: Officer, choice: Choice) -> Outgoing | Message:
        """The file, or what to say instead."""
        try:
            made = await self.delivery.on_demand(caller.user_id, choice)
        except ExportError as error:
            log.error("Export for %d failed: %s", caller.user_id, error)
            if self.key_missing():  # say what the admin must do, not just "it failed"
                return Message(caller.chat_id, self._text(
                    "export.no_key", caller.lang,
                    variable=html.escape(self.config.pseudonym_key_env), min=MIN_KEY_CHARS))
            return self._say(caller, "export.failed")
        if isinstance(made, Refused):
            return self._say(caller, "export.out_of_scope" if made.reason == "forbidden"
                             else "export.unknown_button")
        return made

    def _document(self, caller: Officer, step: Step, made: Outgoing) -> Message:
        caption = "\n".join([*self._summary(caller.lang, step),
                             self._text("export.caption", caller.lang, rows=made.rows)])
        return Message(caller.chat_id, caption, op="document", filename=made.filename,
                       body=made.data)

    def key_missing(self) -> bool:
        """True when the pseudonym key (CSV and XLSX need it) is not set, or is too short."""
        try:
            pseudonym_key(self.config)
        except ExportError:
            return True
        return False

    def _question(self, lang: str, step: Step) -> tuple[str, Keyboard]:
        """The next question of a step and its buttons; ("export.making", None) when done."""
        if step.fmt is None:
            return "export.ask.format", self._keyboard(
                [(self._text(f"export.format.{fmt}", lang), replace(step, fmt=fmt))
                 for fmt in FORMATS])
        if step.statuses is None or step.choosing:
            return "export.ask.statuses", self._status_keyboard(lang, step)
        if step.period is None:
            return "export.ask.period", self._keyboard(
                [(self._period_label(lang, code, step.year), replace(step, period=code))
                 for code in self._periods(step)])
        return "export.making", ()

    def _periods(self, step: Step) -> list[str]:
        """The periods offered: the forum year; the last 30 days in the config's year only
        (an earlier forum's are long past); all time, except for the report, which is of
        one forum year (as `childforum export --format docx`)."""
        earlier = step.year is not None and step.year != self.config.forum_year
        return [code for code, period in PERIOD_CODES.items()
                if not (period == "30d" and earlier)
                and not (code == ALL_TIME and step.fmt == "docx")]

    def _status_keyboard(self, lang: str, step: Step) -> Keyboard:
        chosen = step.statuses or "a"
        toggles = [(f"{'☑️' if code in chosen else '⬜'} "
                    f"{self._text(f'export.status.{status}', lang)}",
                    replace(step, statuses=_toggle(chosen, code), choosing=True))
                   for code, status in STATUS_CODES.items()]
        done = (self._text("export.next", lang), replace(step, statuses=chosen, choosing=False))
        return self._keyboard([*toggles, done], columns=1)

    async def _district_keyboard(self, lang: str, scope: Scope, year: int | None) -> Keyboard:
        """The areas of the forum year (the config's when None) within the caller's scope,
        then all of them, named in the year's words (its districts for 2023)."""
        codes = await self.delivery.areas(scope, year or self.config.forum_year)
        buttons = [(self._district_label(code, lang, year), Step(code, year=year))
                   for code in codes]
        if len(codes) > 1:
            buttons.append((self._text("export.all", lang, year),
                            Step(ALL_DISTRICTS, year=year)))
        return self._keyboard(buttons)

    def _year_keyboard(self, lang: str, years: Sequence[int]) -> Keyboard:
        """One button per forum year, newest first, saying its level ("2023 (cấp huyện)")."""
        return self._keyboard([(self._text("export.year", lang, year, year=year),
                                Step(None, year=year)) for year in years])

    @staticmethod
    def _keyboard(buttons: Sequence[tuple[str, Step]], columns: int = 2) -> Keyboard:
        row = [Button(label, step.data) for label, step in buttons]
        return tuple(tuple(row[i:i + columns]) for i in range(0, len(row), columns))

    def _screen(self, lang: str, step: Step | None, ask: str) -> str:
        """The conversation's message: the head, what was chosen so far, the question."""
        lines = [self._text("export.head", lang)]
        if step is not None:
            lines += self._summary(lang, step)
        return "\n".join([*lines, "", self._text(ask, lang, step.year if step else None)])

    def _summary(self, lang: str, step: Step) -> list[str]:
        values = {}
        if step.year:
            values["year"] = self._text("export.year", lang, step.year, year=step.year)
        if step.district:
            values["district"] = html.escape(self._district_label(step.district, lang,
                                                                  step.year))
        if step.fmt:
            values["format"] = self._text(f"export.format.{step.fmt}", lang)
        if step.statuses and not step.choosing:
            values["statuses"] = self._statuses_label(lang, step.statuses)
        if step.period:
            values["period"] = self._period_label(lang, step.period, step.year)
        return [self._text(f"export.line.{key}", lang, step.year, value=value)
                for key, value in values.items()]

    # --- labels ------------------------------------------------------------------------------

    def _text(self, key: str, lang: str, of_year: int | None = None, **values: object) -> str:
        """A text in `lang`, in the words of the areas of the forum of `of_year` (the config's
        when None): "xã" where it is held by commune (Texts.variant)."""
        return self.catalog.texts.get_at(
            key, lang, self.config.level_in(of_year or self.config.forum_year), **values)

    def _district_label(self, code: str, lang: str, year: int | None = None) -> str:
        """A district's name as it is, for a button; escape it to put it in a message."""
        district = self.config.area(code)
        if district is None:
            return self._text("export.all", lang, year)
        return district.label(lang)

    def _statuses_label(self, lang: str, statuses: str) -> str:
        return ", ".join(self._text(f"export.status.{STATUS_CODES[code]}", lang)
                         for code in statuses)

    def _period_label(self, lang: str, code: str, year: int | None) -> str:
        return self._text(f"export.period.{PERIOD_CODES[code]}", lang,
                          year=year or self.config.forum_year)

    def _say(self, caller: Officer, key: str, year: int | None = None) -> Message:
        return Message(caller.chat_id, self._text(key, caller.lang, year))

    # --- the schedule ------------------------------------------------------------------------

    async def start_schedule(self, context: Context) -> None:
        """Plan the next run of each stream, then catch up the runs missed while stopped."""
        job_queue = self._jobs(context)
        now = self.delivery.clock()
        missed = missed_runs(self.timetable, await self.delivery.last_runs(), now)
        for run in next_runs(self.timetable, now):
            self._plan(job_queue, run)
        for run in missed if missed and await self.delivery.db.holds_jobs() else ():
            log.info("Catching up the run of %s due at %s", run.stream, run.due.isoformat())
            await self._execute(context, run)

    @staticmethod
    def _jobs(context: Context) -> JobQueue:  # type: ignore[type-arg]
        assert context.job_queue is not None
        return context.job_queue

    def _plan(self, job_queue: JobQueue, run: Run) -> None:  # type: ignore[type-arg]
        job_queue.run_once(self.on_due, when=run.due, data=run,
                           name=f"{EXPORT_JOBS}{run.stream}@{run.due.isoformat()}",
                           job_kwargs=LATE_IS_FINE)

    async def on_due(self, context: Context) -> None:
        assert context.job is not None
        run = cast(Run, context.job.data)
        follow = next_run(self.timetable, run.stream, run.due)
        if follow is not None:
            self._plan(self._jobs(context), follow)
        if await self.delivery.db.holds_jobs():  # one worker makes the run; all plan the next
            await self._execute(context, run)

    async def _execute(self, context: Context, run: Run) -> None:
        queued = await self.delivery.execute(run)
        log.info("Run of %s due at %s: %d queued", run.stream, run.due.isoformat(), queued)
