"""A Word document whose long runs of paragraphs and table rows go to a temporary file as XML,
not into python-docx's tree, and are put back in place as the file is written.

python-docx keeps a whole document in memory as lxml elements: about 40 KB for each proposal of
a report (a paragraph, and an annex row of seven cells), 4 GB for 100,000. Here python-docx
builds only the frame (the header, headings of its own, the tables' header rows, the sections);
each run of paragraphs or rows added one after another is written out as text made from a
template serialised once, and a marker paragraph holds its place in the tree. `save` writes the
frame with python-docx, then copies the package, streaming each run's text where its marker
is. Memory stays flat, whatever the size of the report.
"""

from __future__ import annotations

import io
import re
import tempfile
import zipfile
from collections.abc import Iterator, Sequence
from typing import IO, Any
from xml.sax.saxutils import escape

from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from lxml import etree

DOCUMENT_PART = "word/document.xml"
_MARKER = "childforum-spill-{}"
_MARKER_XML = re.compile(rb"<w:p><w:r><w:t>childforum-spill-(\d+)</w:t></w:r></w:p>")
_NAMESPACES = re.compile(r' xmlns:[A-Za-z0-9]+="[^"]*"')  # all declared on the document's root
_HOLE = "\ue000{}\ue000"  # where a text goes in a serialised template (a private-use mark)
_CHUNK = 1 << 20


def xml_of(element: Any) -> str:
    """An element as XML text without the namespace declarations its document root makes."""
    text = str(etree.tostring(element, encoding="unicode"))
    head, _, rest = text.partition(">")
    return _NAMESPACES.sub("", head) + ">" + rest


def text_xml(text: str) -> str:
    """Text as it goes inside <w:t>: XML-escaped (what XML cannot hold is the caller's to drop)."""
    return str(escape(text))


class Template:
    """An element serialised once, with holes where its <w:t> texts go: `fill` gives it again
    with other texts; an empty text drops its run (the cell or paragraph is left empty)."""

    def __init__(self, element: Any) -> None:
        texts = list(element.iter(qn("w:t")))
        for index, node in enumerate(texts):
            node.text = _HOLE.format(index)
            node.set(qn("xml:space"), "preserve")
        xml = xml_of(element)
        runs = [re.search(r"<w:r>(?:(?!</w:r>).)*?" + re.escape(_HOLE.format(i)) +
                          r"</w:t></w:r>", xml) for i in range(len(texts))]
        self._pieces: list[str] = []
        self._runs: list[tuple[str, str]] = []
        at = 0
        for index, found in enumerate(runs):
            assert found is not None, "a template's text must be the last part of its run"
            self._pieces.append(xml[at:found.start()])
            run = found.group()
            self._runs.append(tuple(run.split(_HOLE.format(index))))  # type: ignore[arg-type]
            at = found.end()
        self._pieces.append(xml[at:])

    def fill(self, texts: Sequence[str], extra: str = "") -> str:
        """The element with `texts` (escaped here), and `extra` XML before its closing tag."""
        out = [self._pieces[0]]
        for (before, after), text, piece in zip(self._runs, texts, self._pieces[1:],
                                                strict=True):
            if text:
                out += (before, text_xml(text), after)
            out.append(piece)
        xml = "".join(out)
        if extra:
            end = xml.rindex("</")
            xml = xml[:end] + extra + xml[end:]
        return xml


class Spill:
    """The runs written so far, each in its place in the tree by a marker paragraph."""

    def __init__(self) -> None:
        self._file: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115 (closed by save)
        self._chunks: list[list[tuple[int, int]]] = []  # per run: (offset, length) in the file
        self._buffer: list[str] = []
        self._buffered = 0
        self._marker: Any = None  # the marker of the run being written, still last in place

    def add(self, parent: Any, xml: str, before: Any = None) -> None:
        """`xml` (one element) at the end of `parent`, or just before `before` (the body's
        closing sectPr): the run goes on while nothing else was put after it."""
        marker = self._marker
        if (marker is None or marker.getparent() is not parent
                or marker.getnext() is not before):
            self._flush()
            marker = OxmlElement("w:p")
            run, text = OxmlElement("w:r"), OxmlElement("w:t")
            text.text = _MARKER.format(len(self._chunks))
            run.append(text)
            marker.append(run)
            if before is None:
                parent.append(marker)
            else:
                before.addprevious(marker)
            self._chunks.append([])
            self._marker = marker
        self._buffer.append(xml)
        self._buffered += len(xml)
        if self._buffered >= _CHUNK:
            self._flush()

    def _flush(self) -> None:
        if not self._buffer:
            return
        data = "".join(self._buffer).encode()
        offset = self._file.seek(0, io.SEEK_END)
        self._file.write(data)
        self._chunks[-1].append((offset, len(data)))
        self._buffer, self._buffered = [], 0

    def save(self, document: Any, out: str | IO[bytes]) -> None:
        """Write `document` with every run in its place, to a path or a binary file."""
        self._flush()
        frame = io.BytesIO()
        document.save(frame)
        frame.seek(0)
        with zipfile.ZipFile(frame) as source, zipfile.ZipFile(
                out, "w", zipfile.ZIP_DEFLATED) as target:
            for info in source.infolist():
                if info.filename != DOCUMENT_PART:
                    target.writestr(info, source.read(info.filename))
                    continue
                # No zip64 (Word opens plain zip best): a document part stays far below 2 GiB.
                with target.open(info.filename, "w") as part:
                    for piece in self._document(source.read(info.filename)):
                        part.write(piece)
        self.close()

    def _document(self, skeleton: bytes) -> Iterator[bytes]:
        """The document part with each marker replaced by its run."""
        at = 0
        for found in _MARKER_XML.finditer(skeleton):
            yield skeleton[at:found.start()]
            for offset, length in self._chunks[int(found.group(1))]:
                self._file.seek(offset)
                while length > 0:
                    piece = self._file.read(min(length, _CHUNK))
                    length -= len(piece)
                    yield piece
            at = found.end()
        yield skeleton[at:]

    def close(self) -> None:
        self._file.close()
