"""What each staff member was asked to type next, shared by every worker.

A desk asks a staff member for a text with a press (✏️ reason, an answer's text, ✉️ to the
child of a case, a translation's next field) and takes their next plain message as it. The desks
keep that in memory (`owes_text` must answer at once, when a handler is picked); with several
workers the press and the text may reach different processes. So, around each update of a chat
(the chat's updates are applied one after another, across workers), `pull` reads what the chat
owes from the database into every desk, and `push` writes back what changed. With one worker
only `push` is needed, and a restart reads everything back (`pull_all`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Protocol

from storage import prompts as store
from storage.db import Database, Tx


class Owed(Protocol):
    """A desk's side: what one chat owes it, as JSON-able data (None: nothing)."""

    def dump(self, user_id: int) -> object | None: ...

    def load(self, user_id: int, data: object | None) -> None: ...


class Prompts:
    def __init__(self, db: Database, desks: Mapping[str, Owed]) -> None:
        self.db, self.desks = db, desks
        self._pulled: dict[int, str | None] = {}  # read before this update (several workers)
        self._kept: dict[int, str] = {}  # what the database holds, as this process wrote it

    def _dump(self, chat_id: int) -> str | None:
        data = {name: owed for name, desk in self.desks.items()
                if (owed := desk.dump(chat_id)) is not None}
        return json.dumps(data, ensure_ascii=False, sort_keys=True) if data else None

    def _load(self, chat_id: int, data: str | None) -> None:
        owed = json.loads(data) if data else {}
        for name, desk in self.desks.items():
            desk.load(chat_id, owed.get(name))

    async def pull(self, chat_id: int) -> None:
        """What the chat owes, as the database has it (another worker may have asked)."""
        data = await store.get(self.db.reader, chat_id)
        self._load(chat_id, data)
        self._pulled[chat_id] = data

    async def push(self, chat_id: int, tx: Tx | None = None) -> None:
        """Write what the chat owes now, when it changed (a child's update writes nothing), in
        `tx` or a transaction of its own."""
        data = self._dump(chat_id)
        before = (self._pulled.pop(chat_id) if chat_id in self._pulled
                  else self._kept.get(chat_id))
        if data == before:
            return
        if tx is not None:
            await store.put(tx, chat_id, data)
        else:
            async with self.db.transaction() as own:
                await store.put(own, chat_id, data)
        if data is None:
            self._kept.pop(chat_id, None)
        else:
            self._kept[chat_id] = data

    async def pull_all(self) -> None:
        """At start: everything staff were asked before a restart."""
        for chat_id, data in await self.db.reader.fetchall(
                "SELECT chat_id, data FROM staff_prompts"):
            self._load(int(chat_id), str(data))
            self._kept[int(chat_id)] = str(data)
