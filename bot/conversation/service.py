"""The child's conversation as a service: loads the state, runs the engine, stores the result.

Each update is applied in one transaction together with marking it handled in the inbox, so a
crash at any point either leaves the update to be replayed or has applied it exactly once.
"""

from __future__ import annotations

import html
import json
import re
from dataclasses import asdict, replace
from typing import Any

from bot.config import Config
from bot.conversation import engine
from bot.conversation.catalog import Catalog
from bot.conversation.engine import Event, Outcome, Reply, State, Submit, Text
from bot.conversation.language import tag_language
from bot.safeguarding.detector import detect_disclosure
from bot.staff.moderation import INVITE_ALPHABET, INVITE_LENGTH, Joined, Moderation, Refused
from storage import children, flags, inbox, proposals
from storage.children import ChildRow
from storage.db import Database, Tx

INVITE_PATTERN = re.compile(f"[{INVITE_ALPHABET}]{{{INVITE_LENGTH}}}")


def state_to_row(chat_id: int, state: State) -> ChildRow:
    """Profile goes to its own columns (staff query them); the rest is the conversation."""
    conversation = {k: v for k, v in asdict(state).items() if k != "profile"}
    profile = state.profile
    return ChildRow(chat_id, profile.get("district"), profile.get("age_band"),
                    profile.get("gender"), profile.get("lang", "vi"),
                    json.dumps(conversation, ensure_ascii=False))


def row_to_state(row: ChildRow) -> State:
    raw: dict[str, Any] = json.loads(row.state)
    columns = {"district": row.district, "age_band": row.age_band, "gender": row.gender,
               "lang": row.lang}
    profile = {name: value for name, value in columns.items() if value}
    # JSON has lists where the state has tuples; a field added later takes its default.
    raw["profile_queue"] = tuple(raw["profile_queue"])
    raw["answers"] = {k: tuple(v) if isinstance(v, list) else v for k, v in raw["answers"].items()}
    return State(profile=profile, **raw)


class Conversations:
    """Applies children's updates, each exactly once (the caller keeps one chat in order)."""

    def __init__(self, db: Database, catalog: Catalog, config: Config,
                 moderation: Moderation) -> None:
        self.db, self.catalog, self.config, self.moderation = db, catalog, config, moderation

    async def handle(self, update_id: int, chat_id: int, event: Event) -> Outcome | None:
        """Apply one event; None when this update was already applied (a redelivery)."""
        invite = await self._redeem(chat_id, event)
        async with self.db.transaction() as db:
            if await inbox.is_done(db, update_id):
                return None
            state = await self._state(db, chat_id)
            outcome = await self._safeguard(db, chat_id, state, event)
            if isinstance(invite, Joined):
                outcome = engine.join_as_facilitator(self.catalog, state, invite.district)
            elif outcome is None:
                outcome = engine.step(self.catalog, state, event)
            if isinstance(invite, Refused):
                note = Reply(self.catalog.texts.both("invite.refused"))
                outcome = replace(outcome, replies=(note, *outcome.replies))
            outcome = await self._carry_out(db, update_id, chat_id, outcome)
            await inbox.mark_done(db, update_id)
            return outcome

    async def _redeem(self, chat_id: int, event: Event) -> Joined | Refused | None:
        """An invite code, from a deep link or typed: joins the chat as a facilitator.

        Unknown codes say nothing (a typed word that merely looks like a code goes on as text).
        Redeeming twice is harmless: a chat that already joined does not use up the invite.
        """
        typed = event.payload if isinstance(event, engine.Start) else (
            event.text if isinstance(event, Text) else "")
        code = typed.strip().upper()
        if not INVITE_PATTERN.fullmatch(code):
            return None
        result = await self.moderation.redeem_invite(chat_id, code)
        if isinstance(result, Refused) and result.reason == "unknown_code":
            return None
        return result

    async def _safeguard(self, db: Tx, chat_id: int, state: State | None,
                         event: Event, edited: bool = False) -> Outcome | None:
        """A disclosure of harm is answered at once with the hotline and flagged for staff.

        Typed as an answer, it is held aside: the child says whether to use it as the answer.
        """
        if not isinstance(event, Text):
            return None
        disclosure = detect_disclosure(event.text)
        if disclosure is None:
            return None
        district = state.profile.get("district") if state else None
        await flags.add(db, chat_id, district, disclosure.category, disclosure.matched, event.text)
        if state is None:
            return Outcome(None, (Reply(self.catalog.texts.both("safeguarding.reply")),))
        reply = Reply(self.catalog.texts.get("safeguarding.reply", state.lang))
        held = engine.hold(self.catalog, state, event.text) if not edited else None
        state = held or state
        return Outcome(state, (reply, engine.prompt(self.catalog, state)))

    async def _carry_out(self, db: Tx, update_id: int, chat_id: int,
                         outcome: Outcome) -> Outcome:
        effect, state = outcome.effect, outcome.state
        if isinstance(effect, engine.Erase):
            await children.erase(db, chat_id)
            return outcome
        if state is None:
            return outcome
        if isinstance(effect, Submit):
            ref = await proposals.insert(db, self._new_proposal(chat_id, update_id, state, effect))
            thanks = engine.submitted(self.catalog, state, ref)
            outcome = replace(outcome, replies=(*outcome.replies, thanks))
        await children.save(db, state_to_row(chat_id, state))
        return outcome

    def _new_proposal(self, chat_id: int, update_id: int, state: State,
                      submit: Submit) -> proposals.NewProposal:
        answers = {k: v if isinstance(v, str) else ",".join(v) for k, v in submit.answers.items()}
        words = " ".join(answers.get(k, "") for k in ("seen", "proposal", "message"))
        lang = tag_language(words)
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

    async def edited(self, update_id: int, chat_id: int, text: str) -> tuple[Reply, ...] | None:
        """An edited message: checked for a disclosure like any text, else explained."""
        async with self.db.transaction() as db:
            if await inbox.is_done(db, update_id):
                return None
            state = await self._state(db, chat_id)
            outcome = await self._safeguard(db, chat_id, state, Text(text), edited=True)
            if outcome is not None:
                await inbox.mark_done(db, update_id)
                return outcome.replies
        return await self.explain(update_id, chat_id, "error.edited")

    async def explain(self, update_id: int, chat_id: int, key: str) -> tuple[Reply, ...] | None:
        """A fixed answer (unknown command, edited message...) and then where the child was."""
        async with self.db.transaction() as db:
            if await inbox.is_done(db, update_id):
                return None
            state = await self._state(db, chat_id)
            await inbox.mark_done(db, update_id)
        text = self.catalog.texts.get(key, state.lang) if state else self.catalog.texts.both(key)
        return Reply(text), engine.prompt(self.catalog, state)

    async def mine(self, update_id: int, chat_id: int) -> tuple[Reply, ...] | None:
        """`/my`: the child's proposals with their status, then where they were."""
        async with self.db.transaction() as db:
            if await inbox.is_done(db, update_id):
                return None
            state = await self._state(db, chat_id)
            items = await proposals.of_child(db, chat_id) if state else []
            await inbox.mark_done(db, update_id)
        lang = state.lang if state else "vi"
        texts = self.catalog.texts
        lines = [texts.get("my.head", lang)] if items else [texts.get("my.empty", lang)]
        for item in items:
            flow = self.catalog.topic(item.topic)
            lines.append(texts.get(
                "my.item", lang, ref=html.escape(item.ref),
                topic=html.escape(flow.title[lang] if flow else item.topic),
                status=texts.get(f"status.{item.status}", lang), date=item.created_at[:10]))
        return Reply("\n".join(lines)), engine.prompt(self.catalog, state)

    @staticmethod
    async def _state(db: Tx, chat_id: int) -> State | None:
        row = await children.get(db, chat_id)
        return row_to_state(row) if row else None
