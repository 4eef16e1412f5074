"""Telegram handlers for safeguarding staff: /cases (and /safeguarding), case buttons, notes.

Registered in group -1 with the other staff handlers; taken only from someone with the
safeguarding duty, so that to anyone else /cases is an unknown command.
"""

from __future__ import annotations

from telegram import Update
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.safeguarding.desk import CaseDesk
from bot.transport.outbox import Outbox
from handlers.telegram.render import OwesText, staff_work, stop_spinner

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

    async def _worker(self, update: Update) -> bool:
        user = update.effective_user
        return user is not None and await self.desk.may_work(user.id)

    async def on_command(self, update: Update, context: Context) -> None:
        if await self._worker(update):
            await staff_work(self.outbox, update, self.desk.list, self.desk.catalog.texts.langs)

    async def on_press(self, update: Update, context: Context) -> None:
        query = update.callback_query
        if query is None or not await self._worker(update):
            return
        await stop_spinner(query)
        await staff_work(self.outbox, update, lambda caller: self.desk.press(
            caller, query.data or ""), self.desk.catalog.texts.langs)

    async def on_text(self, update: Update, context: Context) -> None:
        message = update.effective_message
        if message is not None and await self._worker(update):
            await staff_work(self.outbox, update, lambda caller: self.desk.typed(
                caller, message.text or ""), self.desk.catalog.texts.langs)
