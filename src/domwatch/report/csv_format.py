"""CSV (RFC 4180): one row per domain and finding, for spreadsheets and ``csvkit``."""

from __future__ import annotations

import csv
import io

from domwatch.model import DomainResult, Report, Status
from domwatch.report import RenderOptions

COLUMNS = (
    "domain",
    "display_name",
    "status",
    "expires",
    "days_left",
    "source",
    "code",
    "severity",
    "check",
    "message",
    "tags",  # the domain's tags from the domain file, comma-separated (last: added later)
)


def render(report: Report, options: RenderOptions) -> str:
    """Header row, then a row per finding (a domain with none gets one row, finding cells empty).

    With ``quiet`` only domains needing attention are listed, and nothing at all (not even the
    header) is printed when every domain is OK, so cron mails only when there is news.
    """
    if options.quiet and report.status is Status.OK:
        return ""
    # A generator: the results are read back one at a time, never all held (see spool).
    results = (r for r in report.results if not options.quiet or r.status is not Status.OK)
    buffer = io.StringIO()
    # RFC 4180 wants CRLF; QUOTE_MINIMAL quotes fields holding commas, quotes or line breaks.
    writer = csv.writer(buffer, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(COLUMNS)
    for result in results:
        base = _domain_cells(result, report)
        tags = ",".join(result.domain.tags)
        if not result.findings:
            writer.writerow([*base, "", "", "", "", tags])
        for finding in result.findings:
            writer.writerow(
                [*base, finding.code, finding.severity.value, finding.check, finding.message,
                 tags]
            )
    return buffer.getvalue()


def _domain_cells(result: DomainResult, report: Report) -> list[str]:
    registration = result.registration
    expires = days = source = ""
    if registration is not None:
        source = registration.source
        if registration.expires is not None:
            # The JSON report's spelling, so a join on the two matches exactly.
            expires = registration.expires.strftime("%Y-%m-%dT%H:%M:%SZ")
            days = str(registration.days_left(report.generated))
    return [
        result.domain.name,
        result.domain.display_name,
        result.status.value,
        expires,
        days,
        source,
    ]
