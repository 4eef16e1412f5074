"""The conversation service on a real database file, without Telegram."""

from __future__ import annotations

import json
from pathlib import Path

from bot.config import load_config
from bot.conversation import engine
from bot.conversation.catalog import load_catalog
from bot.conversation.service import Conversations, Pressed, row_to_state, state_to_row
from bot.safeguarding.cases import Cases
from bot.staff.moderation import Moderation
from bot.transport.outbox import Outbox
from storage import children, inbox, proposals
from storage.db import Database, open_database
from tests.stores import Target
from tests.test_storage import new_proposal

ROOT = Path(__file__).resolve().parents[1]


async def service(path: Target) -> Conversations:
    config = load_config(ROOT / "config.example.toml").with_database(path)
    db = await open_database(path)
    moderation = Moderation(db, config.staff, {d.code for d in config.districts})
    outbox = Outbox(db, config.pacing, config.timetable.zone)
    catalog = load_catalog(config)
    cases = Cases(db, moderation, outbox, catalog, config)
    return Conversations(db, catalog, config, moderation, outbox, cases)


async def queued_texts(db: Database, chat_id: int) -> list[str]:
    """What the bot queued for a chat, in order (the outbox rows; no sender runs here)."""
    rows = await db.reader.fetchall(
        "SELECT payload FROM outbox WHERE chat_id = ? ORDER BY id", (chat_id,))
    return [json.loads(row[0])["text"] for row in rows]


def test_state_survives_the_row() -> None:
    state = engine.State(rev=7, profile={"district": "DHA", "age_band": "10-12",
                                         "gender": "unsaid", "lang": "en"},
                         profile_queue=(), topic="online", step="actors",
                         answers={"seen": "x", "actors": ("family", "school")}, facilitator=True,
                         held="bố đánh em")
    assert row_to_state(state_to_row(42, state)) == state
    # A search's finds (what "2" typed next picks from) and the page of a long list.
    searching = engine.State(rev=3, profile={"lang": "vi"}, profile_queue=("district",),
                             page=2, shown=("BATO", "BATO2"))
    assert row_to_state(state_to_row(43, searching)) == searching


async def test_my_list_shows_every_status_in_plain_words(target: Target) -> None:
    conversations = await service(target)
    state = engine.State(profile={"district": "DHA", "age_band": "10-12", "gender": "unsaid",
                                  "lang": "vi"}, profile_queue=())
    async with conversations.db.transaction() as conn:
        await children.save(conn, state_to_row(1, state))
        for update_id in (1, 2, 3):
            await proposals.insert(conn, new_proposal(1, update_id))
        await conn.execute("UPDATE proposals SET status = 'safeguarding' WHERE id = 1")
        await conn.execute("UPDATE proposals SET status = 'approved' WHERE id = 2")
        await inbox.store(conn, 100, {"update_id": 100})
    for _ in range(2):  # the same update twice: answered once
        async with conversations.outbox.work(100) as work:
            if work.fresh:
                await conversations.mine(work, 1)
    replies = await queued_texts(conversations.db, 1)
    assert len(replies) == 2  # the list, then where the child was
    listing = replies[0]
    assert "đang được xem xét" in listing and "đã được chấp nhận" in listing
    assert "đang chờ duyệt" in listing
    assert await inbox.is_done(conversations.db.reader, 100)
    await conversations.db.close()


async def registered(db: Database, chat_id: int, *update_ids: int) -> None:
    """A child who went through consent and the profile, and updates received from them."""
    state = engine.State(profile={"district": "DHA", "age_band": "10-12", "gender": "unsaid",
                                  "lang": "vi"}, profile_queue=())
    async with db.transaction() as tx:
        await children.save(tx, state_to_row(chat_id, state))
        for update_id in update_ids:
            await inbox.store(tx, update_id, {"update_id": update_id})


async def test_a_call_typed_with_the_danger_beside_it_keeps_the_words_on_its_case(
        target: Target) -> None:
    """"cứu em, bố đang đập cửa phòng": answered like 🆘 (the hotline, the contact question),
    one case, and staff read what the child typed."""
    conversations = await service(target)
    db = conversations.db
    await registered(db, 1, 100)
    typed = "cứu em, bố đang đập cửa phòng"
    await conversations.outbox.handle(100, 1, lambda work: conversations.handle(
        work, 1, engine.Text(typed)))
    assert await db.reader.fetchall("SELECT source, tier, text FROM cases") == [
        ("sos", 1, typed)]
    assert any("111" in text for text in await queued_texts(db, 1))
    await db.close()


async def test_what_is_said_at_an_erasure_leaves_no_record_once_sent(target: Target) -> None:
    """/delete: the goodbye is the last thing queued for the chat; once it is out, its record
    (to whom, when) goes too, not a month later with the others'."""
    from storage import outbox as outbox_store

    conversations = await service(target)
    db, outbox = conversations.db, conversations.outbox
    await registered(db, 7, 1, 2)
    async with db.transaction() as tx:
        await outbox_store.add(tx, outbox_store.NewMessage(  # someone else's, kept
            "telegram", 8, "reply", "{}", None, "2024-01-01T00:00:00+00:00", None))
    await outbox.handle(1, 7, lambda work: conversations.handle(work, 7, engine.Command("delete")))
    asked = await children.get(db.reader, 7)
    assert asked is not None
    rev = row_to_state(asked).rev
    await outbox.handle(2, 7, lambda work: conversations.handle(
        work, 7, engine.Press(f"{rev}|delete|yes"), Pressed(99, "Xóa hết?")))
    said = await db.reader.fetchall("SELECT id, dedupe FROM outbox WHERE chat_id = 7")
    assert said and all(str(dedupe).startswith(outbox_store.FAREWELL) for _, dedupe in said)
    async with db.transaction() as tx:
        await outbox_store.forget_farewells(tx)  # not sent yet: kept
        assert len(await tx.fetchall("SELECT id FROM outbox WHERE chat_id = 7")) == len(said)
        await outbox_store.finish(tx, [row_id for row_id, _ in said], "sent")
        await outbox_store.forget_farewells(tx)
    assert await db.reader.fetchall("SELECT chat_id FROM outbox") == [(8,)]
    await db.close()


async def test_an_edited_call_for_help_is_answered_like_sos(target: Target) -> None:
    """A message edited into a call for help ("cứu em, bố đang đập cửa phòng") is not "edits
    are not read": the hotline, one case with the words, as if typed anew."""
    conversations = await service(target)
    db = conversations.db
    await registered(db, 1, 100)
    typed = "cứu em, bố đang đập cửa phòng"
    await conversations.outbox.handle(100, 1, lambda work: conversations.edited(work, 1, typed))
    assert await db.reader.fetchall("SELECT source, text FROM cases") == [("sos", typed)]
    said = await queued_texts(db, 1)
    assert any("111" in text for text in said)
    edited = conversations.catalog.texts.get("error.edited", "vi")
    assert edited not in said
    await db.close()
