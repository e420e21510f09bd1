"""A Nagios/Icinga plugin's output, per the plugin guidelines' layout:

    TEXT OUTPUT | PERFDATA
    LONG TEXT LINE 1
    ...
    LONG TEXT LINE N | PERFDATA LINE 2
    PERFDATA LINE 3

The first line is what Nagios shows and alerts with, and where views cut: it is bounded
whatever the number of domains (the count by state, the worst few domains, the counts as
perfdata). Every finding is a line of the long output, and every domain's days left is
perfdata after it, one per line.

The process exit status (0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN) is set by the caller.
Perfdata is ``'label'=value[UOM];[warn];[crit];[min];[max]``. Days are plain numbers: the
guidelines define no unit for days (only none, s/ms/us, %, B/KB/MB/TB and c), so
``'example.fi'=25;30:;7:`` rather than the ``25d`` an earlier version wrote (which strict
parsers drop). The thresholds are ranges ``30:`` and ``7:`` ("alert below 30") because in the
guidelines a bare ``30`` means "alert *above* 30", which would paint every healthy domain red.
"""

from __future__ import annotations

import heapq

from domwatch.model import DomainResult, Finding, Report, Severity, Status
from domwatch.report import RenderOptions, plural, urgency

_ATTENTION = (Status.CRITICAL, Status.WARNING, Status.UNKNOWN)
_SEVERITY_RANK = {Severity.INFO: 0, Severity.UNKNOWN: 1, Severity.WARNING: 2, Severity.CRITICAL: 3}
WORST_SHOWN = 3  # domains named on the first line
HEADLINE_CHARS = 80  # each of them, at most


def render(report: Report, options: RenderOptions) -> str:
    """Status line, then one line per finding, then per-domain perfdata. ``quiet`` is ignored:
    a plugin always answers."""
    del options
    lines = [status_line(report)]
    perfdata: list[str] = []
    for result in report.results:  # one pass: the results are read back from the spool
        for finding in result.findings:
            lines.append(
                _text(
                    f"{finding.severity.value.upper()} {result.domain.display_name}: "
                    f"{finding.code}: {finding.message}"
                )
            )
        perfdata.extend(perfdata_for(result, report))
    if perfdata:
        if len(lines) == 1:  # perfdata after the first line needs a long text line to follow
            lines.append(f"{plural(len(report.results), 'domain')} checked")
        lines[-1] += " | " + perfdata[0]
        lines.extend(perfdata[1:])
    return "\n".join(lines) + "\n"


def status_line(report: Report) -> str:
    """``DOMWATCH CRITICAL - 2 critical, 1 unknown: a.fi: ...; +1 more | critical=2;;;0 ...``."""
    counts = report.summary()
    told = [f"{counts[s.value]} {s.value}" for s in _ATTENTION if counts[s.value]]
    if told:
        # Worst first: the line gets cut in narrow views. nsmallest is sorted()[:n] without
        # holding the whole run in memory; the count comes from the summary.
        worst = heapq.nsmallest(
            WORST_SHOWN,
            (r for r in report.results if r.status is not Status.OK),
            key=lambda r: urgency(r, report.generated),
        )
        details = [_headline(r) for r in worst]
        needing = sum(counts[s.value] for s in _ATTENTION)
        if needing > WORST_SHOWN:
            details.append(f"+{needing - WORST_SHOWN} more")
        if report.network_problem is not None:
            details.insert(0, "network or DNS resolver not usable")
        text = f"{', '.join(told)}: {'; '.join(details)}"
    else:
        text = f"{plural(len(report.results), 'domain')} ok"
    line = _text(f"DOMWATCH {report.status.value.upper()} - {text}")
    counters = " ".join(
        f"{s.value}={counts[s.value]};;;0" for s in (*_ATTENTION, Status.OK)
    )
    return f"{line} | {counters}"


def _headline(result: DomainResult) -> str:
    worst: Finding = max(result.findings, key=lambda f: _SEVERITY_RANK[f.severity])
    domain = result.domain
    text = worst.message
    if domain.display_name not in text and domain.name not in text:
        text = f"{domain.display_name}: {text}"
    text = _text(text)
    if len(text) > HEADLINE_CHARS:
        text = text[: HEADLINE_CHARS - 3].rstrip() + "..."
    return text


def perfdata_for(result: DomainResult, report: Report) -> list[str]:
    """Registration days left (and the fewest certificate days left) of one domain."""
    out: list[str] = []
    thresholds = result.domain.thresholds
    registration = result.registration
    if registration is not None:
        days = registration.days_left(report.generated)
        if days is not None:
            label = _label(result.domain.name)
            out.append(f"{label}={days};{thresholds.warn_days}:;{thresholds.crit_days}:")
    if result.cert_days_left is not None:
        label = _label(f"{result.domain.name} cert")
        out.append(
            f"{label}={result.cert_days_left};"
            f"{thresholds.cert_warn_days}:;{thresholds.cert_crit_days}:"
        )
    return out


def _label(text: str) -> str:
    # Quoted labels may hold spaces; a quote inside is doubled, '=' is not allowed at all.
    return "'" + text.replace("'", "''").replace("=", "_") + "'"


def _text(text: str) -> str:
    # '|' would start perfdata and a line break would end the line: neither may leak in.
    return " ".join(text.replace("|", "/").split())
