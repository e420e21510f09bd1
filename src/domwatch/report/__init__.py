"""Report formats: each module turns a Report into the text one consumer expects."""

from __future__ import annotations

import codecs
import importlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime

from domwatch.model import DomainResult, Report

FORMATS = ("table", "json", "csv", "junit", "prometheus", "nagios", "github", "ics", "html")


@dataclass(frozen=True)
class RenderOptions:
    """How the report is shown, beyond the data itself."""

    color: bool = False  # escape codes allowed (a terminal, NO_COLOR unset)
    width: int | None = None  # terminal width; None: never wrap or cut
    quiet: bool = False  # only domains needing attention
    sort: str = "urgency"  # the table's order: "urgency" or "input"
    ascii: bool = False  # the output stream cannot take Unicode: A-labels, ASCII rules


NO_DAYS = 1_000_000  # sorts after every real count of days


def urgency(result: DomainResult, now: datetime) -> tuple[int, int]:
    """Sort key: worst state first, then the fewest days to any expiry (registration or
    certificate; none known: last)."""
    registration = result.registration
    days = [
        d
        for d in (registration.days_left(now) if registration else None, result.cert_days_left)
        if d is not None
    ]
    return (-result.status.rank, min(days, default=NO_DAYS))


def by_urgency(results: Iterable[DomainResult], now: datetime) -> list[DomainResult]:
    """``results`` most urgent first; input order among equals (the sort is stable)."""
    return sorted(results, key=lambda r: urgency(r, now))


def plural(count: int, word: str) -> str:
    """``1 domain``, ``2 domains`` (the words domwatch counts take a plain ``s``)."""
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def unicode_encoding(encoding: str) -> bool:
    """Whether a stream in ``encoding`` takes any text (a UTF codec)."""
    try:
        return codecs.lookup(encoding).name.startswith("utf")
    except LookupError:
        return False


def fit_encoding(text: str, fmt: str, encoding: str) -> str:
    """``text`` for a stream in ``encoding`` (``PYTHONIOENCODING=ascii``, a Latin-1 terminal).

    Documents that declare UTF-8 (JSON, HTML, JUnit XML) become pure ASCII that means the same:
    ``\\u`` escapes, character references. Text for people keeps what the encoding can take and
    shows ``?`` for the rest. Never an exception."""
    if unicode_encoding(encoding) or text.isascii():
        return text
    if fmt == "json":
        # Outside strings JSON is ASCII, so escaping every other character keeps the document.
        return "".join(c if ord(c) < 128 else _json_escape(c) for c in text)
    if fmt in ("html", "junit"):
        return text.encode("ascii", "xmlcharrefreplace").decode("ascii")
    try:
        return text.encode(encoding, "replace").decode(encoding)
    except LookupError:
        return text.encode("ascii", "replace").decode("ascii")


def _json_escape(char: str) -> str:
    code = ord(char)
    if code < 0x10000:
        return f"\\u{code:04x}"
    code -= 0x10000  # a UTF-16 surrogate pair, as JSON spells characters past the BMP
    return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"


def render(report: Report, fmt: str, options: RenderOptions) -> str:
    """The report in format ``fmt`` (one of :data:`FORMATS`)."""
    return "".join(render_chunks(report, fmt, options))


def render_chunks(report: Report, fmt: str, options: RenderOptions) -> Iterator[str]:
    """The report in format ``fmt`` in pieces, to be written as they come.

    A format that can be written domain by domain (``chunks`` in its module: JSON) never
    holds the whole text; the others are one piece.
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}")
    module = importlib.import_module(f"domwatch.report.{fmt}_format")
    if hasattr(module, "chunks"):
        yield from module.chunks(report, options)
    else:
        yield module.render(report, options)
