"""/compile for officers (→ bot.compiling.desk). Registered in group -1 with the staff
handlers; anyone without the compile duty gets the child conversation's answer, as before."""

from __future__ import annotations

from telegram import Update
from telegram.ext import Application, CommandHandler, ContextTypes, filters

from bot.compiling.desk import CompileDesk
from bot.staff.chat import Caller
from bot.transport.outbox import Outbox
from handlers.telegram.render import staff_work


class CompileHandlers:
    def __init__(self, desk: CompileDesk, outbox: Outbox) -> None:
        self.desk, self.outbox = desk, outbox

    def register(self, application: Application) -> None:  # type: ignore[type-arg]
        private = filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE
        application.add_handler(CommandHandler("compile", self.on_command, filters=private),
                                group=-1)

    async def on_command(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        user, chat, message = update.effective_user, update.effective_chat, update.message
        if user is None or chat is None or message is None:
            return
        if not await self.desk.may_compile(user.id):
            return  # not an officer: the child handlers answer "unknown command"
        # "/compile auto" groups first, from a snapshot and off the event loop: no one waits
        # for it behind the write lock (its result is written only if nothing changed since).
        prepared = await self.desk.prepare(user.id, message.text or "")

        async def say(caller: Caller) -> None:
            for text in await self.desk.handle(user.id, caller.lang, message.text or "",
                                               prepared):
                caller.send(text)

        await staff_work(self.outbox, update, say, self.desk.catalog.texts.langs)
