"""Prometheus metrics in the node_exporter textfile-collector format.

Point ``-o`` at ``<textfile dir>/domwatch.prom``: the file is replaced atomically, so the
collector never reads half of it. Every family carries ``# HELP`` and ``# TYPE``; label
values are escaped per the exposition format (backslash, double quote, line feed).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping

from domwatch.model import DomainResult, Report, Status
from domwatch.report import RenderOptions

Sample = tuple[Mapping[str, str], float]


def render(report: Report, options: RenderOptions) -> str:
    """Every family, always for every domain.

    ``quiet`` is ignored: a textfile missing the OK domains would make their series vanish
    and alerts on ``absent()`` fire.
    """
    del options
    now = report.generated
    reg_days: list[Sample] = []
    reg_expiry: list[Sample] = []
    cert_days: list[Sample] = []
    state: list[Sample] = []
    findings: list[Sample] = []
    for result in report.results:
        domain = {"domain": result.domain.name}
        registration = result.registration
        if registration is not None and registration.expires is not None:
            days = registration.days_left(now)
            assert days is not None  # expires is set
            reg_days.append((domain, days))
            reg_expiry.append((domain, registration.expires.timestamp()))
        for host, days in certificate_days_by_host(result).items():
            cert_days.append(({"domain": result.domain.name, "host": host}, days))
        state.append((domain, result.status.exit_code))
        counts = Counter((f.code, f.severity.value) for f in result.findings)
        for (code, severity), count in counts.items():
            labels = {"domain": result.domain.name, "code": code, "severity": severity}
            findings.append((labels, count))
    summary = report.summary()
    domains: list[Sample] = [({"state": s.value}, summary[s.value]) for s in _STATES]
    families: list[tuple[str, str, list[Sample]]] = [
        (
            "domwatch_registration_days_left",
            "Whole days until the registration expires (negative: expired).",
            reg_days,
        ),
        (
            "domwatch_registration_expiry_timestamp_seconds",
            "When the registration expires, as a Unix timestamp.",
            reg_expiry,
        ),
        (
            "domwatch_certificate_days_left",
            "Whole days until the earliest-expiring certificate of a web host expires.",
            cert_days,
        ),
        (
            "domwatch_domain_state",
            "Worst state of the domain: 0 ok, 1 warning, 2 critical, 3 unknown (Nagios).",
            state,
        ),
        ("domwatch_findings", "Findings of this run per domain, code and severity.", findings),
        ("domwatch_domains", "Domains checked, per state.", domains),
        (
            "domwatch_last_run_timestamp_seconds",
            "When the run's report was generated, as a Unix timestamp.",
            [({}, now.timestamp())],
        ),
        (
            "domwatch_last_run_duration_seconds",
            "How long the run took.",
            [({}, report.duration)],
        ),
    ]
    lines: list[str] = []
    for name, help_text, samples in families:
        lines.extend(family(name, help_text, samples))
    return "\n".join(lines) + "\n"


_STATES = (Status.OK, Status.WARNING, Status.CRITICAL, Status.UNKNOWN)


def certificate_days_by_host(result: DomainResult) -> dict[str, int]:
    """The fewest certificate days left per web host (a host probed at two URLs is one)."""
    out: dict[str, int] = {}
    for cert in result.certificates:
        out[cert.host] = min(cert.days_left, out.get(cert.host, cert.days_left))
    return out


def family(
    name: str, help_text: str, samples: Iterable[Sample], kind: str = "gauge"
) -> list[str]:
    """One metric family's lines: ``# HELP``, ``# TYPE`` (gauge or counter), then samples."""
    lines = [f"# HELP {name} {_escape_help(help_text)}", f"# TYPE {name} {kind}"]
    for labels, value in samples:
        lines.append(f"{name}{_labels(labels)} {_value(value)}")
    return lines


def _labels(labels: Mapping[str, str]) -> str:
    if not labels:
        return ""
    inner = ",".join(f'{key}="{escape_label(value)}"' for key, value in labels.items())
    return "{" + inner + "}"


def escape_label(value: str) -> str:
    """A label value as the exposition format wants it: ``\\``, ``"`` and line feed escaped."""
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _escape_help(text: str) -> str:
    # HELP text escapes only backslash and line feed (a quote is literal there).
    return text.replace("\\", "\\\\").replace("\n", "\\n")


def _value(value: float) -> str:
    if isinstance(value, int) or (math.isfinite(value) and value == int(value)):
        return str(int(value))
    return repr(float(value))
