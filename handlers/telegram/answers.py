"""Telegram handlers for the answer loop: officers' /answer, /answers, /publish, their presses,
typed fields and workbooks (→ bot.answers.desk); children's 👍/👎 (→ the conversation service).

Registered in group -1 with the staff handlers; an update is taken only when it is an answer
matter of someone with the answer duty (officers and admins), so a child who sends /publish or
a file gets the child conversation's answer as before.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from telegram import Message, Update
from telegram.error import TelegramError
from telegram.ext import (
    Application,
    ApplicationHandlerStop,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.answers.desk import AnswerDesk
from bot.answers.sheet import MAX_BYTES
from bot.conversation.service import Conversations
from bot.staff.chat import Caller
from bot.transport.outbox import Outbox, Work
from handlers.telegram.render import (
    OwesText,
    command_name,
    staff_caller,
    staff_work,
    stop_spinner,
)

Context = ContextTypes.DEFAULT_TYPE
COMMANDS = ("answer", "answers", "publish")


class AnswerHandlers:
    def __init__(self, desk: AnswerDesk, conversations: Conversations, outbox: Outbox) -> None:
        self.desk, self.conversations, self.outbox = desk, conversations, outbox

    def register(self, application: Application) -> None:  # type: ignore[type-arg]
        private = filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE
        application.add_handlers([
            CommandHandler(list(COMMANDS), self.on_command, filters=private),
            CallbackQueryHandler(self.on_press, pattern=r"^[npi]\|"),
            MessageHandler(private & filters.TEXT & ~filters.COMMAND
                           & OwesText(self.desk.owes_text), self.on_text),
            MessageHandler(private & filters.Document.ALL, self.on_document),
            # A child's 👍/👎 under an answer, ahead of the conversation's buttons (group 0).
            CallbackQueryHandler(self.on_feedback, pattern=r"^a\|"),
        ], group=-1)

    def _caller(self, update: Update, work: Work) -> Caller:
        return staff_caller(update, work, self.desk.catalog.texts.langs)

    async def _in_work(self, update: Update, act: Callable[[Caller], Awaitable[object]]
                       ) -> None:
        await staff_work(self.outbox, update, act, self.desk.catalog.texts.langs)

    async def _officer(self, update: Update) -> bool:
        user = update.effective_user
        return user is not None and await self.desk.may_answer(user.id)

    async def on_command(self, update: Update, context: Context) -> None:
        message = update.effective_message
        if message is None or not await self._officer(update):
            return
        name, args = command_name(message.text or ""), list(context.args or [])
        if name == "answers":  # the workbook takes a while: written before the transaction
            await self.outbox.work_first(update.update_id, lambda work: self.desk.command(
                self._caller(update, work), name, args))
            raise ApplicationHandlerStop
        await self._in_work(update, lambda caller: self.desk.command(caller, name, args))

    async def on_press(self, update: Update, context: Context) -> None:
        query = update.callback_query
        if query is None or not await self._officer(update):
            return
        await stop_spinner(query)
        pressed = query.message.message_id if isinstance(query.message, Message) else None
        user = update.effective_user
        assert user is not None
        # A Confirm's workbook is read first: no one waits for it behind the write lock.
        reading = await self.desk.read_pressed(user.id, query.data or "")
        await self._in_work(update, lambda caller: self.desk.press(
            caller, query.data or "", pressed, reading))

    async def on_text(self, update: Update, context: Context) -> None:
        message = update.effective_message
        if message is not None and await self._officer(update):
            await self._in_work(update, lambda caller: self.desk.typed(caller,
                                                                       message.text or ""))

    async def on_document(self, update: Update, context: Context) -> None:
        """A workbook from an officer; any other file, from anyone else, falls through."""
        message = update.effective_message
        document = message.document if message else None
        if document is None or not await self._officer(update):
            return
        data: bytes | None = None
        if (document.file_size or 0) <= MAX_BYTES:
            try:
                file = await context.bot.get_file(document.file_id)
                data = bytes(await file.download_as_bytearray())
            except TelegramError:
                data = None  # too big for the Bot API, or gone: said below
        user = update.effective_user
        assert user is not None
        # Read and checked before the transaction (seconds for a big workbook, which no one
        # else waits for); kept and answered in it, with the update marked done.
        plan = await self.desk.check(user.id, data) if data is not None else None

        async def keep(caller: Caller) -> None:
            if data is None or plan is None:
                self.desk.say(caller, "answer.desk.too_big")
            else:
                await self.desk.workbook(caller, document.file_name or "answers.xlsx", data,
                                         plan)

        await self._in_work(update, keep)

    async def on_feedback(self, update: Update, context: Context) -> None:
        query, chat = update.callback_query, update.effective_chat
        if query is None or chat is None:
            return
        await stop_spinner(query)
        pressed = query.message.message_id if isinstance(query.message, Message) else None
        async with self.outbox.work(update.update_id) as work:
            if work.fresh:
                await self.conversations.feedback(work, chat.id, query.data or "", pressed)
        raise ApplicationHandlerStop
