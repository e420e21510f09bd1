"""The table for people: one row per domain, coloured on a terminal, plain when piped."""

from __future__ import annotations

import io

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from domwatch.model import DomainResult, Report, Status
from domwatch.report import RenderOptions

_STYLE = {
    Status.OK: "green",
    Status.WARNING: "yellow",
    Status.CRITICAL: "bold red",
    Status.UNKNOWN: "magenta",
}


def render(report: Report, options: RenderOptions) -> str:
    """The table, then a ``# domwatch:`` summary line a mail filter can key on."""
    results = [r for r in report.results if not options.quiet or r.status is not Status.OK]
    summary = summary_line(report)
    if not results:
        return "" if options.quiet else summary + "\n"
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    for column in ("Domain", "Expires", "Days", "Cert days", "State", "Findings"):
        justify = "right" if "Days" in column or "days" in column else "left"
        table.add_column(column, justify=justify, overflow="fold")  # type: ignore[arg-type]
    for result in results:
        table.add_row(*_row(result, report))
    buffer = io.StringIO()
    # No terminal: a width no row reaches, so nothing wraps or is cut for cron mails.
    console = Console(
        file=buffer,
        width=options.width or 100_000,
        force_terminal=options.color,
        no_color=not options.color,
        color_system="standard" if options.color else None,
        highlight=False,
        emoji=False,
    )
    console.print(table)
    lines = [line.rstrip() for line in buffer.getvalue().splitlines()]
    return "\n".join(lines) + "\n" + summary + "\n"


def _row(result: DomainResult, report: Report) -> list[Text | str]:
    registration = result.registration
    expires = days = ""
    if registration is not None:
        if registration.expires is not None:
            expires = registration.expires.date().isoformat()
            if registration.source == "manual":
                expires += " (manual)"
            days = str(registration.days_left(report.generated))
        elif not registration.expiry_published:
            expires = "not published"
    cert = "" if result.cert_days_left is None else str(result.cert_days_left)
    state = Text(result.status.value.upper(), style=_STYLE[result.status])
    findings = "\n".join(f"{f.severity.value}: {f.message}" for f in result.findings) or "-"
    name = result.domain.display_name
    if name != result.domain.name:
        name += f" ({result.domain.name})"
    return [name, expires, days, cert, state, findings]


def summary_line(report: Report) -> str:
    """``# domwatch: 12 domains, 10 ok, 1 warning, 1 critical, 0 unknown; worst: critical``."""
    counts = report.summary()
    parts = ", ".join(f"{counts[k]} {k}" for k in ("ok", "warning", "critical", "unknown"))
    total = len(report.results)
    return f"# domwatch: {total} domains, {parts}; worst: {report.status.value}"
