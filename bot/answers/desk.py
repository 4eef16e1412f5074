"""The officer's side of the answer loop in chat, for any channel with buttons.

    /answer REF   a card with the proposal and its answer; buttons choose the result and how it
                  was answered, typed text fills the rest. The draft is saved at every change
                  (bot.answers.service.record, at the revision the card showed: if another
                  officer changed it meanwhile, the officer is told and sees it fresh).
                  Publish sends it to the child.
    /answers      the answers workbook of the officer's districts for the forum year.
    /publish      the drafts of a district (and, where they span several, of one topic),
                  counted, then published on Confirm ("/publish DHA" goes straight to a
                  district's count); "/publish REF REF…" publishes those.
    a .xlsx file  a filled-in workbook: the dry run's summary, then Confirm applies it.

Callback data: "n|<proposal id>|<revision>|<action>" on a card (revision "-" before the first
save), "p|<district or *>|<topic or *>|<go>" for /publish, "i|<import id>|<go>" for a workbook.
Kept in memory: the field an officer is typing (lost on a restart: they press it again); the
answer of a card before its first save (they choose the result again).
"""

from __future__ import annotations

import hashlib
import html
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from datetime import datetime

from bot.answers.imports import AnswerSheets, Plan
from bot.answers.service import NO_ANSWER, Answers, Invalid, PublishResult, Stale
from bot.answers.sheet import Reading
from bot.answers.states import HOWS, STATES, shown_date, usual_how
from bot.config import Config
from bot.conversation.catalog import Catalog
from bot.messages import Button, Keyboard
from bot.staff.chat import Caller, cut, fit, when
from bot.staff.moderation import Refused, worded
from bot.staff.words import Words
from bot.textnorm import small_int
from bot.transport.outbox import Message
from storage import answers as store
from storage import audit as audit_log
from storage.answers import AnswerFields
from storage.db import Tx
from storage.moderation import ProposalRow, get

TYPED = ("text_vi", "text_en", "agency", "partners", "due", "doc_number", "doc_date", "reason",
         "solution")
CLEAR = "-"  # typed to empty an optional field
WORKBOOK = "tra-loi-kien-nghi-{suffix}.xlsx"
# Fields that are words a child or a colleague reads (not a number, a date, a code).
WORDED = ("text_vi", "text_en", "agency", "partners", "reason", "solution")


@dataclass(frozen=True)
class Typing:
    """A field an officer was asked to type, for the card of proposal `proposal_id`."""

    ref: str
    field: str
    revision: int | None
    answer: AnswerFields  # what the card showed (for a first answer: not saved yet)


class AnswerDesk:
    def __init__(self, answers: Answers, sheets: AnswerSheets, catalog: Catalog,
                 config: Config) -> None:
        self.answers, self.sheets, self.catalog, self.config = answers, sheets, catalog, config
        self.words = Words(catalog, config)
        self.typing: dict[int, Typing] = {}
        self.unsaved: dict[tuple[int, str], AnswerFields] = {}  # (user, ref): chosen, not saved

    # --- entry points ----------------------------------------------------------------------

    async def may_answer(self, user_id: int) -> bool:
        return not (await self.answers.scope(user_id)).empty

    def dump(self, user_id: int) -> object | None:
        """What the officer owes and has chosen unsaved (bot.staff.prompts)."""
        typing = self.typing.get(user_id)
        unsaved = {ref: asdict(answer) for (user, ref), answer in self.unsaved.items()
                   if user == user_id}
        if typing is None and not unsaved:
            return None
        return {"typing": asdict(typing) if typing else None, "unsaved": unsaved}

    def load(self, user_id: int, data: object | None) -> None:
        self.typing.pop(user_id, None)
        for key in [key for key in self.unsaved if key[0] == user_id]:
            del self.unsaved[key]
        if not isinstance(data, dict):
            return
        if isinstance(typing := data.get("typing"), dict):
            self.typing[user_id] = Typing(**{**typing, "answer": AnswerFields(
                **typing["answer"])})
        for ref, answer in (data.get("unsaved") or {}).items():
            self.unsaved[(user_id, ref)] = AnswerFields(**answer)

    def owes_text(self, user_id: int) -> bool:
        return user_id in self.typing

    async def command(self, caller: Caller, name: str, args: list[str]) -> None:
        self.typing.pop(caller.user_id, None)
        if name == "answer":
            if len(args) != 1:
                self.say(caller, "answer.desk.usage")
            else:
                await self._card(caller, args[0].upper())
        elif name == "answers":
            await self._workbook(caller)
        elif len(args) == 1 and self.config.area(args[0].upper()) is not None:
            await self._publish_area(caller, args[0].upper())
        elif args:
            await self._publish_refs(caller, args)
        else:
            await self._publish_menu(caller)

    async def read_pressed(self, user_id: int, data: str) -> Reading | None:
        """Before the press's transaction: the workbook a Confirm ("i|<id>|go") applies, read
        (seconds for a big one) while no write lock is held; None for any other press."""
        parts = data.split("|")
        if parts[0] != "i" or len(parts) != 3 or parts[2] != "go":
            return None
        import_id = small_int(parts[1])
        found = (await store.import_body(self.answers.db.reader, import_id, user_id)
                 if import_id is not None else None)
        return await self.sheets.read(found[1]) if found is not None else None

    async def press(self, caller: Caller, data: str, message_id: int | None,
                    reading: Reading | None = None) -> None:
        """A button; `reading`: what `read_pressed` read for it."""
        self.typing.pop(caller.user_id, None)
        parts = data.split("|")
        if parts[0] == "n" and len(parts) == 4:
            await self._card_press(caller, parts[1], parts[2], parts[3], message_id)
        elif parts[0] == "p" and len(parts) == 4:
            await self._publish_press(caller, parts[1], parts[2], parts[3], message_id)
        elif parts[0] == "i" and len(parts) == 3:
            await self._import_press(caller, parts[1], parts[2] == "go", message_id, reading)
        else:
            self.say(caller, "answer.desk.unknown_button")

    async def typed(self, caller: Caller, text: str) -> None:
        typing = self.typing.pop(caller.user_id, None)
        if typing is None:
            return
        value = "" if text.strip() == CLEAR else text.strip()
        if value and typing.field in WORDED and not worded(value):  # "1": a menu's number
            self.typing[caller.user_id] = typing  # typed where words were asked (a tester's)
            self.say(caller, "answer.desk.words")
            return
        if typing.field == "doc_date":
            parsed = _date(value) if value else None
            if value and parsed is None:
                self.typing[caller.user_id] = typing
                self.say(caller, "answer.desk.not_a_date")
                return
            answer = replace(typing.answer, doc_date=parsed)
        else:
            answer = replace(typing.answer, **{typing.field: value})
        await self._save(caller, typing.ref, answer, typing.revision)

    async def check(self, user_id: int, data: bytes) -> Plan:
        """A workbook sent in chat, read and checked (the dry run): before the update's
        transaction, since a big one takes seconds and takes no write lock."""
        return await self.sheets.run(user_id, data, apply=False)

    async def workbook(self, caller: Caller, filename: str, data: bytes, plan: Plan) -> None:
        """A workbook sent in chat and checked (`check`): kept, the dry run said, Confirm
        offered."""
        async with self.answers.db.transaction() as tx:
            import_id = await store.add_import(tx, caller.user_id, filename, data)
        text = self._plan_text(caller, plan, dry_run=True)
        keyboard: Keyboard = ()
        if not plan.problems and (plan.new or plan.changed):
            keyboard = ((Button(self._text(caller, "answer.desk.import_go"),
                                f"i|{import_id}|go"),
                         Button(self._text(caller, "answer.desk.cancel"), f"i|{import_id}|no")),)
        caller.send(text, keyboard)

    # --- one answer ------------------------------------------------------------------------

    async def _card(self, caller: Caller, ref: str, note: str = "") -> None:
        async with self.answers.db.transaction() as tx:
            item = await self.answers.proposal(tx, caller.user_id, ref)
            latest = None if isinstance(item, Refused) else await store.latest(tx, item.id)
        if isinstance(item, Refused):
            self._refused(caller, item, ref)
            return
        answer = latest.answer if latest else self.unsaved.get((caller.user_id, ref))
        revision = latest.revision if latest else None
        text = self._card_text(caller, item, answer, latest)
        caller.send(f"{note}\n\n{text}" if note else text,
                   self._card_keyboard(caller, item, answer, revision, latest))

    def _card_text(self, caller: Caller, item: ProposalRow, answer: AnswerFields | None,
                   latest: store.AnswerRow | None) -> str:
        lang = caller.lang
        flow = self.catalog.topic(item.topic)
        district = self.config.area(item.district)
        head = self._text(caller, "answer.desk.head", ref=html.escape(item.ref),
                          topic=html.escape(flow.title[lang] if flow else item.topic),
                          district=html.escape(district.label(lang) if district
                                               else item.district), year=item.forum_year)
        lines = [head, f"<i>{html.escape(cut(item.proposal or item.seen, 700))}</i>", ""]
        if answer is None:
            lines.append(self._text(caller, "answer.desk.none"))
            return "\n".join(lines)
        status = ("answer.desk.draft" if latest is None or latest.draft
                  else "answer.desk.published")
        lines.append(self._text(caller, status, when=when(latest.published_at if latest and
                                                           not latest.draft else None)))
        lines.append(self._text(caller, "answer.desk.field.state", value=self._label(
            caller, f"answer.state.{answer.state}")))
        for name in (*TYPED, "how"):
            value = getattr(answer, name)
            if name == "how":
                value = self._label(caller, f"answer.how.{value}")
            elif name in ("due", "doc_date") and value:
                value = shown_date(value)
            if value:
                lines.append(self._text(caller, f"answer.desk.field.{name}",
                                        value=html.escape(cut(str(value), 600))))
        return fit(lines)[0]

    def _card_keyboard(self, caller: Caller, item: ProposalRow, answer: AnswerFields | None,
                       revision: int | None, latest: store.AnswerRow | None) -> Keyboard:
        def data(action: str) -> str:
            return f"n|{item.id}|{'-' if revision is None else revision}|{action}"

        def button(key: str, action: str, **values: object) -> Button:
            return Button(self._text(caller, key, **values), data(action))

        states = [button(f"answer.state.{s}", f"state:{s}") for s in STATES
                  if answer is None or answer.state != s]
        rows: list[tuple[Button, ...]] = [tuple(states[i:i + 2]) for i in range(0, len(states),
                                                                              2)]
        if answer is None:
            return tuple(rows)
        fields = [button(f"answer.desk.edit.{name}", f"field:{name}") for name in TYPED
                  if name not in ("reason", "solution") or answer.state == "not_yet"]
        rows += [tuple(fields[i:i + 3]) for i in range(0, len(fields), 3)]
        other = "forum" if answer.how == "document" else "document"
        rows.append((button("answer.desk.how", f"how:{other}",
                            how=self._label(caller, f"answer.how.{other}")),))
        if latest is not None and latest.draft:
            rows.append((button("answer.desk.publish", "publish"),))
        return tuple(rows)

    async def _card_press(self, caller: Caller, proposal: str, revision_text: str,
                          action: str, message_id: int | None) -> None:
        proposal_id = small_int(proposal)
        revision = None if revision_text == "-" else small_int(revision_text)
        async with self.answers.db.transaction() as tx:
            found = await self._by_id(tx, proposal_id)
            # The caller's rights on it, at every press (a forged or an old card's button).
            item = await self.answers.proposal(tx, caller.user_id, found.ref) if found else None
            latest = await store.latest(tx, found.id) if found else None
        if found is None or item is None or (revision is None and revision_text != "-"):
            self.say(caller, "answer.desk.unknown_button")
            return
        ref = found.ref
        if isinstance(item, Refused):
            self._refused(caller, item, ref)
            return
        current = latest.answer if latest else self.unsaved.get((caller.user_id, ref))
        if (latest is not None and revision != latest.revision) or (
                latest is None and revision is not None):
            await self._card(caller, ref, self._stale(caller, latest))
            return
        kind, _, value = action.partition(":")
        if kind == "state" and value in STATES:
            await self._choose_state(caller, ref, current, value, revision)
        elif kind == "how" and value in HOWS and current is not None:
            await self._save(caller, ref, replace(current, how=value), revision)
        elif kind == "field" and value in TYPED and current is not None:
            self.typing[caller.user_id] = Typing(ref, value, revision, current)
            key = "answer.desk.type_optional" if value not in ("text_vi",) else "answer.desk.type"
            self.say(caller, key, field=self._text(caller, f"answer.desk.edit.{value}"),
                      clear=CLEAR)
        elif kind == "publish" and latest is not None:
            await self._publish_one(caller, ref)
        else:
            self.say(caller, "answer.desk.unknown_button")

    async def _choose_state(self, caller: Caller, ref: str, current: AnswerFields | None,
                            state: str, revision: int | None) -> None:
        if current is None or not current.text_vi:  # a first answer: its text comes next
            chosen = (replace(current, state=state) if current
                      else AnswerFields(state, how=usual_how(state)))
            self.unsaved[(caller.user_id, ref)] = chosen
            self.typing[caller.user_id] = Typing(ref, "text_vi", None, chosen)
            self.say(caller, "answer.desk.type", field=self._text(caller,
                                                                    "answer.desk.edit.text_vi"),
                      clear=CLEAR)
            return
        await self._save(caller, ref, replace(current, state=state), revision)

    async def _save(self, caller: Caller, ref: str, answer: AnswerFields,
                    revision: int | None) -> None:
        result = await self.answers.record(caller.user_id, ref, answer,
                                           NO_ANSWER if revision is None else revision)
        if isinstance(result, Refused):
            self._refused(caller, result, ref)
        elif isinstance(result, Stale):
            await self._card(caller, ref, self._text(caller, "answer.desk.stale",
                                                     who=result.by_user_id,
                                                     when=when(result.at)))
        elif isinstance(result, Invalid):
            problem = result.problems[0]
            self.unsaved[(caller.user_id, ref)] = answer
            self.typing[caller.user_id] = Typing(ref, problem.field if problem.field in TYPED
                                                 else "text_vi", revision, answer)
            self.say(caller, "answer.desk.invalid", problem=self.answers.explain(
                problem, caller.lang), field=self._text(
                caller, f"answer.desk.edit.{self.typing[caller.user_id].field}"))
        else:
            self.unsaved.pop((caller.user_id, ref), None)
            await self._card(caller, ref, self._text(caller, "answer.desk.saved"
                                                     if result.changed else "answer.desk.same"))

    async def _publish_one(self, caller: Caller, ref: str) -> None:
        result = await self.answers.publish(caller.user_id, refs=[ref])
        if isinstance(result, Refused):
            self._refused(caller, result, ref)
            return
        self.say(caller, "answer.desk.published_one" if result.published
                  else "answer.desk.nothing_to_publish", ref=html.escape(ref), told=result.told)

    @staticmethod
    async def _by_id(tx: Tx, proposal_id: int | None) -> ProposalRow | None:
        return await get(tx, proposal_id) if proposal_id is not None else None

    def _stale(self, caller: Caller, latest: store.AnswerRow | None) -> str:
        if latest is None:
            return self._text(caller, "answer.desk.old_card")
        return self._text(caller, "answer.desk.stale", who=latest.published_by or
                          latest.answered_by, when=when(latest.published_at or
                                                        latest.answered_at))

    # --- publishing many ---------------------------------------------------------------------

    async def _publish_menu(self, caller: Caller) -> None:
        scope = await self.answers.scope(caller.user_id)
        async with self.answers.db.transaction() as tx:
            drafts = await store.drafts(tx, scope.districts)
        if not drafts:
            self.say(caller, "answer.desk.nothing_drafted")
            return
        counts: dict[str, int] = {}
        for draft in drafts:
            counts[draft.district] = counts.get(draft.district, 0) + 1
        buttons = [Button(f"{self.words.district(code, caller.lang)} ({count})", f"p|{code}|*|ask")
                   for code, count in counts.items()]
        if len(counts) > 1:
            buttons.append(Button(self._text(caller, "answer.desk.all", count=len(drafts)),
                                  "p|*|*|ask"))
        caller.send(self._text(caller, "answer.desk.publish_which"),
                   tuple((b,) for b in buttons))

    async def _publish_area(self, caller: Caller, code: str) -> None:
        """/publish DHA: that area's count to confirm, or why not (typed, not a button)."""
        if not (await self.answers.scope(caller.user_id)).covers(code):
            self.say(caller, "answer.desk.area_forbidden", area=html.escape(
                self.words.district(code, caller.lang)))
            return
        await self._publish_press(caller, code, "*", "ask", None)

    async def _publish_press(self, caller: Caller, district: str, topic: str, step: str,
                             message_id: int | None) -> None:
        """"ask": the drafts' count to confirm, on a button that names exactly those drafts;
        "go.<drafts>": publish them, or, if the drafts changed since (a colleague saved one,
        an old button), their count to confirm again: never more than the officer saw."""
        scope = await self.answers.scope(caller.user_id)
        code = None if district == "*" else district
        if scope.empty or (code is not None and (self.config.area(code) is None
                                                 or not scope.covers(code))):
            self.say(caller, "answer.desk.unknown_button")
            return
        subject = None if topic == "*" else topic
        async with self.answers.db.transaction() as tx:
            drafts = await store.drafts(tx, {code} if code else scope.districts, subject)
        confirmed = step == f"go.{_drafts_key(drafts)}"
        if not confirmed:
            if not drafts:
                self.say(caller, "answer.desk.nothing_drafted")
                return
            if step.startswith("go"):
                self.say(caller, "answer.desk.publish_changed")
            where = self.words.district(code, caller.lang) if code else self._text(caller,
                                                                        "answer.desk.yours")
            if subject is not None:
                where += f" · {self.words.topic(subject, caller.lang, short=True)}"
            counted = self.answers.counted("answers", len(drafts), caller.lang)
            buttons = [Button(self._text(caller, "answer.desk.publish_go", answers=counted),
                              f"p|{district}|{topic}|go.{_drafts_key(drafts)}")]
            by_topic = Counter(draft.topic for draft in drafts)
            if subject is None and len(by_topic) > 1:  # or one topic only
                buttons += [Button(self._text(caller, "answer.desk.publish_topic", count=count,
                                              topic=self.words.topic(one, caller.lang, True)),
                                   f"p|{district}|{one}|ask")
                            for one, count in sorted(by_topic.items(), key=self._topic_order)]
            caller.send(self._text(caller, "answer.desk.publish_confirm", answers=counted,
                                   where=html.escape(where)),
                       tuple((b,) for b in buttons))
            return
        result = await self.answers.publish(caller.user_id, code, subject,
                                            only={draft.answer.id for draft in drafts})
        if isinstance(result, Refused):
            self._refused(caller, result, "")
            return
        if message_id is not None:
            caller.work.add(Message(caller.chat_id, op="keyboard", message_id=message_id,
                                    channel=caller.channel))
        if result.published:
            self._published(caller, result)
        else:
            self.say(caller, "answer.desk.nothing_drafted")

    async def _publish_refs(self, caller: Caller, refs: list[str]) -> None:
        """/publish REF REF…: those drafts, at once (typing the refs is the confirmation)."""
        result = await self.answers.publish(caller.user_id, refs=refs)
        if isinstance(result, Refused):
            self._refused(caller, result, "")
            return
        left = result.left(refs)
        if result.published:
            self._published(caller, result)
        if left:  # a mistyped ref, or one published already: said, not passed over
            self.say(caller, "answer.desk.nothing_to_publish", count=0, told=0,
                     ref=html.escape(" ".join(left)))

    def _published(self, caller: Caller, result: PublishResult) -> None:
        self.say(caller, "answer.desk.published_many",
                 answers=self.answers.counted("answers", result.published, caller.lang),
                 people=self.answers.counted("people", result.told, caller.lang),
                 quiet=self._quiet(caller))

    def _topic_order(self, item: tuple[str, int]) -> int:
        order = [flow.id for flow in self.catalog.topics]
        return order.index(item[0]) if item[0] in order else len(order)

    # --- the workbook ------------------------------------------------------------------------

    async def _workbook(self, caller: Caller) -> None:
        """The workbook of the caller's areas, sent in chat; it holds the children's words, so
        it is in the audit log as an export is (one line per area; all areas: one line)."""
        year = self.config.forum_year
        data = await self.sheets.template(caller.user_id, None, year)
        filename = WORKBOOK.format(suffix=year)
        caller.work.add(Message(caller.chat_id, self._text(caller, "answer.desk.workbook"),
                                op="document", body=data, channel=caller.channel,
                                filename=filename))
        scope = await self.answers.scope_in(caller.work.tx, caller.user_id)
        for district in sorted(scope.districts) if scope.districts is not None else [None]:
            await audit_log.append(caller.work.tx, caller.user_id, "answers_workbook", "export",
                                   None, district, {"file": filename, "year": year})

    async def _import_press(self, caller: Caller, number: str, go: bool,
                            message_id: int | None, reading: Reading | None) -> None:
        import_id = small_int(number)
        async with self.answers.db.transaction() as tx:
            found = (await store.import_body(tx, import_id, caller.user_id)
                     if import_id is not None else None)
        if found is None or import_id is None:
            self.say(caller, "answer.desk.import_done_before")
            return
        if message_id is not None:
            caller.work.add(Message(caller.chat_id, op="keyboard", message_id=message_id,
                                    channel=caller.channel))
        if not go:
            async with self.answers.db.transaction() as tx:
                await store.finish_import(tx, import_id, caller.user_id)
            self.say(caller, "answer.desk.import_cancelled")
            return
        # Read before the transaction (`read_pressed`; an import's body never changes), then
        # resolved and applied in it.
        plan = await self.sheets.run(caller.user_id, found[1], apply=True, reading=reading)
        if plan.applied:
            async with self.answers.db.transaction() as tx:
                await store.finish_import(tx, import_id, caller.user_id)
        caller.send(self._plan_text(caller, plan, dry_run=False))

    def _plan_text(self, caller: Caller, plan: Plan, dry_run: bool) -> str:
        if plan.problems:
            head = self._text(caller, "answer.desk.import_problems", count=len(plan.problems))
            lines = [head, *(f"• {html.escape(self.sheets.describe(p, caller.lang))}"
                             for p in plan.problems)]
            return fit(lines)[0]
        key = "answer.desk.import_dry" if dry_run else "answer.desk.import_applied"
        return self._text(caller, key, new=plan.new, changed=plan.changed,
                          unchanged=plan.unchanged, history=plan.history,
                          unanswered=plan.unanswered, rows=plan.rows)

    # --- words -------------------------------------------------------------------------------

    def _text(self, caller: Caller, key: str, **values: object) -> str:
        return self.catalog.texts.get(key, caller.lang, **values)

    def _label(self, caller: Caller, key: str) -> str:
        return html.escape(self.catalog.texts.get(key, caller.lang))

    def _quiet(self, caller: Caller) -> str:
        """When notices wait ([outbox] quiet_hours), said as the config has it; nothing if
        they never wait."""
        start, end = self.config.pacing.quiet_start, self.config.pacing.quiet_end
        if start is None or end is None or start == end:
            return ""
        return self._text(caller, "answer.desk.quiet", start=start.strftime("%H:%M"),
                          end=end.strftime("%H:%M"))

    def say(self, caller: Caller, key: str, **values: object) -> None:
        caller.send(self._text(caller, key, **values))

    def _refused(self, caller: Caller, refused: Refused, ref: str) -> None:
        key = {"not_found": "answer.desk.not_found", "wrong_status": "answer.desk.wrong_status",
               "forbidden": "answer.desk.forbidden"}.get(refused.reason, "answer.desk.forbidden")
        self.say(caller, key, ref=html.escape(ref))


def _date(text: str) -> str | None:
    for pattern in ("%d/%m/%Y", "%Y-%m-%d", "%d-%m-%Y", "%d.%m.%Y"):
        try:
            found = datetime.strptime(text.strip(), pattern).date()
        except ValueError:
            continue
        return found.isoformat() if 2000 <= found.year <= 2100 else None
    return None


def _drafts_key(drafts: Sequence[store.Draft]) -> str:
    """Which drafts, at which revision, in ten characters (a button's data holds 64 bytes)."""
    named = ",".join(f"{d.answer.id}.{d.answer.revision}"
                     for d in sorted(drafts, key=lambda d: d.answer.id))
    return hashlib.blake2b(named.encode(), digest_size=5).hexdigest()
