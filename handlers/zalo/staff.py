"""Staff on Zalo: the same desks as on Telegram (handlers/telegram/staff.py, answers.py,
cases.py, translating.py, compiling.py), a command typed, a button picked by its number.

A desk that is waiting for a staff member's typed text (a reason, a note, a translation) takes
the next plain text first: "1" typed as a reason is the reason, not a pick. Files do not go over
Zalo: exports and the answers workbook say they are on Telegram or the command line.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.answers.desk import AnswerDesk
from bot.compiling.desk import CompileDesk
from bot.compiling.service import Planned
from bot.localized import BASE_LANG
from bot.messages import Reply
from bot.safeguarding.desk import CaseDesk
from bot.staff.chat import Caller
from bot.staff.desk import COMMANDS as STAFF_COMMANDS
from bot.staff.desk import StaffDesk
from bot.staff.moderation import Refused
from bot.staff.prompts import Prompts
from bot.translating.desk import TranslateDesk
from bot.transport.outbox import Work

ANSWER_COMMANDS = ("answer", "publish")
ELSEWHERE = ("export", "answers")  # files: on Telegram and the command line
_ELSEWHERE_PRESSES = ("x|",)  # the export menu's buttons
# Every staff button's data begins so (the queue, answers, publish, imports, cases, exports).
STAFF_PRESSES = ("q", "n|", "p|", "i|", "c|", *_ELSEWHERE_PRESSES)


@dataclass
class StaffDesks:
    """The staff's desks, one of each (Telegram's handlers work them too), and how a line typed
    on Zalo reaches them."""

    staff: StaffDesk
    answers: AnswerDesk
    cases: CaseDesk
    translating: TranslateDesk
    compiling: CompileDesk
    prompts: Prompts | None = None

    @staticmethod
    def prepares(text: str) -> bool:
        """Whether `text` is a command with work to do before its transaction (`prepare`)."""
        return (text.split(maxsplit=1) or [""])[0].lower() == "/compile"

    async def prepare(self, chat_id: int, text: str) -> Planned | Refused | None:
        """Before the event's transaction, for an officer's "/compile auto" (a text `prepares`
        said yes to): the grouping (seconds for thousands of proposals), worked out without
        holding the write lock (bot.compiling.desk.prepare); None for anything else."""
        if not await self.compiling.may_compile(chat_id):
            return None
        return await self.compiling.prepare(chat_id, text)

    async def take(self, work: Work, chat_id: int, text: str, picked: str | None,
                   prepared: Planned | Refused | None = None, offered: int = 0) -> bool:
        """Do what a staff member typed, if it is staff work (False: the conversation's);
        `prepared`: what `prepare` worked out for the same text; `offered`: how many numbered
        staff choices the chat's last menu showed (0: it was no staff menu)."""
        caller = Caller(chat_id, chat_id, BASE_LANG, work)
        if text.startswith("/"):
            name, _, rest = text[1:].partition(" ")
            return await self._command(caller, name.lower(), rest.split(), text, prepared)
        if await self._owed(caller, text):
            return True
        if picked is not None:
            return await self._pick(caller, picked)
        if offered and await self.staff.is_staff(chat_id):  # "7" of five, "dong" of two
            # "Đóng…": the choices again, not every command (a tester got the whole /help)
            caller.send(self.staff.catalog.texts.get("zalo.staff.pick_one", BASE_LANG,
                                                     count=offered))
            return True
        return False

    @staticmethod
    def offered(buttons: list[tuple[str, str, bool]]) -> int:
        """How many numbered staff choices a stored menu holds (0: not a staff menu)."""
        numbered = [data for _, data, aside in buttons if not aside]
        return len(numbered) if numbered and all(
            data.startswith(STAFF_PRESSES) for data in numbered) else 0

    async def _command(self, caller: Caller, name: str, args: list[str], text: str,
                       prepared: Planned | Refused | None) -> bool:
        user = caller.user_id
        if name == "stats" and await self.staff.is_staff(user):
            await self.staff.stats(caller, chart=False, args=args)  # no pictures on Zalo
        elif name in STAFF_COMMANDS and await self.staff.is_staff(user):
            await self.staff.command(caller, name, args)
        elif name in ANSWER_COMMANDS and await self.answers.may_answer(user):
            await self.answers.command(caller, name, args)
        elif name in ("cases", "safeguarding") and await self.cases.may_work(user):
            await self.cases.list(caller)
        elif name == "translate" and await self.translating.may_translate(user):
            self._say_all(caller, await self.translating.start(user, caller.lang))
        elif name == "compile" and await self.compiling.may_compile(user):
            self._say_all(caller, await self.compiling.handle(user, caller.lang, text,
                                                                    prepared))
        elif name in ELSEWHERE and await self.staff.is_staff(user):
            self._elsewhere(caller)
        else:
            return False  # /start, /help…, or not theirs: the conversation answers
        return True

    async def _owed(self, caller: Caller, text: str) -> bool:
        user = caller.user_id
        if self.answers.owes_text(user) and await self.answers.may_answer(user):
            await self.answers.typed(caller, text)
        elif self.cases.owes_text(user) and await self.cases.may_work(user):
            await self.cases.typed(caller, text)
        elif self.translating.owes_text(user):
            self._say_all(caller, await self.translating.typed(user, caller.lang, text))
        elif self.staff.owes_text(user) and await self.staff.is_staff(user):
            await self.staff.typed(caller, text)
        else:
            return False
        return True

    async def _pick(self, caller: Caller, data: str) -> bool:
        user = caller.user_id
        if data.startswith("q") and await self.staff.is_staff(user):
            await self.staff.press(caller, data, None)
        elif data.startswith(("n|", "p|", "i|")) and await self.answers.may_answer(user):
            await self.answers.press(caller, data, None)
        elif data.startswith("c|") and await self.cases.may_work(user):
            await self.cases.press(caller, data)
        elif data.startswith(_ELSEWHERE_PRESSES) and await self.staff.is_staff(user):
            self._elsewhere(caller)
        else:
            return False
        return True

    @staticmethod
    def _say_all(caller: Caller, texts: list[str]) -> None:
        for text in texts:
            caller.send(text)

    def _elsewhere(self, caller: Caller) -> None:
        caller.work.replies(caller.chat_id, (Reply(self.staff.catalog.texts.get(
            "zalo.staff.elsewhere", caller.lang)),))
