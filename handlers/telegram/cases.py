"""Telegram handlers for safeguarding staff: /cases (and /safeguarding), case buttons, notes.

Registered in group -1 with the other staff handlers; taken only from someone with the
safeguarding duty, so that to anyone else /cases is an unknown command.
"""

from __future__ import annotations

import contextlib

from telegram import Update
from telegram.error import BadRequest
from telegram.ext import (
    Application,
    ApplicationHandlerStop,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.safeguarding.desk import CaseDesk
from bot.staff.chat import Caller
from bot.transport.outbox import Outbox, Work
from handlers.telegram.render import OwesText, staff_lang

Context = ContextTypes.DEFAULT_TYPE


class CaseHandlers:
    def __init__(self, desk: CaseDesk, outbox: Outbox) -> None:
        self.desk, self.outbox = desk, outbox

    def register(self, application: Application) -> None:  # type: ignore[type-arg]
        private = filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE
        application.add_handlers([
            CommandHandler(["cases", "safeguarding"], self.on_command, filters=private),
            CallbackQueryHandler(self.on_press, pattern=r"^c\|"),
            MessageHandler(private & filters.TEXT & ~filters.COMMAND
                           & OwesText(self.desk.owes_text), self.on_text),
        ], group=-1)

    def _caller(self, update: Update, work: Work) -> Caller:
        user, chat = update.effective_user, update.effective_chat
        assert user is not None and chat is not None
        return Caller(user.id, chat.id, staff_lang(user, self.desk.catalog.texts.langs), work)

    async def _worker(self, update: Update) -> bool:
        user = update.effective_user
        return user is not None and await self.desk.may_work(user.id)

    async def on_command(self, update: Update, context: Context) -> None:
        if not await self._worker(update):
            return
        async with self.outbox.work(update.update_id) as work:
            if work.fresh:
                await self.desk.list(self._caller(update, work))
        raise ApplicationHandlerStop

    async def on_press(self, update: Update, context: Context) -> None:
        query = update.callback_query
        if query is None or not await self._worker(update):
            return
        with contextlib.suppress(BadRequest):
            await query.answer()
        async with self.outbox.work(update.update_id) as work:
            if work.fresh:
                await self.desk.press(self._caller(update, work), query.data or "")
        raise ApplicationHandlerStop

    async def on_text(self, update: Update, context: Context) -> None:
        message = update.effective_message
        if message is None or not await self._worker(update):
            return
        async with self.outbox.work(update.update_id) as work:
            if work.fresh:
                await self.desk.typed(self._caller(update, work), message.text or "")
        raise ApplicationHandlerStop
