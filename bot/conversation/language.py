"""Tag the language of a child's free-text answer: Vietnamese, English or other.

"other" means "send to a human translator": in the first province that is mostly Bahnar (Ba Na)
and Jarai (Gia Rai), which plain language detectors take for Vietnamese. Three rules decide
first, then a rule for short texting replies; a small linear model decides the rest. See
docs/language.md.

1. No letters (empty, emoji, digits, punctuation) -> "vi", the bot's default language.
2. Mostly non-Latin letters (Khmer, Lao, Chinese, Cyrillic ...) -> "other".
3. A letter of Bahnar/Jarai spelling that Vietnamese never uses (ĕ ĭ ŏ ŭ, ơ̆, ě, ƀ, ñ) -> "other".
4. A short texting reply (`texting_reply`: at most three words, each a texting word of either
   language: "ok", "thx", "k", "lol", "see u", "ko", "dc", "hihi", "ừ") needs no translator, so
   it is never "other": "vi" if a word is Vietnamese chat only ("ko", "dc") and none English
   only, "en" the other way round ("thx", "brb"), else ("ok", "haha", "k") the model's choice
   between "vi" and "en".
5. The model (`scores`): a multinomial logistic regression over four classes (Vietnamese,
   English, Bahnar, Jarai) whose features are
   - the folded text's words, word pairs (the word sequence: Bahnar and Jarai share most single
     syllables with Vietnamese, not their sequences) and character 1-4-grams, also across the
     space between two words;
   - how the word rules count the words (`_classify`): a Vietnamese syllable (initial + rhyme
     allowed by Vietnamese spelling, tone allowed by the final; with or without marks), a
     Vietnamese chat spelling (shorthand, laughter, swear abbreviations, held letters
     "quáaaa", z/dz/j respellings "zậy", a Telex slip), English, either language, neutral
     (name, loanword), Bahnar/Jarai spelling ("minority": Vietnamese letters in a
     non-Vietnamese word, consonant pairs like hn-/hm-/dl-, a final -h, an apostrophe inside)
     or plain foreign; whether the text has Vietnamese letters; its length.
   The tag with the highest probability wins, "other" taking the mean of Bahnar and Jarai.
   Weights: langid_model.json, built by `python -m bot.conversation.langid_train` from the
   development data, the repository's Vietnamese and English and a texting-English list, never
   the held-out set. No language-detection library is used.
"""

import json
import math
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable
from functools import lru_cache
from itertools import pairwise
from pathlib import Path
from typing import Any, Literal

from bot.textnorm import CHAT_SHORTHAND, clean, fold
from bot.weights import Weights

LanguageTag = Literal["vi", "en", "other"]

# How one word counts; see `_classify`.
WordKind = Literal["vi", "chat", "en", "either", "neutral", "minority", "foreign"]
WORD_KINDS: tuple[WordKind, ...] = ("vi", "chat", "en", "either", "neutral", "minority", "foreign")


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

# Vietnamese chat shorthand: "ko" (không), "dc" (được), "mik" (mình), "bik" (biết), "j" (gì) ...,
# the shared list of `bot.textnorm` (but its English entries), laughter and the mild swear
# abbreviations teenagers type ("vl", "đm").
_VI_SHORTHAND = _words(
    "đc đk đg ko kh hk hok hong hem khum kg dc dk mik mk mjk mh mn ng ngta nc ns nt ntn zay dz "
    "vs vx bt bn bik ik ak nha nhe nhen nek ne wa cx cg ms trc sn ae ny ck vk cj tks hic hix "
    "huhu hihi haha hehe hjhj hoho keke kk kkk uh um uk ukm uhm hmm ok oke okela ui oi alo "
    "vl vcl vkl vc vđ đm dm đmm dmm đcm dcm cmn clgt cl ktra bme bgio hnay hqua nma nx thik "
    "pp oki okie hm"
) | (frozenset(CHAT_SHORTHAND) - _words("dont im wanna gonna cant"))

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
    im ive tmr tmrw nite gud coz cos bro dude msg
    cool nice awesome fine alright alr aight funny sad tired sick busy free hungry sleepy bored
    wow omg idk lmao lmfao lmk brb btw tbh imo gtg ttyl np ty tysm nvm ikr wtf hbu wbu sup yo ya
    yea yess nope nah ugh omw gn gm ily luv xoxo bday congrats cya babe sry srry pic pics txt
    text call called sounds yay oops aww wat wut hw gf bf cuz bc tho thru prob probs fav
    lunch dinner breakfast food eat ate movie meet meeting yesterday weekend exam homework job
    car bus shop reach reached coming leaving left wrong true problem question answer anyway
    whatever sorry miss missed already sure
    afternoon evening birthday bday hbd congratulations amazing perfect sweet cute ugly gross
    epic fail fair real exactly definitely probably seriously welcome yw idea guess hate mad
    angry scared worried worry calm chill relax hurry hugs kidding jk sent check deal facts
    noted sir sis bed bedtime eating lets thats whats kinda dunno lemme gimme gotcha asap obv
    ofc fr ngl smh idc omfg rofl rly soz wyd hru wassup bruh whoa woohoo eww meh huh damn sucks
    gg gl bb okey man dope lit bet sec agreed roger gnite tks thks hmm hm um umm uh uhm kk
    goodnight yummy yum"""
)
EN_WORDS = _EN_WORDS
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
_INTERJECTIONS = _words("ah oh uh eh huh yeah hah heh duh meh nah yah ahh ooh aah hm bruh")

# Laughter, however long: "hahaha", "hihihi", "kkkk", "lolol", "lmaooo", "xd".
_LAUGHTER = re.compile(r"^(?:(?:ha|he|hi|hj|ho|hu|ke|ki){2,}h?|kkk+|(?:lo){2,}l|lmf?ao+|x+d+)$")
_VI_LAUGHTER = frozenset({"hi", "hj", "hu", "ho", "ke", "ki", "kk"})  # "hihi", "kkk": not English
# Vietnamese one-word answers written with their marks ("ừ", "dạ"): unmistakable, and short.
_VI_ANSWERS = _words("ừ ừm ừa ờ ạ dạ vâng")


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


# Three or more of a letter: "hellooo", "yesss". `_held` keeps one, so double letters stay.
_HELD = re.compile(r"(.)\1{2,}")


def _held(word: str) -> str:
    return _HELD.sub(r"\1", word)


def _squeezed(word: str) -> str:
    """A letter held down for emphasis, once: "quáaaa" -> "quá", "luônnn" -> "luôn", "okeee" ->
    "oke" (a run of letters that are the same without their marks keeps its first)."""
    out: list[str] = []
    for ch in word:
        if not out or fold(ch) != fold(out[-1]):
            out.append(ch)
    return "".join(out)


# Chat spellings of Vietnamese initials: z/dz for d, gi or v ("zậy", "dzui"), j for gi or i
# ("jờ", "mjnh"), w for qu/u ("wá"), f for ph ("fải").
_CHAT_INITIALS = (("dz", ("d", "v")), ("z", ("d", "v", "gi")), ("j", ("gi",)), ("w", ("qu", "u")),
                  ("f", ("ph",)))


def _chat_respellings(word: str) -> list[str]:
    found: list[str] = []
    for typed, meant in _CHAT_INITIALS:
        if word.startswith(typed):
            found.extend(m + word[len(typed):] for m in meant)
    if "j" in word[1:]:
        found.append(word[0] + word[1:].replace("j", "i"))
    return found


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
    squeezed = _squeezed(word)
    for form in dict.fromkeys((word, _held(word), squeezed)):
        if form in _EN_WORDS or _EN_CONTRACTION.match(form):
            vi_too = _spelling(form) == "vi" or form in _VI_SHORTHAND
            return "either" if vi_too else "en"
    if _LAUGHTER.match(squeezed) or _LAUGHTER.match(word):
        return "chat" if word[:2] in _VI_LAUGHTER else "either"
    if "'" in word:
        return "minority"  # 'bok, h'dong: Vietnamese writes no apostrophes
    folded = fold(word)
    marked = _has_vi_marks(word)
    spelling = _spelling(word)
    if spelling == "vi":
        return "vi"
    if word in _VI_SHORTHAND or squeezed in _VI_SHORTHAND or _spelling(squeezed) == "vi":
        return "chat"
    if marked and spelling == "no" and _spelling(_without_typing_slip(word)) != "no":
        return "chat"  # "đươcj", "khôngg": a Vietnamese word with a key pressed once too often
    if any(_spelling(form) == "vi" for form in _chat_respellings(squeezed)):
        return "chat"  # "zậy", "dzui", "jờ", "mjnh"
    if folded in _NEUTRAL_WORDS or (not first and raw.istitle()):
        return "neutral"  # a loanword or a name says nothing of the language around it
    if (marked and spelling == "no") or (
        _MINORITY_SPELLING.search(folded) and not _INTERJECTIONS.intersection((word, squeezed))
    ):
        return "minority"
    return "foreign"


def _is_latin(ch: str) -> bool:
    return ch.isascii() or unicodedata.name(ch, "").startswith("LATIN")


# ---------------------------------------------------------------------------------------------
# The model: a linear classifier (vi, en, bahnar, jarai) over the folded text's words, word
# pairs and character 1-4-grams, and over how `_classify` counted the words. Weights come from
# langid_model.json, built from the development data by `python -m bot.conversation.langid_train`.

MODEL_FILE = Path(__file__).with_name("langid_model.json")
CLASSES = ("vi", "en", "bahnar", "jarai")
_CLASS_TAGS: tuple[LanguageTag, ...] = ("vi", "en", "other", "other")
_N = len(CLASSES)
_GRAMS = (1, 2, 3, 4)
# A word of the folded text: letters, with apostrophes inside or in front as Bahnar writes.
_MODEL_WORD = re.compile(r"'?[^\W\d_]+(?:'[^\W\d_]+)*")


def model_words(cleaned: str) -> list[str]:
    """The words the model reads: folded (no marks, đ -> d), held letters squeezed."""
    return _MODEL_WORD.findall(_HELD.sub(r"\1", fold(cleaned)))


def word_features(word: str) -> list[str]:
    """The word itself and the character 1-4-grams of " word "."""
    padded = f" {word} "
    return [f"w:{word}"] + [f"c:{padded[i:i + n]}" for n in _GRAMS
                            for i in range(len(padded) - n + 1)]


def pair_features(left: str, right: str) -> list[str]:
    """A word pair ("<s>"/"</s>" at the ends), and the character grams across the space between
    (the 3- and 4-grams of "left right" that hold a letter of each word)."""
    features = [f"b:{left} {right}"]
    if left != "<s>" and right != "</s>":
        features.append(f"c:{left[-1]} {right[0]}")
        if len(right) > 1:
            features.append(f"c:{left[-1]} {right[:2]}")
        if len(left) > 1:
            features.append(f"c:{left[-2:]} {right[0]}")
    return features


def rule_features(cleaned: str) -> dict[str, float]:
    """How the rules see the message: the share of each kind of word, Vietnamese letters or
    marks anywhere, a Bahnar/Jarai-looking word anywhere, one word, at most three words."""
    words = _WORD.findall(cleaned)
    quoted = bool(_CLOSING_QUOTE.search(cleaned))
    kinds = Counter(_classify(raw, i == 0, quoted) for i, raw in enumerate(words))
    n = len(words) or 1
    found = {f"r:{kind}": kinds[kind] / n for kind in WORD_KINDS if kinds[kind]}
    found["r:marked"] = float(_has_vi_marks(cleaned.lower()))
    found["r:minority_any"] = float(kinds["minority"] > 0)
    found["r:one_word"] = float(len(words) <= 1)
    found["r:three_words"] = float(len(words) <= 3)
    found["r:texting"] = float(texting_reply(cleaned) is not None)
    return found


def features(cleaned: str) -> dict[str, float]:
    """Every feature of a cleaned message with its value, as the model is trained on: n-gram
    features count, scaled by 1/sqrt(their total); rule features as they are."""
    words = model_words(cleaned)
    grams = Counter(f for word in words for f in word_features(word))
    grams.update(f for pair in pairwise(["<s>", *words, "</s>"]) for f in pair_features(*pair))
    scale = 1 / math.sqrt(sum(grams.values()))
    found = {f: count * scale for f, count in grams.items()}
    found.update(rule_features(cleaned))
    return found


class _Model:
    """Weights as loaded: a row of len(CLASSES) weights by feature (bot.weights)."""

    def __init__(self, data: dict[str, Any]) -> None:
        if tuple(data["classes"]) != CLASSES:
            raise ValueError(f"{MODEL_FILE.name} has classes {data['classes']}, not {CLASSES}")
        weights: dict[str, list[float]] = data["weights"]
        self.weights = Weights(list(weights), [w for row in weights.values() for w in row], _N)
        self.intercept: tuple[float, ...] = tuple(data["intercept"])

    def total(self, features: list[str]) -> list[float]:
        acc = [0.0] * _N
        rows = self.weights.values
        for feature in features:
            start = self.weights.row(feature)
            if start >= 0:
                for c in range(_N):
                    acc[c] += rows[start + c]
        return acc


@lru_cache(maxsize=1)
def _model() -> _Model:
    return _Model(json.loads(MODEL_FILE.read_text(encoding="utf-8")))


@lru_cache(maxsize=16384)
def _word_sum(word: str) -> tuple[tuple[float, ...], int]:
    found = word_features(word)
    return tuple(_model().total(found)), len(found)


@lru_cache(maxsize=16384)
def _pair_sum(left: str, right: str) -> tuple[tuple[float, ...], int]:
    found = pair_features(left, right)
    return tuple(_model().total(found)), len(found)


def scores(cleaned: str) -> list[float]:
    """The model's score of each class (CLASSES order) for a cleaned message; the same as the
    weights summed over `features(cleaned)`, but with sums per word and pair cached."""
    model = _model()
    words = model_words(cleaned)
    acc = [0.0] * _N
    count = 0
    parts = [_word_sum(w) for w in words]
    parts += [_pair_sum(a, b) for a, b in pairwise(["<s>", *words, "</s>"])]
    for vector, n in parts:
        count += n
        for c in range(_N):
            acc[c] += vector[c]
    scale = 1 / math.sqrt(count)
    out = [a * scale + b for a, b in zip(acc, model.intercept, strict=True)]
    rows = model.weights.values
    for feature, value in rule_features(cleaned).items():
        start = model.weights.row(feature)
        if start >= 0:
            for c in range(_N):
                out[c] += value * rows[start + c]
    return out


def tag_from_scores(raw: list[float], texting: bool = False) -> LanguageTag:
    """The tag the model finds most likely. The classes were learnt with equal weights, so
    "other" (Bahnar or Jarai) takes the mean of its two classes' odds: each tag gets the same
    prior, not "other" twice Vietnamese's. `texting` (see `texting_reply`): "vi" or "en" only."""
    top = max(raw)
    tagged: dict[LanguageTag, float] = {"vi": 0.0, "en": 0.0, "other": 0.0}
    for tag, score in zip(_CLASS_TAGS, raw, strict=True):
        tagged[tag] += math.exp(score - top) / _CLASS_TAGS.count(tag)
    if texting:
        del tagged["other"]
    return max(tagged, key=lambda tag: tagged[tag])


@lru_cache(maxsize=8192)
def _texting_side(raw: str) -> Literal["vi", "en", "both"] | None:
    """Whose texting a word is: Vietnamese chat only ("ko", "dc", "uk", "hihi", "kkk", "ừ"),
    English only ("thx", "lol", "brb", "see"), both ("ok", "haha", "hmm", a single letter, an
    English word that is also a Vietnamese syllable: "hi", "to", "me"), or not a texting word."""
    word = raw.lower()
    if (len(word) == 1 and word.isascii()) or word == "bot":
        return "both"  # "k" (ok, không), "e" (em), "u" (you); "bot" as in "hi bot", "ok bot"
    if word in _VI_ANSWERS:
        return "vi"
    forms = dict.fromkeys((word, _held(word), _squeezed(word)))
    laughter = next((f for f in forms if _LAUGHTER.match(f)), None)
    if laughter is not None:
        return "vi" if laughter[:2] in _VI_LAUGHTER else "both"
    english = [f for f in forms if f in _EN_WORDS]
    vietnamese = any(f in _VI_SHORTHAND for f in forms) or any(
        _spelling(f) == "vi" for f in english
    )
    if english:
        return "both" if vietnamese else "en"
    return "vi" if vietnamese else None


def texting_reply(cleaned: str) -> Literal["vi", "en", "both"] | None:
    """A short texting reply, which needs no translator: at most three words, each a texting word
    of either language (see `_texting_side`: "ok", "thx", "k", "lol", "see u", "ko", "dc",
    "hihi", "ừ"). Children of every language here type these, and "other" would send them to a
    translator for nothing. "vi" if a word is Vietnamese chat only and none English only, "en"
    the other way round, "both" when the words do not tell (then the model chooses between
    "vi" and "en", never "other"); None if the message is not such a reply."""
    words = _WORD.findall(cleaned)
    if not 0 < len(words) <= 3:
        return None
    sides = {_texting_side(w) for w in words}
    if None in sides:
        return None
    if "vi" in sides and "en" not in sides:
        return "vi"
    if "en" in sides and "vi" not in sides:
        return "en"
    return "both"


def rules_tag(cleaned: str) -> LanguageTag | None:
    """What the rules decide alone: no letters -> "vi"; mostly non-Latin letters, or a letter of
    Bahnar/Jarai spelling -> "other"; else None (the model decides)."""
    letters = [ch for ch in cleaned if ch.isalpha()]
    if not letters:
        return "vi"
    if sum(not _is_latin(ch) for ch in letters) * 2 > len(letters):
        return "other"
    if any(ch in _MINORITY_LETTERS for ch in cleaned.lower()):
        return "other"
    return None


def tag_language(text: str) -> LanguageTag:
    """Tag a message as Vietnamese ("vi"), English ("en") or anything else ("other").

    Text without letters (empty, emoji, digits) is "vi": it needs no translator, and Vietnamese
    is the bot's default language.
    """
    return tag_with(text, scores)


SHORT_WORDS = 3  # a field of at most this many words is too short to send to a translator alone


def tag_fields(texts: Iterable[str]) -> LanguageTag:
    """The language of a proposal, from its free-text fields (what the child saw, proposes, and
    their message), each tagged on its own: joined, a field in another language among
    Vietnamese ones is outvoted ("Em thấy" + unmarked Bahnar was "vi", so no translator saw it).

    "other" when one field is "other" by the rules (a Bahnar/Jarai letter, another script: sure
    however short), or a field of more than `SHORT_WORDS` words is "other" by the model; else
    the tag of the fields joined, as before. A field of 1-3 words alone does not decide: the
    model's weak spot ("dep", "la", "minh" alone are "other"), and joined with the others it
    still counts."""
    fields = [clean(t).replace("’", "'") for t in texts]
    fields = [f for f in fields if f.strip()]
    for field in fields:
        if rules_tag(field) == "other":
            return "other"
        if len(_WORD.findall(field)) > SHORT_WORDS and tag_language(field) == "other":
            return "other"
    return tag_language(" ".join(fields))


def tag_with(text: str, scorer: Callable[[str], list[float]]) -> LanguageTag:
    """The rules, then `scorer`'s class scores of the cleaned text (the shipped model's, or a
    model being measured: bot/conversation/langid_train.py)."""
    cleaned = clean(text).replace("’", "'")
    decided = rules_tag(cleaned)
    if decided is not None:
        return decided
    reply = texting_reply(cleaned)
    if reply == "vi" or reply == "en":
        return reply
    return tag_from_scores(scorer(cleaned), texting=reply == "both")
