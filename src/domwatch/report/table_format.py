"""The table for people, laid out for the terminal's width; plain and never cut when piped.

One line per domain where the width allows: State, Domain, Days, Expires, Cert (days left on the
earliest certificate), Registrar, then the most urgent finding; the domain's other findings
below it, indented. Where the finding would get too narrow a column (80 columns beside a long
name), every finding moves below its domain's line instead. Names are never broken: columns
are dropped or the registrar shortened first. On a terminal the findings are shortened to fit
(trailing parentheses first, then at a word, with an ellipsis); piped, nothing is cut.

A finding's text does not repeat what its columns say: the state is in State, and an expiry's
days and date are in Days/Expires (Cert for certificates), so ``registration expires in 5 days
(2026-12-08)`` reads ``registration expiring``. The reports for programs keep every word.

Sorted by urgency (worst state, then fewest days left), or in input order (``--sort input``).
"""

from __future__ import annotations

import io
import re
import textwrap
from dataclasses import dataclass, field

from rich.cells import cell_len, set_cell_size
from rich.console import Console
from rich.text import Text

from domwatch.model import DomainResult, Finding, Report, Severity, Status
from domwatch.report import RenderOptions, by_urgency, plural

_STYLE = {
    Status.OK: "green",
    Status.WARNING: "yellow",
    Status.CRITICAL: "bold red",
    Status.UNKNOWN: "magenta",
}
GAP = 2  # spaces between columns
MIN_FINDING = 50  # narrower than this, findings go below their domain's line
MIN_REGISTRAR = 10  # a registrar cut shorter than this is dropped
TERMINAL_FINDINGS = 3  # per domain on a terminal; then "+N more"
_HEADERS = ("State", "Domain", "Days", "Expires", "Cert", "Registrar", "Finding")
_RIGHT = frozenset({"Days", "Cert"})
# "expires in 5 days (2026-12-08)", "expired 2 days ago (2026-12-01)", "expires today (...)"
_WHEN = re.compile(
    r"\b(expires|expired) (?:today|in \d+ days?|\d+ days? ago) \(\d{4}-\d{2}-\d{2}\)"
)
_COLUMN_DAYS = ("expiry.", "tls.", "mail.tls.")  # codes whose days and date are in a column
_TRAILING_PARENS = re.compile(r"\s*\([^()]*\)$")


@dataclass
class _Row:
    result: DomainResult
    cells: dict[str, str]
    findings: list[tuple[Severity, str]] = field(default_factory=list)


@dataclass(frozen=True)
class _Layout:
    columns: tuple[str, ...]  # without "Finding"
    widths: dict[str, int]
    inline: bool  # the first finding on the domain's line
    finding_width: int | None  # None: unlimited (piped)
    indent: int  # where findings below a line start


def render(report: Report, options: RenderOptions) -> str:
    """Optional network notice, header, one block per domain, then a ``# domwatch:`` summary
    line a mail filter can key on."""
    results = [r for r in report.results if not options.quiet or r.status is not Status.OK]
    summary = summary_line(report)
    if not results:
        return "" if options.quiet else summary + "\n"
    if options.sort == "urgency":
        results = by_urgency(results, report.generated)
    rows = [_row(r, report, options, a_label=True) for r in results]
    layout = _layout(rows, options.width)
    if layout is None:  # the A-labels beside Unicode names cost the finding its column
        rows = [_row(r, report, options, a_label=False) for r in results]
        layout = _layout(rows, options.width) or _stacked(rows, options.width)
    lines: list[Text] = []
    if report.network_problem is not None:
        notice = (
            f"! the network or DNS resolver is not usable: {report.network_problem}; "
            "domains are UNKNOWN until it is"
        )
        wrapped = textwrap.wrap(notice, options.width or len(notice), subsequent_indent="  ")
        lines.extend(Text(line, style="bold magenta") for line in wrapped)
    lines.extend(_header(layout, options))
    limit = TERMINAL_FINDINGS if options.width is not None else None
    for row in rows:
        lines.extend(_block(row, layout, options, limit))
    if any(r.registration is not None and r.registration.source == "manual" for r in results):
        lines.append(Text("* expiry date set by hand in the domain file ('expires')"))
    lines.append(Text(summary))
    return _print(lines, options)


def summary_line(report: Report) -> str:
    """``# domwatch: 12 domains, 10 ok, 1 warning, 1 critical, 0 unknown; worst: critical``."""
    counts = report.summary()
    parts = ", ".join(f"{counts[k]} {k}" for k in ("ok", "warning", "critical", "unknown"))
    total = plural(len(report.results), "domain")
    return f"# domwatch: {total}, {parts}; worst: {report.status.value}"


# --------------------------------------------------------------------------- rows


def _row(result: DomainResult, report: Report, options: RenderOptions, *, a_label: bool) -> _Row:
    domain = result.domain
    name = domain.display_name
    if options.ascii:
        name = domain.name  # the A-label is ASCII by definition
    elif a_label and name != domain.name:
        name += f" ({domain.name})"
    registration = result.registration
    days = expires = registrar = ""
    if registration is not None:
        registrar = " ".join((registration.registrar or "").split())
        if registration.expires is not None:
            expires = registration.expires.date().isoformat()
            if registration.source == "manual":
                expires += "*"
            days = str(registration.days_left(report.generated))
        elif not registration.expiry_published:
            expires = "no date"
    cert = "" if result.cert_days_left is None else str(result.cert_days_left)
    cells = {
        "State": result.status.value.upper(),
        "Domain": name,
        "Days": days,
        "Expires": expires,
        "Cert": cert,
        "Registrar": registrar,
    }
    findings = [(f.severity, _brief(f)) for f in result.findings]
    if options.ascii and domain.display_name != domain.name:
        findings = [(s, t.replace(domain.display_name, domain.name)) for s, t in findings]
    return _Row(result, cells, findings)


def _brief(finding: Finding) -> str:
    """The finding as the table shows it: nothing its row's columns already say."""
    text = " ".join(finding.message.split())
    if finding.code.startswith(_COLUMN_DAYS):
        text = _WHEN.sub(lambda m: "expiring" if m.group(1) == "expires" else "expired", text)
    return text


# --------------------------------------------------------------------------- layout


def _widths(rows: list[_Row]) -> dict[str, int]:
    widths: dict[str, int] = {}
    for header in _HEADERS[:-1]:
        longest = max(cell_len(r.cells[header]) for r in rows)
        # A column nobody has a value for is left out ("Cert" without web checks).
        widths[header] = max(cell_len(header), longest) if longest else 0
    return widths


def _line_width(columns: tuple[str, ...], widths: dict[str, int]) -> int:
    return sum(widths[c] for c in columns) + GAP * (len(columns) - 1)


def _layout(rows: list[_Row], width: int | None) -> _Layout | None:
    """One line per domain with its most urgent finding, if the width allows it with every
    column (the registrar may be shortened); None when it does not."""
    widths = _widths(rows)
    columns = tuple(c for c in _HEADERS[:-1] if widths[c])
    indent = _line_width(columns, widths) + GAP
    if width is None:
        return _Layout(columns, widths, True, None, indent)
    excess = indent + MIN_FINDING - width
    if excess > 0 and widths["Registrar"] - excess >= MIN_REGISTRAR:
        widths["Registrar"] -= excess
        indent -= excess
    room = width - indent
    return _Layout(columns, widths, True, room, indent) if room >= MIN_FINDING else None


def _stacked(rows: list[_Row], width: int | None) -> _Layout:
    """Each domain's line without findings; its findings on the lines below."""
    widths = _widths(rows)
    columns = tuple(c for c in _HEADERS[:-1] if widths[c])
    limit = width or 10**6
    while _line_width(columns, widths) > limit and _narrow(columns, widths, limit):
        columns = tuple(c for c in columns if widths[c])
    columns = tuple(c for c in columns if widths[c])
    indent = widths["State"] + GAP
    room = None if width is None else max(width - indent, 20)
    return _Layout(columns, widths, False, room, indent)


def _narrow(columns: tuple[str, ...], widths: dict[str, int], target: int) -> bool:
    """Make the line shorter by one step toward ``target``; False when nothing is left to give.

    The registrar is shortened first, then dropped, then the expiry date (days left say the
    urgency); the State, Domain, Days and Cert columns are never touched.
    """
    excess = _line_width(tuple(c for c in columns if widths[c]), widths) - target
    registrar = widths.get("Registrar", 0)
    if registrar > MIN_REGISTRAR and excess > 0:
        widths["Registrar"] = max(MIN_REGISTRAR, registrar - excess)
        return True
    for column in ("Registrar", "Expires"):
        if widths.get(column):
            widths[column] = 0
            return True
    return False


# --------------------------------------------------------------------------- drawing


def _header(layout: _Layout, options: RenderOptions) -> list[Text]:
    cells = [_cell(h, layout.widths[h], h in _RIGHT) for h in layout.columns if layout.widths[h]]
    if layout.inline:
        cells.append("Finding")
    header = (" " * GAP).join(cells).rstrip()
    total = cell_len(header)
    if layout.inline and layout.finding_width is not None:
        total = layout.indent + layout.finding_width
    rule = ("-" if options.ascii else "\u2500") * min(total, options.width or total)
    return [Text(header, style="bold"), Text(rule)]


def _block(row: _Row, layout: _Layout, options: RenderOptions, limit: int | None) -> list[Text]:
    status = row.result.status
    line = Text()
    shown = [c for c in layout.columns if layout.widths[c]]
    for i, column in enumerate(shown):
        if i:
            line.append(" " * GAP)
        width = layout.widths[column]
        value = row.cells[column]
        if column == "Domain":
            value = value.ljust(width - cell_len(value) + len(value))  # never cut
        else:
            value = _cell(_shorten(value, width, options.ascii), width, column in _RIGHT)
        line.append(value, style=_STYLE[status] if column == "State" else "")
    findings = row.findings
    more = 0
    if limit is not None and len(findings) > limit:
        more = len(findings) - (limit - 1)
        findings = findings[: limit - 1]
    texts = [(sev, _shorten(text, layout.finding_width, options.ascii)) for sev, text in findings]
    if more:
        texts.append((Severity.INFO, f"+{more} more (all of them: --format json)"))
    lines = [line]
    if layout.inline and texts:
        severity, text = texts.pop(0)
        line.append(" " * GAP)
        line.append(text, style=_finding_style(severity))
    elif layout.inline and not texts:
        line.append(" " * GAP + "-")
    for severity, text in texts:
        lines.append(Text(" " * layout.indent + text, style=_finding_style(severity)))
    for each in lines:
        each.rstrip()
    return lines


def _finding_style(severity: Severity) -> str:
    return "dim" if severity is Severity.INFO else ""


def _cell(value: str, width: int, right: bool) -> str:
    pad = " " * max(width - cell_len(value), 0)
    return pad + value if right else value + pad


def _shorten(text: str, width: int | None, ascii_only: bool) -> str:
    """``text`` within ``width`` cells: trailing parentheses go first, then words."""
    if width is None or cell_len(text) <= width:
        return text
    while _TRAILING_PARENS.search(text) and cell_len(text) > width:
        shorter = _TRAILING_PARENS.sub("", text)
        if not shorter:
            break
        text = shorter
    if cell_len(text) <= width:
        return text
    mark = "..." if ascii_only else "\u2026"
    room = max(width - len(mark), 1)
    cut = set_cell_size(text, room).rstrip()
    space = cut.rfind(" ")
    if space > room // 2:
        cut = cut[:space]
    return cut.rstrip(" ,;:") + mark


def _print(lines: list[Text], options: RenderOptions) -> str:
    buffer = io.StringIO()
    console = Console(
        file=buffer,
        width=10**6,  # the layout is done: rich must not wrap or cut anything
        force_terminal=options.color,
        no_color=not options.color,
        color_system="standard" if options.color else None,
        highlight=False,
        emoji=False,
        markup=False,
    )
    for line in lines:
        console.print(line, soft_wrap=True)
    out = [line.rstrip() for line in buffer.getvalue().splitlines()]
    return "\n".join(out) + "\n"
