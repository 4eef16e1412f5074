"""When scheduled exports and deadline reminders are due: pure computation, and their config.

No I/O here: the clock is a parameter, so every rule is tested with a controlled one.

Streams. Each compiling officer's `[[schedules]]` table is one stream ("export:<user_id>"); the
moderators' deadline reminders are another ("reminders"). A `Run` is one due time of one stream;
a weekly time and a deadline time that fall on the same minute are one run.

    next_runs(timetable, now)            the next run of each stream, strictly after `now`
    missed_runs(timetable, last, now)    the runs to catch up at start: for each stream, its latest
                                         due time <= now, when it is later than the last run
                                         recorded for that stream and at most CATCH_UP old
    should_send(last_sent, last_change)  the "nothing new" rule

Deadline runs and reminders are dropped once their deadline's date is past (local date of `now`).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any, Literal, cast, get_args
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.localized import BASE_LANG, Localized
from bot.staff.roles import Scope, parse_scope

if TYPE_CHECKING:
    from bot.config import ConfigError

DEFAULT_ZONE = "Asia/Ho_Chi_Minh"
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
Format = Literal["csv", "xlsx", "docx"]
FORMATS: tuple[Format, ...] = get_args(Format)
CATCH_UP = timedelta(days=7)  # an older missed run is superseded by a later one anyway
MAX_DAYS_BEFORE = 366
REMINDERS = "reminders"
_SCHEDULE_KEYS = frozenset({"user_id", "districts", "formats", "weekly", "days_before", "time",
                            "send_when_empty"})
_DEADLINE_KEYS = frozenset({"name", "name_en", "date"})
_TIMETABLE_KEYS = frozenset({"timezone", "reminder_days_before", "reminder_time"})


@dataclass(frozen=True)
class Deadline:
    """A date by which the forum needs the proposals (local date, in the timetable's zone)."""

    name: str
    name_en: str
    date: date

    def label(self, lang: str) -> str:
        return Localized({BASE_LANG: self.name, "en": self.name_en})[lang]


@dataclass(frozen=True)
class Weekly:
    weekday: int  # 0 = Monday
    at: time


@dataclass(frozen=True)
class Schedule:
    """What one compiling officer receives, and when (one table per officer)."""

    user_id: int
    scope: Scope
    formats: tuple[Format, ...]
    weekly: tuple[Weekly, ...] = ()
    days_before: tuple[int, ...] = ()
    at: time = time(7, 30)  # time of day of the days_before runs
    send_when_empty: bool = False

    @property
    def stream(self) -> str:
        return f"export:{self.user_id}"


@dataclass(frozen=True)
class Reminders:
    """The moderators' reminders: this many days before each deadline, at this time."""

    days_before: tuple[int, ...] = (7, 1)
    at: time = time(8, 0)


@dataclass(frozen=True)
class Timetable:
    timezone: str = DEFAULT_ZONE
    deadlines: tuple[Deadline, ...] = ()
    schedules: tuple[Schedule, ...] = ()
    reminders: Reminders = field(default_factory=Reminders)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


@dataclass(frozen=True)
class Run:
    """One due time of one stream. `schedule` None: the moderators' reminders."""

    stream: str
    due: datetime  # aware, UTC
    schedule: Schedule | None
    deadline: Deadline | None = None  # the deadline this run comes before; None: weekly

    def days_left(self, zone: ZoneInfo) -> int | None:
        """Days from the run's local date to its deadline."""
        if self.deadline is None:
            return None
        return (self.deadline.date - self.due.astimezone(zone).date()).days


# --- due times -------------------------------------------------------------------------------

def _streams(timetable: Timetable) -> list[Schedule | None]:
    reminders: list[Schedule | None] = [None] if timetable.reminders.days_before else []
    return [*timetable.schedules, *reminders]


def _at(day: date, moment: time, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, moment, zone).astimezone(UTC)


def _candidates(timetable: Timetable, schedule: Schedule | None, now: datetime) -> list[Run]:
    """The stream's due times from about a week before `now` to every future deadline run."""
    zone = timetable.zone
    today = now.astimezone(zone).date()
    stream = schedule.stream if schedule else REMINDERS
    runs: dict[datetime, Run] = {}
    for offset in range(-8, 9):
        day = today + timedelta(days=offset)
        for weekly in schedule.weekly if schedule else ():
            if day.weekday() == weekly.weekday:
                due = _at(day, weekly.at, zone)
                runs[due] = Run(stream, due, schedule)
    days_before, moment = ((schedule.days_before, schedule.at) if schedule
                           else (timetable.reminders.days_before, timetable.reminders.at))
    for deadline in timetable.deadlines:
        if deadline.date < today:
            continue  # past deadlines are dropped
        for days in days_before:
            due = _at(deadline.date - timedelta(days=days), moment, zone)
            runs[due] = Run(stream, due, schedule, deadline)  # replaces a weekly run at `due`
    return sorted(runs.values(), key=lambda run: run.due)


def next_runs(timetable: Timetable, now: datetime) -> list[Run]:
    """The next run of each stream strictly after `now`, soonest first."""
    found = []
    for schedule in _streams(timetable):
        later = [run for run in _candidates(timetable, schedule, now) if run.due > now]
        if later:
            found.append(later[0])
    return sorted(found, key=lambda run: run.due)


def next_run(timetable: Timetable, stream: str, after: datetime) -> Run | None:
    """The run of `stream` that follows a run due at `after`."""
    return next((run for run in next_runs(timetable, after) if run.stream == stream), None)


def missed_runs(timetable: Timetable, last: Mapping[str, datetime], now: datetime) -> list[Run]:
    """Runs to catch up at start: per stream, the latest due time <= now, if later than the
    stream's last recorded run (`last`, by stream) and no older than CATCH_UP."""
    missed = []
    for schedule in _streams(timetable):
        past = [run for run in _candidates(timetable, schedule, now)
                if now - CATCH_UP <= run.due <= now]
        if past and (past[-1].stream not in last or past[-1].due > last[past[-1].stream]):
            missed.append(past[-1])
    return sorted(missed, key=lambda run: run.due)


def should_send(last_sent: datetime | None, last_change: datetime | None,
                send_when_empty: bool = False) -> bool:
    """Send a district's file unless nothing is new: no approved proposal (`last_change`, the
    latest change of one) created or changed since the last delivery; `send_when_empty` sends
    anyway."""
    if send_when_empty:
        return True
    if last_change is None:
        return False
    return last_sent is None or last_change >= last_sent


# --- config ------------------------------------------------------------------------------------

Fail = Callable[[str, str], "ConfigError"]


def _unknown_keys(item: Mapping[str, Any], allowed: frozenset[str], prefix: str,
                  fail: Fail) -> None:
    extra = sorted(set(item) - allowed)
    if extra:
        raise fail(f"{prefix}.{extra[0]}", f"unknown key; expected {', '.join(sorted(allowed))}")


def _table(value: object, key: str, fail: Fail) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise fail(key, "must be a table")
    return value


def _tables(value: object, key: str, fail: Fail) -> list[Mapping[str, Any]]:
    if not isinstance(value, list):
        raise fail(key, f"must be a list of [[{key}]] tables")
    return [_table(item, f"{key}[{index}]", fail) for index, item in enumerate(value)]


def _clock(value: object, key: str, fail: Fail) -> time:
    """"07:30" (24-hour local time, minute precision)."""
    try:
        if not isinstance(value, str) or len(value) != 5:
            raise ValueError
        return time.fromisoformat(value)
    except ValueError:
        raise fail(key, f'must be a time like "07:30", got {value!r}') from None


def _weekly(value: object, key: str, fail: Fail) -> tuple[Weekly, ...]:
    if not isinstance(value, list):
        raise fail(key, f'must be a list like ["mon 07:30"], got {value!r}')
    found = []
    for item in value:
        day, _, moment = item.partition(" ") if isinstance(item, str) else ("", "", "")
        if day.lower() not in WEEKDAYS:
            raise fail(key, f"{item!r}: start with a day among {', '.join(WEEKDAYS)}")
        found.append(Weekly(WEEKDAYS.index(day.lower()), _clock(moment.strip(), key, fail)))
    return tuple(found)


def _days(value: object, key: str, fail: Fail) -> tuple[int, ...]:
    if not isinstance(value, list) or not all(
            isinstance(n, int) and not isinstance(n, bool) and 0 <= n <= MAX_DAYS_BEFORE
            for n in value):
        raise fail(key, f"must be a list of whole days from 0 to {MAX_DAYS_BEFORE}, "
                        f"got {value!r}")
    return tuple(sorted(set(value), reverse=True))


def _formats(value: object, key: str, fail: Fail) -> tuple[Format, ...]:
    if (not isinstance(value, list) or not value or len(set(value)) != len(value)
            or not all(item in FORMATS for item in value)):
        raise fail(key, f"must be a non-empty list of distinct formats among "
                        f"{', '.join(FORMATS)}, got {value!r}")
    return cast(tuple[Format, ...], tuple(value))


def _schedule(item: Mapping[str, Any], prefix: str, known: Collection[str],
              fail: Fail) -> Schedule:
    _unknown_keys(item, _SCHEDULE_KEYS, prefix, fail)
    user_id = item.get("user_id")
    if not isinstance(user_id, int) or isinstance(user_id, bool) or user_id <= 0:
        raise fail(f"{prefix}.user_id", f"must be a positive Telegram user id, got {user_id!r}")
    scope = parse_scope(item.get("districts"), known)
    if isinstance(scope, str):
        raise fail(f"{prefix}.districts", scope)
    send_when_empty = item.get("send_when_empty", False)
    if not isinstance(send_when_empty, bool):
        raise fail(f"{prefix}.send_when_empty", f"must be true or false, got {send_when_empty!r}")
    schedule = Schedule(
        user_id, scope, _formats(item.get("formats"), f"{prefix}.formats", fail),
        _weekly(item.get("weekly", []), f"{prefix}.weekly", fail),
        _days(item.get("days_before", []), f"{prefix}.days_before", fail),
        _clock(item.get("time", "07:30"), f"{prefix}.time", fail), send_when_empty)
    if not schedule.weekly and not schedule.days_before:
        raise fail(prefix, "needs weekly times, days_before a deadline, or both")
    return schedule


def _deadline(item: Mapping[str, Any], prefix: str, fail: Fail) -> Deadline:
    _unknown_keys(item, _DEADLINE_KEYS, prefix, fail)
    name, when = item.get("name"), item.get("date")
    if not isinstance(name, str) or not name.strip():
        raise fail(f"{prefix}.name", f"must be a non-empty string, got {name!r}")
    name_en = item.get("name_en", name)
    if not isinstance(name_en, str):
        raise fail(f"{prefix}.name_en", f"must be a string, got {name_en!r}")
    if not isinstance(when, date) or isinstance(when, datetime):
        raise fail(f"{prefix}.date", f"must be a TOML date like 2023-06-30 (no quotes), "
                                     f"got {when!r}")
    return Deadline(name, name_en, when)


def _zone(value: object, fail: Fail) -> str:
    try:
        if not isinstance(value, str) or not value:
            raise ValueError
        ZoneInfo(value)
    except (ValueError, ZoneInfoNotFoundError):
        raise fail("timetable.timezone",
                   f'must be a time zone name like "{DEFAULT_ZONE}", got {value!r}') from None
    return value


def _unique_officers(schedules: Sequence[Schedule], fail: Fail) -> None:
    seen: dict[int, int] = {}
    for index, schedule in enumerate(schedules):
        first = seen.setdefault(schedule.user_id, index)
        if first != index:
            raise fail(f"schedules[{index}].user_id",
                       f"repeats schedules[{first}]: one table per officer")


def parse_timetable(data: Mapping[str, Any], source: str, known: Collection[str]) -> Timetable:
    """`[timetable]`, `[[deadlines]]` and `[[schedules]]` of config.toml (all optional); raises
    ConfigError naming the file and the key. `known`: the district codes."""
    # Imported here: bot.config imports this module to type Config.timetable.
    from bot.config import ConfigError

    def fail(key: str, problem: str) -> ConfigError:
        return ConfigError(f"{source}: [{key}] {problem}")

    table = _table(data.get("timetable", {}), "timetable", fail)
    if "retry_seconds" in table:
        raise fail("timetable.retry_seconds", "is no longer used: every message is retried by"
                   " the outbox ([outbox] max_attempts); remove this line")
    _unknown_keys(table, _TIMETABLE_KEYS, "timetable", fail)
    defaults = Timetable()
    deadlines = tuple(_deadline(item, f"deadlines[{index}]", fail) for index, item
                      in enumerate(_tables(data.get("deadlines", []), "deadlines", fail)))
    schedules = tuple(_schedule(item, f"schedules[{index}]", known, fail) for index, item
                      in enumerate(_tables(data.get("schedules", []), "schedules", fail)))
    _unique_officers(schedules, fail)
    reminders = Reminders(
        _days(table.get("reminder_days_before", list(defaults.reminders.days_before)),
              "timetable.reminder_days_before", fail),
        _clock(table.get("reminder_time", defaults.reminders.at.strftime("%H:%M")),
               "timetable.reminder_time", fail))
    return Timetable(
        timezone=_zone(table.get("timezone", DEFAULT_ZONE), fail), deadlines=deadlines,
        schedules=schedules, reminders=reminders)
