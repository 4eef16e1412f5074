"""Tag the language of a child's free-text answer: Vietnamese, English or other.

"other" means "send to a human translator": in the first province that is mostly Bahnar (Ba Na)
and Jarai (Gia Rai), which plain language detectors take for Vietnamese. A few named rules run
first and decide most messages; seeded langdetect only breaks ties. See docs/language.md.

Rules, in order:
1. nothing to tag (empty, emoji, digits, punctuation) -> "vi", the bot's default language;
2. mostly non-Latin letters (Khmer, Lao, Chinese, Cyrillic ...) -> "other";
3. a Bahnar/Jarai letter Vietnamese never uses (ĕ ĭ ŏ ŭ, ơ̆, ě, ƀ, ñ ...) -> "other";
4. every word is classified as a valid Vietnamese syllable (initial + rhyme from Vietnamese
   spelling, tone allowed by the final), Vietnamese chat shorthand ("ko", "dc", "mik"),
   an English word, a loanword/proper name (neutral), or none of these (foreign);
5. Vietnamese-looking words outnumber the foreign ones -> "vi"; otherwise English words or
   langdetect decide between "en" and "other".
"""

import re
import unicodedata
from functools import lru_cache
from typing import Literal

from langdetect import DetectorFactory, LangDetectException, detect

from bot.textnorm import clean, fold

LanguageTag = Literal["vi", "en", "other"]

DetectorFactory.seed = 0

# A word: letters (with any combining marks left after NFC), optionally with apostrophes inside
# or in front, as Bahnar and Jarai write them ('bok, H'dong, hơ'bo).
_WORD = re.compile(r"['’]?(?:[^\W\d_]|[\u0300-\u036f])+(?:['’](?:[^\W\d_]|[\u0300-\u036f])+)*")

# Tone marks as combining characters: grave (huyền), acute (sắc), tilde (ngã), hook (hỏi),
# dot below (nặng). Circumflex, breve and horn make letters (â ă ơ ...), not tones.
_TONES = {"\u0300": "grave", "\u0301": "acute", "\u0303": "tilde", "\u0309": "hook", "\u0323": "dot"}
_STOP_TONES = {"acute", "dot"}  # the only tones a syllable ending in p, t, c, ch can carry

# Lower-case Vietnamese letters outside ASCII: ă â ê ô ơ ư with or without a tone, toned a e i o
# u y, and đ.
_VI_MARKED = frozenset(
    {"đ"}
    | {
        unicodedata.normalize("NFC", vowel + tone)
        for vowel in "aăâeêioôơuưy"
        for tone in ("", *_TONES)
    }
    - set("aeiouy")
)

# Letters of Bahnar and Jarai spelling that Vietnamese never uses. Checked after NFC, where
# a breve on ơ/ư or a caron stays a separate combining mark.
_MINORITY_LETTERS = frozenset("ĕĭŏŭěǐǒǔǎƀñ\u0306\u030c")

_INITIALS = (
    "", "b", "c", "ch", "d", "đ", "g", "gh", "gi", "h", "k", "kh", "l", "m", "n", "ng", "ngh",
    "nh", "ph", "qu", "r", "s", "t", "th", "tr", "v", "x",
)
_OPEN_RHYMES = (
    "a e ê i y o ô ơ u ư ia ua ưa oa oe uê uy uơ uya ai ao au ay âu ây eo êu iu oi ôi ơi ui ưi "
    "ưu iêu yêu uôi ươi ươu oai oay oao oeo uây uyu"
).split()
# Nucleus -> the finals it takes in Vietnamese spelling.
_CLOSED_RHYMES = {
    "a": "m n ng nh p t c ch", "ă": "m n ng p t c", "â": "m n ng p t c", "e": "m n ng p t c",
    "ê": "m n nh p t ch", "i": "m n nh p t ch", "o": "m n ng p t c", "ô": "m n ng p t c",
    "ơ": "m n p t", "u": "m n ng p t c", "ư": "m n ng t c", "iê": "m n ng p t c",
    "yê": "m n ng t", "uô": "m n ng t c", "ươ": "m n ng p t c", "oa": "m n ng nh p t c ch",
    "oă": "m n ng t c", "oe": "n t", "uâ": "n ng t", "uê": "nh ch", "uy": "n nh t ch",
    "uyê": "n t", "oo": "ng c",
}
_STOP_FINALS = ("p", "t", "c", "ch")


def _rhymes() -> list[str]:
    closed = [n + f for n, finals in _CLOSED_RHYMES.items() for f in finals.split()]
    return list(_OPEN_RHYMES) + closed


def _spelling_allows(initial: str, rhyme: str) -> bool:
    """Vietnamese spelling rules: c/k, g/gh, ng/ngh, qu, gi and the y- rhymes."""
    front = rhyme[0] in "eêiy"
    if initial in ("c", "g", "ng") and rhyme[0] in "eê":
        return False
    if initial == "c" and front:
        return False
    if initial in ("k", "gh", "ngh") and not front:
        return False
    if initial == "qu" and rhyme[0] in "ouư":
        return False
    if initial == "gi" and rhyme[0] in "iy":
        return False
    return not (rhyme.startswith("yê") and initial not in ("", "qu"))


def _syllables() -> frozenset[str]:
    """Every toneless Vietnamese syllable spelling, e.g. "nguyên", "khoăn", "gi"."""
    sylls = {i + r for i in _INITIALS for r in _rhymes() if _spelling_allows(i, r)}
    sylls.add("gi")  # gì: gi + i written once
    return frozenset(sylls)


_SYLLABLES = _syllables()
_FOLDED_SYLLABLES = frozenset(fold(s) for s in _SYLLABLES)

# Vietnamese chat shorthand and interjections, folded: "ko" (không), "dc" (được), "mik" (mình)...
_VI_SHORTHAND = frozenset(
    "k ko kh hk hok hong hem khum kg dc dk duoc mik mk mh mn ng nguoi nc ns nt ntn j z zay dz vs "
    "vx bt bn b bik bit ik ak ah ha nha nhe nhen nek ne wa w r cx cg ms trc sn ae ny ck vk cj "
    "a e t m tks hic hix huhu hihi haha kk kkk uh um u ok oke okela nhaa ui oi vay v".split()
)

# Frequent English words, including chat spellings children use.
_EN_WORDS = frozenset(
    """a about after again all also always am an and any are as at away back be because been
    before being best better big but by call can can't come could day did didn't do does don't
    done down each even ever every feel for friend friends from get go going good got great had
    has have having he her here him his home how i i'm i'll i've if in into is it it's its just
    know last let like little look lot love make many may me more most much must my need never new
    next nice night no not now of off oh ok okay on one only or other our out over people place
    please really right said same say school see she should so some someone something sorry still
    stop such sure take tell than thank thanks that that's the their them then there these they
    thing think this those time to today tomorrow too try two up us very want was way we well
    went were what when where which who why will wish with without work would yes yet you your
    you're u ur pls plz thx thanx lol hi hello hey yeah yup yep gonna wanna gotta dont cant im
    children child kids safe safety help water swim swimming road traffic online internet
    violence climate protect stop should""".split()
)

# Words that are neither Vietnamese nor evidence of English when they appear in Vietnamese:
# loanwords children mix into Vietnamese.
_LOANWORDS = frozenset(
    """online offline game games facebook fb zalo tiktok youtube google internet wifi web website
    video clip app link like share post group chat email mail slide test lab logic camera
    smartphone laptop ipad hacker idol fan teen team ok oke covid""".split()
)


def _tone_and_base(word: str) -> tuple[str | None, str, int]:
    """Split a lower-case word into its tone (if any), toneless spelling and tone-mark count."""
    tones = [_TONES[ch] for ch in unicodedata.normalize("NFD", word) if ch in _TONES]
    base = unicodedata.normalize(
        "NFC", "".join(ch for ch in unicodedata.normalize("NFD", word) if ch not in _TONES)
    )
    return (tones[0] if tones else None), base, len(tones)


@lru_cache(maxsize=4096)
def _is_vi_syllable(word: str) -> bool:
    """True if a lower-case word is spelled like one Vietnamese syllable, with or without tones."""
    if word.isascii():
        return word in _FOLDED_SYLLABLES
    tone, base, count = _tone_and_base(word)
    if count > 1 or base not in _SYLLABLES:
        return False
    # A syllable ending in p/t/c/ch carries sắc or nặng; "mờt", "măt" are not Vietnamese.
    return not base.endswith(_STOP_FINALS) or tone in _STOP_TONES


def _has_vi_marks(word: str) -> bool:
    """True if a word carries a letter or tone mark of Vietnamese spelling (ă, ơ, đ, ế ...)."""
    return any(ch in _VI_MARKED for ch in word)


def _latin(ch: str) -> bool:
    return ch.isascii() or unicodedata.name(ch, "").startswith("LATIN") or "\u0300" <= ch <= "\u036f"


def _langdetect(text: str) -> str:
    try:
        return str(detect(text))
    except LangDetectException:
        return ""


def tag_language(text: str) -> LanguageTag:
    """Tag a message as Vietnamese ("vi"), English ("en") or anything else ("other").

    Text with no letters at all (empty, emoji, digits) is tagged "vi": it needs no translator
    and Vietnamese is the bot's default language.
    """
    cleaned = clean(text)
    letters = [ch for ch in cleaned if ch.isalpha()]
    if not letters:
        return "vi"
    if sum(not _latin(ch) for ch in letters) * 2 > len(letters):
        return "other"
    lowered = cleaned.lower().replace("’", "'")
    if any(ch in _MINORITY_LETTERS for ch in lowered):
        return "other"

    raw_words = _WORD.findall(cleaned.replace("’", "'"))
    vi = en = foreign = 0
    for index, raw in enumerate(raw_words):
        word = raw.lower()
        folded = fold(word)
        if _is_vi_syllable(word) or folded in _VI_SHORTHAND:
            if _has_vi_marks(word) or folded not in _EN_WORDS:
                vi += 1
            # else a word of both languages ("to", "me", "can") decides nothing
        elif word in _EN_WORDS:
            en += 1
        elif folded in _LOANWORDS or (index > 0 and raw.istitle() and not _has_vi_marks(word)):
            continue  # loanword or a capitalised name in mid-sentence
        else:
            foreign += 1

    if vi and vi >= en + foreign:
        return "vi"
    if any(_has_vi_marks(w.lower()) for w in raw_words):
        return "other"  # Vietnamese-style letters in words Vietnamese cannot spell
    if en and en >= foreign:
        return "en"
    guess = _langdetect(cleaned)
    if guess == "en":
        return "en"
    if guess == "vi" and not foreign:
        return "vi"
    return "other"
