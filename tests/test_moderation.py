"""The moderation service on a real SQLite file: queue, decisions, races, audit, invites, stats."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.staff.moderation import (
    ChildNotice,
    Conflict,
    Done,
    Granted,
    Invite,
    Joined,
    Moderation,
    QueueItem,
    Refused,
    Stats,
    button_data,
    parse_button,
)
from bot.staff.roles import PROVINCE, Scope, StaffMember
from storage import children, proposals
from storage.children import ChildRow
from storage.db import Database, TakesTurns, open_database
from storage.export_rows import EXPORTABLE_STATUSES
from tests.stores import Target, query
from tests.test_storage import new_proposal

KNOWN = {"DHA", "KTM", "STY"}
ADMIN, MOD_DHA, MOD_DHA2, MOD_KTM, GUARD, OFFICER, NOBODY = 1, 2, 3, 4, 5, 6, 99
STAFF = (
    StaffMember(ADMIN, "admin", PROVINCE),
    StaffMember(MOD_DHA, "moderator", Scope.of({"DHA"})),
    StaffMember(MOD_DHA2, "moderator", Scope.of({"DHA"})),
    StaffMember(MOD_KTM, "moderator", Scope.of({"KTM"})),
    StaffMember(GUARD, "safeguarding", Scope.of({"DHA"})),
    StaffMember(OFFICER, "officer", Scope.of({"DHA", "KTM"})),
)


def reason(result: object) -> str:
    """Why a call was refused (fails when it was not)."""
    assert isinstance(result, Refused), result
    return result.reason


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2023, 5, 1, 8, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def path(target: Target) -> Target:
    return target


@pytest.fixture
async def db(path: Target) -> AsyncIterator[Database]:
    database = await open_database(path)
    yield database
    await database.close()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def service(db: Database, clock: Clock) -> Moderation:
    return Moderation(db, STAFF, KNOWN, clock)


async def submit(db: Database, chat_id: int, district: str, update_id: int, *,
                 lang: str = "vi") -> int:
    """A child's proposal, as the conversation stores it; returns its id."""
    async with db.transaction() as conn:
        await children.save(conn, ChildRow(chat_id, district, "10-12", "female", lang, "{}"))
        ref = await proposals.insert(conn, new_proposal(chat_id, update_id, district))
        return int(await conn.fetchval("SELECT id FROM proposals WHERE ref = ?", (ref,)))


async def next_item(service: Moderation, user_id: int, skip: frozenset[int] = frozenset()
                    ) -> QueueItem:
    item = await service.next_pending(user_id, skip)
    assert isinstance(item, QueueItem)
    return item


async def audit_actions(service: Moderation) -> list[tuple[int, str, int | None]]:
    entries = await service.audit(ADMIN, limit=100)
    assert isinstance(entries, list)
    return [(e.actor_user_id, e.action, e.item_id) for e in reversed(entries)]


async def test_queue_is_oldest_first_within_the_moderators_districts(
        db: Database, service: Moderation) -> None:
    first = await submit(db, 10, "DHA", 1)
    ktm = await submit(db, 11, "KTM", 2)
    second = await submit(db, 12, "DHA", 3)
    item = await next_item(service, MOD_DHA)
    assert (item.id, item.district, item.topic, item.age_band, item.lang, item.remaining) == (
        first, "DHA", "injuries", "10-12", "vi", 2)
    assert (item.seen, item.proposal, item.is_group, item.version) == (
        "Suối sâu", "Rào chắn", False, 0)
    assert (await next_item(service, MOD_DHA, frozenset({first}))).id == second
    assert await service.next_pending(MOD_DHA, frozenset({first, second})) is None
    assert (await next_item(service, MOD_KTM)).id == ktm
    assert (await next_item(service, ADMIN)).id == first


async def test_non_staff_and_other_roles_get_no_queue(service: Moderation) -> None:
    assert await service.next_pending(NOBODY) == Refused("not_staff")
    assert await service.next_pending(OFFICER) == Refused("forbidden")


async def test_approve_tells_the_child_and_moves_the_version(
        db: Database, service: Moderation) -> None:
    pid = await submit(db, 10, "DHA", 1, lang="en")
    done = await service.approve(MOD_DHA, pid, 0)
    assert done == Done(pid, "DHA-0001", "approve", 1,
                        ChildNotice(10, "en", "DHA-0001", "approved"))
    mine = await proposals.of_child(db.reader, 10)
    assert mine[0].status == "approved"
    assert await service.next_pending(MOD_DHA) is None


async def test_reject_needs_a_known_reason_and_a_note_for_other(
        db: Database, service: Moderation) -> None:
    pid = await submit(db, 10, "DHA", 1)
    assert reason(await service.reject(MOD_DHA, pid, 0, "boring")) == "invalid"
    assert await service.reject(MOD_DHA, pid, 0, "other") == Refused("note_required")
    assert await service.reject(MOD_DHA, pid, 0, "other", "   ") == Refused("note_required")
    for said in ("7", "ok", "Vâng.", "dạ"):  # a menu's number, or the prompt acknowledged:
        assert await service.reject(MOD_DHA, pid, 0, "other", said) == Refused("words")
    done = await service.reject(MOD_DHA, pid, 0, "other", " Đã có ở xã ")
    assert isinstance(done, Done)
    assert done.notice == ChildNotice(10, "vi", "DHA-0001", "rejected", "other", "Đã có ở xã")
    pid2 = await submit(db, 11, "DHA", 2)
    done = await service.reject(MOD_DHA, pid2, 0, "duplicate")
    assert isinstance(done, Done) and done.notice is not None
    assert (done.notice.reason, done.notice.note) == ("duplicate", None)


async def test_edit_keeps_the_original_only_in_the_audit_trail(
        db: Database, service: Moderation) -> None:
    pid = await submit(db, 10, "DHA", 1)
    done = await service.edit(MOD_DHA, pid, 0, "proposal", "Rào chắn quanh suối")
    assert done == Done(pid, "DHA-0001", "edit", 1)
    item = await next_item(service, MOD_DHA)
    assert (item.proposal, item.version) == ("Rào chắn quanh suối", 1)
    entries = await service.audit(MOD_DHA)
    assert isinstance(entries, list)
    assert (entries[0].action, entries[0].before, entries[0].after) == (
        "edit", "Rào chắn", "Rào chắn quanh suối")
    assert reason(await service.edit(MOD_DHA, pid, 1, "chat_id", "x")) == "invalid"
    assert reason(await service.edit(MOD_DHA, pid, 1, "seen", "  ")) == "invalid"
    assert isinstance(await service.approve(MOD_DHA, pid, 1), Done)


async def test_flag_takes_it_out_of_the_queue_and_exports(
        db: Database, service: Moderation) -> None:
    """The case itself is opened by the staff desk in the same transaction (tests/test_cases)."""
    pid = await submit(db, 10, "DHA", 1)
    done = await service.flag_safeguarding(MOD_DHA, pid, 0)
    assert isinstance(done, Done) and done.notice is None
    assert done.item is not None and done.item.proposal == "Rào chắn"
    assert await service.next_pending(MOD_DHA) is None
    exportable = "', '".join(EXPORTABLE_STATUSES)
    assert await db.reader.fetchval(
        f"SELECT count(*) FROM proposals WHERE status IN ('{exportable}')") == 0


async def test_skip_changes_nothing(db: Database, service: Moderation) -> None:
    pid = await submit(db, 10, "DHA", 1)
    assert await service.skip(MOD_DHA, pid, 0) == Done(pid, "DHA-0001", "skip", 0)
    assert (await next_item(service, MOD_DHA)).version == 0
    assert await audit_actions(service) == []


async def test_two_moderators_race_and_exactly_one_wins(
        db: Database, service: Moderation) -> None:
    pid = await submit(db, 10, "DHA", 1)
    results = await asyncio.gather(service.approve(MOD_DHA, pid, 0),
                                   service.reject(MOD_DHA2, pid, 0, "off_topic"))
    winners = [r for r in results if isinstance(r, Done)]
    losers = [r for r in results if isinstance(r, Conflict)]
    assert len(winners) == 1 and len(losers) == 1
    winner_id = MOD_DHA if winners[0].action == "approve" else MOD_DHA2
    assert (losers[0].by_user_id, losers[0].action) == (winner_id, winners[0].action)
    assert losers[0].at is not None
    assert len(await audit_actions(service)) == 1


async def test_two_services_on_one_file_race_too(path: Target, db: Database) -> None:
    """Two processes' worth of connections: BEGIN IMMEDIATE + version still let one win."""
    pid = await submit(db, 10, "DHA", 1)
    other_db = await open_database(path)
    try:
        first, second = Moderation(db, STAFF, KNOWN), Moderation(other_db, STAFF, KNOWN)
        results = await asyncio.gather(first.approve(MOD_DHA, pid, 0),
                                       second.flag_safeguarding(MOD_DHA2, pid, 0))
    finally:
        await other_db.close()
    assert sorted(type(r).__name__ for r in results) == ["Conflict", "Done"]


async def test_pressing_twice_does_nothing_the_second_time(
        db: Database, service: Moderation) -> None:
    pid = await submit(db, 10, "DHA", 1)
    assert isinstance(await service.approve(MOD_DHA, pid, 0), Done)
    again = await service.approve(MOD_DHA, pid, 0)
    assert isinstance(again, Conflict) and (again.by_user_id, again.action) == (MOD_DHA, "approve")
    assert await service.reject(MOD_DHA, pid, 1, "duplicate") == Refused("wrong_status")
    assert len(await audit_actions(service)) == 1


async def test_district_and_revocation_are_checked_at_the_moment_of_the_press(
        db: Database, service: Moderation) -> None:
    pid = await submit(db, 10, "DHA", 1)
    assert await service.approve(MOD_KTM, pid, 0) == Refused("forbidden")
    assert await service.approve(NOBODY, pid, 0) == Refused("not_staff")
    assert await service.approve(OFFICER, pid, 0) == Refused("forbidden")
    assert await service.approve(MOD_DHA, 12345, 0) == Refused("not_found")
    assert isinstance(await service.grant(ADMIN, 70, "moderator", ["DHA"]), Granted)
    item = await next_item(service, 70)  # the button is shown...
    await service.revoke(ADMIN, 70, "moderator")
    assert await service.approve(70, item.id, item.version) == Refused("not_staff")
    assert (await next_item(service, MOD_DHA)).version == 0


async def test_buttons_round_trip_and_forged_data_is_refused(
        db: Database, service: Moderation) -> None:
    pid = await submit(db, 10, "DHA", 1)
    data = button_data("approve", pid, 0)
    assert len(data.encode()) <= 64
    press = parse_button(data)
    assert press is not None and (press.action, press.proposal_id, press.version) == (
        "approve", pid, 0)
    for forged in ("1|ok|x", "q|approve|1", "qx|approve|1", "q1|approve|-1", "q1|a|1|2"):
        assert parse_button(forged) is None, forged
    assert await service.approve(NOBODY, pid, 0) == Refused("not_staff")


async def test_a_proposal_rejected_for_personal_data_keeps_no_words(
        path: Target, db: Database, service: Moderation) -> None:
    """Its words (an edit's before and after too) go at once: the child is told why, the row
    stays for the counts; a proposal rejected for another reason keeps its words."""
    personal, other = [await submit(db, 10 + n, "DHA", n) for n in range(2)]
    await service.edit(MOD_DHA, personal, 0, "seen", "Suối sâu, gọi bố em 0912345678")
    await service.reject(MOD_DHA, personal, 1, "personal_data")
    await service.reject(MOD_DHA, other, 0, "off_topic")
    rows = query(path, "SELECT id, status, reject_reason, seen, proposal, message"
                       " FROM proposals ORDER BY id")
    assert rows[0] == (personal, "rejected", "personal_data", "", "", "")
    assert rows[1][1:3] == ("rejected", "off_topic") and rows[1][3]
    assert query(path, "SELECT before_text, after_text FROM moderation_edits") == [("", "")]
    if isinstance(path, Path):  # nor in SQLite's write-ahead log, while the bot runs on
        wal, words = path.with_name(path.name + "-wal"), b"0912345678"
        for _ in range(50):
            if not wal.exists() or words not in wal.read_bytes():
                break
            await asyncio.sleep(0.1)
        assert not wal.exists() or words not in wal.read_bytes()


async def test_audit_has_every_step_and_cannot_be_changed(
        path: Target, db: Database, service: Moderation) -> None:
    a, b, c, d = [await submit(db, 10 + n, "DHA", n) for n in range(4)]
    await service.approve(MOD_DHA, a, 0)
    await service.reject(MOD_DHA, b, 0, "personal_data")
    await service.edit(MOD_DHA, c, 0, "seen", "Ở suối")
    await service.flag_safeguarding(MOD_DHA, d, 0)
    await service.grant(ADMIN, 70, "officer", ["KTM"])
    await service.revoke(ADMIN, 70, "officer")
    invite = await service.create_invite(MOD_DHA, "DHA", 24, 3)
    assert isinstance(invite, Invite)
    await service.redeem_invite(500, invite.code)
    assert [(actor, action) for actor, action, _ in await audit_actions(service)] == [
        (MOD_DHA, "approve"), (MOD_DHA, "reject"), (MOD_DHA, "edit"), (MOD_DHA, "flag"),
        (ADMIN, "grant"), (ADMIN, "revoke"), (MOD_DHA, "invite"), (500, "join")]
    dha = await service.audit(MOD_DHA)
    assert isinstance(dha, list) and {e.district for e in dha} == {"DHA"}
    ktm = await service.audit(MOD_KTM)
    assert isinstance(ktm, list) and [e.action for e in ktm] == ["revoke", "grant"]
    assert await service.audit(OFFICER) == Refused("forbidden")
    for change in ("UPDATE audit_log SET actor_user_id = 0", "DELETE FROM audit_log"):
        with pytest.raises(Exception, match="append-only"):
            query(path, change)
    if not isinstance(path, Path):
        with pytest.raises(Exception, match="append-only"):
            query(path, "TRUNCATE audit_log")
    assert query(path, "SELECT count(*) FROM audit_log") == [(8,)]


async def test_erasure_removes_edit_texts_but_keeps_the_audit_rows(
        path: Target, db: Database, service: Moderation) -> None:
    pid = await submit(db, 10, "DHA", 1)
    await service.edit(MOD_DHA, pid, 0, "proposal", "Không có tên")
    await service.flag_safeguarding(MOD_DHA, pid, 1)
    async with db.transaction() as conn:
        await children.erase(conn, 10)
    entries = await service.audit(ADMIN)
    assert isinstance(entries, list)
    assert [(e.action, e.before, e.after) for e in entries] == [
        ("flag", None, None), ("edit", None, None)]
    for table in ("moderation_edits", "proposals"):
        assert query(path, f"SELECT count(*) FROM {table}") == [(0,)], table
    details = " ".join(row[0] for row in query(path, "SELECT detail FROM audit_log"))
    assert "Rào chắn" not in details and "10" not in details.replace("edit_id", "")


async def test_invites_expire_and_run_out(db: Database, service: Moderation,
                                          clock: Clock) -> None:
    assert await service.create_invite(MOD_DHA, "KTM", 24, 2) == Refused("forbidden")
    assert await service.create_invite(NOBODY, "DHA", 24, 2) == Refused("not_staff")
    assert reason(await service.create_invite(MOD_DHA, "DHA", 0, 2)) == "invalid"
    invite = await service.create_invite(MOD_DHA, "DHA", 24, 2)
    assert isinstance(invite, Invite)
    assert len(invite.code) == 8 and not set(invite.code) & set("0O1I")
    assert await service.redeem_invite(500, "NOPE1234") == Refused("unknown_code")
    assert await service.redeem_invite(500, invite.code.lower()) == Joined("DHA", already=False)
    assert await service.redeem_invite(500, invite.code) == Joined("DHA", already=True)
    assert await service.redeem_invite(501, invite.code) == Joined("DHA", already=False)
    assert await service.redeem_invite(502, invite.code) == Refused("used_up")
    assert await service.facilitator_districts(501) == ["DHA"]
    later = await service.create_invite(MOD_DHA, "DHA", 1, 5)
    assert isinstance(later, Invite)
    clock.now += timedelta(hours=1)
    assert await service.redeem_invite(503, later.code) == Refused("expired")
    assert await service.facilitator_districts(503) == []
    # Expired, or used up, it still takes a facilitator back to a district they hold.
    assert await service.redeem_invite(501, later.code) == Joined("DHA", already=True)
    assert await service.redeem_invite(500, invite.code) == Joined("DHA", already=True)


async def test_notice_for_a_group_goes_to_the_facilitator(
        db: Database, service: Moderation) -> None:
    pid = await submit(db, 10, "DHA", 1)
    async with db.transaction() as conn:
        await conn.execute(
            "UPDATE proposals SET is_group = 1, group_size = 12, group_age_range = '10-15',"
            " facilitator_chat_id = 700, school = 'THCS' WHERE id = ?", (pid,))
    item = await next_item(service, MOD_DHA)
    assert (item.is_group, item.group_size, item.group_age_range, item.school) == (
        True, 12, "10-15", "THCS")
    done = await service.approve(MOD_DHA, pid, 0)
    assert isinstance(done, Done) and done.notice is not None and done.notice.chat_id == 700


async def test_stats_match_direct_counts(path: Target, db: Database, service: Moderation) -> None:
    ids = [await submit(db, 10 + n, ("DHA", "KTM", "STY")[n % 3], n) for n in range(12)]
    async with db.transaction() as conn:
        await conn.execute("UPDATE proposals SET is_group = 1, age_band = NULL, gender = NULL"
                           " WHERE id IN (?, ?)", (ids[0], ids[3]))
        await conn.execute("UPDATE proposals SET gender = 'male', topic = 'online'"
                           " WHERE id IN (?, ?)", (ids[1], ids[4]))
    await service.approve(ADMIN, ids[0], 0)
    await service.reject(ADMIN, ids[4], 0, "duplicate")
    assert await service.stats(NOBODY) == Refused("not_staff")
    stats = await service.stats(OFFICER)
    assert isinstance(stats, Stats)
    where = "WHERE district IN ('DHA', 'KTM')"
    cells = {(d, t, s): n for d, t, s, n in query(
        path, f"SELECT district, topic, status, count(*) FROM proposals {where}"
        " GROUP BY 1, 2, 3")}
    genders = dict(query(
        path, f"SELECT gender, count(*) FROM proposals {where} AND is_group = 0 GROUP BY 1"))
    bands = dict(query(
        path, f"SELECT age_band, count(*) FROM proposals {where} AND is_group = 0 GROUP BY 1"))
    groups = query(path, f"SELECT count(*) FROM proposals {where} AND is_group = 1")[0]
    total = query(path, f"SELECT count(*) FROM proposals {where}")[0]
    assert stats.by_district_topic_status == cells
    assert stats.by_gender == genders and stats.by_age_band == bands
    assert (stats.groups, stats.total) == (groups[0], total[0]) == (2, 8)
    assert "STY" not in {d for d, _, _ in stats.by_district_topic_status}
    province = await service.stats(ADMIN)
    assert isinstance(province, Stats) and province.total == 12


async def test_stats_count_one_forum_year_and_name_the_others(
        db: Database, service: Moderation) -> None:
    """A database holding two forums (the 2023 districts', a commune forum's): /stats counts
    one year's proposals, and says how many each year has; without a year, every year's
    (the moderators' digest counts what the queue holds)."""
    ids = [await submit(db, 10 + n, "DHA", n) for n in range(5)]
    async with db.transaction() as conn:
        await conn.execute("UPDATE proposals SET forum_year = 2026 WHERE id IN (?, ?)",
                           (ids[0], ids[1]))
    await service.approve(ADMIN, ids[0], 0)
    earlier = await service.stats(OFFICER, 2023)
    assert isinstance(earlier, Stats) and earlier.total == 3 and earlier.year == 2023
    assert earlier.years == ((2026, 2), (2023, 3))
    later = await service.stats(OFFICER, 2026)
    assert isinstance(later, Stats) and later.total == 2
    assert [(a.district, a.approved) for a in later.answers] == [("DHA", 1)]
    assert sum(count for _, count, _, _ in later.languages) == 2
    every = await service.stats(OFFICER)
    assert isinstance(every, Stats) and every.total == 5 and every.year is None


async def test_queue_and_stats_use_indexes(tmp_path: Path) -> None:
    """SQLite's planner (PostgreSQL's picks a plan by the table's size, which a test cannot
    fake honestly)."""
    db = await open_database(tmp_path / "forum.sqlite3")
    plans = {
        "queue": "SELECT id FROM proposals WHERE status = 'pending' AND district = 'DHA'"
                 " ORDER BY id LIMIT 1",
        "province queue": "SELECT id FROM proposals WHERE status = 'pending' ORDER BY id LIMIT 1",
        "stats": "SELECT district, topic, status, forum_year, age_band, gender, is_group,"
                 " count(*) FROM proposals GROUP BY district, topic, status, forum_year,"
                 " age_band, gender, is_group",
        "answers of a year": "SELECT district, topic, count(*) FROM proposals WHERE status ="
                             " 'approved' AND forum_year = 2026 AND district IN ('DHA', 'KTM')"
                             " GROUP BY district, topic",
    }
    for name, sql in plans.items():
        plan = " ".join(str(row[3]) for row in await db.reader.fetchall(
            f"EXPLAIN QUERY PLAN {sql}"))
        assert "USING" in plan and "INDEX" in plan and "TEMP B-TREE" not in plan, (name, plan)
    await db.close()


async def test_a_word_that_only_looks_like_an_invite_takes_no_turn(
        service: Moderation, db: Database) -> None:
    """Typed in a child's update (its chat's transaction, beside other chats' on PostgreSQL):
    an unknown code is told apart by a read, without making every other writer wait."""
    async with db.transaction(500):
        assert await service.redeem_invite(500, "HAHAHAHA") == Refused("unknown_code")
    invite = await service.create_invite(MOD_DHA, "DHA", 24, 5)
    assert isinstance(invite, Invite)
    with contextlib.suppress(TakesTurns):  # a real one is a shared write: in turn, there
        async with db.transaction(500):
            await service.redeem_invite(500, invite.code)
    # On SQLite (one writer) it was redeemed in the chat's transaction; on PostgreSQL that one
    # rolled back, and it is redeemed now.
    assert await service.redeem_invite(500, invite.code) == Joined(
        "DHA", already=not db.side_by_side)


async def test_digests_made_in_quiet_hours_arrive_as_one(db: Database, service: Moderation,
                                                         path: Target) -> None:
    """Notices wait for the morning: the digests of a night are one message then, counting
    what each would have said, not one an interval."""
    from dataclasses import replace
    from typing import Any, cast
    from zoneinfo import ZoneInfo

    from bot.config import load_config
    from bot.conversation.catalog import load_catalog
    from bot.staff.desk import StaffDesk
    from bot.transport.outbox import Outbox

    config = replace(load_config(Path(__file__).parents[1] / "config.example.toml"),
                     staff=STAFF)
    night = datetime(2024, 3, 5, 23, 0, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh"))
    outbox = Outbox(db, config.pacing, config.timetable.zone, clock=lambda: night)
    desk = StaffDesk(service, load_catalog(config), outbox, config, cast(Any, None))
    await submit(db, 701, "DHA", 1)
    await desk.digest()
    await submit(db, 702, "DHA", 2)
    await submit(db, 703, "DHA", 3)
    await desk.digest()
    await desk.digest()  # nothing new: nothing more
    waiting = query(path, f"SELECT payload FROM outbox WHERE chat_id = {MOD_DHA}")
    assert len(waiting) == 1 and "3 ý kiến mới" in str(waiting[0][0])
    assert len(query(path, f"SELECT id FROM outbox WHERE chat_id = {ADMIN}")) == 1


async def test_an_admin_learns_of_config_roles_only_within_their_reach(
        db: Database, service: Moderation) -> None:
    """An admin of DHA revoking a KTM moderator's config.toml role is told there is no such
    grant, as for anyone outside their areas (a tester was told the role is in the config,
    which revealed it); within their areas, that it is the config's to change."""
    assert isinstance(await service.grant(ADMIN, 80, "admin", ["DHA"]), Granted)
    assert reason(await service.revoke(80, MOD_KTM, "moderator")) == "not_granted"
    assert reason(await service.revoke(80, MOD_DHA, "moderator")) == "config_role"
