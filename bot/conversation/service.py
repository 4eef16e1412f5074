"""The child's conversation as a service: loads the state, runs the engine, stores the result.

Each update is applied in one transaction together with marking it handled in the inbox, so a
crash at any point either leaves the update to be replayed or has applied it exactly once.
"""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass, fields, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.answers.service import parse_feedback
from bot.answers.states import words_for
from bot.compiling.service import forget_words
from bot.config import Config
from bot.conversation import engine
from bot.conversation.catalog import Catalog
from bot.conversation.engine import Event, Outcome, State, Submit, Text
from bot.conversation.language import tag_fields
from bot.localized import BASE_LANG
from bot.messages import Button, Reply
from bot.safeguarding.cases import Cases, parse_reply, reply_button
from bot.safeguarding.detector import NEEDS_A_LOOK, assess
from bot.staff.chat import day
from bot.staff.guide import staff_help
from bot.staff.moderation import INVITE_ALPHABET, INVITE_LENGTH, Joined, Moderation, Refused
from bot.staff.prompts import Asked
from bot.staff.roles import is_staff
from bot.transport.outbox import Message, Outbox, Work
from storage import addresses, answers, children, consent, proposals, recommendations
from storage import cases as case_store
from storage import outbox as outbox_store
from storage.cases import NewCase
from storage.children import ChildRow
from storage.db import Database, Tx

MY_ANSWER_CHARS = 300
INVITE_PATTERN = re.compile(f"[{INVITE_ALPHABET}]{{{INVITE_LENGTH}}}")


_CONVERSATION = tuple(f.name for f in fields(State) if f.name != "profile")


def state_to_row(chat_id: int, state: State) -> ChildRow:
    """Profile goes to its own columns (staff query them); the rest is the conversation."""
    # Fields by hand, not dataclasses.asdict: its deep copies were 3% of a step's work.
    conversation: dict[str, Any] = {name: getattr(state, name) for name in _CONVERSATION}
    conversation["answers"] = dict(state.answers)
    profile = state.profile
    return ChildRow(chat_id, profile.get("district"), profile.get("age_band"),
                    profile.get("gender"), profile.get("lang", BASE_LANG),
                    json.dumps(conversation, ensure_ascii=False))


def row_to_state(row: ChildRow) -> State:
    raw: dict[str, Any] = json.loads(row.state)
    columns = {"district": row.district, "age_band": row.age_band, "gender": row.gender,
               "lang": row.lang}
    profile = {name: value for name, value in columns.items() if value}
    # JSON has lists where the state has tuples; a field added later takes its default.
    raw["profile_queue"] = tuple(raw["profile_queue"])
    if "case" in raw:  # saved before a draft could have several cases
        case = raw.pop("case")
        raw["cases"] = (case,) if case is not None else ()
    raw["cases"] = tuple(raw.get("cases", ()))
    raw["shown"] = tuple(raw.get("shown", ()))
    raw["answers"] = {k: tuple(v) if isinstance(v, list) else v for k, v in raw["answers"].items()}
    return State(profile=profile, **raw)


@dataclass(frozen=True)
class Pressed:
    """The message whose button was pressed, as the channel shows it (HTML): it gets the choice
    written under it, or its buttons refreshed. Channels without buttons give none."""

    message_id: int
    html: str


# How long after staff wrote to a child the child's next words are taken as the answer.
ANSWER_WINDOW = timedelta(days=1)


@dataclass(frozen=True)
class CaseReply:
    case: int  # the case a child's next text answers


class Conversations:
    """Applies children's updates inside the caller's unit of work (bot.transport.outbox.Work):
    the new state, the effects and the replies commit together, and the replies go out after."""

    def __init__(self, db: Database, catalog: Catalog, config: Config,
                 moderation: Moderation, outbox: Outbox, cases: Cases) -> None:
        self.db, self.catalog, self.config, self.moderation, self.outbox = (
            db, catalog, config, moderation, outbox)
        self.cases = cases
        # Children who pressed ↩️ under a message from their case's staff: their next text is for
        # the case (kept with the staff prompts: bot.staff.prompts).
        self.replying = Asked(CaseReply)

    async def handle(self, work: Work, chat_id: int, event: Event,
                     pressed: Pressed | None = None) -> None:
        """Apply one event of a fresh update and queue what to say."""
        if await self._case_reply(work, chat_id, event):
            return
        invite = await self._redeem(chat_id, event)
        db = work.tx
        state = await self._state(db, chat_id)
        outcome, state = await self._safeguard(db, chat_id, state, event)
        if isinstance(invite, Joined):
            outcome = engine.join_as_facilitator(self.catalog, state, invite.district)
        elif outcome is None and (guide := await self._staff_guide(db, chat_id, state, event)):
            work.replies(chat_id, guide)
            return
        elif outcome is None:
            consenting = state is None and await consent.waiting(db, chat_id)
            outcome = engine.step(self.catalog, state, event, consenting=consenting)
        if isinstance(invite, Refused):
            note = Reply(self.catalog.texts.both("invite.refused"))
            outcome = replace(outcome, replies=(note, *outcome.replies))
        if (outcome.state is not None and outcome.state.confirming_delete
                and not (state is not None and state.confirming_delete)
                and await case_store.any_open(db, chat_id)):
            # Said before the choice: what they told a person stays until it is worked.
            kept = Reply(engine.text(self.catalog, outcome.state, "delete.case_kept"))
            outcome = replace(outcome, replies=(kept, *outcome.replies))
        outcome = await self._carry_out(work, chat_id, outcome, consented=state is not None)
        district = engine.area_of(self.catalog, outcome.state)
        if district and engine.area_of(self.catalog, state) is None:
            # Cases opened before the child said where they live: now their area's
            await case_store.place(db, chat_id, str(district))
        said = len(work.messages)
        self._answer(work, chat_id, outcome, pressed)
        if isinstance(outcome.effect, engine.Erase):  # the goodbye leaves no record once sent
            work.messages[said:] = [
                replace(message, dedupe=f"{outbox_store.FAREWELL}{chat_id}:{work.update_id}:{n}")
                for n, message in enumerate(work.messages[said:])]

    async def _staff_guide(self, db: Tx, chat_id: int, state: State | None,
                           event: Event) -> tuple[Reply, ...]:
        """A staff member's /help: their commands (and where they were, if in a flow); and what
        a staff member who is not in the children's conversation types outside a prompt gets,
        instead of the children's consent. /start still begins it (to try it, or to join as a
        facilitator). Empty for everyone else."""
        if not (isinstance(event, engine.Command) and event.name == "help"):
            if state is not None:
                return ()  # in the conversation: it answers
            if isinstance(event, Text):
                outside = not engine.calls_for_help(self.catalog, event.text)
            elif isinstance(event, engine.Command):
                outside = event.name in ("cancel", "language", "profile")
            else:
                outside = isinstance(event, engine.Media)
            if not outside:
                return ()
        if state is None and await consent.waiting(db, chat_id):
            return ()  # on their way into the conversation (/start): its consent goes on
        lang = state.lang if state else BASE_LANG
        guide = staff_help(self.catalog.texts, await self.moderation.members(db), chat_id, lang)
        if guide is None:
            return ()
        return (Reply(guide), *((engine.prompt(self.catalog, state),) if state else ()))

    def _answer(self, work: Work, chat_id: int, outcome: Outcome,
                pressed: Pressed | None) -> None:
        if pressed is not None and self._in_place(outcome):
            # One call where two were: the pressed message becomes the next question, the
            # choice on top (no stale buttons left, one message less on the child's phone).
            (reply,) = outcome.replies
            text = f"<i>{html.escape(outcome.pressed_note or '')}</i>\n\n{reply.text}"
            work.add(Message(chat_id, text, reply.keyboard, op="edit",
                             message_id=pressed.message_id, or_send=True))
            return
        if pressed is not None:
            work.add(*self._settle(chat_id, pressed, outcome))
        elif outcome.keyboard is not None and outcome.state is not None:
            # A choice toggled with no message to refresh (typed, on a channel without buttons):
            # the question again, with the choices as they are now.
            work.replies(chat_id, (engine.prompt(self.catalog, outcome.state),))
        work.replies(chat_id, outcome.replies)

    async def _case_reply(self, work: Work, chat_id: int, event: Event) -> bool:
        """↩️ under a message staff wrote from the child's case, and the text after it: for the
        case, not for the conversation (True: taken)."""
        pressed = parse_reply(event.data) if isinstance(event, engine.Press) else None
        asked = self.replying.pop(chat_id, None) if isinstance(event, Text) else None
        about = pressed if pressed is not None else asked.case if asked is not None else None
        if about is None and isinstance(event, Text):
            # Words typed after staff wrote, ↩️ pressed or not: an answer to a person first
            # (taken as a topic's answer, they reached no one).
            since = (datetime.now(UTC) - ANSWER_WINDOW).isoformat(timespec="seconds")
            about = await case_store.awaiting_child(work.tx, chat_id, since)
        if about is None:
            return False
        case = await case_store.get(work.tx, about)
        state = await self._state(work.tx, chat_id)
        lang = state.lang if state else BASE_LANG
        texts = self.catalog.texts
        open_case = (case if case is not None and case.chat_id == chat_id
                     and case.state != "closed" else None)
        if pressed is not None:
            if open_case is None:
                work.replies(chat_id, (Reply(texts.get("case.reply.closed", lang)),))
            else:
                self.replying[chat_id] = CaseReply(open_case.id)
                work.replies(chat_id, (Reply(texts.get("case.reply.ask", lang)),))
            return True
        assert isinstance(event, Text)
        if open_case is not None:
            await self.cases.child_replied(work.tx, open_case, event.text)
        else:  # closed meanwhile: written to a person, it reaches one, as a case of its own
            found = assess(event.text)
            await self.cases.open(work.tx, NewCase(
                chat_id, engine.area_of(self.catalog, state), "reply",
                found.tier if found.found else NEEDS_A_LOOK, found.kind, event.text,
                ", ".join(found.weighed) or found.rule))
        again = (engine.prompt(self.catalog, state),) if state else ()
        more = ((Button(texts.get("case.button.reply", lang), reply_button(open_case.id)),),
                ) if open_case is not None else ()
        sent = "case.reply.sent" if open_case is not None else "case.reply.sent.new"
        work.replies(chat_id, (Reply(texts.get(sent, lang), more), *again))
        return True

    @staticmethod
    def _in_place(outcome: Outcome) -> bool:
        """A press answered by one question with buttons: it can take the pressed message's
        place."""
        return (outcome.pressed_note is not None and outcome.keyboard is None
                and len(outcome.replies) == 1 and bool(outcome.replies[0].keyboard))

    @staticmethod
    def _settle(chat_id: int, pressed: Pressed, outcome: Outcome) -> list[Message]:
        """Show what was chosen on the pressed message (and drop its buttons), or refresh them."""
        if outcome.keyboard is not None:
            return [Message(chat_id, keyboard=outcome.keyboard, op="keyboard",
                            message_id=pressed.message_id)]
        if outcome.pressed_note is not None:
            text = f"{pressed.html}\n\n<i>{html.escape(outcome.pressed_note)}</i>"
            return [Message(chat_id, text, op="edit", message_id=pressed.message_id)]
        return []

    async def _redeem(self, chat_id: int, event: Event) -> Joined | Refused | None:
        """An invite code, from a deep link or typed: joins the chat as a facilitator.

        Unknown codes say nothing (a typed word that merely looks like a code goes on as text).
        Redeeming twice is harmless: a chat that already joined does not use up the invite.
        """
        typed = event.payload if isinstance(event, engine.Start) else (
            event.text if isinstance(event, Text) else "")
        # As written on a board or read aloud: "SWMK NNPU", "swmk-nnpu".
        code = "".join(typed.split()).replace("-", "").upper()
        if not INVITE_PATTERN.fullmatch(code):
            return None
        result = await self.moderation.redeem_invite(chat_id, code)
        if isinstance(result, Refused) and result.reason == "unknown_code":
            return None
        return result

    async def _safeguard(self, db: Tx, chat_id: int, state: State | None, event: Event,
                         edited: bool = False) -> tuple[Outcome | None, State | None]:
        """Every text (and a photo's caption) is assessed (bot.safeguarding.detector); anything
        found opens a case.

        Tier 1: the child gets the hotline reply at once; typed as an answer, the text is held
        aside and the child says whether to use it. Tier 2: nothing is said; the conversation
        goes on, and the draft remembers the case, so that its proposal waits for the case.
        Returns the outcome (None: let the engine answer) and the state to go on from.
        """
        text = engine.typed(event)
        if not text or engine.calls_for_help(self.catalog, text):
            return None, state  # a call for help: the engine answers it like 🆘
        found = assess(text)
        if not found.found:
            return None, state
        # An area of this year's forum (an earlier year's, a district gone: none until the
        # child says theirs, and then theirs: storage.cases.place).
        district = engine.area_of(self.catalog, state)
        case = await self.cases.open(db, NewCase(
            chat_id, district, "edited" if edited else "detector", found.tier, found.kind,
            text, ", ".join(found.weighed) or found.rule))
        drafting = state is not None and state.topic is not None
        if state is not None and drafting:
            state = replace(state, cases=(*state.cases, case))
        if found.tier == NEEDS_A_LOOK:
            return None, state
        if state is None:  # before consent: the hotline, then the consent where it was
            consenting = await consent.waiting(db, chat_id)
            after = engine.step(self.catalog, None, event, consenting=consenting)
            hotline = Reply(self.catalog.texts.both("safeguarding.reply"))
            return replace(after, replies=(hotline, *after.replies)), None
        reply = Reply(self.catalog.texts.get("safeguarding.reply.facilitator" if state.facilitator
                                             else "safeguarding.reply", state.lang))
        held = engine.hold(self.catalog, state, text) if not edited else None
        state = held or state
        return Outcome(state, (reply, engine.prompt(self.catalog, state))), state

    async def _carry_out(self, work: Work, chat_id: int, outcome: Outcome,
                         consented: bool = True) -> Outcome:
        db, effect, state = work.tx, outcome.effect, outcome.state
        if isinstance(effect, engine.Erase):
            self.db.take_turn()  # recommendations worded after their proposals change too
            compiled = await recommendations.of_chat(db, chat_id)
            still_open = await children.erase(db, chat_id)
            await self.cases.child_erased(db, still_open)
            if still_open and not consented:
                # Before consent /delete is at once (no question said it): not "nothing kept"
                outcome = replace(outcome, replies=(
                    Reply(self.catalog.texts.both("delete.case_kept")),))
            self.db.erased()
            await forget_words(db, compiled)  # a recommendation worded as theirs
            await consent.forget(db, chat_id)
            self.replying.pop(chat_id, None)  # ↩️ pressed: nothing ties the chat to a case
            if not is_staff(await self.moderation.members(db), chat_id):
                # Staff keep their address (their role is tied to it on Zalo) and what is
                # queued for them (a case's alert, a digest): it is theirs as staff.
                await addresses.erase(db, chat_id)
                await self.outbox.forget(db, chat_id)
            return outcome
        if isinstance(effect, engine.Help):
            outcome = await self._help(db, chat_id, outcome, effect)
            state = outcome.state
        elif isinstance(effect, engine.Contact):
            await case_store.set_contact(db, effect.case, chat_id, effect.wants)
        if state is None:
            await (consent.remember if outcome.consenting else consent.forget)(db, chat_id)
            return outcome
        if isinstance(effect, engine.Consented):
            await consent.forget(db, chat_id)
        if isinstance(effect, Submit):
            assert work.update_id is not None
            ref = await proposals.insert(
                db, self._new_proposal(chat_id, work.update_id, state, effect))
            if effect.cases:  # the proposal waits for its safeguarding cases
                await case_store.hold(db, effect.cases, ref)
            thanks = engine.submitted(self.catalog, state, ref)
            outcome = replace(outcome, replies=(*outcome.replies, thanks))
        await children.save(db, state_to_row(chat_id, state))
        return outcome

    async def _help(self, db: Tx, chat_id: int, outcome: Outcome, effect: engine.Help) -> Outcome:
        """/sos, 🆘, or "yes, it is happening": a case, the hotline, and the contact question."""
        state = outcome.state
        district = engine.area_of(self.catalog, state)  # as _safeguard's
        told = effect.text  # a call typed: the child's words
        if effect.source == "review" and state is not None:
            told = "\n\n".join(a for a in state.answers.values() if isinstance(a, str) and a)
        case = await self.cases.open(db, NewCase(chat_id, district, effect.source, 1,
                                                 text=told))
        if state is not None and effect.source == "review":
            state = replace(state, cases=(*state.cases, case))
        # The contact question ends the reply; its answer shows again where the child was.
        return replace(outcome, state=state,
                       replies=(engine.help_reply(self.catalog, state, case),))

    def _new_proposal(self, chat_id: int, update_id: int, state: State,
                      submit: Submit) -> proposals.NewProposal:
        answers = {k: v if isinstance(v, str) else ",".join(v) for k, v in submit.answers.items()}
        # Each field on its own: a Bahnar proposal under a Vietnamese "Em thấy" needs a translator.
        lang = tag_fields(answers.get(k, "") for k in ("seen", "proposal", "message"))
        proposal = proposals.NewProposal(
            chat_id=chat_id, forum_year=self.config.forum_year,
            district=state.profile["district"], topic=submit.topic,
            age_band=state.profile.get("age_band"), gender=state.profile.get("gender"),
            seen=answers.get("seen", ""), proposal=answers.get("proposal", ""),
            actors=answers.get("actors", ""), message=answers.get("message", ""),
            lang=lang, needs_translation=lang == "other", source_update_id=update_id,
        )
        if not state.facilitator:
            return proposal
        return replace(proposal, group_size=int(answers["group_size"]),
                       group_age_range=answers.get("group_ages"), school=answers.get("school"),
                       commune=answers.get("commune"))

    async def edited(self, work: Work, chat_id: int, text: str) -> None:
        """An edited message: a call for help is answered as one typed anew (like 🆘);
        otherwise checked for a disclosure like any text, else explained."""
        if engine.calls_for_help(self.catalog, text):
            await self.handle(work, chat_id, Text(text))
            return
        state = await self._state(work.tx, chat_id)
        outcome, updated = await self._safeguard(work.tx, chat_id, state, Text(text),
                                                 edited=True)
        if updated is not None and updated != state:  # the draft now waits for a case
            await children.save(work.tx, state_to_row(chat_id, updated))
        if outcome is not None:
            work.replies(chat_id, outcome.replies)
        else:
            await self.explain(work, chat_id, "error.edited")

    async def say(self, work: Work, chat_id: int, key: str) -> None:
        """A fixed answer alone (a flood's "slow down"), in the person's language and wording
        (a facilitator's where it differs; both languages for a stranger)."""
        state = await self._state(work.tx, chat_id)
        work.replies(chat_id, (Reply(engine.text(self.catalog, state, key)),))

    async def explain(self, work: Work, chat_id: int, key: str) -> None:
        """A fixed answer (unknown command, edited message...) and then where the child was."""
        state = await self._state(work.tx, chat_id)
        where = (engine.prompt(self.catalog, state) if state is not None else
                 engine.consent_reminder(self.catalog, await consent.waiting(work.tx, chat_id)))
        work.replies(chat_id, (Reply(engine.text(self.catalog, state, key)), where))

    async def apologise(self, work: Work, chat_id: int, staff: bool = False) -> None:
        """After an unexpected error: sorry, and how to see where things are (no "try again":
        what was handled before the error stays handled)."""
        state = await self._state(work.tx, chat_id)
        texts = self.catalog.texts
        if staff:
            text = texts.get("staff.error", state.lang if state else BASE_LANG)
        elif state is not None:
            text = texts.get("error.internal.facilitator" if state.facilitator
                             else "error.internal", state.lang)
        else:
            text = texts.both("error.internal")
        work.replies(chat_id, (Reply(text),))

    async def mine(self, work: Work, chat_id: int) -> None:
        """`/my`: the child's proposals with their status and published answer, then where they
        were."""
        state = await self._state(work.tx, chat_id)
        items = await proposals.of_child(work.tx, chat_id) if state else []
        found = await answers.published_for(work.tx, [item.ref for item in items])
        lang = state.lang if state else BASE_LANG
        texts = self.catalog.texts
        lines = [engine.text(self.catalog, state, "my.head" if items else "my.empty")]
        for item in items:
            flow = self.catalog.topic(item.topic)
            lines.append(texts.get(
                "my.item", lang, ref=html.escape(item.ref),
                topic=html.escape(flow.title[lang] if flow else item.topic),
                status=texts.get(f"status.{item.status}", lang), date=day(item.created_at)))
            answer = found.get(item.ref)
            if answer is not None:
                words = words_for(answer, lang)
                lines.append(texts.get("my.answer", lang,
                                       state=texts.get(f"answer.state.{answer.state}", lang),
                                       text=html.escape(_cut(words, MY_ANSWER_CHARS))))
        work.replies(chat_id, (Reply("\n".join(lines)), engine.prompt(self.catalog, state)))

    async def feedback(self, work: Work, chat_id: int, data: str,
                       pressed: int | None) -> None:
        """👍/👎 under an answer: counted once it is the person who was told; the buttons go."""
        state = await self._state(work.tx, chat_id)
        parsed = parse_feedback(data)
        if parsed is None or not await answers.feedback(work.tx, parsed[0], chat_id, parsed[1]):
            work.replies(chat_id, (Reply(engine.text(self.catalog, state, "error.old_button")),))
            return
        if pressed is not None:
            work.add(Message(chat_id, op="keyboard", message_id=pressed))
        thanks = Reply(engine.text(self.catalog, state, "answer.thanks"))
        # Typed from a numbered menu (no buttons to press, as on Zalo): the notice's menu was
        # the chat's; the question the child was at becomes it again, so "2" means what it did.
        again = (engine.prompt(self.catalog, state),) if pressed is None and state else ()
        work.replies(chat_id, (thanks, *again))

    @staticmethod
    async def _state(db: Tx, chat_id: int) -> State | None:
        row = await children.get(db, chat_id)
        return row_to_state(row) if row else None


def _cut(text: str, limit: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[:limit - 1] + "…"
