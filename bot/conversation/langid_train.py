"""Build the language tagger's model from the development data, and measure it.

    python -m bot.conversation.langid_train            # writes bot/conversation/langid_model.json
    python -m bot.conversation.langid_train --report   # 5-fold cross-validated dev figures

Needs scikit-learn (the `train` extra; the bot itself only reads the weights). The build is
deterministic: the same data gives the same file (lbfgs has no randomness, the examples come in
a fixed order, BLAS runs on one thread, weights are rounded, the JSON is written with sorted
keys; a test rebuilds it and compares the bytes).

What is learnt (see docs/language.md): a multinomial logistic regression over four classes,
Vietnamese, English, Bahnar and Jarai, from
- the development files `shared/langid/*.tsv` (Vietnamese with and without marks, English SMS,
  Bahnar, Jarai; every Bahnar and Jarai line also with its marks stripped: NFD, combining marks
  dropped, đ -> d, NFC, as people type without a Vietnamese keyboard);
- Vietnamese already in the repository: the safeguarding corpus rows typed in Vietnamese (marked,
  unmarked, chat; not its mixed rows) and the grouping development proposals, each also with its
  marks stripped;
- English already in the repository: the safeguarding corpus rows marked `en` (children's
  English, from disclosures to "ok bye"; not the rows that are only place names or no letters);
- `TEXTING_ENGLISH` below: short texting English written for this tagger.
Never the held-out sets under tests/data/heldout/.

The figures of `--report` are out-of-fold: every source (each development file, the repository's
Vietnamese and English, the texting list) is cut in 5 folds (row i goes to fold i % 5), and each
fold is tagged by a model trained on the other 4 folds of every source.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import os
import re
import sys
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from bot.conversation.language import (
    CLASSES,
    EN_WORDS,
    MODEL_FILE,
    LanguageTag,
    features,
    tag_with,
)
from bot.safeguarding.train import one_blas_thread
from bot.textnorm import clean

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
SHARED = Path(os.environ.get("CHILDFORUM_SHARED") or ROOT.parent / "shared")
LANGID = SHARED / "langid"
REPO_VIETNAMESE = [
    *sorted((ROOT / "bot" / "safeguarding" / "corpus").glob("*.tsv")),
    ROOT / "tests" / "data" / "grouping" / "dev" / "proposals.tsv",
]
REPO_MARKS = frozenset({"marked", "unmarked", "chat"})  # the corpus's Vietnamese rows
C = 4.0  # inverse regularisation strength (chosen by cross-validation on the dev files)
MIN_EXAMPLES = 2  # an n-gram seen in fewer training examples is not learnt
MIN_WEIGHT = 0.005  # a feature whose weights are all smaller is dropped: same decisions
FOLDS = 5
ROUND = 4


def strip_marks(text: str) -> str:
    """Text as typed without marks: NFD, combining marks dropped, đ -> d, NFC (case kept)."""
    decomposed = unicodedata.normalize("NFD", text)
    kept = "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn")
    return unicodedata.normalize("NFC", kept.replace("đ", "d").replace("Đ", "D"))


def _rows(path: Path) -> list[dict[str, str]]:
    if not path.is_file():
        sys.exit(f"{path} is missing (the dev files live in shared/langid beside the repository, "
                 "or set CHILDFORUM_SHARED)")
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE))


# A development set: (file, expected tag, class learnt, columns that are the same row typed
# differently). Bahnar and Jarai rows are learnt and measured without marks too.
DEV = {
    "vi_dev": ("vi_dev.tsv", "vi", "vi"),
    "en_dev": ("en_dev.tsv", "en", "en"),
    "bahnar_dev": ("bahnar_dev.tsv", "other", "bahnar"),
    "jarai_dev": ("jarai_dev.tsv", "other", "jarai"),
}


# Short texting English, 1-3 words mostly, written for this tagger (childforum, 2nd change to
# the language tagger) from common English texting usage: greetings, answers, thanks, laughter,
# abbreviations. Not copied from any data set, and not from the held-out set (never read).
TEXTING_ENGLISH = tuple(t.strip() for t in re.split(r"[|\n]", """
ok|OK|Ok.|ok!|okay|Okay!|okk|okkk|okie|okey|kk|k|K.|k thx|ok thx|ok thank u|okay thanks|
ok ty|ok cool|ok sure|ok bye|ok see u|ok got it|ok np|ok will do|ok lol|ok good|ok fine|
ok wait|okay then|alright|alright then|aight|alr|sure|sure thing|yes|Yes!|yes pls|
yes please|yess|yesss|yeah|yea|ye|yup|yep|ya|yah|no|No.|nope|nah|no thx|no thanks|
not really|not yet|maybe|maybe later|idk|i dunno|dunno|idc|idk tbh|thanks|Thanks!|
thanks a lot|thanks so much|thank you|Thank you!|thank u|thank u so much|thx|thx!|thnx|
thanx|tks|ty|tysm|ty!|thx bro|thanks bro|thanks man|np|no prob|no problem|no worries|
ur welcome|you're welcome|yw|lol|LOL|lol ok|lol yes|lol no|lolol|lmao|lmfao|rofl|haha|
hahaha|haha yes|haha ok|hehe|xD|omg|OMG!|omg lol|oh my god|wow|wow nice|whoa|cool|cool!|
so cool|nice|nice one|great|good|very good|awesome|amazing|perfect|sweet|fine|im fine|
i'm fine|all good|sounds good|sounds great|good idea|got it|gotcha|i see|makes sense|true|
so true|fair|agreed|same|same here|me too|me neither|you too|u too|hi|Hi!|hi there|hey|
hey!|heyy|hello|hellooo|yo|sup|whats up|wassup|wyd|hbu|wbu|how r u|how are u|how are you?|
u ok?|you ok?|r u ok|are you there?|u there?|where r u|where are you|what?|wat|wut|huh|
huh?|what time?|when?|why?|how?|who?|really?|rly?|seriously?|for real|fr|ngl|tbh|imo|btw|
brb|gtg|g2g|gotta go|bye|bye!|byee|bye bye|bb|cya|see ya|see u|see you|see you soon|
see u later|see u tmr|c u|cu later|later|l8r|ttyl|talk later|good night|goodnight|night|
nite|gn|night night|sweet dreams|good morning|morning|gm|good afternoon|good evening|omw|
on my way|coming|coming!|be right there|almost there|im here|i'm here|here|at home|
home now|just woke up|wait|wait up|hold on|one sec|sec|1 sec|one min|just a min|
wait for me|hurry up|come on|lets go|let's go|ready?|ready|done|all done|finished|sent|
check it|call me|call me later|text me|msg me|dm me|lmk|let me know|tell me|miss u|
miss you|love u|love you|ily|luv u|xoxo|hugs|sorry|sry|soz|my bad|oops|sorry my bad|
sorry im late|my fault|pls|plz|please|pls help|help|help me|help pls|stop|stop it|
leave me alone|go away|shut up|whatever|nvm|never mind|forget it|its ok|it's fine|
no big deal|dont worry|don't worry|chill|relax|calm down|ugh|meh|hmm|hmmm|umm|uh|uh oh|oh|
oh ok|oh no|oh wow|oh really|ah ok|aww|aw|yay|yay!|woohoo|congrats|congratulations|
happy birthday|hbd|gl|good luck|gg|well done|good job|bruh|bro|dude|man|girl|sis|nice bro|
smh|ikr|i know|i know right|no way|no way!|wtf|omfg|damn|ffs|idgaf|bored|im bored|
so bored|tired|so tired|im tired|hungry|im hungry|sleepy|sick|im sick|busy|im busy|
kinda busy|free now|im free|not now|later pls|tmr|tmrw|tomorrow|tonight|today|now|
right now|asap|soon|np see u|yes sir|no sir|deal|bet|facts|noted|roger|copy that|
understood|exactly|definitely|of course|ofc|obv|probably|prob|maybe tmr|i guess|guess so|
hope so|i think so|i dont think so|good for u|so cute|cute|beautiful|ugly|funny|so funny|
thats funny|thats cool|thats nice|thats great|sad|so sad|im sad|happy|im happy|scared|
im scared|worried|angry|mad|i hate it|i love it|love it|like it|i like it|yummy|gross|eww|
lit|dope|sick bro|epic|fail|win|i win|u win|my turn|your turn|me first|i got it|got u|
thanks for help|thank you teacher|hi teacher|hello bot|hi bot|thanks bot|bye bot|good bot|
what is this|what is it|who is this|who r u|what's that|why not|how come|so what|and u?|
and you?|you?|me?|us?|me and u|just me|just kidding|jk|lol jk|kidding|my phone died|
low battery|no wifi|wifi sucks|brb food|eating|eating now|at school|in class|after school|
on the bus|walking home|going home|going out|going to bed|gotta sleep|bedtime
""") if t.strip())

# What is learnt and measured: name -> (expected tag, class learnt). The dev files first.
SETS = {
    **{name: (tag, label) for name, (_, tag, label) in DEV.items()},
    "repo_vi": ("vi", "vi"),
    "repo_en": ("en", "en"),
    "texting_en": ("en", "en"),
}


def dev_rows(name: str) -> list[list[str]]:
    """Each row of a set as its variants: [text, text without marks]."""
    if name == "vi_dev":
        return [[row["text"], row["text_nodiacritics"]] for row in _rows(LANGID / DEV[name][0])]
    if name in DEV:
        texts = [row["text"] for row in _rows(LANGID / DEV[name][0])]
    elif name == "repo_vi":
        texts = repo_texts(vietnamese=True)
    elif name == "repo_en":
        texts = repo_texts(vietnamese=False)
    else:
        texts = list(TEXTING_ENGLISH)
    return [[text, strip_marks(text)] for text in texts]


def _only_names(text: str) -> bool:
    """A row of the corpus's English that is only capitalised names ("Kon Tum", "Đắk Lắk")."""
    words = text.split()
    return all(w.istitle() for w in words) and not all(w.lower() in EN_WORDS for w in words)


def repo_texts(vietnamese: bool) -> list[str]:
    """The repository's Vietnamese (corpus rows marked, unmarked or chat; grouping proposals), or
    its English (corpus rows marked en, but those without letters or only place names)."""
    texts = []
    for path in REPO_VIETNAMESE:
        for row in _rows(path):
            marks, text = row.get("marks", "marked"), row["text"]
            english = (marks == "en" and any(ch.isalpha() for ch in text)
                       and not _only_names(text))
            if (marks in REPO_MARKS) if vietnamese else english:
                texts.append(text)
    return texts


def data_digest() -> str:
    digest = hashlib.sha256()
    for path in [*(LANGID / spec[0] for spec in DEV.values()), *REPO_VIETNAMESE]:
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    digest.update("\n".join(TEXTING_ENGLISH).encode())
    return digest.hexdigest()


Example = tuple[str, str]  # (text, class)


def examples(fold: int | None = None) -> list[Example]:
    """What to learn from: every set's rows (but fold `fold` of each, if given) in every
    variant (as typed and without marks)."""
    found: list[Example] = []
    for name, (_, label) in SETS.items():
        for i, variants in enumerate(dev_rows(name)):
            if fold is None or i % FOLDS != fold:
                found.extend((text, label) for text in dict.fromkeys(variants))
    return found


def fit(train: Sequence[Example], c: float = C) -> dict[str, Any]:
    """The model file's content, learnt from `train`."""
    from sklearn.feature_extraction import DictVectorizer
    from sklearn.linear_model import LogisticRegression

    rows = [features(clean(text).replace("’", "'")) for text, _ in train]
    seen = Counter(f for row in rows for f in row)
    rows = [{f: v for f, v in row.items() if f.startswith("r:") or seen[f] >= MIN_EXAMPLES}
            for row in rows]
    vectorizer = DictVectorizer(sort=True)
    matrix = vectorizer.fit_transform(rows)
    labels = [CLASSES.index(label) for _, label in train]
    classifier = LogisticRegression(C=c, class_weight="balanced", max_iter=5000)
    with one_blas_thread():  # as many threads as cores moved the last digits (1.6e-10 here)
        classifier.fit(matrix, labels)
    assert list(classifier.classes_) == list(range(len(CLASSES)))
    weights = {}
    for j, name in enumerate(vectorizer.get_feature_names_out()):
        column = [round(float(w), ROUND) for w in classifier.coef_[:, j]]
        if max(abs(w) for w in column) >= MIN_WEIGHT:
            weights[str(name)] = column
    return {
        "classes": list(CLASSES),
        "intercept": [round(float(b), ROUND) for b in classifier.intercept_],
        "weights": weights,
        "params": {"C": c, "min_examples": MIN_EXAMPLES, "min_weight": MIN_WEIGHT,
                   "examples": len(train)},
    }


def tagger(model: dict[str, Any]) -> Callable[[str], LanguageTag]:
    """tag_language with the given model instead of the shipped one (uncached sums)."""
    weights: dict[str, list[float]] = model["weights"]
    intercept: list[float] = model["intercept"]

    def scorer(cleaned: str) -> list[float]:
        raw = list(intercept)
        for feature, value in features(cleaned).items():
            for c, w in enumerate(weights.get(feature, ())):
                raw[c] += value * w
        return raw

    return lambda text: tag_with(text, scorer)


# The sets and variants measured: (label, set, variant index, transform, at most this many
# words or 0 for any length). Short messages have their own lines: a one-word answer is where
# the languages look most alike.
def _nfd(text: str) -> str:
    return unicodedata.normalize("NFD", text)


def _same(text: str) -> str:
    return text


SHORT = 3  # "short": at most three words

MEASURED: list[tuple[str, str, int, Callable[[str], str], int]] = [
    ("vi_dev text (marked)", "vi_dev", 0, _same, 0),
    ("vi_dev text_nodiacritics", "vi_dev", 1, _same, 0),
    ("vi_dev text, NFD", "vi_dev", 0, _nfd, 0),
    ("en_dev", "en_dev", 0, _same, 0),
    ("en_dev 1-3 words", "en_dev", 0, _same, SHORT),
    ("bahnar_dev marked", "bahnar_dev", 0, _same, 0),
    ("bahnar_dev unmarked", "bahnar_dev", 1, _same, 0),
    ("bahnar_dev unmarked 1-3 w", "bahnar_dev", 1, _same, SHORT),
    ("jarai_dev marked", "jarai_dev", 0, _same, 0),
    ("jarai_dev unmarked", "jarai_dev", 1, _same, 0),
    ("repo vi as typed", "repo_vi", 0, _same, 0),
    ("repo vi as typed 1-3 w", "repo_vi", 0, _same, SHORT),
    ("repo vi no marks 1-3 w", "repo_vi", 1, _same, SHORT),
    ("repo en", "repo_en", 0, _same, 0),
    ("repo en 1-3 words", "repo_en", 0, _same, SHORT),
    ("texting en (own list)", "texting_en", 0, _same, 0),
]


def measured_rows(name: str, variant: int, transform: Callable[[str], str],
                  most: int) -> list[tuple[int, str]]:
    """(row index, text) of a measured set: the variant, transformed, short rows only if
    `most`."""
    found = []
    for i, variants in enumerate(dev_rows(name)):
        if not most or len(variants[0].split()) <= most:
            found.append((i, transform(variants[variant])))
    return found


def cross_validated(c: float = C) -> dict[str, tuple[int, int, int]]:
    """Out-of-fold (right, total, tagged "other") per measured set."""
    counts = {label: [0, 0, 0] for label, *_ in MEASURED}
    for fold in range(FOLDS):
        tag = tagger(fit(examples(fold), c))
        for label, name, variant, transform, most in MEASURED:
            expected = SETS[name][0]
            for i, text in measured_rows(name, variant, transform, most):
                if i % FOLDS == fold:
                    got = tag(text)
                    counts[label][0] += got == expected
                    counts[label][1] += 1
                    counts[label][2] += got == "other"
    return {label: (right, total, other) for label, (right, total, other) in counts.items()}


def report(c: float = C) -> str:
    lines = [f"5-fold cross-validation, C={c}",
             f"{'dev set':28} {'n':>4} {'accuracy':>9} {'to other':>9}"]
    for label, (right, total, other) in cross_validated(c).items():
        lines.append(f"{label:28} {total:4} {right / total:9.1%} {other / total:9.1%}")
    return "\n".join(lines)


def write(model: dict[str, Any], path: Path = MODEL_FILE) -> None:
    text = json.dumps(model, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    path.write_text(text + "\n", encoding="utf-8")


def build(c: float = C) -> dict[str, Any]:
    model = fit(examples(), c)
    model["data"] = data_digest()
    return model


def main(argv: Iterable[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--report", action="store_true", help="print the cross-validated figures")
    parser.add_argument("--C", type=float, default=C, help="inverse regularisation strength")
    parser.add_argument("--no-write", action="store_true", help="do not write the model file")
    args = parser.parse_args(list(argv) if argv is not None else None)
    if args.report:
        print(report(args.C))
    if not args.no_write:
        model = build(args.C)
        write(model)
        print(f"{MODEL_FILE}: {len(model['weights'])} features")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
