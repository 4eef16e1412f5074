"""/translate and the translations typed after it (→ bot.translating.desk). Registered in
group -1 with the staff handlers; anyone without the translate duty gets the child
conversation's answer, as before."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from telegram import Update
from telegram.ext import (
    Application,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.staff.chat import Caller
from bot.translating.desk import TranslateDesk
from bot.transport.outbox import Outbox
from handlers.telegram.render import OwesText, staff_lang, staff_work


class TranslateHandlers:
    def __init__(self, desk: TranslateDesk, outbox: Outbox) -> None:
        self.desk, self.outbox = desk, outbox

    def register(self, application: Application) -> None:  # type: ignore[type-arg]
        private = filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE
        application.add_handlers([
            CommandHandler("translate", self.on_command, filters=private),
            MessageHandler(private & filters.TEXT & ~filters.COMMAND
                           & OwesText(self.desk.owes_text), self.on_text),
        ], group=-1)

    async def on_command(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        user, chat = update.effective_user, update.effective_chat
        if user is None or chat is None or not await self.desk.may_translate(user.id):
            return  # not a translator: the child handlers answer "unknown command"
        lang = staff_lang(user, self.desk.catalog.texts.langs)
        await self._act(update, lambda: self.desk.start(user.id, lang))

    async def on_text(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        user, chat, message = update.effective_user, update.effective_chat, update.message
        if user is None or chat is None or message is None:
            return
        lang, text = staff_lang(user, self.desk.catalog.texts.langs), message.text or ""
        await self._act(update, lambda: self.desk.typed(user.id, lang, text))

    async def _act(self, update: Update, action: Callable[[], Awaitable[list[str]]]) -> None:
        """The desk's change and its reply commit with the update: a redelivered text, or one
        replayed after a crash, is never saved as the next field."""

        async def say(caller: Caller) -> None:
            for text in await action():
                caller.send(text)

        await staff_work(self.outbox, update, say, self.desk.catalog.texts.langs)
