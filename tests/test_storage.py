"""Storage on a real SQLite file and a real PostgreSQL database: migrations, the inbox,
proposals, erasure."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import threading
from pathlib import Path

import pytest

from bot.transport.inbox import Inbox
from storage import answers, audit, cases, children, inbox, outbox, proposals
from storage.children import ChildRow
from storage.db import DatabaseUnavailable, TakesTurns, Tx, open_database
from tests.stores import Target, fresh_postgres, query


def new_proposal(chat_id: int, update_id: int, district: str = "DHA") -> proposals.NewProposal:
    return proposals.NewProposal(
        chat_id=chat_id, forum_year=2023, district=district, topic="injuries",
        age_band="10-12", gender="female", seen="Suối sâu", proposal="Rào chắn",
        actors="commune", message="", lang="vi", needs_translation=False,
        source_update_id=update_id)


async def test_migrations_run_once(target: Target) -> None:
    db = await open_database(target)
    first = db.applied
    await db.close()
    db = await open_database(target)  # second start: nothing to apply, nothing breaks
    assert db.applied == []
    applied = await db.reader.fetchval("SELECT count(*) FROM schema_migrations")
    folder = Path(__file__).parents[1] / "storage/migrations" / db.dialect
    assert applied == len(list(folder.glob("*.sql"))) == len(first)
    await db.close()
    if isinstance(target, Path):
        with sqlite3.connect(target) as raw:
            assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


async def test_inbox_keeps_until_done_and_recognises_redelivery(target: Target) -> None:
    db = await open_database(target)
    async with db.transaction() as conn:
        assert await inbox.store(conn, 7, {"update_id": 7, "message": {"text": "chào"}})
        assert not await inbox.store(conn, 7, {"update_id": 7})
    assert await inbox.pending(db.reader) == [{"update_id": 7, "message": {"text": "chào"}}]
    async with db.transaction() as conn:
        await inbox.mark_done(conn, 7)
    assert await inbox.pending(db.reader) == []
    assert await inbox.is_done(db.reader, 7)
    # the child's words are not kept
    assert await db.reader.fetchval("SELECT payload FROM inbox") is None
    await db.close()


async def test_references_count_per_district_and_never_double(target: Target) -> None:
    db = await open_database(target)
    async with db.transaction() as conn:
        await children.save(conn, ChildRow(1, "DHA", "10-12", "female", "vi", "{}"))
        first = await proposals.insert(conn, new_proposal(1, 100))
        again = await proposals.insert(conn, new_proposal(1, 100))
        second = await proposals.insert(conn, new_proposal(1, 101))
        other = await proposals.insert(conn, new_proposal(1, 102, district="KTM"))
    assert (first, again, second, other) == ("DHA-0001", "DHA-0001", "DHA-0002", "KTM-0001")
    mine = await proposals.of_child(db.reader, 1)
    assert [p.ref for p in mine] == ["KTM-0001", "DHA-0002", "DHA-0001"]
    await db.close()


async def test_an_update_id_another_chat_used_long_ago_is_a_new_proposal(target: Target
                                                                       ) -> None:
    """Telegram numbers updates afresh after a week with none (at random), and a new bot
    anew: an id another chat's proposal came from is not a redelivery of it."""
    db = await open_database(target)
    async with db.transaction() as conn:
        for chat in (1, 2):
            await children.save(conn, ChildRow(chat, "DHA", "10-12", "female", "vi", "{}"))
        old = await proposals.insert(conn, new_proposal(1, 100))
        new = await proposals.insert(conn, new_proposal(2, 100))
        # (the update applied again is the inbox's to refuse: its done mark commits with this)
    assert (old, new) == ("DHA-0001", "DHA-0002")
    assert [p.ref for p in await proposals.of_child(db.reader, 2)] == ["DHA-0002"]
    assert [p.ref for p in await proposals.of_child(db.reader, 1)] == ["DHA-0001"]
    await db.close()


async def test_erase_removes_everything_of_the_child(target: Target) -> None:
    db = await open_database(target)
    async with db.transaction() as conn:
        for chat_id in (1, 2):
            await children.save(conn, ChildRow(chat_id, "DHA", None, None, "vi", "{}"))
            await proposals.insert(conn, new_proposal(chat_id, 200 + chat_id))
            await cases.add(conn, cases.NewCase(chat_id, "DHA", "detector", 1, "physical_home",
                                                "bố đánh em"))
            await inbox.store(conn, 100 + chat_id, {}, chat_id)  # handled, kept a week
            await inbox.mark_done(conn, 100 + chat_id)
        # an officer's workbook sent in chat, not applied yet: it may quote the child's words
        await answers.add_import(conn, 21, "answers.xlsx", b"DHA-0001 bo danh em")
        # child 1's earlier case, closed: its words go; the open one keeps them for a person
        closed = await cases.add(conn, cases.NewCase(1, "DHA", "detector", 2, "neglect",
                                                     "em bị bỏ đói"))
        await conn.execute("UPDATE cases SET state = 'closed' WHERE id = ?", (closed,))
    async with db.transaction() as conn:
        still_open = await children.erase(conn, 1)
    await db.close()
    assert [case.text for case in still_open] == ["bố đánh em"]
    # the redelivery guard keeps the update's id, not whose it was
    assert query(target, "SELECT update_id, chat_id FROM inbox ORDER BY 1") == [
        (101, None), (102, 2)]
    for table in ("children", "proposals"):
        assert query(target, f"SELECT chat_id FROM {table}") == [(2,)], table
    assert query(target, "SELECT count(*) FROM answer_imports") == [(0,)]
    # a safeguarding case keeps its record (who did what), without the child; the words of a
    # case nobody has worked yet stay until it is (they go purge_days after it closes)
    assert query(target, "SELECT chat_id, text FROM cases ORDER BY id") == [
        (None, "bố đánh em"), (2, "bố đánh em"), (None, "")]


async def test_a_failed_transaction_leaves_nothing(target: Target) -> None:
    db = await open_database(target)
    try:
        async with db.transaction() as conn:
            await children.save(conn, ChildRow(1, "DHA", None, None, "vi", "{}"))
            raise RuntimeError("crash in the middle")
    except RuntimeError:
        pass
    assert await children.get(db.reader, 1) is None
    await db.close()


async def test_inbox_prune_forgets_only_old_handled_updates(target: Target) -> None:
    db = await open_database(target)
    async with db.transaction() as conn:
        for update_id in (1, 2, 3):
            await inbox.store(conn, update_id, {"update_id": update_id})
        await inbox.mark_done(conn, 1)
        await inbox.mark_done(conn, 2)
        await conn.execute("UPDATE inbox SET done_at = '2020-01-01T00:00:00+00:00'"
                           " WHERE update_id = 1")
    async with db.transaction() as conn:
        await inbox.prune(conn, "2021-01-01T00:00:00+00:00")
    assert await db.reader.fetchall("SELECT update_id FROM inbox ORDER BY 1") == [(2,), (3,)]
    await db.close()


async def test_retention_forgets_inactive_people_but_keeps_anonymous_proposals(
        target: Target) -> None:
    from datetime import UTC, datetime

    from bot.retention import purge_personal_data

    db = await open_database(target)
    async with db.transaction() as conn:
        for chat_id in (1, 2):
            await children.save(conn, ChildRow(chat_id, "DHA", None, None, "vi", "{}"))
            await proposals.insert(conn, new_proposal(chat_id, 300 + chat_id))
        await conn.execute("UPDATE children SET updated_at = '2023-01-01T00:00:00+00:00'"
                           " WHERE chat_id = 1")
        for sent in ("2024-05-30T23:00:00+00:00", "2024-05-31T01:00:00+00:00"):  # workbooks
            await answers.add_import(conn, 21, sent, b"children's words")
        await conn.execute("UPDATE answer_imports SET created_at = filename")
        # what moderators edited out (a name, a phone): child 1's goes with them; child 2's
        # edit of 40 days ago loses its original, the one of 10 days ago keeps it a while
        for proposal_id, at in ((1, "2024-05-20T00:00:00+00:00"),
                                (2, "2024-04-22T00:00:00+00:00"),
                                (2, "2024-05-22T00:00:00+00:00")):
            edit = await audit.add_edit(conn, proposal_id, "seen", "Em là Bình, 0987654321",
                                        "Suối sâu", 21)
            await conn.execute("UPDATE moderation_edits SET edited_at = ? WHERE id = ?",
                               (at, edit))
    forgotten = await purge_personal_data(db, 365, now=datetime(2024, 6, 1, tzinfo=UTC))
    assert forgotten == 1
    assert query(target, "SELECT proposal_id, before_text, after_text FROM moderation_edits"
                         " ORDER BY id") == [(1, "", "Suối sâu"), (2, "", "Suối sâu"),
                                             (2, "Em là Bình, 0987654321", "Suối sâu")]
    assert query(target, "SELECT filename FROM answer_imports") == [("2024-05-31T01:00:00+00:00",)]
    rows = await db.reader.fetchall("SELECT chat_id, seen FROM proposals ORDER BY id")
    assert rows == [(None, "Suối sâu"), (2, "Suối sâu")]
    assert await children.get(db.reader, 1) is None
    await db.close()


async def test_a_forgotten_childs_answer_notices_keep_only_when_and_what_they_thought(
        target: Target) -> None:
    """Retention: a forgotten child's messages go from the outbox; of the answer they were
    told, what /stats and the follow-up report count stays, anonymous (chat id 0): when they
    were told and their 👍. Another child's notices are untouched, and of their messages'
    records those sent over a month ago that no report needs go."""
    from datetime import UTC, datetime

    from bot.retention import purge_personal_data
    from storage.answers import AnswerFields

    db = await open_database(target)
    async with db.transaction() as conn:
        for chat_id in (1, 2):
            await children.save(conn, ChildRow(chat_id, "DHA", None, None, "vi", "{}"))
            proposal_id = await conn.fetchval(
                "SELECT id FROM proposals WHERE ref = ?",
                (await proposals.insert(conn, new_proposal(chat_id, 300 + chat_id)),))
            await conn.execute("UPDATE proposals SET status = 'approved' WHERE id = ?",
                               (proposal_id,))
            version = await answers.add_version(conn, proposal_id, AnswerFields(
                "implemented", "Xã đã làm rào chắn."), 21, "chat")
            await answers.publish(conn, [version.id], 21)
            await answers.add_notice(conn, version.id, chat_id)
            await answers.feedback(conn, version.id, chat_id, "up")
            for dedupe in (answers.notice_key(version.id, chat_id), None, None):
                await outbox.add(conn, outbox.NewMessage(
                    "telegram", chat_id, "notice", "{}", None, "2024-01-02T00:00:00+00:00",
                    dedupe))
        await conn.execute("UPDATE outbox SET state = 'sent', done_at = ?",
                           ("2024-01-02T08:00:00+00:00",))
        await conn.execute("UPDATE outbox SET done_at = '2024-05-20T08:00:00+00:00' WHERE id IN"
                           " (SELECT max(id) FROM outbox GROUP BY chat_id)")  # 12 days before
        await conn.execute("UPDATE children SET updated_at = '2023-01-01T00:00:00+00:00'"
                           " WHERE chat_id = 1")
    before = await answers.counts(db.reader, None)
    assert await purge_personal_data(db, 365, now=datetime(2024, 6, 1, tzinfo=UTC)) == 1
    assert query(target, "SELECT chat_id, told_at, feedback FROM answer_notices"
                         " ORDER BY answer_id") == [
        (0, "2024-01-02T08:00:00+00:00", "up"), (2, None, "up")]
    # child 2's: the notice (a report counts it) and the message sent 12 days before; the one
    # sent months before, that no report needs, is forgotten
    assert query(target, "SELECT chat_id, dedupe IS NULL FROM outbox ORDER BY id") == [
        (2, 0), (2, 1)]
    assert await answers.counts(db.reader, None) == before  # told 2, 👍 2: as before
    assert [(c.told, c.up) for c in before] == [(2, 2)]
    await db.close()


async def test_both_dialects_end_with_the_same_tables_and_columns(tmp_path: Path) -> None:
    """The migrations of the two folders, applied, give the same schema; PostgreSQL's integers
    are all 64-bit (Telegram's chat ids pass 2^31) and its ids identity columns."""
    lite = await open_database(tmp_path / "forum.sqlite3")
    tables = [row[0] for row in await lite.reader.fetchall(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")]
    sqlite_schema = {table: {row[1] for row in await lite.reader.fetchall(
        f"PRAGMA table_info({table})")} for table in tables}
    await lite.close()
    with fresh_postgres() as address:
        server = await open_database(address)
        columns = await server.reader.fetchall(
            "SELECT table_name, column_name, data_type, is_identity"
            " FROM information_schema.columns WHERE table_schema = 'public'")
        await server.close()
    postgres_schema: dict[str, set[str]] = {}
    for table, column, _, _ in columns:
        postgres_schema.setdefault(table, set()).add(column)
    assert postgres_schema == sqlite_schema
    kinds = {kind for table, _, kind, _ in columns if table != "schema_migrations"}
    assert kinds == {"bigint", "text", "bytea"}
    identities = {(table, column) for table, column, _, identity in columns if identity == "YES"}
    assert ("proposals", "id") in identities and ("cases", "id") in identities
    assert ("inbox", "update_id") not in identities  # Telegram's id, not ours


async def test_the_audit_log_cannot_be_truncated_on_postgresql() -> None:
    with fresh_postgres() as address:
        db = await open_database(address)
        await db.close()
        with pytest.raises(Exception, match="append-only"):
            query(address, "TRUNCATE audit_log")


async def test_chats_transactions_take_turns_as_the_database_allows(target: Target) -> None:
    """Different chats' transactions run side by side on PostgreSQL (one on SQLite, its one
    writer); one chat's wait for each other, and everyone's waits for them all.

    What is read is whether the second transaction got inside while the first still held its
    own, not which task finished first: once the first commits, the second may finish before
    the first's task does (its connection goes back to the pool), which says nothing."""
    db = await open_database(target)
    holding, release = asyncio.Event(), asyncio.Event()

    async def hold(chat: int | None) -> None:
        async with db.transaction(chat) as tx:
            await children.save(tx, ChildRow(chat or 0, "DHA", None, None, "vi", "{}"))
            holding.set()
            await release.wait()

    async def quick(chat: int | None) -> bool:
        async with db.transaction(chat) as tx:
            inside_while_held = not release.is_set()
            await children.save(tx, ChildRow(chat or 99, "DHA", None, None, "vi", "{}"))
        release.set()  # the first need not wait for the timer once this one has run
        return inside_while_held

    async def race(held: int | None, other: int | None) -> str:
        holding.clear()
        release.clear()
        first = asyncio.create_task(hold(held))
        await holding.wait()
        second = asyncio.create_task(quick(other))
        timer = asyncio.get_running_loop().call_later(1.5, release.set)
        await first
        side_by_side = await second
        timer.cancel()
        return "side by side" if side_by_side else "in turn"

    chats = "side by side" if db.dialect == "postgres" else "in turn"
    assert await race(1, 2) == chats
    assert await race(1, 1) == "in turn"  # the same chat's: one after the other
    assert await race(1, None) == "in turn"  # everyone's waits for a chat's
    assert await race(None, 2) == "in turn"  # and a chat's for everyone's
    await db.close()


async def test_inside_a_chats_transaction_everyones_says_it_takes_turns(target: Target) -> None:
    """Where chats' transactions run side by side (PostgreSQL); with one writer (SQLite) a
    chat's transaction is everyone's and anything may join it."""
    db = await open_database(target)
    for tries in range(2):
        with contextlib.suppress(TakesTurns):
            async with db.transaction(5) as tx:
                await children.save(tx, ChildRow(5, "DHA", None, None, "vi", f"{tries}"))
                async with db.transaction() as inner:  # a service that needs everyone to wait
                    await children.save(inner, ChildRow(6, "DHA", None, None, "vi", "{}"))
        with contextlib.suppress(TakesTurns):
            async with db.transaction(5) as tx:
                await children.save(tx, ChildRow(7, "DHA", None, None, "vi", "{}"))
                db.take_turn()
    stayed = await db.reader.fetchval("SELECT count(*) FROM children")
    assert stayed == (0 if db.side_by_side else 3)  # rolled back where it had to take turns
    async with db.transaction(5) as tx, db.transaction(5) as same:  # the same chat's joins
        assert same is tx
    async with db.transaction():
        db.take_turn()  # in everyone's transaction, nothing to say
    await db.close()


async def test_a_unit_of_work_is_applied_in_one_go_where_the_database_can(
        target: Target) -> None:
    """SQLite runs a whole transaction on aiosqlite's thread in one hand-off; work that awaits
    anything but its statements is rolled back there and run again statement by statement;
    what runs after the commit runs on the event loop's thread."""
    db = await open_database(target)
    loop_thread, seen = threading.get_ident(), []

    async def plain(tx: Tx) -> int:
        before = await db.reader.fetchval("SELECT count(*) FROM children")  # no hang on SQLite
        await children.save(tx, ChildRow(1, "DHA", None, None, "vi", "{}"))
        seen.append(threading.get_ident())
        db.after_commit(lambda: seen.append(threading.get_ident()))
        return int(before) + int(await tx.fetchval("SELECT count(*) FROM children"))

    assert await db.apply(1, plain) == 1
    worked_on, called_on = seen
    assert called_on == loop_thread
    assert (worked_on != loop_thread) == (db.dialect == "sqlite")

    tries = []

    async def waits(tx: Tx) -> str:
        await children.save(tx, ChildRow(2 + len(tries), "DHA", None, None, "vi", "{}"))
        tries.append(1)
        await asyncio.sleep(0)  # something of the event loop's
        return "done"

    assert await db.apply(2, waits) == "done"
    assert len(tries) == (2 if db.dialect == "sqlite" else 1)
    # the first try (chat 2) was rolled back; the second one (chat 3 on SQLite) stayed
    assert await db.reader.fetchval("SELECT count(*) FROM children") == 2

    async def fails(tx: Tx) -> None:
        await children.save(tx, ChildRow(9, "DHA", None, None, "vi", "{}"))
        raise ValueError("the work failed")

    with pytest.raises(ValueError, match="the work failed"):
        await db.apply(9, fails)
    assert await db.reader.fetchval("SELECT count(*) FROM children WHERE chat_id = 9") == 0
    await db.close()


async def test_a_single_statement_never_lands_inside_another_transaction(
        target: Target) -> None:
    """An update's receipt written while a transaction is open statement by statement waits
    for it: rolled back, that transaction takes nothing of the receipt with it."""
    db = await open_database(target)
    holding, release = asyncio.Event(), asyncio.Event()

    async def fails_later() -> None:
        async with db.transaction() as tx:
            await children.save(tx, ChildRow(1, "DHA", None, None, "vi", "{}"))
            holding.set()
            await release.wait()
            raise ValueError("rolled back")

    failing = asyncio.create_task(fails_later())
    await holding.wait()
    receipt = asyncio.create_task(Inbox(db).receive(5, {"update_id": 5}))
    await asyncio.sleep(0.1)
    release.set()
    with pytest.raises(ValueError):
        await failing
    assert await receipt
    assert await inbox.pending(db.reader) == [{"update_id": 5}]
    assert await db.reader.fetchval("SELECT count(*) FROM children") == 0
    await db.close()


async def test_a_unit_of_work_whose_commit_fails_leaves_nothing_open(target: Target) -> None:
    """A COMMIT refused (a deferred constraint here; a full disk alike) rolls back: the next
    receipt and transaction work and stay."""
    db = await open_database(target)
    async with db.transaction() as tx:
        await tx.execute("CREATE TABLE parent (id INTEGER PRIMARY KEY)")
        await tx.execute("CREATE TABLE child (parent INTEGER REFERENCES parent (id)"
                         " DEFERRABLE INITIALLY DEFERRED)")

    async def orphan(tx: Tx) -> None:
        await tx.execute("INSERT INTO child VALUES (42)")  # refused only at COMMIT

    with pytest.raises(Exception, match=r"(?i)foreign key"):
        await db.apply(None, orphan)
    assert await Inbox(db).receive(7, {"update_id": 7})
    async with db.transaction() as tx:
        await children.save(tx, ChildRow(1, "DHA", None, None, "vi", "{}"))
    await db.close()
    assert query(target, "SELECT count(*) FROM inbox") == [(1,)]
    assert query(target, "SELECT count(*) FROM children") == [(1,)]


async def test_a_unit_of_work_cancelled_midway_is_followed_up_once_committed(
        target: Target) -> None:
    """On SQLite the work goes on to its COMMIT on aiosqlite's thread even if the task awaiting
    it is cancelled (a shutdown): what was to run after that commit runs too."""
    db = await open_database(target)
    told: list[str] = []

    async def slow(tx: Tx) -> None:
        await children.save(tx, ChildRow(1, "DHA", None, None, "vi", "{}"))
        await tx.fetchval("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n"
                          " WHERE i < 3000000) SELECT count(*) FROM n")  # a while
        db.after_commit(lambda: told.append("after commit"))

    task = asyncio.create_task(db.apply(1, slow))
    await asyncio.sleep(0.05)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    committed = await db.reader.fetchval("SELECT count(*) FROM children")
    assert told == (["after commit"] if committed else [])
    if db.dialect == "sqlite":
        assert committed == 1
    await db.close()


async def test_retention_forgets_staff_only_as_children(target: Target) -> None:
    """Someone with a role now (a grant; the config's staff likewise) who once talked as a child
    and went quiet there: their child data goes, their address (on Zalo their role is tied to
    it) and what is queued for them as staff (a case's alert) stay."""
    from datetime import UTC, datetime

    from bot.retention import purge_personal_data
    from bot.transport.channels import first_id
    from storage import addresses

    db = await open_database(target)
    old = "2024-01-01T00:00:00+00:00"
    async with db.transaction() as tx:
        chats = [await addresses.chat_for(tx, "zalo", f"zalo-person-{n}", first_id("zalo"))
                 for n in range(3)]
        for chat in chats:
            await children.save(tx, ChildRow(chat, "DHA", None, None, "vi", "{}"))
            await outbox.add(tx, outbox.NewMessage("zalo", chat, "alert", "{}", None, old, None))
        await tx.execute("UPDATE children SET updated_at = ?", (old,))
        await tx.execute("INSERT INTO staff_grants (user_id, role, districts, granted_by,"
                         " granted_at) VALUES (?, 'safeguarding', 'DHA', 1, ?)", (chats[0], old))
    now = datetime(2025, 6, 1, tzinfo=UTC)
    assert await purge_personal_data(db, 365, now=now, staff=[chats[1]]) == 3
    assert query(target, "SELECT count(*) FROM children") == [(0,)]
    assert query(target, "SELECT chat_id FROM outbox ORDER BY chat_id") == [
        (chats[0],), (chats[1],)]
    assert query(target, "SELECT chat_id FROM chat_addresses WHERE erased_at IS NULL"
                         " ORDER BY chat_id") == [(chats[0],), (chats[1],)]
    await db.close()


async def test_retention_forgets_people_who_never_became_children(target: Target) -> None:
    """Someone who only said hello on Zalo (never a consent, so never a child row) leaves an
    address and a menu: retention forgets them as it forgets an idle child, unless they talked
    lately, are staff, or have a case still open. A privacy probe found such an address kept
    after 400 days."""
    from datetime import UTC, datetime

    from bot.retention import purge_personal_data
    from bot.transport.channels import first_id
    from storage import addresses

    db = await open_database(target)
    old, lately = "2024-01-01T00:00:00+00:00", "2025-05-30T00:00:00+00:00"
    async with db.transaction() as tx:
        passer, recent, staff, in_case = [
            await addresses.chat_for(tx, "zalo", f"zalo-passer-{n}", first_id("zalo"))
            for n in range(4)]
        for chat in (passer, recent, staff, in_case):
            await addresses.remember_menu(tx, chat, [("Đồng ý", "c|agree", False)])
        await tx.execute("UPDATE chat_addresses SET created_at = ?", (old,))
        await tx.execute("UPDATE chat_menus SET sent_at = ?", (old,))
        await tx.execute("UPDATE chat_menus SET sent_at = ? WHERE chat_id = ?", (lately, recent))
        await cases.add(tx, cases.NewCase(in_case, None, "sos", 1))
    now = datetime(2025, 6, 1, tzinfo=UTC)
    assert await purge_personal_data(db, 365, now=now, staff=[staff]) == 0
    assert query(target, "SELECT chat_id FROM chat_addresses WHERE erased_at IS NULL"
                         " ORDER BY chat_id") == [(recent,), (staff,), (in_case,)]
    assert query(target, "SELECT chat_id FROM chat_menus ORDER BY chat_id") == [
        (recent,), (staff,), (in_case,)]
    await db.close()


async def test_a_database_of_a_newer_childforum_is_refused(target: Target) -> None:
    """Written by a later version (a downgrade after an upgrade): refused, said so, rather
    than used as if up to date."""
    db = await open_database(target)
    async with db.transaction() as tx:
        await tx.execute("INSERT INTO schema_migrations (version, applied_at) VALUES (999, ?)",
                         ("2027-01-01T00:00:00+00:00",))
    await db.close()
    with pytest.raises(DatabaseUnavailable, match="version 999, newer than this childforum"):
        await open_database(target)
