"""Models' weights held compactly (bot.weights): the same scores as the plain dicts of the
files, in a fraction of the memory."""

from __future__ import annotations

import sys

import pytest

from bot.safeguarding.model import from_file, shipped
from bot.safeguarding.train import corpus
from bot.weights import Weights


def test_a_feature_finds_its_weights_and_a_stranger_none() -> None:
    table = Weights(["w:em", "b:bi đánh", "c: em"], [1.0, 2.0, 3.0, 4.0, 5.0, 6.0], width=2)
    rows = [table.row(feature) for feature in ("w:em", "b:bi đánh", "c: em")]
    assert [list(table.values[start:start + 2]) for start in rows] == [[1, 2], [3, 4], [5, 6]]
    assert table.row("w:anh") == -1 and len(table) == 3
    single = Weights.of({"w:em": -0.5, "w:đi": 4.25})
    assert (single.get("w:em", 0.0), single.get("w:đi", 0.0), single.get("w:di", 7.0)) == (
        -0.5, 4.25, 7.0)
    assert len(Weights.of({})) == 0 and Weights.of({}).get("w:em", 0.0) == 0.0


def test_rows_of_the_wrong_width_are_refused() -> None:
    with pytest.raises(ValueError, match="3 weights for 2 rows of 2"):
        Weights(["a", "b"], [1.0, 2.0, 3.0], width=2)


def test_the_compact_safeguarding_model_decides_as_the_file_does() -> None:
    plain, compact = from_file(), shipped()
    assert not isinstance(compact.weights, dict)
    assert len(compact.weights) == len(plain.weights)
    for row in corpus()[::7]:
        assert compact.probability(row.text) == pytest.approx(plain.probability(row.text),
                                                              abs=1e-12)
        assert compact.kind(row.text) == plain.kind(row.text)
        assert compact.weighed(row.text) == plain.weighed(row.text)


def test_the_compact_safeguarding_model_is_a_fraction_of_the_dicts() -> None:
    plain, compact = from_file(), shipped()
    tables = [compact.weights, *compact.kinds.values()]
    held = sum(table.nbytes for table in tables if isinstance(table, Weights))
    as_dicts = sum(sys.getsizeof(weights) + sum(sys.getsizeof(f) + 24 for f in weights)
                   for weights in (plain.weights, *plain.kinds.values())
                   if isinstance(weights, dict))
    assert held < as_dicts / 3, (held, as_dicts)
