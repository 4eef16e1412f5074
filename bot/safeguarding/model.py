"""The safeguarding model at run time: features of a message, a score, and the words that weighed.

A linear model over binary features, L2-normalised: word unigrams and bigrams and character
3- to 5-grams of the message. Tone marks are folded away only where the message has none, so that
"dành thời gian" (to spend time) never looks like "đánh" (to hit): a message typed with marks is
read in the marked space ("m"), one typed without in the folded space ("f"). Teen shorthand is
expanded first (ko → không, e → em, bme → bố mẹ ...), runs of a repeated letter are cut.

The weights come from `bot/safeguarding/model.json.gz`, built from the corpus by
`python -m bot.safeguarding.train` (scikit-learn, at build time only). Scoring needs no library:
it is a sum of weights, so that it stays under a millisecond and a few megabytes (`Weights`).
"""

from __future__ import annotations

import gzip
import itertools
import json
import math
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from functools import lru_cache
from importlib import resources
from typing import Any, Protocol

from bot.textnorm import clean, fold
from bot.weights import Weights

MODEL_FILE = "model.json.gz"
WINDOW_SENTENCES = 2  # a long message is scored by windows of sentences: its worst one counts
_SENTENCES = re.compile(r"(?<=[.!?;\n…])\s+")
_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_REPEATS = re.compile(r"(\w)\1{2,}")
# Shorthand children type, folded -> (folded expansion, marked expansion).
SHORTHAND: dict[str, tuple[str, str]] = {
    "ko": ("khong", "không"), "k": ("khong", "không"), "kh": ("khong", "không"),
    "khg": ("khong", "không"), "kg": ("khong", "không"), "hok": ("khong", "không"),
    "hong": ("khong", "không"), "hk": ("khong", "không"), "hem": ("khong", "không"),
    "khum": ("khong", "không"), "dc": ("duoc", "được"), "dk": ("duoc", "được"),
    "e": ("em", "em"), "mik": ("minh", "mình"), "mk": ("minh", "mình"),
    "mjk": ("minh", "mình"), "mjnh": ("minh", "mình"), "bme": ("bo me", "bố mẹ"),
    "bm": ("bo me", "bố mẹ"), "ng": ("nguoi", "người"), "ngta": ("nguoi ta", "người ta"),
    "ck": ("chong", "chồng"), "vk": ("vo", "vợ"), "ny": ("nguoi yeu", "người yêu"),
    "bn": ("ban", "bạn"), "bj": ("bi", "bị"), "vs": ("voi", "với"), "j": ("gi", "gì"),
    "z": ("vay", "vậy"), "r": ("roi", "rồi"), "cx": ("cung", "cũng"), "cg": ("cung", "cũng"),
    "lm": ("lam", "làm"), "ntn": ("nhu the nao", "như thế nào"), "ms": ("moi", "mới"),
    "nx": ("nua", "nữa"), "ik": ("di", "đi"), "bt": ("biet", "biết"), "bik": ("biet", "biết"),
    "ns": ("noi", "nói"), "mun": ("muon", "muốn"), "iu": ("yeu", "yêu"), "wa": ("qua", "quá"),
    "thik": ("thich", "thích"), "dt": ("dien thoai", "điện thoại"), "ib": ("nhan tin", "nhắn tin"),
    "nt": ("nhan tin", "nhắn tin"), "hs": ("hoc sinh", "học sinh"), "trc": ("truoc", "trước"),
    "tui": ("toi", "tôi"), "hnay": ("hom nay", "hôm nay"), "hqua": ("hom qua", "hôm qua"),
}


def has_marks(text: str) -> bool:
    """True when the message carries Vietnamese tone marks or letters (ă, đ, ơ ...)."""
    return any(unicodedata.category(ch) == "Mn" or ch in "đĐ"
               for ch in unicodedata.normalize("NFD", text))


def words_of(text: str) -> tuple[str, list[str]]:
    """The space ("m" marked, "f" folded) and the message's normalised words."""
    marked = has_marks(text)
    base = clean(text).lower() if marked else fold(text)
    words: list[str] = []
    for raw in _WORD.findall(_REPEATS.sub(r"\1", base)):
        folded = raw if not marked else fold(raw)
        expansion = SHORTHAND.get(folded) if folded == raw or not marked else None
        if expansion is not None:
            words.extend(expansion[1 if marked else 0].split())
        else:
            words.append(raw)
    return ("m" if marked else "f"), words


def features(text: str) -> set[str]:
    space, words = words_of(text)
    found = {f"{space}w:{word}" for word in words}
    found.update(f"{space}b:{a}_{b}" for a, b in itertools.pairwise(words))
    joined = f" {' '.join(words)} "
    for size in (3, 4, 5):
        found.update(f"{space}c:{joined[i:i + size]}" for i in range(len(joined) - size + 1))
    return found


def sentences(text: str) -> list[str]:
    parts = [part for part in _SENTENCES.split(text) if part.strip()]
    return parts or [text]


def windows(text: str) -> Iterable[str]:
    """The message itself when short, else each run of WINDOW_SENTENCES sentences."""
    parts = sentences(text)
    if len(parts) <= WINDOW_SENTENCES:
        yield text
        return
    for start in range(len(parts) - WINDOW_SENTENCES + 1):
        yield " ".join(parts[start:start + WINDOW_SENTENCES])


class Lookup(Protocol):
    def get(self, feature: str, default: float, /) -> float: ...
    def __len__(self) -> int: ...


def _total(weights: Lookup, found: Iterable[str]) -> float:
    if isinstance(weights, Weights):
        return weights.total(found)
    # Weights with their features (building, testing): summed exactly, so that a score does not
    # depend on the order of the set of features, which changes with each process's
    # PYTHONHASHSEED (the build chooses its thresholds from such scores).
    return math.fsum(weights.get(feature, 0.0) for feature in found)


@dataclass(frozen=True)
class Model:
    weights: Lookup
    intercept: float
    tier1: float  # P(harm) at or above which the child gets the hotline reply at once
    tier2: float  # P(harm) at or above which a person looks before anything goes further
    corpus: str  # sha256 of the corpus it was built from
    params: dict[str, Any]
    # Which kind of harm it looks like (for safeguarding staff): per kind, word weights.
    kinds: Mapping[str, Lookup] = field(default_factory=dict)
    kind_intercepts: dict[str, float] = field(default_factory=dict)

    def kind(self, text: str) -> str:
        """The kind of harm the message looks most like ("" without a kind model)."""
        if not self.kinds:
            return ""
        found = [f for f in features(text) if f[1:3] in ("w:", "b:")]
        norm = math.sqrt(len(found)) or 1.0
        return max(self.kinds, key=lambda kind: self.kind_intercepts.get(kind, 0.0)
                   + _total(self.kinds[kind], found) / norm)

    def probability(self, text: str) -> float:
        """P(this message discloses harm or may), the worst window of a long message."""
        return max(self._probability(part) for part in windows(text))

    def _probability(self, text: str) -> float:
        found = features(text)
        if not found:
            return 1 / (1 + math.exp(-self.intercept))
        total = _total(self.weights, found)
        score = total / math.sqrt(len(found)) + self.intercept
        return 1 / (1 + math.exp(-max(-30.0, min(30.0, score))))

    def weighed(self, text: str, count: int = 5) -> list[str]:
        """The words that weighed most towards harm (word features only), for the moderator."""
        found = [(self.weights.get(feature, 0.0), feature) for feature in features(text)
                 if feature[1:3] in ("w:", "b:")]
        top = sorted((item for item in found if item[0] > 0), reverse=True)[:count]
        return [feature[3:].replace("_", " ") for _, feature in top]

    def compact(self) -> Model:
        """The same model with its weights in `Weights` (for scoring; it cannot be written)."""
        return replace(self, weights=Weights.of(_plain(self.weights)), kinds={
            kind: Weights.of(_plain(weights)) for kind, weights in self.kinds.items()})

    def to_json(self) -> dict[str, Any]:
        return {"weights": self.weights, "intercept": self.intercept, "tier1": self.tier1,
                "tier2": self.tier2, "corpus": self.corpus, "params": self.params,
                "kinds": self.kinds, "kind_intercepts": self.kind_intercepts}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Model:
        return cls(data["weights"], data["intercept"], data["tier1"], data["tier2"],
                   data["corpus"], data.get("params", {}), data.get("kinds", {}),
                   data.get("kind_intercepts", {}))


def _plain(weights: Lookup) -> dict[str, float]:
    if not isinstance(weights, dict):
        raise TypeError("a compact model's weights have lost their features")
    return weights


def from_file() -> Model:
    """The model shipped in the package, its features readable (for building and testing)."""
    data = (resources.files("bot.safeguarding") / MODEL_FILE).read_bytes()
    return Model.from_json(json.loads(gzip.decompress(data)))


@lru_cache(maxsize=1)
def shipped() -> Model:
    """The model shipped in the package, compact (loaded once)."""
    return from_file().compact()
