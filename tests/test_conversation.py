"""The conversation service on a real database file, without Telegram."""

from __future__ import annotations

from pathlib import Path

from bot.config import load_config
from bot.conversation import engine
from bot.conversation.catalog import load_catalog
from bot.conversation.service import Conversations, row_to_state, state_to_row
from bot.staff.moderation import Moderation
from storage import children, inbox, proposals
from storage.db import Database
from tests.test_storage import new_proposal

ROOT = Path(__file__).resolve().parents[1]


async def service(path: Path) -> Conversations:
    config = load_config(ROOT / "config.example.toml").with_database(path)
    db = await Database.open(path)
    moderation = Moderation(db, config.staff, {d.code for d in config.districts})
    return Conversations(db, load_catalog(config), config, moderation)


def test_state_survives_the_row() -> None:
    state = engine.State(rev=7, profile={"district": "DHA", "age_band": "10-12",
                                         "gender": "unsaid", "lang": "en"},
                         profile_queue=(), topic="online", step="actors",
                         answers={"seen": "x", "actors": ("family", "school")}, facilitator=True,
                         held="bố đánh em")
    assert row_to_state(state_to_row(42, state)) == state


async def test_my_list_shows_every_status_in_plain_words(tmp_path: Path) -> None:
    conversations = await service(tmp_path / "forum.sqlite3")
    state = engine.State(profile={"district": "DHA", "age_band": "10-12", "gender": "unsaid",
                                  "lang": "vi"}, profile_queue=())
    async with conversations.db.transaction() as conn:
        await children.save(conn, state_to_row(1, state))
        for update_id in (1, 2, 3):
            await proposals.insert(conn, new_proposal(1, update_id))
        await conn.execute("UPDATE proposals SET status = 'safeguarding' WHERE id = 1")
        await conn.execute("UPDATE proposals SET status = 'approved' WHERE id = 2")
        await inbox.store(conn, 100, {"update_id": 100})
    replies = await conversations.mine(100, 1)
    assert replies is not None
    listing = replies[0].text
    assert "đang được xem xét" in listing and "đã được chấp nhận" in listing
    assert "đang chờ duyệt" in listing
    assert await conversations.mine(100, 1) is None  # the same update again: nothing
    await conversations.db.close()
