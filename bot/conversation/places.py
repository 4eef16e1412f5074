"""Finding a place (a commune, a ward, a district) by what a child types: pure, no I/O.

Children write names as they say them: "morai" for Mô Rai, "ia hdrai" or "Ia H’Drai" (the
curly apostrophe phones put in) for Ia H'Drai, "Tp Kon Tum", "Đắc Long" (c for k), "tinh khee".
So, tone marks optional as everywhere (bot.textnorm.fold):

1. A name typed exactly, marks and all ("Xã Ba Tô"; "xa ba tô": the marks typed tell it from
   Ba Tơ), or the whole name with spaces and apostrophes left out and its "Xã"/"Phường" before
   it or not ("morai", "xã mô rai"): that place (`exact`).
2. Otherwise the places whose name has what was typed at the start of its words, spaces and
   apostrophes left out ("ra", "drai", "kontum", "long dak"); none, then without the words
   before a name ("Tp", "huyện", "xã"...): "Tp Kon Tum" finds Phường Kon Tum; none, the places
   whose whole name a sentence holds ("em ở xã mô rai") (`search`).
3. None still: the places whose name is one letter from it (one wrong, missing, added, or two
   swapped), when at most MAX_NEAR are, never from fewer than MIN_NEAR letters: "Đắc Long",
   "tinh khee", "Mo Rao". The child picks; nothing near is taken for them.

A name the child typed after a kind of place (huyện, thành phố: "Tp Kon Tum") is never taken
alone: a ward of a former city may bear the city's name; the child picks it among the found.
One-letter nearness is a dozen lines (`near`): no fuzzy-matching library for it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from bot.conversation.catalog import Choice
from bot.textnorm import clean, fold

MIN_NEAR = 4  # letters typed (spaces left out) before a near name is looked for
MAX_NEAR = 3  # more places than this one letter away: none is offered (a guess, not a find)
# Words before a place's name (folded): the kind of place, as the list and children write it.
KINDS = tuple(tuple(kind.split()) for kind in (
    "thanh pho", "thi tran", "thi xa", "dac khu", "xa", "phuong", "huyen", "quan", "tp", "tx",
    "tt"))
# Apostrophes as keyboards type them: ’ (phones), ‘, ʼ, `, ´, ′ (a name's H'Drai is one).
_APOSTROPHES = str.maketrans({mark: "'" for mark in "’‘ʼ`´′"})
_TOKENS = re.compile(r"[^\W_]+(?:'[^\W_]+)*")


def _marked(text: str) -> tuple[str, ...]:
    """The words of a text with their tone marks, lower-case, one apostrophe."""
    return tuple(_TOKENS.findall(clean(text).lower().translate(_APOSTROPHES)))


def _folded(words: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(fold(word) for word in words)


def _kind(words: tuple[str, ...]) -> int:
    """How many of the (folded) words name a kind of place before the name ("xa": 1)."""
    return next((len(kind) for kind in KINDS
                 if len(words) > len(kind) and words[:len(kind)] == kind), 0)


@dataclass(frozen=True)
class _Name:
    """One label of a place, ready to be matched."""

    marked: tuple[str, ...]  # "xã", "ia", "h'drai"
    folded: tuple[str, ...]  # "xa", "ia", "h'drai"
    kind: int  # the words before the name proper ("Xã": 1)
    joined: str  # "xaiahdrai": no space, no apostrophe
    starts: tuple[int, ...]  # where each word (and each part after an apostrophe) starts in it

    @classmethod
    def of(cls, label: str) -> _Name:
        marked = _marked(label)
        folded = _folded(marked)
        joined, starts = "", []
        for word in folded:
            for part in word.split("'"):
                starts.append(len(joined))
                joined += part
        return cls(marked, folded, _kind(folded), joined, tuple(starts))

    @property
    def proper(self) -> str:
        """The name without its kind, joined ("iahdrai")."""
        return self.joined[self.starts[self.kind]:] if self.kind < len(self.starts) else ""

    def parts(self) -> Iterable[str]:
        """Each word, and each part of a word after an apostrophe, joined from there on."""
        return (self.joined[start:] for start in self.starts)


@dataclass(frozen=True)
class _Place:
    choice: Choice
    names: tuple[_Name, ...]


_INDEX: dict[int, tuple[tuple[Choice, ...], tuple[_Place, ...]]] = {}


def _places(choices: tuple[Choice, ...]) -> tuple[_Place, ...]:
    """The choices' labels in every language, made ready once per list."""
    known = _INDEX.get(id(choices))
    if known is None or known[0] is not choices:
        known = _INDEX[id(choices)] = (choices, tuple(
            _Place(choice, tuple(_Name.of(label) for label in dict.fromkeys(
                choice.label.values()) if _marked(label)))
            for choice in choices))
    return known[1]


def exact(choices: tuple[Choice, ...], text: str) -> Choice | None:
    """The one place `text` names whole (step 1), or None."""
    marked = _marked(text)
    if not marked:
        return None
    places = _places(choices)
    found = [p for p in places if any(
        marked in (name.marked, name.marked[name.kind:]) for name in p.names)]
    if len(found) == 1:
        return found[0].choice
    joined = "".join(_folded(marked)).replace("'", "")
    found = [p for p in places if any(joined in (name.joined, name.proper) for name in p.names)]
    if len(found) > 1:  # "xa ba tô": the marks typed tell which
        found = _best_marked(found, marked)
    return found[0].choice if len(found) == 1 else None


def _best_marked(found: list[_Place], marked: tuple[str, ...]) -> list[_Place]:
    """The places whose name has most of the words typed with marks, if any has one."""
    with_marks = {word for word in marked if fold(word) != word}

    def agreeing(place: _Place) -> int:
        return max(len(with_marks.intersection(name.marked)) for name in place.names)

    best = max(agreeing(place) for place in found)
    return [place for place in found if agreeing(place) == best] if best else found


@dataclass(frozen=True)
class Found:
    choices: tuple[Choice, ...]
    near: bool = False  # one letter away, not what was typed (step 3)


def search(choices: tuple[Choice, ...], text: str) -> Found:
    """The places `text` may mean (steps 2 and 3), in the list's order; none: empty."""
    typed = _folded(_marked(text))
    if not typed:
        return Found(())
    places = _places(choices)
    kind = _kind(typed)
    tries = (typed, typed[kind:]) if kind else (typed,)
    for words in tries:
        found = [p.choice for p in places if any(_holds(name, words) for name in p.names)]
        if found:
            return Found(tuple(found))
    # A sentence around a name ("em ở xã mô rai"): the places whose whole name is in it.
    found = [p.choice for p in places if any(_within(name, typed) for name in p.names)]
    if found:
        return Found(tuple(found))
    for words in tries:
        joined = "".join(words).replace("'", "")
        if len(joined) < MIN_NEAR:
            continue
        found = [p.choice for p in places
                 if any(_starts_near(part, joined) for name in p.names for part in name.parts())]
        if found:
            return Found(tuple(found) if len(found) <= MAX_NEAR else (), near=True)
    return Found(())


def _holds(name: _Name, words: tuple[str, ...]) -> bool:
    """Every word typed starts a word of the name (any order: "long dak"), or all of them,
    run together, start it from one of its words ("kontum", "ia hdrai", "drai")."""
    joined = "".join(words).replace("'", "")
    if any(part.startswith(joined) for part in name.parts()):
        return True
    pieces = [piece for word in name.folded for piece in (word.replace("'", ""),
                                                          *word.split("'")[1:])]
    return all(any(piece.startswith(word.replace("'", "")) for piece in pieces)
               for word in words)


def _within(name: _Name, words: tuple[str, ...]) -> bool:
    """The name proper, word for word, among the words typed."""
    proper = name.folded[name.kind:]
    return bool(proper) and any(words[i:i + len(proper)] == proper
                                for i in range(len(words) - len(proper) + 1))


def _starts_near(part: str, typed: str) -> bool:
    """`part` starts with something one letter from `typed` (a letter wrong, missing, added,
    or two swapped)."""
    size = len(typed)
    return any(near(typed, part[:size + grow]) for grow in (-1, 0, 1)
               if size + grow <= len(part))


def near(a: str, b: str) -> bool:
    """At most one edit apart: a letter changed, added or dropped, or two side by side
    swapped (optimal string alignment distance ≤ 1)."""
    if a == b:
        return True
    if abs(len(a) - len(b)) > 1:
        return False
    i = 0  # the first letter that differs
    while i < min(len(a), len(b)) and a[i] == b[i]:
        i += 1
    if len(a) > len(b):
        return a[i + 1:] == b[i:]
    if len(a) < len(b):
        return a[i:] == b[i + 1:]
    swapped = i + 1 < len(a) and a[i] == b[i + 1] and a[i + 1] == b[i]
    return a[i + 1:] == b[i + 1:] or (swapped and a[i + 2:] == b[i + 2:])
