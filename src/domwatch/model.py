"""The vocabulary shared by every layer: domains, registrations, findings and the report."""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from fnmatch import fnmatchcase
from typing import Any, Protocol, runtime_checkable


class Severity(str, enum.Enum):
    """How bad one finding is."""

    INFO = "info"
    UNKNOWN = "unknown"
    WARNING = "warning"
    CRITICAL = "critical"

    @property
    def status(self) -> Status:
        """The domain state this finding alone would put its domain in."""
        return _SEVERITY_STATUS[self]


class Status(str, enum.Enum):
    """The state of one domain or of a whole run (the Nagios convention)."""

    OK = "ok"
    UNKNOWN = "unknown"
    WARNING = "warning"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        """CRITICAL > WARNING > UNKNOWN > OK."""
        return _STATUS_RANK[self]

    @property
    def exit_code(self) -> int:
        """The process exit status for this worst state."""
        return _STATUS_EXIT[self]

    @classmethod
    def worst(cls, states: Iterable[Status]) -> Status:
        """The highest-ranked of ``states`` (OK for none)."""
        return max(states, key=lambda s: s.rank, default=cls.OK)


_SEVERITY_STATUS = {
    Severity.INFO: Status.OK,
    Severity.UNKNOWN: Status.UNKNOWN,
    Severity.WARNING: Status.WARNING,
    Severity.CRITICAL: Status.CRITICAL,
}
_STATUS_RANK = {Status.OK: 0, Status.UNKNOWN: 1, Status.WARNING: 2, Status.CRITICAL: 3}
_STATUS_EXIT = {Status.OK: 0, Status.WARNING: 1, Status.CRITICAL: 2, Status.UNKNOWN: 3}

CHECKS = ("registration", "dns", "web", "mail")

_TLS_CODES = ("expired", "critical", "warning", "hostname_mismatch", "untrusted")
# Every finding code domwatch reports: public interface (people put them in 'ignore'); add new
# ones, never rename. The README's findings table lists the same (tests/test_first_run.py).
FINDING_CODES = frozenset({
    "expiry.expired", "expiry.critical", "expiry.warning", "expiry.unpublished",
    "registration.not_found", "registration.hold", "registration.redemption",
    "registration.pending_delete",
    "lookup.failed", "lookup.rate_limited", "lookup.unparsed", "lookup.stale",
    "change.registrar", "change.nameservers", "change.status", "change.expiry_earlier",
    "change.renewed",
    "dns.nxdomain", "dns.servfail", "dns.refused", "dns.timeout", "dns.ns_lame",
    "dns.ns_unresolvable", "dns.soa_serial_mismatch",
    "web.no_address", "web.unreachable", "web.address_unreachable", "web.http_error",
    *(f"tls.{c}" for c in _TLS_CODES),
    "mail.no_mx", "mail.null_mx", "mail.null_mx_mixed", "mail.mx_unresolvable", "mail.mx_cname",
    "mail.spf.missing", "mail.dmarc.missing", "mail.spf.invalid", "mail.dmarc.invalid",
    "mail.spf.too_many_lookups",
    *(f"mail.tls.{c}" for c in _TLS_CODES), "mail.tls.unavailable", "mail.tls.unreachable",
    *(f"{c}.check_failed" for c in CHECKS if c != "registration"),  # registration: lookup.failed
})


@dataclass(frozen=True)
class Thresholds:
    """Days-left limits below which expiry is a warning or critical."""

    warn_days: int = 30
    crit_days: int = 7
    cert_warn_days: int = 21
    cert_crit_days: int = 7


@dataclass(frozen=True, slots=True)  # slots: a run may hold 100,000 of them
class Domain:
    """One domain to watch, normalised, with its per-domain options resolved."""

    name: str  # registrable domain, A-label, lower case, no trailing dot
    display_name: str  # the same in Unicode, for people
    hosts: tuple[str, ...] = ()  # host names given as input below the registrable domain
    thresholds: Thresholds = Thresholds()
    checks: tuple[str, ...] = CHECKS
    web: tuple[str, ...] = ()  # explicit URLs to probe; empty means the defaults
    mail: bool | None = None  # True: the domain must receive mail
    mail_tls: bool = False
    expires: date | None = None  # set by hand for registries that publish none
    ignore: frozenset[str] = frozenset()
    tags: tuple[str, ...] = ()
    notify: tuple[str, ...] = ()
    source: str = ""  # where it was read from ("file.toml:12", "argv", "stdin:3")

    @property
    def tld(self) -> str:
        """The last label (A-label)."""
        return self.name.rsplit(".", 1)[-1]


@dataclass(frozen=True)
class Registration:
    """What a registry says about a registration."""

    source: str  # "rdap", "whois" or "manual"
    server: str | None = None
    registrar: str | None = None
    expires: datetime | None = None  # timezone-aware UTC; None when not published
    registrar_expires: datetime | None = None  # the registrar's date when it differs
    statuses: tuple[str, ...] = ()  # EPP status codes
    nameservers: tuple[str, ...] = ()
    expiry_published: bool = True  # False for registries that never publish one
    cached: bool = False
    fetched: datetime | None = None  # when the answer was obtained (for cache age)

    def days_left(self, now: datetime) -> int | None:
        """Whole days from ``now`` to expiry, negative when expired."""
        if self.expires is None:
            return None
        return (self.expires.date() - now.date()).days

    def to_json(self, now: datetime) -> dict[str, Any]:
        """The spec's ``registration`` object."""
        out: dict[str, Any] = {
            "source": self.source,
            "server": self.server,
            "registrar": self.registrar,
            "expires": _iso(self.expires),
            "days_left": self.days_left(now),
            "statuses": list(self.statuses),
            "nameservers": list(self.nameservers),
            "cached": self.cached,
        }
        if self.registrar_expires is not None:
            out["registrar_expires"] = _iso(self.registrar_expires)
        return out


@dataclass(frozen=True)
class Finding:
    """One problem, with a stable public code and a message a person can act on."""

    code: str
    severity: Severity
    check: str
    message: str

    def to_json(self) -> dict[str, str]:
        """The spec's finding object."""
        return {
            "code": self.code,
            "severity": self.severity.value,
            "check": self.check,
            "message": self.message,
        }


@dataclass
class CheckResult:
    """What one check found for one domain: findings plus data for the report."""

    findings: list[Finding] = field(default_factory=list)
    registration: Registration | None = None
    data: dict[str, Any] | None = None  # the check's JSON section (dns, mail, web)
    cert_days_left: int | None = None  # earliest certificate expiry seen (web)
    cert_expires: datetime | None = None  # that certificate's notAfter (UTC), for dated reports


@dataclass
class DomainResult:
    """Everything learned about one domain in one run."""

    domain: Domain
    findings: list[Finding] = field(default_factory=list)
    registration: Registration | None = None
    sections: dict[str, Any] = field(default_factory=dict)
    cert_days_left: int | None = None
    cert_expires: datetime | None = None  # the notAfter behind cert_days_left
    checks_run: tuple[str, ...] = ()

    @property
    def status(self) -> Status:
        """The worst state among the findings not ignored for this domain."""
        return Status.worst(f.severity.status for f in self.findings)

    def add(self, check: str, result: CheckResult) -> None:
        """Merge one check's result; a failure already told by another check is not repeated."""
        seen = {(f.code, f.message) for f in self.findings}
        for finding in result.findings:
            key = (finding.code, finding.message)
            if key in seen or any(fnmatchcase(finding.code, pat) for pat in self.domain.ignore):
                continue
            seen.add(key)
            self.findings.append(finding)
        if result.registration is not None:
            self.registration = result.registration
        if result.data is not None:
            self.sections[check] = result.data
        if result.cert_days_left is not None and (
            self.cert_days_left is None or result.cert_days_left < self.cert_days_left
        ):
            self.cert_days_left = result.cert_days_left
        if result.cert_expires is not None and (
            self.cert_expires is None or result.cert_expires < self.cert_expires
        ):
            self.cert_expires = result.cert_expires

    def to_json(self, now: datetime) -> dict[str, Any]:
        """The spec's per-domain object."""
        out: dict[str, Any] = {
            "name": self.domain.name,
            "display_name": self.domain.display_name,
            "status": self.status.value,
            "registration": (
                self.registration.to_json(now) if self.registration is not None else None
            ),
            "findings": [f.to_json() for f in self.findings],
            "tags": list(self.domain.tags),
        }
        for key, value in self.sections.items():
            out[key] = value
        return out


@runtime_checkable
class Tallied(Protocol):
    """Results that know their states without being read back (a run's spool)."""

    def statuses(self) -> Iterable[Status]:
        """Each result's state, in order."""
        ...


@runtime_checkable
class Amendable(Protocol):
    """Results that are copies read back (a run's spool): a change must be put back."""

    def amend(self, change: Callable[[DomainResult], bool]) -> None:
        """Hand each result to ``change``; keep those it says it changed."""
        ...


@dataclass
class Report:
    """The outcome of one run, in input order.

    ``results`` is a list, or (from a run) a spool on disk that reads each result back as it
    is iterated: walk it, do not keep it.
    """

    generated: datetime
    results: Sequence[DomainResult]
    duration: float = 0.0
    stats: Mapping[str, int] = field(default_factory=dict)
    notifications: list[dict[str, Any]] | None = None  # one per notify target, when any
    network_problem: str | None = None  # why the network or resolver was not usable, if so

    def statuses(self) -> Iterable[Status]:
        """Each domain's state, in order (from a spool, without reading the results back)."""
        if isinstance(self.results, Tallied):
            return self.results.statuses()
        return (r.status for r in self.results)

    @property
    def status(self) -> Status:
        """The worst state of any domain."""
        return Status.worst(self.statuses())

    def summary(self) -> dict[str, int]:
        """How many domains are in each state."""
        counts = {s.value: 0 for s in (Status.OK, Status.WARNING, Status.CRITICAL, Status.UNKNOWN)}
        for status in self.statuses():
            counts[status.value] += 1
        return counts

    def to_json(self, *, domains: bool = True) -> dict[str, Any]:
        """The spec's JSON report (schema ``domwatch/1``); without ``domains`` their list is
        left empty (the streaming writer fills it in)."""
        out: dict[str, Any] = {
            "schema": "domwatch/1",
            "generated": _iso(self.generated),
            "summary": self.summary(),
            "domains": [r.to_json(self.generated) for r in self.results] if domains else [],
        }
        if self.stats:
            out["stats"] = dict(self.stats)
        if self.notifications is not None:
            out["notifications"] = list(self.notifications)
        if self.network_problem is not None:
            out["network_problem"] = self.network_problem
        return out


def _iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
