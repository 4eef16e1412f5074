"""The Zalo courier: an outbox Message becomes sendMessage calls; the answer, a Delivery.

Zalo has no buttons, no edits and no files. A message's buttons become a numbered menu at its
end (handlers/zalo/menus.py), remembered for the chat so that the reply "2" presses the second;
an edit is sent as a new message (a multi-choice toggle shows the choices again); a file is
refused (exports stay on Telegram and the command line). Texts past 2,000 characters go in
several messages, cut between sentences, each waiting for the chat's turn (one a second).
"""

from __future__ import annotations

from bot.transport.outbox import Delivery, Failed, Message, Retry, Sent, Turn, Unreachable, no_wait
from handlers.zalo.client import ZaloClient, ZaloError
from handlers.zalo.menus import render
from storage import addresses
from storage.db import Database

QUOTA_WAIT = 30.0  # Zalo publishes no quota and sends no retry_after with its 429
_BAD_REQUEST, _UNAUTHORIZED, _QUOTA = 400, 401, 429


MAX_PARTLY = 1000  # messages remembered as partly sent (a bound, not a limit anyone meets)


class ZaloCourier:
    # Zalo publishes no quota and a 429 holds the chat for QUOTA_WAIT: one message a second in a
    # chat, no burst (the sender's per-chat bucket), parts of a long text included (`turn`).
    chat_burst = 1
    edits_in_place = False  # an edit is sent again as a new message

    def __init__(self, client: ZaloClient, db: Database) -> None:
        self.client, self.db = client, db
        # A long text sent in parts, stopped by an error: how many parts arrived, so that the
        # retry of that outbox row goes on from the next one (in memory: a restart sends all).
        self._partly: dict[int, int] = {}

    async def deliver(self, message: Message, turn: Turn = no_wait) -> Delivery:
        if message.op in ("document", "photo"):
            return Failed("Zalo sends no files: exports are on Telegram and the command line")
        address = await addresses.address_of(self.db.reader, message.chat_id)
        if address is None:
            return Unreachable("no Zalo address for this chat (erased)")
        text = "" if message.op == "keyboard" else message.text
        parts, menu = render(text, message.keyboard)
        key = message.outbox_id
        sent = self._partly.pop(key, 0) if key is not None else 0
        try:
            for number, part in enumerate(parts[sent:]):
                if number:  # the first waited for its turn before deliver
                    await turn()
                await self.client.send_message(address, part)
                sent += 1
        except ZaloError as error:
            fault = self._fault(error)
            if sent and key is not None and isinstance(fault, Retry):  # only a retry goes on
                self._partly[key] = sent
                while len(self._partly) > MAX_PARTLY:
                    del self._partly[next(iter(self._partly))]
            return fault
        if message.keyboard:  # a message without buttons leaves the last menu standing
            async with self.db.single() as db:
                await addresses.remember_menu(db, message.chat_id, menu.buttons)
        return Sent()

    @staticmethod
    def _fault(error: ZaloError) -> Delivery:
        if error.code == _QUOTA:
            return Retry(QUOTA_WAIT, error.description, counts=False)
        if error.code in (_BAD_REQUEST, _UNAUTHORIZED):
            return Failed(error.description)
        return Retry(None, str(error))  # network faults, server errors: try again later
