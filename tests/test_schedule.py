"""Scheduled exports and reminders: due times with a controlled clock, the "nothing new" rule,
catch-up after a restart, config validation, and the delivery service on a real SQLite file."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.config import Config, ConfigError, load_config
from bot.conversation.catalog import load_catalog
from bot.exports.common import HEADERS
from bot.jobs.delivery import Choice, Delivery, Outgoing
from bot.jobs.schedule import (
    CATCH_UP,
    REMINDERS,
    Deadline,
    Reminders,
    Run,
    Schedule,
    Timetable,
    Weekly,
    missed_runs,
    next_run,
    next_runs,
    should_send,
)
from bot.staff.moderation import Moderation, Refused
from bot.staff.roles import PROVINCE, Scope
from bot.transport.outbox import Outbox
from storage import children, proposals
from storage.children import ChildRow
from storage.db import Database, open_database
from tests.stores import Target, query

ROOT = Path(__file__).resolve().parents[1]
VN = ZoneInfo("Asia/Ho_Chi_Minh")
KEY = "test-pseudonym-key-0123456789"
OFFICER, MODERATOR = 345678901, 234567890  # the moderator: DHA, KTM in config.example.toml
DISTRICT_FORUM = Deadline("Diễn đàn trẻ em cấp huyện", "District forums", date(2023, 6, 30))
PROVINCE_FORUM = Deadline("Diễn đàn trẻ em cấp tỉnh", "Provincial forum", date(2023, 7, 15))
MONDAY = Weekly(0, time(7, 30))


def local(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """A local time in Vietnam, as the aware UTC datetime the schedule works in."""
    return datetime(year, month, day, hour, minute, tzinfo=VN).astimezone(UTC)


def officer(**changes: object) -> Schedule:
    values: dict[str, object] = {"user_id": OFFICER, "scope": Scope.of({"DHA"}),
                                 "formats": ("xlsx",), "weekly": (MONDAY,)}
    return Schedule(**(values | changes))  # type: ignore[arg-type]


def timetable(*schedules: Schedule, reminder_days: tuple[int, ...] = ()) -> Timetable:
    return Timetable(deadlines=(DISTRICT_FORUM, PROVINCE_FORUM), schedules=schedules,
                     reminders=Reminders(reminder_days, time(8, 0)))


def dues(runs: Iterable[Run]) -> list[datetime]:
    return [run.due for run in runs]


# --- due times ---------------------------------------------------------------------------------

def test_a_weekly_run_crosses_the_week_boundary() -> None:
    table = timetable(officer())
    sunday_night = local(2023, 6, 11, 23, 0)  # 2023-06-11 is a Sunday
    assert dues(next_runs(table, sunday_night)) == [local(2023, 6, 12, 7, 30)]
    # at the due minute itself, the next run is a week later (strictly after `now`)
    assert dues(next_runs(table, local(2023, 6, 12, 7, 30))) == [local(2023, 6, 19, 7, 30)]
    follow = next_run(table, f"export:{OFFICER}", local(2023, 6, 12, 7, 30))
    assert follow is not None and follow.due == local(2023, 6, 19, 7, 30)


def test_asia_ho_chi_minh_has_no_daylight_saving_time() -> None:
    table = timetable(officer())
    winter = next_runs(table, datetime(2023, 1, 1, tzinfo=UTC))[0].due
    summer = next_runs(table, datetime(2023, 7, 1, tzinfo=UTC))[0].due
    assert (winter.hour, winter.minute) == (summer.hour, summer.minute) == (0, 30)  # 07:30 +07


def test_runs_come_n_days_before_each_deadline_at_the_configured_time() -> None:
    table = timetable(officer(weekly=(), days_before=(7, 1), at=time(9, 15)))
    now = local(2023, 6, 20)
    seen = []
    while (run := next_run(table, f"export:{OFFICER}", now)) is not None:
        seen.append((run.due, run.deadline, run.days_left(VN)))
        now = run.due
    assert seen == [
        (local(2023, 6, 23, 9, 15), DISTRICT_FORUM, 7),
        (local(2023, 6, 29, 9, 15), DISTRICT_FORUM, 1),
        (local(2023, 7, 8, 9, 15), PROVINCE_FORUM, 7),
        (local(2023, 7, 14, 9, 15), PROVINCE_FORUM, 1),
    ]


def test_past_deadlines_are_dropped() -> None:
    table = timetable(officer(weekly=(), days_before=(1,)), reminder_days=(1,))
    after_both = local(2023, 7, 16)
    assert next_runs(table, after_both) == []
    assert missed_runs(table, {}, after_both) == []
    # the day after the district deadline, only the provincial one is left
    runs = next_runs(table, local(2023, 7, 1))
    assert {run.deadline for run in runs} == {PROVINCE_FORUM}


def test_a_weekly_and_a_deadline_run_at_the_same_minute_are_one_run() -> None:
    # 2023-06-26 is a Monday, 4 days before the district forum deadline
    table = timetable(officer(days_before=(4,)))
    runs = next_runs(table, local(2023, 6, 25))
    assert len(runs) == 1 and runs[0].due == local(2023, 6, 26, 7, 30)
    assert runs[0].deadline == DISTRICT_FORUM


def test_moderators_reminders_are_a_stream_of_their_own() -> None:
    table = timetable(officer(), reminder_days=(7, 1))
    runs = next_runs(table, local(2023, 6, 22, 12))
    assert [(run.stream, run.due) for run in runs] == [
        (REMINDERS, local(2023, 6, 23, 8)), (f"export:{OFFICER}", local(2023, 6, 26, 7, 30))]
    assert runs[0].schedule is None and runs[0].days_left(VN) == 7


# --- the "nothing new" rule ----------------------------------------------------------------------

def test_nothing_new_means_nothing_sent_unless_asked() -> None:
    sent = datetime(2023, 6, 12, 0, 30, tzinfo=UTC)
    assert should_send(None, sent - timedelta(days=3))  # never sent, something approved
    assert not should_send(None, None)  # nothing approved at all
    assert not should_send(sent, sent - timedelta(seconds=1))  # nothing since
    assert should_send(sent, sent + timedelta(hours=1))  # approved or changed since
    assert should_send(sent, None, send_when_empty=True)
    assert should_send(sent, sent - timedelta(days=1), send_when_empty=True)


# --- catch-up after a restart --------------------------------------------------------------------

def test_a_restart_with_the_same_config_and_clock_plans_the_same_runs() -> None:
    table = timetable(officer(days_before=(7, 1)), reminder_days=(7, 1))
    now = local(2023, 6, 20, 10)
    assert next_runs(table, now) == next_runs(timetable(officer(days_before=(7, 1)),
                                                        reminder_days=(7, 1)), now)
    last = {run.stream: run.due for run in missed_runs(table, {}, now)}
    assert missed_runs(table, last, now) == []  # everything due was recorded: nothing to redo


def test_a_run_missed_while_stopped_is_due_at_start() -> None:
    table = timetable(officer())
    stream = f"export:{OFFICER}"
    wednesday = local(2023, 6, 14, 10)
    previous = {stream: local(2023, 6, 5, 7, 30)}  # last recorded: the Monday before
    assert dues(missed_runs(table, previous, wednesday)) == [local(2023, 6, 12, 7, 30)]
    assert dues(missed_runs(table, {}, wednesday)) == [local(2023, 6, 12, 7, 30)]
    assert missed_runs(table, {stream: local(2023, 6, 12, 7, 30)}, wednesday) == []


def test_catch_up_reaches_back_one_week_at_most() -> None:
    table = timetable(officer(weekly=(), days_before=(14,)))  # a single run on 2023-06-16
    due = local(2023, 6, 16, 7, 30)
    assert dues(missed_runs(table, {}, due + CATCH_UP)) == [due]
    assert missed_runs(table, {}, due + CATCH_UP + timedelta(minutes=1)) == []


# --- config validation ---------------------------------------------------------------------------

SCHEDULE = """
[[schedules]]
user_id = 345678901
districts = ["DHA"]
formats = ["xlsx"]
weekly = ["mon 07:30"]
"""


def write(tmp_path: Path, extra: str = SCHEDULE, *change: str) -> Path:
    text = (ROOT / "config.example.toml").read_text(encoding="utf-8")
    if change:
        assert change[0] in text
        text = text.replace(change[0], change[1])
    path = tmp_path / "config.toml"
    path.write_text(text + extra, encoding="utf-8")
    return path


def test_the_example_timetable_and_a_schedule_load(tmp_path: Path) -> None:
    config = load_config(write(tmp_path))
    table = config.timetable
    assert table.timezone == "Asia/Ho_Chi_Minh"
    assert [d.date for d in table.deadlines] == [date(2023, 6, 30), date(2023, 7, 15)]
    assert table.reminders == Reminders((7, 1), time(8, 0))
    assert table.schedules == (Schedule(OFFICER, Scope.of({"DHA"}), ("xlsx",), (MONDAY,)),)


@pytest.mark.parametrize("extra,key", [
    (SCHEDULE.replace('"mon 07:30"', '"monday 07:30"'), "[schedules[0].weekly]"),
    (SCHEDULE.replace('"mon 07:30"', '"mon 7h30"'), "[schedules[0].weekly]"),
    (SCHEDULE.replace('["xlsx"]', '["pdf"]'), "[schedules[0].formats]"),
    (SCHEDULE.replace('["DHA"]', '["XYZ"]'), "[schedules[0].districts]"),
    (SCHEDULE.replace("345678901", "-5"), "[schedules[0].user_id]"),
    (SCHEDULE + "days_before = [-1]\n", "[schedules[0].days_before]"),
    (SCHEDULE + 'time = "25:00"\n', "[schedules[0].time]"),
    (SCHEDULE + 'send_when_empty = "yes"\n', "[schedules[0].send_when_empty]"),
    (SCHEDULE + "weekday = 1\n", "[schedules[0].weekday]"),
    (SCHEDULE.replace('weekly = ["mon 07:30"]', ""), "[schedules[0]]"),
    (SCHEDULE + SCHEDULE, "[schedules[1].user_id]"),
    ('\n[[deadlines]]\nname = "Hạn"\ndate = "30/06/2023"\n', "[deadlines[2].date]"),
    ("\n[[deadlines]]\ndate = 2023-06-30\n", "[deadlines[2].name]"),
])
def test_schedule_errors_name_the_file_and_the_key(tmp_path: Path, extra: str, key: str) -> None:
    path = write(tmp_path, extra)
    with pytest.raises(ConfigError) as error:
        load_config(path)
    assert str(path) in str(error.value) and key in str(error.value)


@pytest.mark.parametrize("change,key", [
    (('timezone = "Asia/Ho_Chi_Minh"', 'timezone = "Asia/Hanoi_City"'), "[timetable.timezone]"),
    (('reminder_time = "08:00"', 'reminder_time = "8am"'), "[timetable.reminder_time]"),
    (("reminder_days_before = [7, 1]", 'reminder_days_before = "7"'),
     "[timetable.reminder_days_before]"),
    (('reminder_time = "08:00"', 'reminder_time = "08:00"\nretry_seconds = [60]'),
     "[timetable.retry_seconds]"),
    (('reminder_time = "08:00"', 'reminder_time = "08:00"\nretry_second = [60]'),
     "[timetable.retry_second]"),
])
def test_timetable_errors_name_the_file_and_the_key(tmp_path: Path, change: tuple[str, str],
                                                    key: str) -> None:
    path = write(tmp_path, "", *change)
    with pytest.raises(ConfigError) as error:
        load_config(path)
    assert str(path) in str(error.value) and key in str(error.value)


# --- the delivery service on a real database ----------------------------------------------------

@dataclass(frozen=True)
class Proposal:
    district: str
    status: str
    text: str
    changed: str = "2023-06-01T00:00:00+00:00"


async def seed(db: Database, items: Iterable[Proposal], first_update: int = 1) -> None:
    """Proposals by one child per district, with their status and last change set."""
    async with db.transaction() as conn:
        for update_id, item in enumerate(items, first_update):
            chat_id = 700000 + sum(map(ord, item.district))
            if await children.get(conn, chat_id) is None:
                await children.save(conn, ChildRow(chat_id, item.district, "10-12", "female",
                                                   "vi", "{}"))
            ref = await proposals.insert(conn, proposals.NewProposal(
                chat_id=chat_id, forum_year=2023, district=item.district, topic="injuries",
                age_band="10-12", gender="female", seen="Suối sâu", proposal=item.text,
                actors="commune", message="", lang="vi", needs_translation=False,
                source_update_id=update_id))
            await conn.execute("UPDATE proposals SET status = ?, updated_at = ? WHERE ref = ?",
                               (item.status, item.changed, ref))


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@dataclass(frozen=True)
class Service:
    delivery: Delivery
    config: Config
    clock: Clock
    database: Target


OFFICER_STAFF = """
[[staff]]
user_id = 345678901
role = "officer"
districts = ["DHA", "KTM"]
"""


@pytest.fixture
async def service(tmp_path: Path, target: Target,
                  monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Service]:
    monkeypatch.setenv("CHILDFORUM_PSEUDONYM_KEY", KEY)
    extra = OFFICER_STAFF + SCHEDULE.replace('["DHA"]', '["DHA", "KTM", "NHO"]').replace(
        '["xlsx"]', '["csv"]')
    config = load_config(write(tmp_path, extra)).with_database(target)
    database = target
    db = await open_database(database)
    clock = Clock(local(2023, 6, 12, 7, 30))
    moderation = Moderation(db, config.staff, {d.code for d in config.districts})
    outbox = Outbox(db, config.pacing, config.timetable.zone)
    yield Service(Delivery(db, config, load_catalog(config), moderation, outbox, clock), config,
                  clock, database)
    await db.close()


def run_at(config: Config, due: datetime) -> Run:
    schedule = config.timetable.schedules[0]
    return Run(schedule.stream, due, schedule)


def refs(item: Outgoing) -> list[str]:
    return [row[HEADERS[0]] for row in csv.DictReader(io.StringIO(item.data.decode("utf-8-sig")))]


async def test_files_go_only_where_something_is_new(service: Service) -> None:
    delivery, config, clock = service.delivery, service.config, service.clock
    await seed(delivery.db, [Proposal("DHA", "approved", "Rào chắn ao hồ"),
                             Proposal("DHA", "pending", "Chờ duyệt"),
                             Proposal("KTM", "rejected", "Bị từ chối"),
                             Proposal("NHO", "approved", "Ngoài phạm vi")])
    first = await delivery.files(run_at(config, clock.now))
    # KTM: nothing approved; NHO: outside the officer's export duty
    assert [(f.districts, f.filename, refs(f)) for f in first] == [
        (("DHA",), "kien-nghi-DHA-2023.csv", ["DHA-0001"])]
    await delivery.record(first[0], "sent", 1)

    clock.now += timedelta(days=7)
    assert await delivery.files(run_at(config, clock.now)) == []  # nothing new since

    await seed(delivery.db, [Proposal("KTM", "approved", "Mới duyệt",
                                      changed="2023-06-15T02:00:00+00:00")], first_update=10)
    clock.now += timedelta(days=7)
    later = await delivery.files(run_at(config, clock.now))
    assert [(f.districts, refs(f)) for f in later] == [(("KTM",), ["KTM-0002"])]

    outcomes = query(service.database, "SELECT due_at, district, outcome FROM deliveries"
                     " ORDER BY due_at, district")
    audit = query(service.database, "SELECT actor_user_id, district, detail FROM audit_log"
                  " WHERE action = 'export'")
    assert outcomes == [
        ("2023-06-12T00:30:00+00:00", "DHA", "sent"),
        ("2023-06-12T00:30:00+00:00", "KTM", "empty"),
        ("2023-06-12T00:30:00+00:00", "NHO", "forbidden"),
        ("2023-06-19T00:30:00+00:00", "DHA", "empty"),
        ("2023-06-19T00:30:00+00:00", "KTM", "empty"),
        ("2023-06-19T00:30:00+00:00", "NHO", "forbidden"),
        ("2023-06-26T00:30:00+00:00", "DHA", "empty"),
        ("2023-06-26T00:30:00+00:00", "NHO", "forbidden"),
    ]
    assert [(actor, district) for actor, district, _ in audit] == [(OFFICER, "DHA")]
    assert json.loads(audit[0][2])["trigger"] == "schedule"
    assert await delivery.last_runs() == {f"export:{OFFICER}": local(2023, 6, 26, 7, 30)}


async def test_send_when_empty_sends_every_district_of_the_scope(service: Service) -> None:
    schedule = service.config.timetable.schedules[0]
    run = Run(schedule.stream, service.clock.now,
              Schedule(OFFICER, Scope.of({"DHA", "KTM"}), ("csv",), (MONDAY,),
                       send_when_empty=True))
    files = await service.delivery.files(run)
    assert [(f.districts, f.rows) for f in files] == [(("KTM",), 0), (("DHA",), 0)]


async def test_reminders_count_what_is_pending_in_each_moderators_districts(
        service: Service) -> None:
    await seed(service.delivery.db, [
        Proposal("DHA", "pending", "a"), Proposal("KTM", "pending", "b"),
        Proposal("NHO", "pending", "c"), Proposal("DHA", "approved", "d")])
    run = Run(REMINDERS, service.clock.now, None, DISTRICT_FORUM)
    reminders = await service.delivery.reminders(run)
    # the admin (whole province) and the DHA+KTM moderator of config.example.toml
    assert [(r.user_id, r.pending) for r in reminders] == [(123456789, 3), (MODERATOR, 2)]


async def test_on_demand_stays_within_the_callers_scope(service: Service) -> None:
    delivery = service.delivery
    await seed(delivery.db, [Proposal("DHA", "approved", "a"), Proposal("KTM", "pending", "b"),
                             Proposal("NHO", "approved", "c")])
    every = await delivery.on_demand(OFFICER, Choice(None, "csv", ("approved", "pending"), "all"))
    assert isinstance(every, Outgoing) and every.districts == ("KTM", "DHA")
    assert sorted(refs(every)) == ["DHA-0001", "KTM-0001"]
    assert every.filename == "kien-nghi-tat-ca-moi-thoi-gian.csv"
    assert await delivery.on_demand(OFFICER, Choice("NHO", "csv")) == Refused("forbidden")
    assert await delivery.on_demand(MODERATOR, Choice("DHA", "csv")) == Refused("not_staff")
    assert delivery.districts(PROVINCE)[0] == "KTM"


async def test_on_demand_exports_an_earlier_forum_year_within_the_callers_scope(
        service: Service) -> None:
    """An officer offered the years their areas hold proposals of (a year only another
    area has is not theirs), and all of their areas for one of them."""
    delivery = service.delivery
    await seed(delivery.db, [Proposal("DHA", "approved", "a"), Proposal("DHA", "approved", "b"),
                             Proposal("KTM", "approved", "c"), Proposal("NHO", "approved", "d")])
    async with delivery.db.transaction() as tx:
        await tx.execute("UPDATE proposals SET forum_year = 2021 WHERE ref IN (?, ?)",
                         ("DHA-0002", "KTM-0001"))
        await tx.execute("UPDATE proposals SET forum_year = 2020 WHERE ref = ?", ("NHO-0001",))
    scope = await delivery.export_scope(OFFICER)
    assert await delivery.years(scope) == (2023, 2021)
    assert await delivery.years(PROVINCE) == (2023, 2021, 2020)
    assert await delivery.areas(scope, 2021) == ("KTM", "DHA")
    earlier = await delivery.on_demand(OFFICER, Choice(None, "csv", ("approved",), "year", 2021))
    assert isinstance(earlier, Outgoing) and earlier.filename == "kien-nghi-tat-ca-2021.csv"
    assert sorted(refs(earlier)) == ["DHA-0002", "KTM-0001"]
    one = await delivery.on_demand(OFFICER, Choice("DHA", "csv", ("approved",), "year", 2021))
    assert isinstance(one, Outgoing) and refs(one) == ["DHA-0002"]
    assert await delivery.on_demand(OFFICER, Choice("NHO", "csv", ("approved",), "year",
                                                    2020)) == Refused("forbidden")
