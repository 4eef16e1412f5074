"""Build the safeguarding model from the corpus, and measure it.

    python -m bot.safeguarding.train            # writes bot/safeguarding/model.json.gz
    python -m bot.safeguarding.train --report   # the figures of docs/safeguarding.md

Needs scikit-learn (a development dependency: the bot itself only reads the weights). The build
is deterministic: the same corpus gives the same file, byte for byte, whatever the process's
PYTHONHASHSEED and the machine's number of cores (a test rebuilds it and compares the bytes), as
long as scikit-learn and its BLAS compute alike (another CPU kernel may move a last digit).

What is learnt: P(harm), harm being a disclosure (tier 1 in the corpus: the child, or a child
they name, is being harmed) or a concern (tier 2: might be). Every corpus row typed with tone
marks is also learnt without them, so the folded space knows every wording. Two thresholds are
chosen from out-of-fold predictions of a 5-fold cross-validation on the corpus (never on the
development or held-out sets): tier 2 so that 95 % of the corpus's disclosures reach a person,
tier 1 so that at most 1.5 % of its ordinary proposals and chat get the hotline reply. A second,
smaller model names the kind of harm a message looks like (for staff), from word features.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import hashlib
import json
import sys
from collections import Counter
from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path

from bot.safeguarding.model import MODEL_FILE, Model, features
from bot.textnorm import fold

HERE = Path(__file__).resolve().parent
CORPUS = HERE / "corpus"
ROOT = HERE.parents[1]
DEV = ROOT.parent / "shared" / "safeguarding" / "dev.tsv"
HELDOUT = ROOT / "tests" / "data" / "heldout" / "safeguarding.tsv"
HARM = frozenset({"disclosure", "concern"})
C = 16.0  # inverse regularisation strength (chosen by cross-validation on the corpus)
MIN_WEIGHT = 0.02  # weights smaller than this are dropped: a smaller file, the same decisions
TIER2_RECALL = 0.95
TIER1_FALSE_ALARMS = 0.015  # sets written by others saw 1.5-2.5 times the corpus's rate
SEED = 8


@dataclass(frozen=True)
class Row:
    label: str  # disclosure, concern, proposal, chat (corpus); disclosure, topic, other (sets)
    kind: str
    text: str

    @property
    def harm(self) -> bool:
        return self.label in HARM


def read(path: Path) -> list[Row]:
    with path.open(encoding="utf-8", newline="") as file:
        return [Row(line["label"], line.get("kind") or "none", line["text"])
                for line in csv.DictReader(file, delimiter="\t")]


def corpus() -> list[Row]:
    return [row for path in sorted(CORPUS.glob("*.tsv")) for row in read(path)]


def corpus_digest() -> str:
    digest = hashlib.sha256()
    for path in sorted(CORPUS.glob("*.tsv")):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def variants(text: str) -> list[str]:
    """The text as typed, then without its marks if it has any. Always in this order: the solver
    visits the examples in the order given, and a set's order (which changes with each process's
    PYTHONHASHSEED) moved its last digits, and with them a few rounded weights."""
    return list(dict.fromkeys((text, fold(text))))


def examples(rows: Sequence[Row]) -> tuple[list[str], list[int]]:
    """Texts and labels to learn from: each marked row also without its marks."""
    texts, labels = [], []
    for row in rows:
        for text in variants(row.text):
            texts.append(text)
            labels.append(int(row.harm))
    return texts, labels


def one_blas_thread() -> AbstractContextManager[object]:
    """BLAS (OpenBLAS, under the solvers' dot products) on one thread while fitting: it splits a
    dot product into one partial sum per thread, so the sums, the solver's last digits and a few
    rounded weights depended on how many cores the building machine had (1 or 2 threads here:
    up to 1.6e-6 apart before rounding)."""
    from threadpoolctl import threadpool_limits

    limits: AbstractContextManager[object] = threadpool_limits(limits=1, user_api="blas")
    return limits


def fit(rows: Sequence[Row]) -> Model:
    """A model from rows (thresholds left at 0.5: `build` chooses them)."""
    from sklearn.feature_extraction.text import CountVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import Normalizer

    texts, labels = examples(rows)
    vectorizer = CountVectorizer(analyzer=lambda text: sorted(features(text)), binary=True)
    matrix = Normalizer().fit_transform(vectorizer.fit_transform(texts))
    classifier = LogisticRegression(C=C, class_weight="balanced", max_iter=5000,
                                    solver="liblinear", random_state=SEED)
    with one_blas_thread():
        classifier.fit(matrix, labels)
    weights = {feature: round(float(weight), 4) for feature, weight in
               zip(vectorizer.get_feature_names_out(), classifier.coef_[0], strict=True)
               if abs(weight) >= MIN_WEIGHT}
    return Model(weights, round(float(classifier.intercept_[0]), 4), 0.5, 0.5, "",
                 {"C": C, "min_weight": MIN_WEIGHT})


def out_of_fold(rows: Sequence[Row], folds: int = 5) -> list[float]:
    """P(harm) of each row from a model that did not learn it (stratified by label and kind)."""
    from sklearn.model_selection import StratifiedKFold

    strata = [f"{row.label}/{row.kind}" for row in rows]
    counts = Counter(strata)
    strata = [s if counts[s] >= folds else s.split("/")[0] for s in strata]
    scores = [0.0] * len(rows)
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=SEED)
    for train, test in splitter.split(rows, strata):
        model = fit([rows[i] for i in train])
        for index in test:
            scores[index] = model.probability(rows[index].text)
    return scores


def thresholds(rows: Sequence[Row], scores: Sequence[float]) -> tuple[float, float]:
    """(tier 1, tier 2) from out-of-fold scores (see the module docstring)."""
    disclosures = sorted(s for row, s in zip(rows, scores, strict=True)
                         if row.label == "disclosure")
    ordinary = sorted((s for row, s in zip(rows, scores, strict=True) if not row.harm),
                      reverse=True)
    tier2 = disclosures[int((1 - TIER2_RECALL) * len(disclosures))]
    tier1 = ordinary[int(TIER1_FALSE_ALARMS * len(ordinary))] + 1e-4
    return round(max(tier1, tier2), 4), round(tier2, 4)


def fit_kinds(rows: Sequence[Row]) -> tuple[dict[str, dict[str, float]], dict[str, float]]:
    """Word weights per kind of harm, learnt from the harm rows."""
    from sklearn.feature_extraction.text import CountVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import Normalizer

    harm = [row for row in rows if row.harm]
    texts, kinds = [], []
    for row in harm:
        for text in variants(row.text):
            texts.append(text)
            kinds.append(row.kind)
    vectorizer = CountVectorizer(binary=True, analyzer=lambda text: sorted(
        f for f in features(text) if f[1:3] in ("w:", "b:")))
    matrix = Normalizer().fit_transform(vectorizer.fit_transform(texts))
    classifier = LogisticRegression(C=C, max_iter=5000, random_state=SEED)
    with one_blas_thread():
        classifier.fit(matrix, kinds)
    names = vectorizer.get_feature_names_out()
    weights = {str(kind): {name: round(float(w), 3) for name, w in zip(names, row, strict=True)
                           if abs(w) >= 5 * MIN_WEIGHT}
               for kind, row in zip(classifier.classes_, classifier.coef_, strict=True)}
    intercepts = {str(kind): round(float(b), 3)
                  for kind, b in zip(classifier.classes_, classifier.intercept_, strict=True)}
    return weights, intercepts


def build() -> Model:
    rows = corpus()
    tier1, tier2 = thresholds(rows, out_of_fold(rows))
    model = fit(rows)
    kinds, intercepts = fit_kinds(rows)
    return Model(model.weights, model.intercept, tier1, tier2, corpus_digest(), model.params,
                 kinds, intercepts)


def write(model: Model, path: Path = HERE / MODEL_FILE) -> None:
    data = json.dumps(model.to_json(), ensure_ascii=False, sort_keys=True,
                      separators=(",", ":")).encode()
    path.write_bytes(gzip.compress(data, mtime=0))


# --- figures ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Figures:
    reached: int  # disclosures at tier 1 or 2
    disclosures: int
    tier1_alarms: int  # ordinary rows (proposals, chat) at tier 1
    held: int  # ordinary proposals at tier 2 or above
    proposals: int
    ordinary: int  # proposals and chat

    def line(self) -> str:
        return (f"disclosures reaching a person {_pct(self.reached, self.disclosures)}"
                f" ({self.reached}/{self.disclosures}); tier-1 false alarms"
                f" {_pct(self.tier1_alarms, self.ordinary)}"
                f" ({self.tier1_alarms}/{self.ordinary}); proposals held"
                f" {_pct(self.held, self.proposals)} ({self.held}/{self.proposals})")


def _pct(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}%" if whole else "-"


def figures(rows: Sequence[Row], scores: Sequence[float], tier1: float,
            tier2: float) -> Figures:
    pairs = list(zip(rows, scores, strict=True))
    proposal_labels = ("proposal", "topic")
    return Figures(
        reached=sum(s >= tier2 for r, s in pairs if r.label == "disclosure"),
        disclosures=sum(r.label == "disclosure" for r, _ in pairs),
        tier1_alarms=sum(s >= tier1 for r, s in pairs if not r.harm),
        held=sum(s >= tier2 for r, s in pairs if r.label in proposal_labels),
        proposals=sum(r.label in proposal_labels for r, _ in pairs),
        ordinary=sum(not r.harm for r, _ in pairs))


def report(model: Model, heldout: bool) -> str:
    rows = corpus()
    lines = [f"thresholds: tier 1 >= {model.tier1}, tier 2 >= {model.tier2};"
             f" {len(model.weights)} weights"]
    scores = out_of_fold(rows)
    lines.append("corpus, 5-fold cross-validated: " + figures(rows, scores, model.tier1,
                                                             model.tier2).line())
    lines.append("by kind (cross-validated / leave-one-kind-out):")
    kinds = sorted({row.kind for row in rows if row.kind != "none"})
    for kind in kinds:
        mine = [(r, s) for r, s in zip(rows, scores, strict=True) if r.kind == kind]
        cross = figures([r for r, _ in mine], [s for _, s in mine], model.tier1, model.tier2)
        without = fit([row for row in rows if row.kind != kind])
        left = [row for row in rows if row.kind == kind]
        alone = figures(left, [without.probability(r.text) for r in left], model.tier1,
                        model.tier2)
        lines.append(f"  {kind}: reached {_pct(cross.reached, cross.disclosures)} /"
                     f" {_pct(alone.reached, alone.disclosures)}; its proposals held"
                     f" {_pct(cross.held, cross.proposals)} / {_pct(alone.held, alone.proposals)}"
                     f", given the hotline reply {_pct(cross.tier1_alarms, cross.proposals)} /"
                     f" {_pct(alone.tier1_alarms, alone.proposals)} (of {cross.proposals})")
    sets = [("shared dev.tsv (never learnt)", DEV)]
    if heldout:  # looked at once the method is settled, never to tune it
        sets.append(("held-out set (written before tuning)", HELDOUT))
    for name, path in sets:
        if path.exists():
            found = read(path)
            lines.append(f"{name}: " + figures(found, [model.probability(r.text) for r in found],
                                                model.tier1, model.tier2).line())
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--report", action="store_true", help="print the figures too")
    parser.add_argument("--heldout", action="store_true",
                        help="with --report: the held-out set's figures too")
    args = parser.parse_args(argv)
    model = build()
    write(model)
    print(f"{HERE / MODEL_FILE}: {len(model.weights)} weights, tier 1 >= {model.tier1},"
          f" tier 2 >= {model.tier2}, corpus {model.corpus[:12]}")
    if args.report:
        print(report(model, args.heldout))
    return 0


if __name__ == "__main__":
    sys.exit(main())
