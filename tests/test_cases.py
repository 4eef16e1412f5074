"""Safeguarding cases on a real SQLite file: alerts, the states, held proposals, escalation,
the child's words purged, messages to the child, rights at every step."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.config import load_config
from bot.conversation.catalog import load_catalog
from bot.safeguarding.cases import Cases, Moved
from bot.staff.moderation import Conflict, Done, Moderation, Refused
from bot.transport.outbox import Outbox
from storage import cases as store
from storage import children, proposals
from storage.cases import NewCase
from storage.children import ChildRow
from storage.db import Database, open_database
from storage.export_rows import RowFilter, rows
from tests.stores import Target
from tests.test_moderation import ADMIN, GUARD, KNOWN, MOD_DHA, MOD_KTM, NOBODY, STAFF
from tests.test_storage import new_proposal

ROOT = Path(__file__).resolve().parents[1]
CHILD = 500


class Clock:
    """Real time plus a shift the test moves."""

    def __init__(self) -> None:
        self.shift = timedelta()

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.shift


@pytest.fixture
async def db(target: Target) -> AsyncIterator[Database]:
    database = await open_database(target)
    yield database
    await database.close()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def cases(db: Database, clock: Clock) -> Cases:
    config = load_config(ROOT / "config.example.toml")
    moderation = Moderation(db, STAFF, KNOWN)
    outbox = Outbox(db, config.pacing, config.timetable.zone)
    return Cases(db, moderation, outbox, load_catalog(config), config, clock)


async def exported(db: Database, *statuses: str) -> list[str]:
    """The refs an export of DHA would carry (approved only, or the statuses given)."""
    selection = RowFilter(districts=("DHA",), statuses=statuses or ("approved",))
    return [row.ref async for row in rows(db.reader, selection)]


async def queued(db: Database) -> list[tuple[int, str, dict[str, object]]]:
    rows = await db.reader.fetchall("SELECT chat_id, kind, payload FROM outbox ORDER BY id")
    return [(int(r[0]), str(r[1]), json.loads(r[2])) for r in rows]


async def open_case(cases: Cases, district: str | None = "DHA", *, proposal: bool = False,
                    text: str = "bố em đánh em") -> tuple[int, int | None]:
    """A tier-2 case from the detector; with `proposal`, the proposal it holds."""
    async with cases.db.transaction() as tx:
        await children.save(tx, ChildRow(CHILD, district, "10-12", "female", "vi", "{}"))
        case_id = await cases.open(tx, NewCase(CHILD, district, "detector", 2, "physical_home",
                                               text, "đánh em"))
        proposal_id = None
        if proposal:
            ref = await proposals.insert(tx, new_proposal(CHILD, 1, district or "DHA"))
            await store.hold(tx, (case_id,), ref)
            proposal_id = await tx.fetchval("SELECT id FROM proposals WHERE ref = ?", (ref,))
    return case_id, proposal_id


async def test_opening_alerts_the_districts_safeguarding_staff_at_once(
        cases: Cases, db: Database) -> None:
    case_id, _ = await open_case(cases)
    alerts = await queued(db)
    assert [(chat, kind) for chat, kind, _ in alerts] == [(GUARD, "alert")]
    payload = alerts[0][2]
    assert f"#{case_id}" in str(payload["text"]) or str(case_id) in str(payload["text"])
    assert "bố em đánh em" not in str(payload["text"])  # the words stay in the case, not in chats
    audit = await db.reader.fetchall("SELECT action, item_id FROM audit_log")
    assert ("case_open", case_id) in [(r[0], r[1]) for r in audit]


async def test_a_district_without_safeguarding_staff_alerts_the_admins(
        cases: Cases, db: Database) -> None:
    await open_case(cases, "KTM")
    assert [chat for chat, _, _ in await queued(db)] == [ADMIN]
    # ... and so does the child's erasure of everything while the case is open
    async with db.transaction() as tx:
        await cases.child_erased(tx, await children.erase(tx, CHILD))
    assert [chat for chat, _, _ in await queued(db)] == [ADMIN, ADMIN]


async def test_the_states_in_order_with_versions_and_audit(cases: Cases, db: Database) -> None:
    case_id, _ = await open_case(cases)
    acknowledged = await cases.acknowledge(GUARD, case_id, 0)
    assert acknowledged == Moved(case_id, "acknowledged", 1)
    stale = await cases.acknowledge(GUARD, case_id, 0)  # an old button
    assert isinstance(stale, Conflict) and stale.by_user_id == GUARD
    assert isinstance(await cases.refer(GUARD, case_id, 1, "hotline", "  "), Refused)
    assert isinstance(await cases.refer(GUARD, case_id, 1, "fbi", "note"), Refused)
    referred = await cases.refer(GUARD, case_id, 1, "commune", "Called the commune worker")
    assert referred == Moved(case_id, "referred", 2)
    again = await cases.acknowledge(GUARD, case_id, 2)
    assert isinstance(again, Refused) and again.reason == "wrong_status"
    closed = await cases.close(GUARD, case_id, 2, "handled", "Family visited; safe now")
    assert closed == Moved(case_id, "closed", 3)
    row = await cases.get(GUARD, case_id)
    assert not isinstance(row, Refused)
    assert (row.state, row.referred_to, row.outcome, row.closed_by) == (
        "closed", "commune", "handled", GUARD)
    actions = [r[0] for r in await db.reader.fetchall(
        "SELECT action FROM audit_log WHERE item_type = 'case' ORDER BY id")]
    assert actions == ["case_open", "case_acknowledged", "case_referred", "case_closed"]


async def test_rights_are_checked_on_every_call(cases: Cases) -> None:
    case_id, _ = await open_case(cases)
    for call in (cases.get(MOD_DHA, case_id), cases.acknowledge(MOD_DHA, case_id, 0),
                 cases.message(MOD_DHA, case_id, "hello")):
        result = await call
        assert isinstance(result, Refused) and result.reason == "forbidden"
    result = await cases.list_open(NOBODY)
    assert isinstance(result, Refused) and result.reason == "not_staff"
    other, _ = await open_case(cases, "KTM")
    outside = await cases.get(GUARD, other)  # safeguarding for DHA only
    assert isinstance(outside, Refused) and outside.reason == "forbidden"
    assert not isinstance(await cases.get(ADMIN, other), Refused)  # the province
    listing = await cases.list_open(GUARD)
    assert not isinstance(listing, Refused)
    assert [c.id for c in listing[0]] == [case_id] and listing[1] == 1
    missing = await cases.get(GUARD, 999)
    assert isinstance(missing, Refused) and missing.reason == "not_found"


async def test_a_held_proposal_is_never_approved_nor_exported(cases: Cases, db: Database) -> None:
    case_id, proposal_id = await open_case(cases, proposal=True)
    assert proposal_id is not None
    refused = await cases.moderation.approve(MOD_DHA, proposal_id, 0)
    assert isinstance(refused, Refused) and refused.reason == "held"
    assert await exported(db, "approved", "pending") == []
    moved = await cases.close(GUARD, case_id, 0, "cleared", "A proposal about the village")
    assert isinstance(moved, Moved)
    assert isinstance(await cases.moderation.approve(MOD_DHA, proposal_id, 0), Done)
    assert len(await exported(db)) == 1


async def test_handled_keeps_the_proposal_out_of_the_forum(cases: Cases, db: Database) -> None:
    case_id, proposal_id = await open_case(cases, proposal=True)
    await cases.close(GUARD, case_id, 0, "handled", "Referred to 111 by phone")
    status, held = await db.reader.fetchone(
        "SELECT status, held_by_case FROM proposals WHERE id = ?", (proposal_id,)) or (None, None)
    assert (status, held) == ("safeguarding", None)
    refused = await cases.moderation.approve(MOD_DHA, proposal_id, 1)
    assert isinstance(refused, Refused)
    assert await exported(db, "approved", "pending") == []


async def test_a_proposal_two_cases_are_about_waits_for_both(cases: Cases, db: Database) -> None:
    """A kept flagged answer (the detector's case), then "yes, it is happening" (the review's):
    the proposal waits until both are closed, and either one closed as handled keeps it out."""
    async def two_cases() -> tuple[int, int, int]:
        async with cases.db.transaction() as tx:
            await children.save(tx, ChildRow(CHILD, "DHA", "10-12", "female", "vi", "{}"))
            first = await cases.open(tx, NewCase(CHILD, "DHA", "detector", 1, "physical_home",
                                                 "bố đánh em", "đánh em"))
            second = await cases.open(tx, NewCase(CHILD, "DHA", "review", 1, text="bố đánh em"))
            ref = await proposals.insert(tx, new_proposal(CHILD, first, "DHA"))
            await store.hold(tx, (first, second), ref)
            proposal = await tx.fetchval("SELECT id FROM proposals WHERE ref = ?", (ref,))
        return first, second, proposal

    async def standing(proposal: int) -> tuple[object, ...]:
        return await db.reader.fetchone(
            "SELECT status, held_by_case FROM proposals WHERE id = ?", (proposal,)) or ()

    first, second, proposal = await two_cases()
    assert await standing(proposal) == ("pending", first)
    await cases.close(GUARD, second, 0, "cleared", "Checked: no concern")
    assert await standing(proposal) == ("pending", first)  # still waits for the first
    await cases.close(GUARD, first, 0, "cleared", "Checked: no concern")
    assert await standing(proposal) == ("pending", None)  # on to moderation
    first, second, proposal = await two_cases()
    await cases.close(GUARD, first, 0, "cleared", "Checked: no concern")
    assert await standing(proposal) == ("pending", second)
    await cases.close(GUARD, second, 0, "handled", "Referred")
    assert await standing(proposal) == ("safeguarding", None)


async def test_a_proposal_a_moderator_flagged_goes_back_to_moderation_once_cleared(
        cases: Cases, db: Database) -> None:
    """🛡 takes a proposal out of moderation and exports; cleared, a moderator decides it again;
    handled, it stays out."""
    async def flagged(update_id: int) -> tuple[int, int]:
        async with cases.db.transaction() as tx:
            await children.save(tx, ChildRow(CHILD, "DHA", "10-12", "female", "vi", "{}"))
            ref = await proposals.insert(tx, new_proposal(CHILD, update_id, "DHA"))
            proposal = int(await tx.fetchval("SELECT id FROM proposals WHERE ref = ?", (ref,)))
        assert isinstance(await cases.moderation.flag_safeguarding(MOD_DHA, proposal, 0), Done)
        async with cases.db.transaction() as tx:
            case = await cases.open(tx, NewCase(CHILD, "DHA", "moderator", 2, text="…",
                                                proposal_id=proposal))
        return proposal, case

    async def status(proposal: int) -> object:
        return await db.reader.fetchval("SELECT status FROM proposals WHERE id = ?", (proposal,))

    proposal, case = await flagged(1)
    assert await status(proposal) == "safeguarding"
    assert (proposal,) not in await queued_proposals(db)
    await cases.close(GUARD, case, 0, "cleared", "An ordinary proposal about a stream")
    assert await status(proposal) == "pending"
    assert (proposal,) in await queued_proposals(db)
    version = await db.reader.fetchval("SELECT version FROM proposals WHERE id = ?", (proposal,))
    assert isinstance(await cases.moderation.approve(MOD_DHA, proposal, version), Done)
    assert len(await exported(db, "approved")) == 1
    proposal, case = await flagged(2)
    await cases.close(GUARD, case, 0, "handled", "Referred")
    assert await status(proposal) == "safeguarding"


async def queued_proposals(db: Database) -> list[tuple[object, ...]]:
    """The proposals /queue may show (pending, held by no case)."""
    return await db.reader.fetchall(
        "SELECT id FROM proposals WHERE status = 'pending' AND held_by_case IS NULL")


def test_a_draft_saved_with_one_case_reads_back_with_it() -> None:
    from bot.conversation.service import row_to_state

    saved = ('{"profile_queue": [], "answers": {}, "topic": "violence", "step": "seen",'
             ' "case": 7}')
    assert row_to_state(ChildRow(CHILD, "DHA", None, None, "vi", saved)).cases == (7,)


async def test_unacknowledged_cases_go_to_the_admins_once(
        cases: Cases, db: Database, clock: Clock) -> None:
    late, _ = await open_case(cases)
    taken, _ = await open_case(cases)
    await cases.acknowledge(GUARD, taken, 0)
    assert await cases.escalate(30) == 0  # not late yet
    clock.shift = timedelta(minutes=31)
    assert await cases.escalate(30) == 1
    assert await cases.escalate(30) == 0  # once
    alerts = [(chat, payload["text"]) for chat, _, payload in await queued(db)]
    assert alerts[-1][0] == ADMIN and str(late) in str(alerts[-1][1])
    assert len(alerts) == 3  # two openings, one escalation


async def test_staff_write_to_the_child_from_the_case_only(cases: Cases, db: Database) -> None:
    case_id, _ = await open_case(cases)
    message_id = await cases.message(GUARD, case_id, "Chào em, <cô> ở đây nếu em cần.")
    assert isinstance(message_id, int)
    to_child = [(chat, kind, payload) for chat, kind, payload in await queued(db)
                if chat == CHILD]
    assert len(to_child) == 1 and to_child[0][1] == "alert"
    assert "&lt;cô&gt;" in str(to_child[0][2]["text"])  # escaped for HTML
    # ↩️ to answer, and 🆘 as on every screen a child sees (a Zalo tester found none here)
    labels = [str(button[0]) for row in to_child[0][2]["keyboard"]  # type: ignore[attr-defined]
              for button in row]
    assert any(label.startswith("↩️") for label in labels), labels
    assert any(label.startswith("🆘") for label in labels), labels
    assert await store.conversation(db.reader, case_id) != []
    empty = await cases.message(GUARD, case_id, "   ")
    assert isinstance(empty, Refused)


async def test_the_purge_takes_the_words_of_a_proposal_kept_out_for_good(
        cases: Cases, db: Database, clock: Clock) -> None:
    """A proposal a case closed as handled kept out of the forum holds the child's disclosure:
    it goes with the case's words, and the link to the chat with it."""
    handled, kept_out = await open_case(cases, proposal=True)
    await cases.close(GUARD, handled, 0, "handled", "Referred to 111 by phone")
    clock.shift = timedelta(days=31)
    await cases.purge(30)
    words = "SELECT seen, proposal, message, chat_id, status FROM proposals WHERE id = ?"
    assert await db.reader.fetchone(words, (kept_out,)) == ("", "", "", None, "safeguarding")


async def test_words_go_after_closing_and_on_erasure_once_worked(
        cases: Cases, db: Database, clock: Clock) -> None:
    closed, _ = await open_case(cases, text="chú hàng xóm hay sờ em")
    still_open, _ = await open_case(cases, text="em bị đánh")
    await cases.message(GUARD, closed, "Cô sẽ gọi cho em")
    await cases.close(GUARD, closed, 0, "handled", "done")
    assert await cases.purge(30) == 0
    clock.shift = timedelta(days=31)
    assert await cases.purge(30) == 1
    row = await store.get(db.reader, closed)
    assert row is not None and (row.text, row.weighed, row.state) == ("", "", "closed")
    assert [text for _, text, _ in await store.conversation(db.reader, closed)] == [""]
    kept = await store.get(db.reader, still_open)
    assert kept is not None and kept.text == "em bị đánh"
    async with db.transaction() as tx:
        await children.erase(tx, CHILD)
    erased = await store.get(db.reader, still_open)  # nobody worked it yet: words kept
    assert erased is not None and (erased.chat_id, erased.text) == (None, "em bị đánh")
    gone = await cases.message(GUARD, still_open, "hello")
    assert isinstance(gone, Refused) and gone.reason == "erased"
    assert MOD_KTM not in {chat for chat, _, _ in await queued(db)}


async def test_the_staffs_notes_and_the_chat_go_with_the_words(
        cases: Cases, db: Database, clock: Clock) -> None:
    """A referral's note says whom staff contacted about whom ("bà Hiên 0977 222 333, về em
    Bình"): the purge takes the notes and the case's chat with the child's words, and a child's
    erasure takes them from their closed cases; the record (where, the outcome) stays. A privacy
    probe found both notes kept after /delete, the purge and retention."""
    purged, _ = await open_case(cases)
    erased, _ = await open_case(cases)
    for case_id in (purged, erased):
        await cases.refer(GUARD, case_id, 0, "commune", "Gọi bà Hiên 0977 222 333, về em Bình")
        await cases.close(GUARD, case_id, 1, "handled", "Em Bình ở với bà ngoại")
    row = "SELECT chat_id, referral_note, close_note, referred_to, outcome FROM cases WHERE id = ?"
    clock.shift = timedelta(days=31)
    async with db.transaction() as tx:  # the second case's closing is recent: kept by the purge
        await tx.execute("UPDATE cases SET closed_at = ? WHERE id = ?",
                         (clock().isoformat(timespec="seconds"), erased))
    assert await cases.purge(30) == 1
    assert await db.reader.fetchone(row, (purged,)) == (None, None, None, "commune", "handled")
    assert (await db.reader.fetchone(row, (erased,)))[1] is not None
    async with db.transaction() as tx:
        await children.erase(tx, CHILD)
    assert await db.reader.fetchone(row, (erased,)) == (None, None, None, "commune", "handled")


async def test_the_list_shows_untaken_and_urgent_cases_first(cases: Cases, db: Database) -> None:
    """Twelve open cases, ten listed: those nobody took, tier 1 first, then the oldest; one
    already taken comes after them (it was listed first as the oldest, and a tier-1 case
    opened last was out of sight)."""
    opened = [(await open_case(cases, text=f"bố em đánh em {n}"))[0] for n in range(12)]
    async with db.transaction() as tx:
        await tx.execute("UPDATE cases SET tier = 1 WHERE id = ?", (opened[-1],))
        await tx.execute("UPDATE cases SET state = 'acknowledged' WHERE id = ?", (opened[0],))
    found = await cases.list_open(GUARD, 10)
    assert not isinstance(found, Refused)
    rows, total = found
    assert total == 12 and [case.id for case in rows] == [opened[-1], *opened[1:10]]


async def test_a_note_or_a_message_needs_words(cases: Cases, db: Database) -> None:
    """"2" typed where a closing note was asked (a menu's number, on Zalo) closed a case in a
    tester's run: a note without a letter is refused and asked again, as a message to the
    child is."""
    case_id, _ = await open_case(cases)
    for step in (cases.close(GUARD, case_id, 0, "handled", "2"),
                 cases.refer(GUARD, case_id, 0, "commune", " 2. "),
                 cases.message(GUARD, case_id, "!!")):
        refused = await step
        assert isinstance(refused, Refused) and refused.reason == "words"
    row = await store.get(db.reader, case_id)
    assert row is not None and row.state == "new"
    assert isinstance(await cases.close(GUARD, case_id, 0, "handled", "Đã gọi 111 cho em"),
                      Moved)


async def test_an_old_button_names_who_acted_not_who_read(cases: Cases, db: Database) -> None:
    """The one who took the case is named to a colleague pressing an old ✋, even if someone
    opened it to read since; a version nobody acted on (a forged button) names no one (a tester
    read "user ? did this first")."""
    case_id, _ = await open_case(cases)
    await cases.acknowledge(GUARD, case_id, 0)
    await cases.view(ADMIN, case_id)
    stale = await cases.acknowledge(ADMIN, case_id, 0)
    assert isinstance(stale, Conflict) and stale.by_user_id == GUARD
    untouched, _ = await open_case(cases)
    assert await cases.acknowledge(GUARD, untouched, 7) == Conflict(None, "changed", None)
