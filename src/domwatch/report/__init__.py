"""Report formats: each module turns a Report into the text one consumer expects.

:data:`REGISTRY` declares every format once; a format's writer is the module
``domwatch.report.<name>_format`` beside this one (imported only when that format is used),
with the :class:`Writer` shape.
"""

from __future__ import annotations

import codecs
import importlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Literal, Protocol, cast

from domwatch.model import DomainResult, Report

# How text goes out to a stream that cannot take Unicode (see fit_encoding): JSON escapes,
# XML/HTML character references, or "?" for what the encoding lacks (text for people).
AsciiForm = Literal["json", "xml", "text"]


@dataclass(frozen=True)
class Format:
    """One report format, declared once in :data:`REGISTRY`."""

    name: str  # --format NAME; its writer is domwatch.report.<name>_format
    quiet: bool  # -q filters it (only domains needing attention); False: a whole document
    streams: bool  # written domain by domain (the writer's ``chunks``), never one string
    media_type: str  # Content-Type when served over HTTP
    ascii_form: AsciiForm  # how it is fitted to a stream that cannot take Unicode

    def writer(self) -> Writer:
        """The module that writes this format."""
        return cast("Writer", importlib.import_module(f"domwatch.report.{self.name}_format"))


class Writer(Protocol):
    """A format's module: ``render`` gives the whole text."""

    def render(self, report: Report, options: RenderOptions, /) -> str: ...


class StreamingWriter(Writer, Protocol):
    """The module of a format that streams: ``chunks`` gives the same text in pieces."""

    def chunks(self, report: Report, options: RenderOptions, /) -> Iterator[str]: ...


_TEXT = "text/plain; charset=utf-8"

# Every format, in the order --help and the README list them.
REGISTRY: tuple[Format, ...] = (
    Format("table", quiet=True, streams=False, media_type=_TEXT, ascii_form="text"),
    Format("json", quiet=True, streams=True, media_type="application/json", ascii_form="json"),
    Format("csv", quiet=True, streams=False, media_type="text/csv; charset=utf-8",
           ascii_form="text"),
    # A test report lists the passing cases too.
    Format("junit", quiet=False, streams=False, media_type="application/xml", ascii_form="xml"),
    # A textfile missing the OK domains would make their series vanish (absent() alerts fire).
    Format("prometheus", quiet=False, streams=False,
           media_type="text/plain; version=0.0.4; charset=utf-8", ascii_form="text"),
    # The plugin's status line, long output and perfdata cover every domain.
    Format("nagios", quiet=False, streams=False, media_type=_TEXT, ascii_form="text"),
    Format("github", quiet=True, streams=False, media_type=_TEXT, ascii_form="text"),
    # A calendar and a page are whole documents.
    Format("ics", quiet=False, streams=False, media_type="text/calendar; charset=utf-8",
           ascii_form="text"),
    Format("html", quiet=False, streams=False, media_type="text/html; charset=utf-8",
           ascii_form="xml"),
)

BY_NAME: dict[str, Format] = {f.name: f for f in REGISTRY}
FORMATS: tuple[str, ...] = tuple(f.name for f in REGISTRY)


def get_format(name: str) -> Format:
    """The format called ``name`` (ValueError when there is none)."""
    try:
        return BY_NAME[name]
    except KeyError:
        raise ValueError(f"unknown format {name!r}") from None


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
    form = get_format(fmt).ascii_form
    if form == "json":
        # Outside strings JSON is ASCII, so escaping every other character keeps the document.
        return "".join(c if ord(c) < 128 else _json_escape(c) for c in text)
    if form == "xml":
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

    A format that streams (JSON) never holds the whole text; the others are one piece. Where
    ``-q`` does not apply to the format, ``options.quiet`` is dropped here, not in its writer.
    """
    declared = get_format(fmt)
    if not declared.quiet:
        options = replace(options, quiet=False)
    writer = declared.writer()
    if declared.streams:
        yield from cast("StreamingWriter", writer).chunks(report, options)
    else:
        yield writer.render(report, options)
