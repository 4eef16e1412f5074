"""Render the Word report and the workbook to PDF with LibreOffice and check them page by page,
as an officer would. Not part of the test suite (LibreOffice takes seconds per file).

    sudo apt-get install --no-install-recommends \
        libreoffice-writer-nogui libreoffice-calc-nogui poppler-utils fonts-liberation
    .venv/bin/python bench/render_report.py --rows 300 --keep /tmp/report

Seeds a temporary database (bench_export's proposals: long texts, formula-looking ones,
messages, four districts, five topics), writes the DOCX report and the XLSX of
all, converts both with `soffice --headless --convert-to pdf`, reads the pages with `pdftotext`
and checks what issue 10 found wrong: the signer's titles and name on one page; no topic
heading alone at the foot of a page; no spreadsheet apostrophe or ".;" in the report; the
workbook's text printed large enough to read (the median word at least MIN_TEXT_PT tall: a topic
sheet fitted to one page's width printed 3 pt letters). Prints the page counts and exits 1 on any
failure. Without
fonts-liberation, LibreOffice draws Times New Roman with DejaVu Serif, far wider: pages and
columns then wrap where Word's would not (Liberation Serif has Times New Roman's metrics).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_export import config_for, seed  # noqa: E402

from bot.conversation.catalog import load_catalog  # noqa: E402
from bot.exports import ExportQuery, export  # noqa: E402
from storage.db import open_database  # noqa: E402


def pdf_pages(document: Path, outdir: Path) -> list[str]:
    """The text of each page of `document` rendered by LibreOffice."""
    subprocess.run(["soffice", "--headless", "--convert-to", "pdf", "--outdir", str(outdir),
                    str(document)], check=True, capture_output=True, timeout=600)
    pdf = outdir / (document.stem + ".pdf")
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], check=True,
                          capture_output=True, text=True).stdout
    return [page for page in text.split("\f") if page.strip()]


MIN_TEXT_PT = 7.0


def text_heights(pdf: Path) -> list[float]:
    """The height, in points, of each word LibreOffice printed in `pdf`."""
    html = subprocess.run(["pdftotext", "-bbox", str(pdf), "-"], check=True,
                          capture_output=True, text=True).stdout
    return [float(bottom) - float(top) for top, bottom in
            re.findall(r'<word xMin="[\d.]+" yMin="([\d.]+)" xMax="[\d.]+" yMax="([\d.]+)"',
                       html)]


def check_report(pages: list[str], signer_lines: list[str]) -> list[str]:
    problems = []
    holding = [n for n, page in enumerate(pages) if any(line in page for line in signer_lines)]
    if len(set(holding)) != 1:
        problems.append(f"the signature block spreads over pages {sorted(set(holding))}")
    for number, page in enumerate(pages, 1):
        lines = [line.strip() for line in page.splitlines() if line.strip()]
        if lines and re.match(r"^(\d+|[IVX]+)\. \S", lines[-1]) and len(lines[-1]) < 80:
            problems.append(f"page {number} ends with a heading: {lines[-1]!r}")
    whole = "\n".join(pages)
    for bad in ("'=", "'+", "'@", "'-", ".;"):
        if bad in whole:
            problems.append(f"the report shows {bad!r}")
    return problems


async def make(database: Path, work: Path) -> tuple[Path, Path]:
    config = config_for(database)
    db = await open_database(database)
    try:
        catalog = load_catalog(config)
        report, workbook = work / "report.docx", work / "workbook.xlsx"
        await export(db, config, catalog, ExportQuery(), "docx", report)
        await export(db, config, catalog, ExportQuery(), "xlsx", workbook)
    finally:
        await db.close()
    return report, workbook


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=300)
    parser.add_argument("--keep", type=Path, default=None, help="keep the files here")
    args = parser.parse_args()
    if not shutil.which("soffice") or not shutil.which("pdftotext"):
        print("needs LibreOffice (soffice) and poppler-utils (pdftotext)", file=sys.stderr)
        return 2
    os.environ.setdefault("CHILDFORUM_PSEUDONYM_KEY", "render-check-key-0123456789")
    work = args.keep or Path(tempfile.mkdtemp(prefix="childforum-render-"))
    work.mkdir(parents=True, exist_ok=True)
    database = work / "forum.sqlite3"
    database.unlink(missing_ok=True)
    seed(database, args.rows)
    report, workbook = asyncio.run(make(database, work))
    from bot.exports.settings import ReportSettings

    signer = list(ReportSettings("", "", "", "").signer_lines)
    pages = pdf_pages(report, work)
    problems = check_report(pages, signer)
    sheets = pdf_pages(workbook, work)
    heights = sorted(text_heights(work / "workbook.pdf"))
    median = heights[len(heights) // 2] if heights else 0.0
    if median < MIN_TEXT_PT:
        problems.append(f"the workbook prints its text {median:.1f} pt tall (median word)")
    print(f"report: {len(pages)} pages; workbook: {len(sheets)} pages, text {median:.1f} pt"
          f" (median word); files in {work}")
    for problem in problems:
        print(f"FAIL: {problem}")
    if not problems:
        print("ok: signature on one page, no heading at a page's foot, no apostrophe, no '.;',"
              " the workbook readable")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
