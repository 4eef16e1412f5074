"""Build the language tagger's model from the development data, and measure it.

    python -m bot.conversation.langid_train            # writes bot/conversation/langid_model.json
    python -m bot.conversation.langid_train --report   # 5-fold cross-validated dev figures

Needs scikit-learn (the `train` extra; the bot itself only reads the weights). The build is
deterministic: the same data gives the same file (lbfgs has no randomness, weights are rounded,
the JSON is written with sorted keys).

What is learnt (see docs/language.md): a multinomial logistic regression over four classes,
Vietnamese, English, Bahnar and Jarai, from
- the development files `shared/langid/*.tsv` (Vietnamese with and without marks, English SMS,
  Bahnar, Jarai; every Bahnar and Jarai line also with its marks stripped: NFD, combining marks
  dropped, đ -> d, NFC, as people type without a Vietnamese keyboard);
- Vietnamese already in the repository: the safeguarding corpus rows typed in Vietnamese (marked,
  unmarked, chat; not its English or mixed rows) and the grouping development proposals, each
  also with its marks stripped.
Never the held-out sets under tests/data/heldout/.

The figures of `--report` are out-of-fold: each development file is cut in 5 folds (row i goes to
fold i % 5), and each fold is tagged by a model trained on the other 4 (and the repository's
Vietnamese, which is never measured).
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import os
import sys
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from bot.conversation.language import (
    CLASSES,
    MODEL_FILE,
    LanguageTag,
    features,
    rules_tag,
    tag_from_scores,
)
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


def dev_rows(name: str) -> list[list[str]]:
    """Each row of a dev file as its variants: [text, text without marks]."""
    file = DEV[name][0]
    if name == "vi_dev":
        return [[row["text"], row["text_nodiacritics"]] for row in _rows(LANGID / file)]
    return [[row["text"], strip_marks(row["text"])] for row in _rows(LANGID / file)]


def repo_vietnamese() -> list[str]:
    texts = []
    for path in REPO_VIETNAMESE:
        for row in _rows(path):
            if row.get("marks", "marked") in REPO_MARKS:
                texts.append(row["text"])
    return texts


def data_digest() -> str:
    digest = hashlib.sha256()
    for path in [*(LANGID / spec[0] for spec in DEV.values()), *REPO_VIETNAMESE]:
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


Example = tuple[str, str]  # (text, class)


def examples(fold: int | None = None) -> list[Example]:
    """What to learn from: the dev rows (but fold `fold`, if given) in every variant, and the
    repository's Vietnamese with and without marks."""
    found: list[Example] = []
    for name, (_, _, label) in DEV.items():
        for i, variants in enumerate(dev_rows(name)):
            if fold is None or i % FOLDS != fold:
                found.extend((text, label) for text in dict.fromkeys(variants))
    for text in repo_vietnamese():
        found.extend((variant, "vi") for variant in dict.fromkeys([text, strip_marks(text)]))
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

    def tag(text: str) -> LanguageTag:
        cleaned = clean(text).replace("’", "'")
        decided = rules_tag(cleaned)
        if decided is not None:
            return decided
        raw = list(intercept)
        for feature, value in features(cleaned).items():
            for c, w in enumerate(weights.get(feature, ())):
                raw[c] += value * w
        return tag_from_scores(raw)

    return tag


# The sets and variants measured: (label, dev file, variant index, transform).
def _nfd(text: str) -> str:
    return unicodedata.normalize("NFD", text)


def _same(text: str) -> str:
    return text


MEASURED: list[tuple[str, str, int, Callable[[str], str]]] = [
    ("vi_dev text (marked)", "vi_dev", 0, _same),
    ("vi_dev text_nodiacritics", "vi_dev", 1, _same),
    ("vi_dev text, NFD", "vi_dev", 0, _nfd),
    ("en_dev", "en_dev", 0, _same),
    ("bahnar_dev marked", "bahnar_dev", 0, _same),
    ("bahnar_dev unmarked", "bahnar_dev", 1, _same),
    ("jarai_dev marked", "jarai_dev", 0, _same),
    ("jarai_dev unmarked", "jarai_dev", 1, _same),
]


def cross_validated(c: float = C) -> dict[str, tuple[int, int]]:
    """Out-of-fold (right, total) per measured set."""
    counts = {label: [0, 0] for label, *_ in MEASURED}
    for fold in range(FOLDS):
        tag = tagger(fit(examples(fold), c))
        for label, name, variant, transform in MEASURED:
            expected = DEV[name][1]
            for i, variants in enumerate(dev_rows(name)):
                if i % FOLDS == fold:
                    counts[label][0] += tag(transform(variants[variant])) == expected
                    counts[label][1] += 1
    return {label: (right, total) for label, (right, total) in counts.items()}


def report(c: float = C) -> str:
    lines = [f"5-fold cross-validation, C={c}", f"{'dev set':28} {'n':>4} {'accuracy':>9}"]
    for label, (right, total) in cross_validated(c).items():
        lines.append(f"{label:28} {total:4} {right / total:9.1%}")
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
