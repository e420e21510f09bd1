"""Reading a WHOIS answer: registered (with expiry), not registered, rate-limited, or unreadable.

Our own line-based, table-driven reading comes first; python-whois's parser is a second opinion
for the expiry date where ours finds none. Every regular expression here is anchored to one line
and linear; python-whois's ``WhoisJp`` and ``WhoisHk`` patterns backtrack catastrophically on
real answers, so they are never run, and the text handed to any pattern is capped: ``re`` holds
the GIL, so one slow answer would stall every concurrent lookup.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Literal

Outcome = Literal["registered", "not_found", "rate_limited", "unparsed"]

MAX_TEXT = 256 * 1024

# TLDs whose registries never publish an expiry date over WHOIS.
NO_EXPIRY_TLDS = frozenset({"de", "eu", "at", "be", "nl", "ch", "li", "no", "gr", "cy", "mt"})

# Day-first numeric dates (d.m.y, d/m/y, d-m-y) are the European norm; these are month-first.
MONTH_FIRST_TLDS = frozenset({"us"})


@dataclass(frozen=True)
class WhoisParse:
    """What one WHOIS answer says."""

    outcome: Outcome
    expires: datetime | None = None
    registrar: str | None = None
    statuses: tuple[str, ...] = ()
    nameservers: tuple[str, ...] = ()
    referral: str | None = None
    expiry_published: bool = True
    reason: str = ""


_RATE_LIMIT = re.compile(
    r"limit exceeded|rate limit|too many (?:requests|queries|connections)|query limit|"
    r"exceeded the maximum allowable|access control limit|slow down|try again later|"
    r"maximum number of queries|quota exceeded|temporarily blocked|request limit|"
    r"number of allowed queries|queries per (?:second|minute|hour)",
    re.IGNORECASE,
)

_NOT_FOUND = re.compile(
    r"^\s*(?:%+\s*)?(?:"
    r"no match(?:es)?(?: for)?\b|not found\b|no entries found|no data found|"
    r"domain not found|object does not exist|the queried object does not exist|"
    r"status:\s*(?:free|available|not registered|no object found)\s*$|"
    r"no matching record|nothing found|no such domain|domain (?:name )?(?:is )?available|"
    r"this domain name has not been registered|the domain has not been registered|"
    r"domain \S+ is not registered|no object found|not registered\.?\s*$|"
    r"no information available|is free\s*$|no match!!"
    r")",
    re.IGNORECASE | re.MULTILINE,
)

# Expiry labels, registry first: a thin registry's combined text names both.
_REGISTRY_EXPIRY = (
    "registry expiry date",
    "registry expiration date",
    "expiry date",
    "expiration date",
    "expiration time",
    "expires on",
    "expire date",
    "expires",
    "expire",
    "expiry",
    "paid-till",
    "valid until",
    "valid-date",
    "validity",
    "renewal date",
    "renewal",
    "free-date",
    "date d'expiration",
    "data de expiração",
    "fecha de vencimiento",
    "vervaldatum",
    "有効期限",
    "expires at",
    "expiration",
)
_REGISTRAR_EXPIRY = ("registrar registration expiration date",)

_LINE = re.compile(r"^[ \t]*\[?([^:\]\n]{1,60}?)\]?[ \t]*(?:\.{2,}|:)[ \t]*:?[ \t]*(.*?)[ \t]*$",
                   re.MULTILINE)

_EPP = {
    s.lower(): s
    for s in (
        "ok", "active", "inactive", "clientHold", "serverHold", "redemptionPeriod",
        "pendingDelete", "pendingTransfer", "pendingRenew", "pendingRestore", "pendingUpdate",
        "pendingCreate", "clientTransferProhibited", "serverTransferProhibited",
        "clientDeleteProhibited", "serverDeleteProhibited", "clientUpdateProhibited",
        "serverUpdateProhibited", "clientRenewProhibited", "serverRenewProhibited",
        "autoRenewPeriod", "renewPeriod", "transferPeriod", "addPeriod",
    )
}

_TZ_OFFSETS = {
    "utc": 0, "gmt": 0, "z": 0, "ut": 0, "cet": 1, "cest": 2, "eet": 2, "eest": 3,
    "wet": 0, "west": 1, "msk": 3, "jst": 9, "kst": 9, "cst": 8, "hkt": 8, "sgt": 8,
    "ist": 5.5, "aest": 10, "aedt": 11, "nzst": 12, "nzdt": 13, "brt": -3, "clt": -4,
    "clst": -3, "est": -5, "edt": -4, "pst": -8, "pdt": -7,
}

_MONTHS = {
    m: i + 1
    for i, m in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
    )
}


def parse_whois(domain: str, text: str) -> WhoisParse:
    """Judge one WHOIS answer for ``domain`` (A-label); never raises, always quick."""
    text = text[:MAX_TEXT].replace("\x00", "")
    tld = domain.rsplit(".", 1)[-1].lower()
    if not text.strip():
        return WhoisParse("unparsed", reason="empty answer")
    fields = _fields(text)
    has_domain_data = any(k in fields for k in ("domain name", "domain", "registrar"))
    if _RATE_LIMIT.search(text[:4096]) and not _has_expiry(fields):
        line = next((ln.strip() for ln in text.splitlines() if _RATE_LIMIT.search(ln)), "")
        return WhoisParse("rate_limited", reason=line[:200] or "rate limit reply")
    if not has_domain_data or not _has_expiry(fields):
        found = _NOT_FOUND.search(text[:8192])
        if found and not (has_domain_data and _has_expiry(fields)):
            line = text[found.start() : text.find("\n", found.start())].strip()
            return WhoisParse("not_found", reason=(line or found.group(0).strip())[:200])
    expires = _expiry(fields, _REGISTRY_EXPIRY, tld)
    if expires is None:
        expires = _python_whois_expiry(domain, text, tld)
    registrar = _first(fields, "registrar", "sponsoring registrar", "registrar name",
                       "registrar organization", "registrar handle")
    statuses = _statuses(fields)
    nameservers = _nameservers(fields)
    referral = _first(fields, "registrar whois server", "whois server", "whois")
    published = tld not in NO_EXPIRY_TLDS
    if expires is None and not (has_domain_data or nameservers or statuses):
        return WhoisParse("unparsed", reason="no domain data in the answer")
    reason = "" if expires is not None or not published else "no expiry date field found"
    return WhoisParse(
        "registered",
        expires=expires,
        registrar=registrar,
        statuses=statuses,
        nameservers=nameservers,
        referral=referral or None,
        expiry_published=published or expires is not None,
        reason=reason,
    )


def _fields(text: str) -> dict[str, list[str]]:
    fields: dict[str, list[str]] = {}
    for match in _LINE.finditer(text):
        key = " ".join(match.group(1).strip().lower().split())
        value = match.group(2).strip()
        if value and not key.startswith(("http", "%", "#", ">>>")):
            fields.setdefault(key, []).append(value)
    return fields


def _has_expiry(fields: dict[str, list[str]]) -> bool:
    return any(label in fields for label in _REGISTRY_EXPIRY)


def _first(fields: dict[str, list[str]], *keys: str) -> str | None:
    for key in keys:
        for value in fields.get(key, ()):
            if value.strip():
                return value.strip()[:200]
    return None


def _expiry(fields: dict[str, list[str]], labels: tuple[str, ...], tld: str) -> datetime | None:
    for label in labels:
        for value in fields.get(label, ()):
            moment = parse_date(value, tld)
            if moment is not None:
                return moment
    return None


def _statuses(fields: dict[str, list[str]]) -> tuple[str, ...]:
    found: list[str] = []
    for key in ("domain status", "status", "state", "epp status"):
        for value in fields.get(key, ()):
            for word in re.split(r"[\s,]+", value):
                epp = _EPP.get(word.strip().lower().replace("_", ""))
                if epp and epp not in found:
                    found.append(epp)
            spaced = _EPP.get(value.lower().replace(" ", "").split("http")[0])
            if spaced and spaced not in found:
                found.append(spaced)
    return tuple(found)


def _nameservers(fields: dict[str, list[str]]) -> tuple[str, ...]:
    found: list[str] = []
    for key in ("name server", "nameserver", "nserver", "name servers", "nameservers", "dns",
                "host name", "primary server", "secondary server"):
        for value in fields.get(key, ()):
            host = value.split()[0].rstrip(".").lower() if value.split() else ""
            if host and "." in host and not re.fullmatch(r"[\d.:]+", host) and host not in found:
                found.append(host)
    return tuple(found)


_ISO = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?)?\s*"
    r"(Z|[+-]\d{2}:?\d{2}|\(?[A-Za-z]{1,5}\)?)?"
)
_NUMERIC = re.compile(
    r"^(\d{1,4})[./-](\d{1,2})[./-](\d{1,4})(?:\s+(\d{1,2}):(\d{2})(?::(\d{2}))?)?\s*"
    r"(Z|[+-]\d{2}:?\d{2}|\(?[A-Za-z]{1,5}\)?)?"
)
_NAMED = re.compile(
    r"^(?:[A-Za-z]{3},?\s+)?(\d{1,2})[\s-]([A-Za-z]{3,9})[\s-](\d{2,4})"
    r"(?:\s+(\d{1,2}):(\d{2})(?::(\d{2}))?)?\s*(Z|[+-]\d{2}:?\d{2}|\(?[A-Za-z]{1,5}\)?)?"
)
_MONTH_NAMED = re.compile(
    r"^(?:[A-Za-z]{3},?\s+)?([A-Za-z]{3,9})\s+(\d{1,2}),?\s+(\d{4})"
    r"(?:\s+(\d{1,2}):(\d{2})(?::(\d{2}))?)?\s*(Z|[+-]\d{2}:?\d{2}|\(?[A-Za-z]{1,5}\)?)?"
)
_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})\b")
_DOTTED_SPACED = re.compile(r"^(\d{4})\.\s*(\d{1,2})\.\s*(\d{1,2})\.?")


def parse_date(value: str, tld: str = "") -> datetime | None:
    """A WHOIS date in any common form as aware UTC, or None (never guesses ambiguously)."""
    value = value.strip()[:80]
    try:
        match = _ISO.match(value)
        if match:
            y, mo, d, hh, mm, ss, zone = match.groups()
            return _build(int(y), int(mo), int(d), hh, mm, ss, zone)
        match = _DOTTED_SPACED.match(value)
        if match:
            y, mo, d = match.groups()
            return _build(int(y), int(mo), int(d), None, None, None, None)
        match = _NUMERIC.match(value)
        if match:
            a, b, c, hh, mm, ss, zone = match.groups()
            if len(a) == 4:  # year first: y/m/d
                y, mo, d = int(a), int(b), int(c)
            else:
                y = _year(c)
                first, second = int(a), int(b)
                month_first = tld in MONTH_FIRST_TLDS
                if first > 12:
                    month_first = False
                elif second > 12:
                    month_first = True
                mo, d = (first, second) if month_first else (second, first)
            return _build(y, mo, d, hh, mm, ss, zone)
        match = _NAMED.match(value)
        if match:
            d, month, y, hh, mm, ss, zone = match.groups()
            mo = _MONTHS.get(month[:3].lower())
            return _build(_year(y), mo, int(d), hh, mm, ss, zone) if mo else None
        match = _MONTH_NAMED.match(value)
        if match:
            month, d, y, hh, mm, ss, zone = match.groups()
            mo = _MONTHS.get(month[:3].lower())
            return _build(int(y), mo, int(d), hh, mm, ss, zone) if mo else None
        match = _COMPACT.match(value)
        if match:
            y, mo, d = match.groups()
            return _build(int(y), int(mo), int(d), None, None, None, None)
    except ValueError:
        return None
    return None


def _year(text: str) -> int:
    year = int(text)
    return year + 2000 if year < 100 else year


def _build(y: int, mo: int, d: int, hh: str | None, mm: str | None, ss: str | None,
           zone: str | None) -> datetime:
    moment = datetime(y, mo, d, int(hh or 0), int(mm or 0), int(ss or 0), tzinfo=timezone.utc)
    return moment - timedelta(hours=_offset(zone))


def _offset(zone: str | None) -> float:
    if not zone:
        return 0.0
    zone = zone.strip("()").strip()
    if zone[0] in "+-":
        digits = zone[1:].replace(":", "")
        hours = int(digits[:2]) + int(digits[2:4] or 0) / 60
        return hours if zone[0] == "+" else -hours
    return float(_TZ_OFFSETS.get(zone.lower(), 0))


def _python_whois_expiry(domain: str, text: str, tld: str) -> datetime | None:
    """python-whois's reading as a second opinion (never its .jp/.hk classes)."""
    if tld in ("jp", "hk"):
        return None
    try:
        from whois.parser import WhoisEntry

        entry = WhoisEntry.load(domain, text[:65536])
        value = entry.get("expiration_date")
    except Exception:  # noqa: BLE001 - any failure of the second opinion is "no opinion"
        return None
    if isinstance(value, list):
        value = next((v for v in value if isinstance(v, datetime)), None)
    if not isinstance(value, datetime):
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)
