"""Tag the language of a child's free-text answer: Vietnamese, English or other.

"other" means "send to a human translator": in the first province that is mostly Bahnar (Ba Na)
and Jarai (Gia Rai), which plain language detectors take for Vietnamese. A few named rules decide
most messages; seeded langdetect only breaks ties. See docs/language.md.

1. No letters (empty, emoji, digits, punctuation) -> "vi", the bot's default language.
2. Mostly non-Latin letters (Khmer, Lao, Chinese, Cyrillic ...) -> "other".
3. A letter of Bahnar/Jarai spelling that Vietnamese never uses (ĕ ĭ ŏ ŭ, ơ̆, ě, ƀ, ñ) -> "other".
4. Each word is classified (`_classify`): a Vietnamese syllable (initial + rhyme allowed by
   Vietnamese spelling, tone allowed by the final; with or without marks), Vietnamese chat
   shorthand, English, either language, neutral (name, loanword), Bahnar/Jarai spelling
   ("minority": Vietnamese letters in a non-Vietnamese word, consonant pairs like hn-/hm-/dl-,
   a final -h, an apostrophe inside) or plain foreign.
5. In text with Vietnamese letters, 1 word in 10 spelled the Bahnar/Jarai way -> "other".
6. At least as many Vietnamese words as English and foreign ones together -> "vi".
7. Otherwise an English word -> "en"; Vietnamese letters -> "other" if there are foreign
   words, else "vi"; else seeded langdetect says whether it is English.
"""

import re
import unicodedata
from collections import Counter
from functools import lru_cache
from typing import Literal

from langdetect import DetectorFactory, LangDetectException, detect

from bot.textnorm import clean, fold

LanguageTag = Literal["vi", "en", "other"]

# How one word counts; see `_classify`.
WordKind = Literal["vi", "en", "either", "neutral", "minority", "foreign"]

DetectorFactory.seed = 0


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# A word: letters (and combining marks NFC leaves alone), with apostrophes in front or inside as
# Bahnar and Jarai write them ('bok, H'dong, hơ'bo). Digits split words ("b4", "12h").
_LETTER = r"(?:[^\W\d_]|[\u0300-\u036f])"
_WORD = re.compile(rf"'?{_LETTER}+(?:'{_LETTER}+)*")
# An apostrophe that closes a word: the message quotes ('like this'), so a leading one is a quote.
_CLOSING_QUOTE = re.compile(rf"{_LETTER}'(?!{_LETTER})")

# Tone marks as combining characters: grave (huyền), acute (sắc), tilde (ngã), hook (hỏi),
# dot below (nặng). Circumflex, breve and horn make letters (â ă ơ ...), they are not tones.
_TONES = {
    "\u0300": "grave", "\u0301": "acute", "\u0303": "tilde", "\u0309": "hook", "\u0323": "dot"
}
_STOP_TONES = frozenset({"acute", "dot"})  # the only tones of a syllable ending in p, t, c, ch
_STOP_FINALS = ("p", "t", "c", "ch")

# Lower-case Vietnamese letters outside ASCII: ă â ê ô ơ ư đ, and every toned vowel.
_VI_MARKED = frozenset(
    {"đ"}
    | {unicodedata.normalize("NFC", v + t) for v in "aăâeêioôơuưy" for t in ("", *_TONES)}
) - frozenset("aeiouy")

# Letters of Bahnar and Jarai spelling that Vietnamese never uses. After NFC a breve on ơ/ư
# and a caron stay separate combining marks, so they are listed too.
_MINORITY_LETTERS = frozenset("ĕĭŏŭěǐǒǔǎƀñ\u0306\u030c")

# Vietnamese syllables: initial + rhyme, as the spelling writes them (no "p": only loanwords).
_INITIALS = ("", *_words("b c ch d đ g gh gi h k kh l m n ng ngh nh ph qu r s t th tr v x"))
_OPEN_RHYMES = _words(
    "a e ê i y o ô ơ u ư ia ua ưa oa oe uê uy uơ uya ai ao au ay âu ây eo êu iu oi ôi ơi ui ưi "
    "ưu iêu yêu uôi ươi ươu oai oay oao oeo uây uyu"
)
# Vowel nucleus -> the finals it takes.
_CLOSED_RHYMES = {
    "a": "m n ng nh p t c ch", "ă": "m n ng p t c", "â": "m n ng p t c", "e": "m n ng p t c",
    "ê": "m n nh p t ch", "i": "m n nh p t ch", "o": "m n ng p t c", "ô": "m n ng p t c",
    "ơ": "m n p t", "u": "m n ng p t c", "ư": "m n ng t c", "iê": "m n ng p t c",
    "yê": "m n ng t", "uô": "m n ng t c", "ươ": "m n ng p t c", "oa": "m n ng nh p t c ch",
    "oă": "m n ng t c", "oe": "n t", "uâ": "n ng t", "uê": "nh ch", "uy": "n nh t ch",
    "uyê": "n t", "oo": "ng c",
}


def _spelling_allows(initial: str, rhyme: str) -> bool:
    """Vietnamese spelling rules: c/k, g/gh, ng/ngh, qu, gi, and y- rhymes only after nothing/qu."""
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
    """Every toneless Vietnamese syllable spelling: "nguyên", "khoăn", "gi" ..."""
    closed = {n + f for n, finals in _CLOSED_RHYMES.items() for f in finals.split()}
    rhymes = _OPEN_RHYMES | closed
    sylls = {i + r for i in _INITIALS for r in rhymes if _spelling_allows(i, r)}
    # q + a rhyme with medial u ("quýt", "quỳnh"); gì is gi + i written once.
    return frozenset(sylls | {"q" + r for r in rhymes if r[0] == "u"} | {"gi"})


_SYLLABLES = _syllables()
_FOLDED_SYLLABLES = frozenset(fold(s) for s in _SYLLABLES)

# Vietnamese chat shorthand: "ko" (không), "dc" (được), "mik" (mình), "bik" (biết), "j" (gì) ...
_VI_SHORTHAND = _words(
    "đc đk đg ko kh hk hok hong hem khum kg dc dk mik mk mjk mh mn ng ngta nc ns nt ntn zay dz "
    "vs vx bt bn bik ik ak nha nhe nhen nek ne wa cx cg ms trc sn ae ny ck vk cj tks hic hix "
    "huhu hihi haha kk kkk uh um uk ukm uhm hmm ok oke okela ui oi"
)

# Frequent English words and the chat spellings that go with them.
_EN_WORDS = _words(
    """a about after again all also always am an and any anything are as ask at away back bad be
    because been before being best better big bit both bring but buy by call came can can't
    come could day did didn't do does doing don't done down each else even ever every everyone
    everything feel find first for friend friends from fun get give go goes going gone good got
    great had happy has have haven't having he hear help her here him his home hope how i i'd
    i'll i'm i've if in into is isn't it it's its just keep kind know last late later leave let
    life like little live long look lot love make many may maybe me mean more morning most much
    must my need never new next nice night no not nothing now of off oh ok okay old on once one
    only or other our out over own people place play please put read ready really right said
    same say school see send she should sleep so some someone something soon sorry start still
    stop such sure take talk tell than thank thanks that that's the their them then there these
    they thing things think this those thought time to today together told tomorrow tonight too
    try two up us very wait walk want was wasn't watch way we week well went were what when
    where which while who why will wish with without won't work would yes yet you your you're
    children child kids family mom mum dad parents teacher safe safety water swim road traffic
    violence climate protect learn study class phone money
    ur pls plz thx thnx thanx lol hi hello hey bye yeah yup yep okie gonna wanna gotta dont cant
    im ive tmr tmrw nite gud coz cos bro dude msg"""
)
_EN_CONTRACTION = re.compile(r"^[a-z]+(?:n't|'s|'m|'d|'ll|'ve|'re)$")

# Neutral words: loanwords children mix into Vietnamese, and syllables of Central Highlands
# place names ("huyện Đắk Hà", "xã Ia Chim", "Kon Plông"), folded.
_NEUTRAL_WORDS = _words(
    """online offline game facebook fb zalo tiktok youtube google internet wifi web website
    video clip app link share post group chat email slide test lab logic camera smartphone
    laptop hacker idol fan teen team covid
    dak kon plong krong plei pleiku chu ia ea buon glei drai lak"""
)

# Bahnar/Jarai spellings neither Vietnamese nor English has: a word-initial consonant pair
# ("hnam", "hma", "dleh", "ktơr", "jrăng", "srôp", "tlâo", "djăi", "mlam"), or a vowel before a
# final h ("juh", "bih", "gah"; English has that only in interjections).
_MINORITY_SPELLING = re.compile(r"^(?:h[mnlr]|dl|dj|m[lr]|tl|kt|jr|sr|bn)|[aeiouy]h$")
_INTERJECTIONS = _words("ah oh uh eh huh yeah hah heh duh meh nah yah ahh ooh aah")


def _spelling(word: str) -> Literal["vi", "tone", "no"]:
    """Is a lower-case word one Vietnamese syllable ("vi"), one but for its tone marks ("tone":
    two tones, or "rât"/"mờt" where a final p/t/c/ch needs sắc or nặng), or not ("no")?
    ASCII words are compared with the syllables as they look without marks."""
    if word.isascii():
        return "vi" if word in _FOLDED_SYLLABLES else "no"
    decomposed = unicodedata.normalize("NFD", word)
    tones = [_TONES[ch] for ch in decomposed if ch in _TONES]
    base = unicodedata.normalize("NFC", "".join(ch for ch in decomposed if ch not in _TONES))
    if base not in _SYLLABLES:
        return "no"
    if len(tones) > 1 or (base.endswith(_STOP_FINALS) and not _STOP_TONES.intersection(tones)):
        return "tone"
    return "vi"


def _without_typing_slip(word: str) -> str:
    """Drop what a Telex keyboard leaves when a tone key misfires: a last s/f/x/j or a doubled
    last letter. Bahnar/Jarai finals (-r, -l, -h) are never dropped."""
    if word[-1] in "sfxj" or (len(word) > 2 and word[-1] == word[-2]):
        return word[:-1]
    return word


def _has_vi_marks(text: str) -> bool:
    """True if lower-case text has a letter or tone mark of Vietnamese spelling (ă ơ đ ế ...)."""
    return any(ch in _VI_MARKED for ch in text)


@lru_cache(maxsize=8192)
def _classify(raw: str, first: bool, quoted: bool) -> WordKind:
    """Classify one word as typed; `first`: it opens the message; `quoted`: the message uses
    apostrophes as quotation marks, so a leading one says nothing."""
    word = raw.lower()
    if quoted or _EN_CONTRACTION.match(word):
        word = word.lstrip("'")
    if len(word) == 1 and word.isascii():
        return "either"  # "e" (em), "k" (không), "u" (you), "i": too short to tell
    if word in _EN_WORDS or _EN_CONTRACTION.match(word):
        vi_too = _spelling(word) == "vi" or word in _VI_SHORTHAND
        return "either" if vi_too else "en"
    if "'" in word:
        return "minority"  # 'bok, h'dong: Vietnamese writes no apostrophes
    folded = fold(word)
    marked = _has_vi_marks(word)
    spelling = _spelling(word)
    if spelling == "vi" or word in _VI_SHORTHAND:
        return "vi"
    if marked and spelling == "no" and _spelling(_without_typing_slip(word)) != "no":
        return "vi"  # "đươcj", "khôngg": a Vietnamese word with a key pressed once too often
    if folded in _NEUTRAL_WORDS or (not first and raw.istitle()):
        return "neutral"  # a loanword or a name says nothing of the language around it
    if (marked and spelling == "no") or (
        _MINORITY_SPELLING.search(folded) and word not in _INTERJECTIONS
    ):
        return "minority"
    return "foreign"


def _is_latin(ch: str) -> bool:
    return ch.isascii() or unicodedata.name(ch, "").startswith("LATIN")


def _langdetect_says_english(text: str) -> bool:
    try:
        return bool(detect(text) == "en")
    except LangDetectException:
        return False


def tag_language(text: str) -> LanguageTag:
    """Tag a message as Vietnamese ("vi"), English ("en") or anything else ("other").

    Text without letters (empty, emoji, digits) is "vi": it needs no translator, and Vietnamese
    is the bot's default language.
    """
    cleaned = clean(text).replace("’", "'")
    lowered = cleaned.lower()
    letters = [ch for ch in cleaned if ch.isalpha()]
    if not letters:
        return "vi"
    if sum(not _is_latin(ch) for ch in letters) * 2 > len(letters):
        return "other"
    if any(ch in _MINORITY_LETTERS for ch in lowered):
        return "other"

    quoted = bool(_CLOSING_QUOTE.search(cleaned))
    kinds = Counter(
        _classify(raw, i == 0, quoted) for i, raw in enumerate(_WORD.findall(cleaned))
    )
    vi, en, minority = kinds["vi"], kinds["en"], kinds["minority"]
    foreign = kinds["foreign"] + minority
    marked = _has_vi_marks(lowered)
    if marked and minority and minority * 10 >= vi + en + foreign:
        return "other"
    if vi and vi >= en + foreign:
        return "vi"
    if en:
        return "en"
    if marked:  # Vietnamese letters, no English: Bahnar/Jarai if other words outnumber them
        return "other" if foreign else "vi"
    english = _langdetect_says_english(cleaned)
    if not foreign:  # only words both languages share: "can than", "to me", "ok"
        return "en" if english else "vi"
    return "en" if english else "other"
