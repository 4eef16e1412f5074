"""`childforum …` run in the test's own process: what a subprocess would print and return,
without the second or so a new interpreter takes to import the bot (tests that run the
command line a dozen times spent most of their time starting Pythons)."""

from __future__ import annotations

import io
import os
import threading
from collections.abc import Mapping
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass

from handlers.cli import main


@dataclass(frozen=True)
class Ran:
    returncode: int
    stdout: str
    stderr: str


def childforum(*args: str, env: Mapping[str, str | None] | None = None) -> Ran:
    """The command line's exit code and output (argparse's --help and usage errors included),
    with `env`'s variables set (None: unset) while it runs. It runs on a thread of its own, as
    a subprocess would beside an async test's event loop (which it blocks as well); the
    environment and the umask it sets for its files are put back."""
    out, err = io.StringIO(), io.StringIO()
    saved = {name: os.environ.get(name) for name in env or {}}
    umask = os.umask(0o022)
    os.umask(umask)
    codes: list[int] = []

    def run() -> None:
        try:
            codes.append(main(list(args)))
        except SystemExit as stop:  # argparse: --help, a usage error
            codes.append(stop.code if isinstance(stop.code, int) else 1)

    try:
        _set(env or {})
        with redirect_stdout(out), redirect_stderr(err):
            thread = threading.Thread(target=run)
            thread.start()
            thread.join()
    finally:
        _set(saved)
        os.umask(umask)
    assert codes, f"childforum {' '.join(args)} raised: {err.getvalue()}"
    return Ran(codes[0], out.getvalue(), err.getvalue())


def _set(env: Mapping[str, str | None]) -> None:
    for name, value in env.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
