"""What an answer can say: its states, their groups in the follow-up report, and the checks.

Pure: no I/O. The labels live in bot/texts/answers.toml ("answer.state.<code>").
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from typing import Literal, Protocol, get_args

from bot.localized import BASE_LANG, Localized
from bot.textnorm import clean
from storage.answers import AnswerFields

State = Literal["implemented", "in_progress", "not_yet", "transferred", "answered_at_forum"]
STATES: tuple[State, ...] = get_args(State)
How = Literal["forum", "document"]
HOWS: tuple[How, ...] = get_args(How)
# The three parts of the follow-up report the plan asks for.
Part = Literal["met", "considering", "cannot_yet"]
PART_OF: dict[str, Part] = {"implemented": "met", "answered_at_forum": "met",
                            "in_progress": "considering", "transferred": "considering",
                            "not_yet": "cannot_yet"}
# Still open: carried over to the next forum year's follow-up.
OPEN = frozenset({"in_progress", "not_yet", "transferred"})
LIMITS = {"text_vi": 1500, "text_en": 1500, "agency": 200, "partners": 300, "due": 100,
          "doc_number": 100, "reason": 600, "solution": 600}


class Worded(Protocol):
    @property
    def text_vi(self) -> str: ...

    @property
    def text_en(self) -> str: ...


def words_for(answer: Worded, lang: str) -> str:
    """The answer in the reader's language: it is written in Vietnamese, English optional."""
    return Localized({BASE_LANG: answer.text_vi, **({"en": answer.text_en}
                                                    if answer.text_en else {})})[lang]


def usual_how(state: str) -> How:
    """How an answer with `state` was given, unless said otherwise: at the forum for
    "answered at the forum", else by a document."""
    return "forum" if state == "answered_at_forum" else "document"


@dataclass(frozen=True)
class Problem:
    """What is wrong with an answer: the field, and a key of bot/texts/answers.toml."""

    field: str
    key: str
    limit: int = 0


def tidy(answer: AnswerFields) -> AnswerFields:
    """Every text cleaned line by line as children's words are (textnorm.clean: NFC, no
    invisible characters, nothing XML cannot hold, single spaces); line breaks kept (an answer
    can have paragraphs). A text that says nothing ("-", "…": see `said`) is left empty, so a
    child never reads "In charge: -"; a required one is then refused by `check`."""
    texts = {name: "\n".join(clean(line) for line in str(getattr(answer, name)).splitlines()
                             ).strip() for name in LIMITS}
    return replace(answer, **{name: text if said(text) else "" for name, text in texts.items()})


def said(text: str) -> bool:
    """Does `text` say anything: a letter or a digit ("-", "…" or "?" says nothing, and a child
    would read "What happens next: -")?"""
    return any(char.isalnum() for char in text)


def check(answer: AnswerFields) -> list[Problem]:
    """Every problem of an answer (empty: it can be saved)."""
    problems = []
    if answer.state not in STATES:
        problems.append(Problem("state", "answer.problem.state"))
    if not said(answer.text_vi):
        problems.append(Problem("text_vi", "answer.problem.text"))
    if answer.state == "not_yet":
        problems += [Problem(name, f"answer.problem.{name}") for name in ("reason", "solution")
                     if not said(getattr(answer, name))]
    if answer.how not in HOWS:
        problems.append(Problem("how", "answer.problem.how"))
    if answer.doc_date is not None and not _iso_date(answer.doc_date):
        problems.append(Problem("doc_date", "answer.problem.date"))
    problems += [Problem(name, "answer.problem.too_long", limit)
                 for name, limit in LIMITS.items() if len(getattr(answer, name)) > limit]
    return problems


def shown_date(text: str) -> str:
    """A date stored as ISO ("2027-06-30", from a date cell of an older import) as people
    here read it: 30/06/2027. Any other text as it is."""
    if len(text) != 10:
        return text
    try:
        return f"{date.fromisoformat(text):%d/%m/%Y}"
    except ValueError:
        return text


def _iso_date(text: str) -> bool:
    try:
        parsed = date.fromisoformat(text)
    except ValueError:
        return False
    return 2000 <= parsed.year <= 2100


def worth_telling(state: str, previous: str | None) -> bool:
    """A published version is told to the children when it is the first, or its state changed
    (a new wording of the same state tells nobody again)."""
    return previous is None or previous != state
