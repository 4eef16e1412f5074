"""What each staff member was asked to type next, shared by every worker.

A desk asks a staff member for a text with a press (✏️ reason, an answer's text, ✉️ to the
child of a case, a translation's next field) and takes their next plain message as it. The desks
keep that in memory (`owes_text` must answer at once, when a handler is picked); it is kept in
the database too, written in the same commit as the update that asked (`settle`, called by
`Outbox.work`), so that neither a restart (`pull_all`) nor a kill between the commit and
anything after it loses it. With several workers the press and the text may reach different
processes: before each update of a chat (applied one after another, across workers), `enter`
reads what the chat owes into every desk.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from contextvars import ContextVar
from dataclasses import asdict
from typing import Generic, Protocol, TypeVar

from storage import prompts as store
from storage.db import Database, Tx

# The private chat whose update is being handled (set by `Prompts.enter`, per update's task).
T = TypeVar("T")
_CHAT: ContextVar[int | None] = ContextVar("childforum_prompt_chat", default=None)
# Whether that update ends what was asked (a press or a command: what someone types next is for
# what they did last), and the desk its press is for (which keeps its own, to go on or not).
_ENDING: ContextVar[tuple[bool, str | None]] = ContextVar("childforum_prompt_ending",
                                                          default=(False, None))


class Owed(Protocol):
    """A desk's side: what one chat owes it, as JSON-able data (None: nothing)."""

    def dump(self, user_id: int) -> object | None: ...

    def load(self, user_id: int, data: object | None) -> None: ...


class Asked(dict[int, T], Generic[T]):
    """The one thing each staff member was asked to type, by user, as a dataclass `kind`: a
    desk's table that `Prompts` keeps (dump and load)."""

    def __init__(self, kind: type[T]) -> None:
        super().__init__()
        self.kind = kind

    def dump(self, user_id: int) -> object | None:
        asked = self.get(user_id)
        return asdict(asked) if asked is not None else None  # type: ignore[call-overload]

    def load(self, user_id: int, data: object | None) -> None:
        self.pop(user_id, None)
        if isinstance(data, dict):
            self[user_id] = self.kind(**data)


class Prompts:
    def __init__(self, db: Database, desks: Mapping[str, Owed], shared: bool = False,
                 presses: Mapping[str, str] | None = None) -> None:
        """`shared`: several workers share the database (read before each update); `presses`:
        the desk (a name of `desks`) each prefix of a button's data is for."""
        self.db, self.desks, self.shared = db, desks, shared
        self.presses = dict(presses or {})
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

    def owner(self, data: str) -> str | None:
        """The desk a button's data is for (by its longest known prefix); None: no desk's."""
        found = [prefix for prefix in self.presses if data.startswith(prefix)]
        return self.presses[max(found, key=len)] if found else None

    async def enter(self, chat_id: int | None, *, pressed: str | None = None,
                    command: bool = False) -> None:
        """An update of a private chat begins (None: of no such chat): the chat whose prompts
        `settle` keeps, starting from what the database holds (with several workers, read from
        it first: another worker may have asked). A press (`pressed`: its data) or a command
        ends whatever the chat was asked to type, but what the pressed button's own desk asked:
        a reason asked for one card must not take the text typed for the next thing done (a
        case closed with a rejection's reason, a child's answer sent as one: a tester's finds).
        """
        _CHAT.set(chat_id)
        _ENDING.set((pressed is not None or command,
                     self.owner(pressed) if pressed is not None else None))
        if self.shared and chat_id is not None:
            await self.pull(chat_id)
            self._end(chat_id)
        else:
            self.restore()

    def restore(self) -> None:
        """The chat of the update under way owes what the database holds again (less what the
        update ends): what a try of its work asked or took before it was rolled back (a failed
        commit, the update queued again; a run again in turn) is undone, so the next try finds
        it as the first did."""
        chat_id = _CHAT.get()
        if chat_id is not None:
            self._load(chat_id, self._pulled[chat_id] if chat_id in self._pulled
                       else self._kept.get(chat_id))
            self._end(chat_id)

    def _end(self, chat_id: int) -> None:
        ends, keep = _ENDING.get()
        if ends:
            for name, desk in self.desks.items():
                if name != keep:
                    desk.load(chat_id, None)

    async def settle(self, tx: Tx) -> None:
        """In the commit of the update being handled: what its chat owes now."""
        chat_id = _CHAT.get()
        if chat_id is not None:
            await self.push(chat_id, tx)

    async def pull(self, chat_id: int) -> None:
        """What the chat owes, as the database has it (another worker may have asked)."""
        data = await store.get(self.db.reader, chat_id)
        self._load(chat_id, data)
        self._pulled[chat_id] = data

    async def push(self, chat_id: int, tx: Tx | None = None) -> None:
        """Write what the chat owes now, when it changed (a child's update writes nothing), in
        `tx` or a transaction of its own."""
        data = self._dump(chat_id)
        before = (self._pulled[chat_id] if chat_id in self._pulled
                  else self._kept.get(chat_id))
        if data == before:
            if chat_id in self._pulled:
                self.db.after_commit(lambda: self._forget_pulled(chat_id))
            return
        if tx is not None:
            await store.put(tx, chat_id, data)
            self.db.after_commit(lambda: self._held(chat_id, data))
        else:
            async with self.db.transaction() as own:
                await store.put(own, chat_id, data)
                self.db.after_commit(lambda: self._held(chat_id, data))

    def _forget_pulled(self, chat_id: int) -> None:
        self._pulled.pop(chat_id, None)

    def _held(self, chat_id: int, data: str | None) -> None:
        """The database holds `data` for the chat now (committed)."""
        self._forget_pulled(chat_id)
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
