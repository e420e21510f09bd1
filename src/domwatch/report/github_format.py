"""GitHub Actions: workflow-command annotations on stdout, a Markdown job summary on the side.

Critical findings become ``::error``, warning and unknown ``::warning``, info ``::notice``,
each titled ``domwatch <domain>``. When ``$GITHUB_STEP_SUMMARY`` names a file, :func:`render`
also *appends* a Markdown table of every domain to it (GitHub shows that file on the run's
page); that side effect happens here because only this format knows the summary exists.
GitHub shows at most 10 annotations of each kind per step; the summary lists every domain.
"""

from __future__ import annotations

import html
import logging
import os
from pathlib import Path

from domwatch.model import DomainResult, Report, Severity, Status
from domwatch.report import RenderOptions
from domwatch.report.table_format import summary_line

_COMMAND = {
    Severity.CRITICAL: "error",
    Severity.WARNING: "warning",
    Severity.UNKNOWN: "warning",
    Severity.INFO: "notice",
}
_ICON = {
    Status.OK: "✅",
    Status.WARNING: "⚠️",
    Status.CRITICAL: "❌",
    Status.UNKNOWN: "❔",
}


def render(report: Report, options: RenderOptions) -> str:
    """Annotations plus the ``# domwatch:`` line; the summary file gets the full table.

    With ``quiet``: no ``::notice`` lines, and nothing at all on stdout when every domain is
    OK. The step summary is written either way.
    """
    lines: list[str] = []
    for result in report.results:
        for finding in result.findings:
            if options.quiet and finding.severity is Severity.INFO:
                continue
            title = escape_property(f"domwatch {result.domain.display_name}")
            message = escape_data(f"{finding.message} [{finding.code}]")
            lines.append(f"::{_COMMAND[finding.severity]} title={title}::{message}")
    summary_path = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary_path:
        try:
            with Path(summary_path).open("a", encoding="utf-8") as handle:
                handle.write(markdown_summary(report))
        except OSError as exc:
            # The annotations and the exit status still tell the news: no reason to die.
            logging.getLogger("domwatch").warning(
                "cannot append to $GITHUB_STEP_SUMMARY (%s): %s", summary_path, exc
            )
    if options.quiet and report.status is Status.OK:
        return ""
    lines.append(summary_line(report))
    return "\n".join(lines) + "\n"


def escape_data(text: str) -> str:
    """A command's message, as ``@actions/core`` escapes it."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """A command property value: also ``:`` and ``,``, which delimit the properties."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def markdown_summary(report: Report) -> str:
    """A GitHub-flavoured Markdown table: one row per domain."""
    counts = report.summary()
    head = ", ".join(f"{counts[k]} {k}" for k in ("ok", "warning", "critical", "unknown"))
    rows = [
        "## domwatch",
        "",
        f"{len(report.results)} domains: {head}. Worst: **{report.status.value}**.",
        "",
        "| Domain | State | Expires | Days left | Cert days | Findings |",
        "| --- | --- | --- | ---: | ---: | --- |",
    ]
    rows.extend(_row(result, report) for result in report.results)
    return "\n".join(rows) + "\n\n"


def _row(result: DomainResult, report: Report) -> str:
    registration = result.registration
    expires = days = ""
    if registration is not None and registration.expires is not None:
        expires = registration.expires.date().isoformat()
        days = str(registration.days_left(report.generated))
    cert = "" if result.cert_days_left is None else str(result.cert_days_left)
    # Several findings share one cell: <br> is the only line break a table cell allows.
    findings = "<br>".join(_cell(f"{f.severity.value}: {f.message}") for f in result.findings)
    state = f"{_ICON[result.status]} {result.status.value}"
    cells = [_cell(c) for c in (result.domain.display_name, state, expires, days, cert)]
    return "| " + " | ".join([*cells, findings or "-"]) + " |"


def _cell(text: str) -> str:
    # Messages quote remote data: no HTML from it, a pipe would end the cell, a line break
    # the row.
    return " ".join(html.escape(text, quote=False).replace("|", "\\|").split())
