"""A linear model's weights by feature, held compactly for scoring.

An open-addressing table in two arrays (each feature's hash; its row of weights), the feature
strings themselves dropped: a weight of the safeguarding model takes 32 bytes where a dict of
strings and floats takes about 130. A look-up costs about 1.1-1.7 times a dict's. Python's
string hash is 64 bits wide and drawn per process, so a table is built when its model loads; two
of a model's features sharing a hash, or a message's feature taken for one of them, is a chance
of about one in 10^9 and one in 10^14. No string hashes to -1 (CPython keeps it for errors): it
marks an empty slot.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Sequence

EMPTY = -1


class Weights:
    """Rows of `width` weights by feature."""

    __slots__ = ("_count", "_hashes", "_size", "values", "width")

    def __init__(self, features: Sequence[str], weights: Sequence[float], width: int = 1) -> None:
        """`weights` flat: the row of features[0], then of features[1] ..."""
        if len(weights) != len(features) * width:
            raise ValueError(f"{len(weights)} weights for {len(features)} rows of {width}")
        size = 2 * len(features) + 1  # half full: a feature not in the model looks at 2.5 slots
        hashes, values = array("q", [EMPTY]) * size, array("d", [0.0]) * (size * width)
        for start, feature in enumerate(features):
            key = hash(feature)
            slot = key % size
            while hashes[slot] != EMPTY:
                slot = (slot + 1) % size
            hashes[slot] = key
            if width == 1:
                values[slot] = weights[start]
            else:
                values[slot * width:(slot + 1) * width] = array(
                    "d", weights[start * width:(start + 1) * width])
        self._hashes, self._size, self._count = hashes, size, len(features)
        self.values, self.width = values, width

    @classmethod
    def of(cls, weights: dict[str, float]) -> Weights:
        """One weight by feature."""
        return cls(list(weights), list(weights.values()))

    def row(self, feature: str) -> int:
        """Where the feature's row starts in `values`, or -1 for a feature the model lacks."""
        key, hashes, size = hash(feature), self._hashes, self._size
        slot = key % size
        while True:
            found = hashes[slot]
            if found == key:
                return slot * self.width
            if found == EMPTY:
                return -1
            slot = (slot + 1) % size

    def get(self, feature: str, default: float = 0.0, /) -> float:
        """The feature's weight (a table of one weight a feature)."""
        start = self.row(feature)
        return default if start < 0 else self.values[start]

    def total(self, features: Iterable[str]) -> float:
        """The sum of the features' weights (a table of one weight a feature): `get` for each,
        in one loop (a long message looks up thousands)."""
        hashes, values, size = self._hashes, self.values, self._size
        total = 0.0
        for feature in features:
            key = hash(feature)
            slot = key % size
            while (found := hashes[slot]) != key:
                if found == EMPTY:
                    break
                slot = (slot + 1) % size
            else:
                total += values[slot]
        return total

    def __len__(self) -> int:
        return self._count

    @property
    def nbytes(self) -> int:
        """The memory its two arrays take."""
        return sum(len(table) * table.itemsize for table in (self._hashes, self.values))
