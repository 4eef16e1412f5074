"""Where a chat is on a channel other than Telegram: (channel, the channel's own id) for each chat
id of that channel's range, and the numbered menu a chat was last offered there."""

from __future__ import annotations

import json

from storage.db import Tx, utc_now


async def find(db: Tx, channel: str, external_id: str) -> int | None:
    """The chat id of a channel's person who has one (not erased), else None."""
    found = await db.fetchval("SELECT chat_id FROM chat_addresses WHERE channel = ?"
                              " AND external_id = ? AND erased_at IS NULL",
                              (channel, external_id))
    return int(found) if found is not None else None


async def chat_for(db: Tx, channel: str, external_id: str, first_id: int) -> int:
    """The chat id of a channel's person, given one from the channel's range the first time."""
    found = await find(db, channel, external_id)
    if found is not None:
        return found
    # Ids are never given twice: the highest one given is kept, erasures included.
    last = await db.fetchval("SELECT chat_id FROM chat_address_ids WHERE channel = ?",
                             (channel,))
    chat_id = max(int(last or 0), first_id - 1) + 1
    await db.execute("INSERT INTO chat_addresses (chat_id, channel, external_id, created_at)"
                     " VALUES (?, ?, ?, ?)", (chat_id, channel, external_id, utc_now()))
    await db.execute("INSERT INTO chat_address_ids (channel, chat_id) VALUES (?, ?)"
                     " ON CONFLICT (channel) DO UPDATE SET chat_id = excluded.chat_id",
                     (channel, chat_id))
    return chat_id


async def address_of(db: Tx, chat_id: int) -> str | None:
    """The channel's own id of a chat (None once erased)."""
    found = await db.fetchval("SELECT external_id FROM chat_addresses WHERE chat_id = ?",
                              (chat_id,))
    return str(found) if found is not None else None


async def remember_menu(db: Tx, chat_id: int, buttons: list[tuple[str, str, bool]]) -> None:
    """The (label, data, aside) of the buttons just offered, in order."""
    await db.execute(
        "INSERT INTO chat_menus (chat_id, buttons, sent_at) VALUES (?, ?, ?)"
        " ON CONFLICT (chat_id) DO UPDATE SET buttons = excluded.buttons,"
        " sent_at = excluded.sent_at",
        (chat_id, json.dumps(buttons, ensure_ascii=False), utc_now()))


async def menu(db: Tx, chat_id: int) -> list[tuple[str, str, bool]]:
    found = await db.fetchval("SELECT buttons FROM chat_menus WHERE chat_id = ?", (chat_id,))
    return [(label, data, bool(aside)) for label, data, aside in json.loads(found or "[]")]


async def erase(db: Tx, chat_id: int) -> None:
    """A person's erasure: their last menu at once; their address once what is queued for them
    (the goodbye) has gone out (`sweep`). If they write again, they are someone new."""
    await db.execute("DELETE FROM chat_menus WHERE chat_id = ?", (chat_id,))
    await db.execute("UPDATE chat_addresses SET erased_at = ? WHERE chat_id = ?",
                     (utc_now(), chat_id))


async def sweep(db: Tx, before: str) -> int:
    """Forget erased addresses with nothing left to send, or erased before `before`."""
    return await db.execute(
        "DELETE FROM chat_addresses WHERE erased_at IS NOT NULL AND (erased_at < ? OR NOT EXISTS"
        " (SELECT 1 FROM outbox WHERE outbox.chat_id = chat_addresses.chat_id"
        " AND outbox.state = 'pending'))", (before,))
