"""Text normalisation shared by matching, language tagging and safeguarding."""

import re
import unicodedata

_SPACES = re.compile(r"\s+")
# What XML 1.0 cannot hold (so neither XLSX nor DOCX): control characters but tab and line
# breaks, lone surrogates, and the non-characters U+FFFE and U+FFFF.
NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_NUMBER = re.compile(r"[0-9]{1,18}")
# Zero-width and bidirectional control characters: invisible, never meaningful in an answer.
_INVISIBLE = re.compile("[\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]")


_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
# In JSON as it arrives: an escaped surrogate (half of an emoji's pair, or a lone one).
ESCAPED_SURROGATE = re.compile(rb"\\u[dD][89a-fA-F]")


def scrubbed(value: object) -> object:
    """A parsed JSON value with every lone surrogate (JSON's "\\ud800" alone, which no text
    can be stored or sent with) replaced by U+FFFD; the pairs JSON decoding joined are kept.
    Containers are changed in place."""
    if isinstance(value, str):
        return _LONE_SURROGATE.sub("\ufffd", value) if _LONE_SURROGATE.search(value) else value
    if isinstance(value, dict):
        for key, item in value.items():
            value[key] = scrubbed(item)
    elif isinstance(value, list):
        value[:] = [scrubbed(item) for item in value]
    return value


def nfc(text: str) -> str:
    """Compose decomposed (NFD) input, as some phone keyboards send it."""
    return unicodedata.normalize("NFC", text)


def clean(text: str) -> str:
    """NFC, invisible characters and what XML cannot hold removed, runs of whitespace
    collapsed, ends trimmed."""
    return _SPACES.sub(" ", NOT_XML.sub("", _INVISIBLE.sub("", nfc(text)))).strip()


def small_int(text: str, limit: int = 2**53) -> int | None:
    """A whole number written with ASCII digits only, at most `limit`; else None.

    `str.isdigit()` is not enough: "①", "²" and "٣" pass it, and int() then fails or reads a
    digit the person never typed; and an id of 23 digits overflows the database.
    """
    stripped = text.strip()
    if not _NUMBER.fullmatch(stripped):
        return None
    value = int(stripped)
    return value if value <= limit else None


def fold(text: str) -> str:
    """Lower-case text without tone marks or diacritics (đ → d), for matching what children type."""
    decomposed = unicodedata.normalize("NFD", clean(text).lower())
    stripped = "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn")
    return unicodedata.normalize("NFC", stripped.replace("đ", "d"))


_REPEATS = re.compile(r"([a-z])\1{2,}")  # "soooo" → "so", "chettt" → "chet"


def chat_word(word: str) -> str:
    """One folded word as children type it, made plain: letters repeated for emphasis squeezed,
    chat shorthand expanded ("ko" → "khong"; the result may be two words)."""
    word = _REPEATS.sub(r"\1", word)
    return CHAT_SHORTHAND.get(word, word)


# Children's chat spellings, on folded text: ko -> khong, dc -> duoc, mik -> minh ...
CHAT_SHORTHAND: dict[str, str] = {
    # không
    "ko": "khong", "k": "khong", "kh": "khong", "khg": "khong", "kg": "khong", "hok": "khong",
    "hong": "khong", "hk": "khong", "hem": "khong", "khum": "khong",
    # được
    "dc": "duoc", "dk": "duoc",
    # pronouns
    "e": "em", "mik": "minh", "mk": "minh", "mjk": "minh", "mjnh": "minh", "mh": "minh",
    "t": "tao", "ng": "nguoi", "ngta": "nguoi ta", "bme": "bo me", "bm": "bo me",
    "ck": "chong", "vk": "vo", "ny": "nguoi yeu", "bn": "ban", "ae": "anh em",
    # verbs and little words
    "bj": "bi", "vs": "voi", "j": "gi", "z": "vay", "r": "roi", "cx": "cung", "cg": "cung",
    "lm": "lam", "ntn": "nhu the nao", "trc": "truoc", "hs": "hoc sinh", "ms": "moi",
    "nx": "nua", "ik": "di", "bt": "biet", "bik": "biet", "ns": "noi", "mun": "muon",
    "chit": "chet", "iu": "yeu", "wa": "qua", "thik": "thich", "dt": "dien thoai",
    "fb": "facebook", "ib": "nhan tin", "nt": "nhan tin", "nhiu": "nhieu", "hnay": "hom nay",
    "hqua": "hom qua", "bh": "bay gio", "bgio": "bay gio", "nma": "nhung ma",
    # English
    "dont": "don t", "im": "i m", "wanna": "want to", "gonna": "going to", "cant": "can t",
}
