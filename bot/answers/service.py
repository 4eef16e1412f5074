"""The answer loop as a service: record an answer, publish, tell every child, count feedback.

No channel here. Every method checks the caller's "answer" duty (officers and admins, within
their districts, at that moment) and writes the audit row in the same transaction as the change.

    record   a draft of the proposal's answer: the first version, a change of the draft (at the
             revision the officer saw: of two officers, one wins, the other is told), or a new
             version of a published answer. Saving what is already there changes nothing.
    publish  the drafts of a district, a topic or given refs. Each published version whose state
             is new for its proposal queues one notice per person to tell, in the same
             transaction (the outbox sends them, paced, after quiet hours); a new wording of the
             same state tells nobody again. Publishing twice publishes nothing the second time.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from bot.answers.states import (
    STATES,
    Problem,
    check,
    shown_date,
    tidy,
    words_for,
    worth_telling,
)
from bot.config import Config
from bot.conversation.catalog import Catalog
from bot.conversation.engine import help_button
from bot.messages import Button
from bot.staff.moderation import Moderation, Refused
from bot.staff.roles import Scope, scope_for
from bot.textnorm import small_int
from bot.transport.outbox import Message, Outbox
from storage import answers as store
from storage import audit as audit_log
from storage import moderation as proposals_store
from storage.answers import AnswerFields, AnswerRow
from storage.db import Database, Tx
from storage.moderation import ProposalRow

QUOTE_CHARS = 120
PUBLISH_BATCH = 200  # answers per transaction: no writer waits long behind a big publish
NO_ANSWER = -1  # the revision an officer saw when the proposal had no answer yet
FEEDBACK_PREFIX = "a"
Feedback = Literal["up", "down"]


@dataclass(frozen=True)
class Saved:
    ref: str
    answer: AnswerRow
    changed: bool  # False: the same answer was there already (nothing done)


@dataclass(frozen=True)
class Invalid:
    problems: list[Problem]


@dataclass(frozen=True)
class Stale:
    """Someone changed this draft since the officer saw it (or published it)."""

    by_user_id: int
    at: str


@dataclass(frozen=True)
class PublishResult:
    published: int  # versions published now
    told: int  # notices queued
    refs: frozenset[str] = frozenset()  # the proposals whose answers were published now

    def left(self, asked: Iterable[str]) -> list[str]:
        """The refs asked for that had no draft to publish (mistyped, published already, not
        answered), once each, in the order given."""
        return [ref for ref in dict.fromkeys(ref.strip().upper() for ref in asked)
                if ref not in self.refs]


Recorded = Saved | Invalid | Stale | Refused


def feedback_data(answer_id: int, value: Feedback) -> str:
    return f"{FEEDBACK_PREFIX}|{answer_id}|{value}"


def parse_feedback(data: str) -> tuple[int, Feedback] | None:
    parts = data.split("|")
    if len(parts) != 3 or parts[0] != FEEDBACK_PREFIX or parts[2] not in ("up", "down"):
        return None
    answer_id = small_int(parts[1])
    if answer_id is None:
        return None
    return answer_id, "up" if parts[2] == "up" else "down"


class Answers:
    def __init__(self, db: Database, catalog: Catalog, config: Config, moderation: Moderation,
                 outbox: Outbox,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.db, self.catalog, self.config = db, catalog, config
        self.moderation, self.outbox, self.clock = moderation, outbox, clock

    # --- who may answer what ------------------------------------------------------------------

    async def scope(self, user_id: int) -> Scope:
        """Where `user_id` may answer (empty: nowhere). 0 is the command line: everywhere."""
        async with self.db.transaction() as tx:
            return await self.scope_in(tx, user_id)

    async def proposal(self, tx: Tx, user_id: int, ref: str) -> ProposalRow | Refused:
        """The proposal `user_id` wants to answer, if they may: "not_staff", "forbidden",
        "not_found", "wrong_status" (only approved proposals get answers)."""
        item = await proposals_store.by_ref(tx, ref.strip().upper())
        return answerable(await self.scope_in(tx, user_id), item, ref, self.config.area)

    async def scope_in(self, tx: Tx, user_id: int) -> Scope:
        """`scope`, inside the caller's transaction."""
        if user_id == 0:
            return Scope(None)
        return scope_for(await self.moderation.members(tx), user_id, "answer")

    # --- recording ----------------------------------------------------------------------------

    async def record(self, user_id: int, ref: str, answer: AnswerFields,
                     revision: int | None = None, source: str = "chat") -> Recorded:
        """Save `answer` as the draft of proposal `ref` (see the module docstring).

        `revision`: the draft's revision the officer saw (None: whatever is there, as an import
        does; NO_ANSWER: the officer saw none yet, so an answer saved meanwhile makes this
        one Stale).
        """
        answer = tidy(answer)
        problems = check(answer)
        if problems:
            return Invalid(problems)
        async with self.db.transaction() as tx:
            item = await self.proposal(tx, user_id, ref)
            if isinstance(item, Refused):
                return item
            return await self.save(tx, user_id, item, answer, revision, source)

    async def save(self, tx: Tx, user_id: int, item: ProposalRow, answer: AnswerFields,
                   revision: int | None, source: str) -> Saved | Stale:
        """`record` inside the caller's transaction, for a checked answer and proposal."""
        return await self.save_over(tx, user_id, item, answer, revision, source,
                                    await store.latest(tx, item.id))

    async def save_over(self, tx: Tx, user_id: int, item: ProposalRow, answer: AnswerFields,
                        revision: int | None, source: str,
                        latest: AnswerRow | None) -> Saved | Stale:
        """`save`, with the proposal's latest answer read already (in the same transaction)."""
        if latest is not None and revision == NO_ANSWER:
            return Stale(latest.published_by or latest.answered_by,
                         latest.published_at or latest.answered_at)
        if latest is not None and latest.answer == answer:
            return Saved(item.ref, latest, changed=False)
        if latest is not None and latest.draft:
            if revision is not None and revision != latest.revision:
                return Stale(latest.answered_by, latest.answered_at)
            saved = await store.rewrite_draft(tx, latest.id, latest.revision, answer, user_id,
                                              source)
            if saved is None:  # published between the read and the write
                fresh = await store.latest(tx, item.id)
                assert fresh is not None
                return Stale(fresh.published_by or fresh.answered_by,
                             fresh.published_at or fresh.answered_at)
        else:
            saved = await store.add_version(tx, item.id, answer, user_id, source)
        changes = sorted(name for name in store.FIELD_NAMES if latest is None
                         or getattr(latest.answer, name) != getattr(answer, name))
        detail: dict[str, object] = {"ref": item.ref, "version": saved.version,
                                     "state": answer.state, "fields": changes, "via": source}
        if latest is not None and latest.draft:  # a draft changed in place: what it said
            detail["before"] = {name: getattr(latest.answer, name) for name in changes}
        await audit_log.append(tx, user_id, "answer", "proposal", item.id, item.district,
                               detail)
        return Saved(item.ref, saved, changed=True)

    # --- publishing ---------------------------------------------------------------------------

    async def publish(self, user_id: int, district: str | None = None,
                      topic: str | None = None,
                      refs: Collection[str] | None = None,
                      only: Collection[int] | None = None) -> PublishResult | Refused:
        """Publish the drafts within the caller's districts (and `district`, `topic`, `refs` if
        given; of those, only the answers `only` names, if given: what the officer confirmed);
        tell the children. Done in batches, each one transaction."""
        scope = await self.scope(user_id)
        if scope.empty:
            return Refused("not_staff")
        if district is not None and not scope.covers(district):
            return Refused("forbidden")
        districts = {district} if district else scope.districts
        wanted = {ref.strip().upper() for ref in refs} if refs is not None else None
        async with self.db.transaction() as tx:
            ids = [d.answer.id for d in await store.drafts(tx, districts, topic, wanted)
                   if only is None or d.answer.id in only]
        published, told, refs = 0, 0, set()
        for start in range(0, len(ids), PUBLISH_BATCH):
            async with self.db.transaction() as tx:
                done, said = await self._publish(tx, user_id, ids[start:start + PUBLISH_BATCH])
            published, told = published + len(done), told + said
            refs.update(done)
        return PublishResult(published, told, frozenset(refs))

    async def _publish(self, tx: Tx, user_id: int, ids: list[int]) -> tuple[list[str], int]:
        """The refs published, and how many notices were queued."""
        notices: list[Message] = []
        rows = await store.publish(tx, ids, user_id)
        refs = []
        for answer in rows:
            item = await proposals_store.get(tx, answer.proposal_id)
            assert item is not None
            refs.append(item.ref)
            previous = await store.previous_published_state(tx, item.id, answer.version)
            # Earlier forums' imported recommendations have nobody to tell.
            tell = worth_telling(answer.answer.state, previous) and item.notify_chat_id is not None
            await audit_log.append(tx, user_id, "publish", "proposal", item.id, item.district,
                                   {"ref": item.ref, "version": answer.version,
                                    "state": answer.answer.state, "told": tell})
            if tell and item.notify_chat_id is not None:
                notices.append(self.notice(item, answer, again=previous is not None))
                await store.add_notice(tx, answer.id, item.notify_chat_id)
        await self.outbox.enqueue(tx, notices)
        return refs, len(notices)

    def notice(self, item: ProposalRow, answer: AnswerRow, again: bool = False) -> Message:
        """What the sender of a proposal is told: in their language, as an adult for a group's
        facilitator, with 👍 / 👎 under it; `again`: they were told an earlier answer, so this
        one says it is new."""
        assert item.notify_chat_id is not None
        lang, adult = item.notify_lang, item.is_group
        texts = self.catalog.texts

        def text(key: str, **values: object) -> str:
            if adult and f"{key}.facilitator" in texts.table:
                key = f"{key}.facilitator"
            return texts.get(key, lang, **values)

        fields = answer.answer
        words = words_for(fields, lang)
        head = text("answer.notice.head.new" if again else "answer.notice.head",
                    ref=html.escape(item.ref))
        body = [text("answer.notice", head=head,
                     quote=html.escape(_quote(item.proposal or item.seen)),
                     state=texts.get(f"answer.state.{fields.state}", lang),
                     text=html.escape(words))]
        if fields.state == "not_yet":
            body += [text("answer.notice.why", reason=html.escape(fields.reason)),
                     text("answer.notice.next", solution=html.escape(fields.solution))]
        if fields.agency:
            body.append(text("answer.notice.agency", agency=html.escape(fields.agency)))
        if fields.due:
            body.append(text("answer.notice.due", due=html.escape(shown_date(fields.due))))
        body.append(text("answer.notice.ask"))
        keyboard = ((Button(texts.get("answer.button.up", lang), feedback_data(answer.id, "up")),
                     Button(texts.get("answer.button.down", lang),
                            feedback_data(answer.id, "down"))),
                    (help_button(texts, lang, adult),))
        return Message(item.notify_chat_id, "\n\n".join(body), keyboard, kind="notice",
                       dedupe=store.notice_key(answer.id, item.notify_chat_id))

    # --- feedback -----------------------------------------------------------------------------

    async def feedback(self, tx: Tx, chat_id: int, answer_id: int, value: Feedback) -> bool:
        """👍/👎 from someone who was told this answer (anyone else's press is ignored)."""
        return await store.feedback(tx, answer_id, chat_id, value)

    def counted(self, noun: str, count: int, lang: str) -> str:
        """"1 answer", "2 answers" ("answer.count.<noun>.one" / ".many")."""
        return self.catalog.texts.get(f"answer.count.{noun}.{'one' if count == 1 else 'many'}",
                                      lang, count=count)

    def states_list(self, lang: str) -> str:
        return ", ".join(self.catalog.texts.get(f"answer.state.{s}", lang) for s in STATES)

    def explain(self, problem: Problem, lang: str) -> str:
        """A problem in plain words."""
        return self.catalog.texts.get(problem.key, lang, limit=problem.limit,
                                      states=self.states_list(lang))


def answerable(scope: Scope, item: ProposalRow | None, ref: str,
               area: Callable[[str], object | None] = lambda code: None) -> ProposalRow | Refused:
    """May a proposal be answered by someone with this answer scope? (`area`: the configured
    area of a code, None for an unknown one.)"""
    if scope.empty:
        return Refused("not_staff")
    if item is not None and not scope.covers(item.district):
        return Refused("forbidden")
    if item is None:  # a ref of another area is out of reach whether it exists or not (no way
        # to learn which refs exist elsewhere)
        code = ref.strip().upper().rpartition("-")[0]
        return Refused("forbidden") if area(code) is not None and not scope.covers(code) \
            else Refused("not_found", ref)
    if item.status != "approved":
        return Refused("wrong_status", item.status)
    return item


def _quote(text: str) -> str:
    """The first words of a proposal, to recognise it."""
    flat = " ".join(text.split())
    if len(flat) <= QUOTE_CHARS:
        return flat
    return flat[:QUOTE_CHARS].rsplit(" ", 1)[0] + "…"

