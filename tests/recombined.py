"""Many proposals of one topic, made from the development grouping set's texts (never the
held-out set), for the grouping benchmark and the tests that need more texts than the set has.

Proposal k takes the first words of the topic's text k mod 80 (topic "all": k mod 400) and the
last words of another text of the same request (cluster), each cut at a random place; one in
three is typed without marks.
Seeded: the same call gives the same texts. Near-duplicates of a few dozen requests, as a
district's children write them, and the worst case for grouping: they share most of their terms.
"""

from __future__ import annotations

import csv
import random
from pathlib import Path

from bot.textnorm import fold

DEV = Path(__file__).resolve().parent / "data" / "grouping" / "dev" / "proposals.tsv"
SEED = 10


def recombined(count: int, topic: str = "injuries", seed: int = SEED) -> list[str]:
    with DEV.open(encoding="utf-8", newline="") as file:
        rows = [row for row in csv.DictReader(file, delimiter="\t", quoting=csv.QUOTE_NONE)
                if topic in (row["topic"], "all")]
    if not rows:
        raise ValueError(f"no dev proposal of topic {topic!r} in {DEV}")
    clusters: dict[str, list[list[str]]] = {}
    for row in rows:
        clusters.setdefault(row["cluster"], []).append(row["text"].split())
    sources = [(row["cluster"], row["text"].split()) for row in rows]
    rnd = random.Random(seed)
    made = []
    for k in range(count):
        cluster, head = sources[k % len(sources)]
        tail = rnd.choice(clusters[cluster])
        words = (head[:rnd.randint(min(3, len(head)), len(head))]
                 + tail[rnd.randint(0, max(0, len(tail) - 3)):])
        text = " ".join(words)
        made.append(fold(text) if rnd.random() < 1 / 3 else text)
    return made
