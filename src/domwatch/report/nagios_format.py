"""A Nagios/Icinga plugin's output: a status line with perfdata, then the long output.

The process exit status (0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN) is set by the caller.
Perfdata is ``'label'=value[UOM];[warn];[crit]``. The thresholds are written as ranges
``30:`` and ``7:`` ("alert below 30") because in the plugin guidelines a bare ``30`` means
"alert *above* 30", which would paint every healthy domain red in the graphs.
"""

from __future__ import annotations

from domwatch.model import DomainResult, Finding, Report, Severity, Status
from domwatch.report import RenderOptions

_ATTENTION = (Status.CRITICAL, Status.WARNING, Status.UNKNOWN)
_SEVERITY_RANK = {Severity.INFO: 0, Severity.UNKNOWN: 1, Severity.WARNING: 2, Severity.CRITICAL: 3}


def render(report: Report, options: RenderOptions) -> str:
    """Status line, then one line per finding. ``quiet`` is ignored: a plugin always answers."""
    del options
    lines = [_status_line(report)]
    for result in report.results:
        for finding in result.findings:
            lines.append(
                _text(
                    f"{finding.severity.value.upper()} {result.domain.display_name}: "
                    f"{finding.code}: {finding.message}"
                )
            )
    return "\n".join(lines) + "\n"


def _status_line(report: Report) -> str:
    counts = report.summary()
    worst = report.status
    told = [f"{counts[s.value]} {s.value}" for s in _ATTENTION if counts[s.value]]
    if told:
        # Worst domains first, input order within a state: the line gets cut in narrow views.
        needing = sorted(
            (r for r in report.results if r.status is not Status.OK),
            key=lambda r: -r.status.rank,
        )
        details = "; ".join(_headline(r) for r in needing)
        text = f"{', '.join(told)}: {details}"
    else:
        text = f"{len(report.results)} domains ok"
    perfdata = " ".join(p for r in report.results for p in perfdata_for(r, report))
    line = _text(f"DOMWATCH {worst.value.upper()} - {text}")
    return f"{line} | {perfdata}" if perfdata else line


def _headline(result: DomainResult) -> str:
    worst: Finding = max(result.findings, key=lambda f: _SEVERITY_RANK[f.severity])
    domain = result.domain
    if domain.display_name in worst.message or domain.name in worst.message:
        return worst.message  # it names the domain already
    return f"{domain.display_name}: {worst.message}"


def perfdata_for(result: DomainResult, report: Report) -> list[str]:
    """Registration days left (and the fewest certificate days left) of one domain."""
    out: list[str] = []
    thresholds = result.domain.thresholds
    registration = result.registration
    if registration is not None:
        days = registration.days_left(report.generated)
        if days is not None:
            label = _label(result.domain.name)
            out.append(f"{label}={days}d;{thresholds.warn_days}:;{thresholds.crit_days}:")
    if result.cert_days_left is not None:
        label = _label(f"{result.domain.name} cert")
        out.append(
            f"{label}={result.cert_days_left}d;"
            f"{thresholds.cert_warn_days}:;{thresholds.cert_crit_days}:"
        )
    return out


def _label(text: str) -> str:
    # Quoted labels may hold spaces; a quote inside is doubled, '=' is not allowed at all.
    return "'" + text.replace("'", "''").replace("=", "_") + "'"


def _text(text: str) -> str:
    # '|' would start perfdata and a line break would end the line: neither may leak in.
    return " ".join(text.replace("|", "/").split())
