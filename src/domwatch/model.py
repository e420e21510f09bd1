"""The vocabulary shared by every layer: domains, registrations, findings and the report."""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping, Sequence
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

@dataclass(frozen=True)
class CheckInfo:
    """One check: its public name and what it needs (the functions are bound in
    :mod:`domwatch.checks.catalog`, which refuses to load without one for each)."""

    name: str
    meaning: str
    network: bool  # needs the resolver: skipped, said once, when the network is unusable
    gated: bool  # holds a slot of the run's --concurrency (registration has per-server limits)


# The checks, in their one order (reports, --checks, notifications). Add one here, bind its
# function in checks/catalog.py, declare its codes below.
CHECK_INFO: tuple[CheckInfo, ...] = (
    CheckInfo("registration", "RDAP, else WHOIS: expiry, registrar, statuses", False, False),
    CheckInfo("dns", "the domain resolves; its name servers answer authoritatively", True, True),
    CheckInfo("web", "each web host's addresses over HTTPS: reachability, certificate, HTTP",
              True, True),
    CheckInfo("mail", "MX, SPF, DMARC; with mail_tls each MX host's STARTTLS", True, True),
)
CHECKS = tuple(c.name for c in CHECK_INFO)


@dataclass(frozen=True)
class Code:
    """One finding code, declared once (below): public interface, people put it in ``ignore``.

    Add new ones, never rename. ``also`` are the other severities the spec lets it take;
    ``family`` names the problem it is a state of (``expiry.warning`` and ``expiry.critical``
    are one problem getting worse); ``event`` marks something that happened between two runs
    (told once, never "fixed").
    """

    name: str
    check: str
    severity: Severity
    meaning: str
    also: tuple[Severity, ...] = ()
    family: str = ""  # empty: the code is its own family
    event: bool = False

    @property
    def problem(self) -> str:
        """The notification family: the problem this code is a state of."""
        return self.family or self.name

    def finding(self, message: str, severity: Severity | None = None) -> Finding:
        """A finding of this code (its default severity unless told another allowed one)."""
        return Finding(self.name, self.severity if severity is None else severity, self.check,
                       message)


_DECLARED: dict[str, Code] = {}


def _declare(code: Code) -> Code:
    if code.name in _DECLARED:
        raise ValueError(f"finding code {code.name!r} declared twice")
    if code.check not in CHECKS:
        raise ValueError(f"finding code {code.name!r}: unknown check {code.check!r}")
    _DECLARED[code.name] = code
    return code


def _code(name: str, check: str, severity: Severity, meaning: str, **more: Any) -> Code:
    return _declare(Code(name, check, severity, meaning, **more))


_C, _W, _I, _U = Severity.CRITICAL, Severity.WARNING, Severity.INFO, Severity.UNKNOWN

EXPIRY_EXPIRED = _code("expiry.expired", "registration", _C,
                       "the registration expiry date has passed", family="expiry")
EXPIRY_CRITICAL = _code("expiry.critical", "registration", _C,
                        "expiry within `crit_days`", family="expiry")
EXPIRY_WARNING = _code("expiry.warning", "registration", _W,
                       "expiry within `warn_days`", family="expiry")
EXPIRY_UNPUBLISHED = _code("expiry.unpublished", "registration", _I,
                           "the registry publishes no expiry date and none is set in the file")
REGISTRATION_NOT_FOUND = _code("registration.not_found", "registration", _C,
                               "the registry says the domain is not registered")
REGISTRATION_HOLD = _code("registration.hold", "registration", _C,
                          "clientHold / serverHold: suspended, out of DNS")
REGISTRATION_REDEMPTION = _code("registration.redemption", "registration", _C,
                                "redemptionPeriod: expired and about to be deleted")
REGISTRATION_PENDING_DELETE = _code("registration.pending_delete", "registration", _C,
                                    "pendingDelete")
LOOKUP_FAILED = _code("lookup.failed", "registration", _U,
                      "RDAP and WHOIS could not be completed (timeout, refused, malformed)")
LOOKUP_RATE_LIMITED = _code("lookup.rate_limited", "registration", _U,
                            "still rate-limited after retries")
LOOKUP_UNPARSED = _code("lookup.unparsed", "registration", _U,
                        "an answer came but could not be read (an unreadable date, or an "
                        "unknown layout: its first lines are in the message)")
LOOKUP_STALE = _code("lookup.stale", "registration", _I,
                     "this run's lookup failed; the cached answer (with its age) is shown instead")
CHANGE_REGISTRAR = _code("change.registrar", "registration", _W,
                         "the registrar differs from the previous run (state file)", event=True)
CHANGE_NAMESERVERS = _code("change.nameservers", "registration", _W,
                           "the name servers differ from the previous run (state file)",
                           event=True)
CHANGE_STATUS = _code("change.status", "registration", _W,
                      "the registry statuses differ from the previous run (state file)",
                      event=True)
CHANGE_EXPIRY_EARLIER = _code("change.expiry_earlier", "registration", _W,
                              "the expiry date moved earlier than last seen", event=True)
CHANGE_RENEWED = _code("change.renewed", "registration", _I,
                       "the expiry date moved later: the domain was renewed", event=True)
DNS_NXDOMAIN = _code("dns.nxdomain", "dns", _C, "the domain does not exist in DNS")
DNS_SERVFAIL = _code("dns.servfail", "dns", _C,
                     "resolution fails (lame delegation, DNSSEC failure)")
DNS_REFUSED = _code("dns.refused", "dns", _C, "the resolver refuses to answer for the domain")
DNS_TIMEOUT = _code("dns.timeout", "dns", _U, "no DNS answer in time")
DNS_NS_LAME = _code("dns.ns_lame", "dns", _W,
                    "a listed name server does not answer authoritatively")
DNS_NS_UNRESOLVABLE = _code("dns.ns_unresolvable", "dns", _W,
                            "a listed name server has no address")
DNS_SOA_SERIAL_MISMATCH = _code("dns.soa_serial_mismatch", "dns", _I,
                                "the name servers serve different SOA serials")
WEB_NO_ADDRESS = _code("web.no_address", "web", _C, "a web host has no A or AAAA record")
WEB_UNREACHABLE = _code("web.unreachable", "web", _C,
                        "no address of a web host accepts a connection")
WEB_ADDRESS_UNREACHABLE = _code("web.address_unreachable", "web", _W,
                                "some, not all, addresses fail", family="web.unreachable")
WEB_HTTP_ERROR = _code("web.http_error", "web", _C, "HTTP status 5xx / 4xx", also=(_W,))


@dataclass(frozen=True)
class CertCodes:
    """The certificate findings of one kind of endpoint (web hosts, MX hosts' STARTTLS)."""

    expired: Code
    critical: Code
    warning: Code
    hostname_mismatch: Code
    untrusted: Code


def _cert_codes(prefix: str, check: str, where: str) -> CertCodes:
    family = f"{prefix}.expiry"
    return CertCodes(
        expired=_code(f"{prefix}.expired", check, _C,
                      f"a certificate in the chain {where}has expired", family=family),
        critical=_code(f"{prefix}.critical", check, _C,
                       f"certificate expiry {where}within `cert_crit_days`", family=family),
        warning=_code(f"{prefix}.warning", check, _W,
                      f"certificate expiry {where}within `cert_warn_days`", family=family),
        hostname_mismatch=_code(f"{prefix}.hostname_mismatch", check, _C,
                                f"the certificate {where}does not cover the host name"),
        untrusted=_code(f"{prefix}.untrusted", check, _C,
                        f"the chain {where}does not lead to a trusted root"),
    )


TLS = _cert_codes("tls", "web", "")
MAIL_NO_MX = _code("mail.no_mx", "mail", _W, "no MX record (critical with `mail = true`)",
                   also=(_C,))
MAIL_NULL_MX = _code("mail.null_mx", "mail", _I,
                     "null MX: the domain states it receives no mail (critical with "
                     "`mail = true`)", also=(_C,))
MAIL_NULL_MX_MIXED = _code("mail.null_mx_mixed", "mail", _W,
                           "a null MX beside other MX records (RFC 7505)")
MAIL_MX_UNRESOLVABLE = _code("mail.mx_unresolvable", "mail", _C,
                             "an MX target has no address, or is an address literal")
MAIL_MX_CNAME = _code("mail.mx_cname", "mail", _W, "an MX target is a CNAME")
MAIL_SPF_MISSING = _code("mail.spf.missing", "mail", _I,
                         "no SPF record (not reported with a null MX)")
MAIL_DMARC_MISSING = _code("mail.dmarc.missing", "mail", _I,
                           "no DMARC record (not reported with a null MX)")
MAIL_SPF_INVALID = _code("mail.spf.invalid", "mail", _W,
                         "an SPF record that does not parse, or two of them")
MAIL_DMARC_INVALID = _code("mail.dmarc.invalid", "mail", _W,
                           "a DMARC record that does not parse, or two of them")
MAIL_SPF_TOO_MANY_LOOKUPS = _code("mail.spf.too_many_lookups", "mail", _W,
                                  "SPF needs more than 10 DNS lookups (RFC 7208 §4.6.4)")
MAIL_TLS = _cert_codes("mail.tls", "mail", "of an MX host's STARTTLS (`mail_tls`) ")
MAIL_TLS_UNAVAILABLE = _code("mail.tls.unavailable", "mail", _W,
                             "an MX host offers no STARTTLS, or it fails")
MAIL_TLS_UNREACHABLE = _code("mail.tls.unreachable", "mail", _U,
                             "an MX address cannot be reached on the SMTP port (often blocked "
                             "outbound)")
# A check that could not be done: the network or resolver was not usable (said once at the
# top of the report), or a bug. Registration's is lookup.failed.
CHECK_FAILED: dict[str, Code] = {
    c.name: LOOKUP_FAILED if c.name == "registration" else _code(
        f"{c.name}.check_failed", c.name, _U,
        f"the {c.name} check could not be done: the network or resolver was not usable "
        "(said once at the top), or a bug (please report it)")
    for c in CHECK_INFO
}

CODES: Mapping[str, Code] = _DECLARED  # every declared code by name, in declaration order
# Every finding code domwatch reports (what `ignore` is checked against).
FINDING_CODES = frozenset(_DECLARED)


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

    def __post_init__(self) -> None:
        # Only declared codes, with a severity their declaration allows (see CODES).
        declared = _DECLARED.get(self.code)
        if declared is None:
            raise ValueError(f"undeclared finding code {self.code!r}")
        if self.severity is not declared.severity and self.severity not in declared.also:
            raise ValueError(f"finding code {self.code!r} cannot be {self.severity.value}")

    def to_json(self) -> dict[str, str]:
        """The spec's finding object."""
        return {
            "code": self.code,
            "severity": self.severity.value,
            "check": self.check,
            "message": self.message,
        }


@dataclass(frozen=True, slots=True)
class HostCertificate:
    """The earliest-expiring certificate one web host presented, over its addresses."""

    host: str  # A-label or address literal, as probed
    days_left: int  # negative when expired
    expires: datetime  # its notAfter (UTC)


@dataclass
class CheckResult:
    """What one check found for one domain: findings plus data for the report."""

    findings: list[Finding] = field(default_factory=list)
    registration: Registration | None = None
    data: dict[str, Any] | None = None  # the check's JSON section (dns, mail, web)
    cert_days_left: int | None = None  # earliest certificate expiry seen (web)
    cert_expires: datetime | None = None  # that certificate's notAfter (UTC), for dated reports
    certificates: list[HostCertificate] = field(default_factory=list)  # per web host


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
    certificates: list[HostCertificate] = field(default_factory=list)  # per web host

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
        self.certificates.extend(result.certificates)

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
