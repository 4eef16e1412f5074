"""A message that is itself a call for help: "cứu em với", "giúp em với", "sos", "help me".

Such a message tells nothing the detector could weigh ("cứu em" is no disclosure), yet it is the
plainest thing a frightened child types. Typed anywhere, it is answered like /sos and 🆘: 111 at
once, a case, and the question whether an adult from the forum should write here. Only a whole
message that is the call counts ("giúp em với ạ", "cô ơi cứu em"), never a sentence that
contains the words ("em cần giúp đỡ về bài tập" stays an answer). Matched on folded text in
children's chat spellings ("cuu e vs", "giup e voiii"): a whole message this short leaves no room
for the collisions folding makes inside sentences.
"""

from __future__ import annotations

import functools
import re

from bot.textnorm import chat_word, fold

_NOT_WORD = re.compile(r"[^a-z0-9]+")
LONGEST = 640  # characters: a longer message is no call (a call is short; emoji and marks aside)
# Where a message's clauses part: "cứu em, em sợ quá" is a call and a fear.
_CLAUSES = re.compile(r"[,.;:!?…\n]+|\s[-–—]\s")
# Marked words that fold into a call's words but mean something else: "cừu" (a sheep), "cựu"
# (former), "cửu" (nine).
_NOT_A_CALL = frozenset({"cừu", "cựu", "cửu", "cưu"})

# Whom the child calls, before the call: "cô ơi", "ai đó", "làm ơn", "mọi người ơi", "có ai
# không", "someone"; and the cries around it: "trời ơi", "hu hu".
_CALLING = (r"(?:lam on|xin|xin hay|hay|please|pls|plz|ai|ai do|co|thay|chu|bac|anh|chi|ad"
            r"|admin|bot|moi nguoi|mn|mng|oi|oi oi|co ai|co ai khong|co ai do khong|someone"
            r"|anyone|can someone|can anyone|troi oi|hu|hu hu|huhu|hic|hix|ma oi|me oi|bo oi)")
_WHO = r"(?:em|toi|minh|con|chau|to|tui|tao|us|me|i)"
_NOW = r"(?:ngay|gap|nhanh|nhanh len|ngay bay gio|bay gio|now|right now)"
_CALLS = (
    r"sos",
    r"(?:cuu|giup|giup do|ho tro)(?: (?:" + _WHO + r"|voi|gap|ngay|di|ma|gium|dum|"
    + _NOW + r"))*",
    _WHO + r" (?:dang )?(?:can|gap|bi) (?:nguoi )?(?:nguy hiem|giup|giup do|ho tro|duoc giup"
    r"|cuu)(?: (?:voi|do|" + _NOW + r"))*",
    r"(?:please |pls |plz )?help(?: (?:me|us|please|pls|plz|" + _NOW + r"))*",
    r"i (?:really )?need (?:some )?help(?: (?:please|pls|plz|" + _NOW + r"))*",
    r"i (?:am|m) in danger(?: " + _NOW + r")?",
)
# Fear said with the call, before or after it: "em sợ quá", "em đang gặp nguy hiểm", "I'm
# scared", "em không an toàn".
_FEAR = (r"(?:" + _WHO + r" )?(?:dang |rat |that |thay )?(?:so|so qua|so lam|so hai|run|run qua"
         r"|dang gap nguy hiem|dang nguy hiem|dang nguy hiem lam|gap nguy hiem|khong an toan"
         r"|scared|so scared|afraid|not safe|in danger|m scared|m not safe|am scared"
         r"|am not safe|im scared|im not safe)")
_CALL = rf"(?:{'|'.join(_CALLS)})"
_END = r"(?: (?:a|nhe|nha|voi|di|ma|please|pls|plz|oi|troi oi|hu hu|huhu))*"
# One call or several ("cứu cứu cứu", "sos cứu em"), called to someone, fear beside it.
_PLEA = re.compile(rf"(?:{_FEAR} )?(?:{_CALLING} )*{_CALL}{_END}(?: (?:{_CALLING} )*{_CALL}{_END})*"
                   rf"(?: {_FEAR})?")
# Who is calling, said beside the call so that someone can find them: "em là Lan", "tên em là
# Dung", "em ở làng Plei Rơ Wăk", "em học lớp 5", "my name is…" (a privacy probe's "cứu em với,
# em là Lê Thị Dung ở làng Plei Rơ Wăk" got "choose an option below").
_WHO_I_AM = (rf"(?:{_WHO} (?:la|ten|ten la|o|dang o|nha o|hoc|hoc lop|o lang|o thon|o xa)"
             rf"|ten {_WHO} la|nha {_WHO} o|my name is|i am|im|i live in|i live at)"
             r" [a-z0-9 ]{1,60}")
_BESIDE = re.compile(rf"(?:{_CALLING} ?)+|{_FEAR}{_END}|{_WHO_I_AM}")  # a clause beside a call
# Every call holds one of these words: without one, no need to try the whole grammar.
_CALL_WORD = re.compile(r"\b(?:sos|cuu|giup|ho tro|help|nguy hiem|danger)\b")
_LONG_CUU = re.compile(r"\bcuu+\b")  # "cứuuuu": a call stretched, not squeezed to "cu"
# One slip of a finger on a call's word ("gjup", "giúo", "hepl", "cuus"), or the teen "cíu";
# not the words those slips would make ("giữa", "giữ", "giáp", "giùm", "hell", "heap").
_REAL_WORDS = frozenset({"giua", "giu", "giap", "gium", "giau", "giun", "giuc", "giut", "hell",
                         "held", "helm", "heap", "helo", "hemp", "kelp", "yelp"})
_LETTERS = "abcdefghijklmnopqrstuvwxyz"


def _slips(word: str, added_only: bool = False) -> set[str]:
    """Every spelling one slip of a finger away (Damerau distance 1): a letter added, and,
    unless `added_only`, a letter dropped, changed, or two neighbours turned."""
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    slips = {a + c + b for a, b in splits for c in _LETTERS}
    if not added_only:
        slips |= {a + b[1:] for a, b in splits if b}
        slips |= {a + c + b[1:] for a, b in splits if b for c in _LETTERS}
        slips |= {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1}
    return slips - _REAL_WORDS - {word}


# "cuu" only with a letter added ("cuus"): a letter dropped or changed makes words ("cau",
# "cua", "cu").
_SLIPS = {**{slip: "cuu" for slip in _slips("cuu", added_only=True)},
          **{slip: "help" for slip in _slips("help")}, **{slip: "giup" for slip in _slips("giup")},
          "ciu": "cuu"}


@functools.lru_cache(maxsize=256)
def words(text: str) -> str:
    """The message folded, in plain words: no marks, no punctuation or emoji, chat spellings
    expanded and a call's word typed with a slip made plain ("cíu e vs!!" → "cuu em voi").
    (Kept for the texts seen last: the engine and the safeguarding check ask of the same.)"""
    folded = _LONG_CUU.sub("cuu", _NOT_WORD.sub(" ", fold(text))).split()
    return " ".join(chat_word(_SLIPS.get(word, word)) for word in folded)


def asks_for_help(text: str, labels: frozenset[str] = frozenset()) -> bool:
    """True when the whole message is a call for help, or is one of `labels` (the 🆘 button's
    words in every language, as `words` gives them: typed instead of pressed). A call may come
    in parts: called to someone, fear said beside it ("có ai không, em sợ, cứu em")."""
    if len(text) > LONGEST:
        return False
    plain = words(text)
    if "🆘" in text and len(plain.split()) <= 4:  # the emoji, alone or nearly: a call
        return True
    if len(plain) > 100 or not plain or not _NOT_A_CALL.isdisjoint(text.lower().split()):
        return False
    if plain in labels:
        return True
    if not _CALL_WORD.search(plain):
        return False
    if _PLEA.fullmatch(plain) is not None:
        return True
    parts = [part for part in map(words, _CLAUSES.split(text)) if part]
    return (len(parts) > 1 and any(_PLEA.fullmatch(part) for part in parts)
            and all(_PLEA.fullmatch(part) or _BESIDE.fullmatch(part) for part in parts))


def has_call(text: str) -> bool:
    """A part of the message is a call ("cứu em, bố đang đập cửa"): with what the detector
    finds beside it, a call for help (bot.safeguarding.detector.calls_for_help)."""
    if len(text) > LONGEST:
        return False
    plain = words(text)
    return (0 < len(plain) <= 160 and _CALL_WORD.search(plain) is not None
            and _NOT_A_CALL.isdisjoint(text.lower().split())
            and any(_PLEA.fullmatch(part) for part in map(words, _CLAUSES.split(text))
                    if part))
