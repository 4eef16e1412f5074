"""What staff and children were asked to type (bot.staff.prompts) follows the database: a try
of an update's work that is rolled back leaves it as it was, on a real database."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from bot.conversation import engine
from bot.conversation.service import state_to_row
from bot.safeguarding.cases import reply_button
from bot.staff.prompts import Asked, Prompts
from storage import cases as case_store
from storage import children, inbox
from storage.cases import NewCase
from storage.db import TakesTurns
from tests.stores import Target
from tests.test_conversation import queued_texts, service

CHILD, STAFF = 500, 700


@dataclass(frozen=True)
class Reason:
    proposal: int


async def test_a_rolled_back_try_leaves_what_staff_owe_as_committed(target: Target) -> None:
    conversations = await service(target)
    db, outbox = conversations.db, conversations.outbox
    asked = Asked(Reason)
    prompts = Prompts(db, {"staff": asked})
    outbox.settle, outbox.restore = prompts.settle, prompts.restore

    await prompts.enter(STAFF)
    async with outbox.work() as work:  # ✏️ pressed: the reason is owed, committed
        assert work.fresh
        asked[STAFF] = Reason(7)
    await prompts.enter(STAFF)
    assert asked.get(STAFF) == Reason(7)

    with pytest.raises(RuntimeError):  # the typed reason's try fails before its commit
        async with outbox.work():
            assert asked.pop(STAFF) == Reason(7)
            raise RuntimeError("database went away")
    await prompts.enter(STAFF)  # the same text, queued again
    assert asked.get(STAFF) == Reason(7)  # still owed: the text is taken as the reason

    with pytest.raises(RuntimeError):  # a try that asked, rolled back, asked nothing
        async with outbox.work():
            asked[STAFF + 1] = Reason(8)
            await prompts.settle(work.tx)
            raise RuntimeError("disk full")
    await prompts.enter(STAFF + 1)
    assert STAFF + 1 not in asked
    await db.close()


async def test_a_childs_reply_to_a_case_survives_a_run_again_in_turn(target: Target) -> None:
    """↩️ under a staff message, then the text: when the text's first try must run again in
    turn with every writer (PostgreSQL, chats side by side), the second try still takes it for
    the case, not for the conversation."""
    conversations = await service(target)
    db, outbox = conversations.db, conversations.outbox
    prompts = Prompts(db, {"case_reply": conversations.replying})
    outbox.settle, outbox.restore = prompts.settle, prompts.restore
    async with db.transaction() as tx:
        await children.save(tx, state_to_row(CHILD, engine.State(profile={
            "district": "DHA", "age_band": "10-12", "gender": "unsaid", "lang": "vi"},
            profile_queue=())))
        case_id = await case_store.add(tx, NewCase(CHILD, "DHA", "sos", 1))
        for update_id in (1, 2):
            await inbox.store(tx, update_id, {"update_id": update_id})

    tries = []
    replied = conversations.cases.child_replied

    async def first_try_runs_again(*args: object) -> None:
        tries.append(args)
        if len(tries) == 1:
            raise TakesTurns("shared rows")
        await replied(*args)  # type: ignore[arg-type]

    conversations.cases.child_replied = first_try_runs_again  # type: ignore[method-assign]
    for update_id, event in ((1, engine.Press(reply_button(case_id))),
                             (2, engine.Text("Em ở nhà bà ngoại, em ổn ạ"))):
        await prompts.enter(CHILD)
        await outbox.handle(update_id, CHILD, lambda work, event=event: (  # type: ignore[misc]
            conversations.handle(work, CHILD, event)))

    assert len(tries) == 2
    said = await case_store.conversation(db.reader, case_id)
    assert [(child, text) for child, text, _ in said] == [(True, "Em ở nhà bà ngoại, em ổn ạ")]
    sent = conversations.catalog.texts.get("case.reply.sent", "vi")
    assert sent in await queued_texts(db, CHILD)
    assert CHILD not in conversations.replying
    await db.close()
