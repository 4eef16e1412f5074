"""CSV: UTF-8 with a byte-order mark (Excel then reads Vietnamese right), streamed row by row."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO, TextIO

from bot.exports.common import Job
from storage.db import Tx

BOM = "\ufeff"


@contextmanager
def _text(out: Path | BinaryIO) -> Iterator[TextIO]:
    """A UTF-8 text stream, its byte-order mark written, on a path or a binary stream.

    The mark is written by hand: "utf-8-sig" leaves it out on a stream not at position 0.
    A binary stream is left open for the caller.
    """
    if isinstance(out, Path):
        with out.open("w", encoding="utf-8", newline="") as stream:
            stream.write(BOM)
            yield stream
        return
    wrapper = io.TextIOWrapper(out, encoding="utf-8", newline="")
    try:
        wrapper.write(BOM)
        yield wrapper
    finally:
        wrapper.flush()
        wrapper.detach()


async def write_csv(db: Tx, job: Job, out: Path | BinaryIO) -> int:
    """One row per proposal under Vietnamese headers; returns the number of proposals."""
    count = 0
    with _text(out) as stream:
        writer = csv.writer(stream, delimiter=job.csv_delimiter)
        writer.writerow(job.headers)
        cells, key = job.labels.cells, job.key
        async for row in job.rows(db):
            writer.writerow(cells(row, key))
            count += 1
    return count
