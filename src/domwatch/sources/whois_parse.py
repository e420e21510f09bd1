"""Read a registration out of a WHOIS answer: outcome, expiry date, registrar, statuses.

The expiry date is the one number the tool stands on, so this module is strict where
python-whois is lenient: a date is read only from a label that means "registration expires"
(never from "free-date", "Date out of quarantine" or a registrar's own date when the registry's
is present), and a numeric date whose day and month could be swapped is read only when the
registry is known to write the day first (or, for Dot TK, the month first), or writes it with
dots (``01.03.2027`` is day first wherever dots are used). Anything else is ``unparsed``, never
a guess.

Both outcomes need evidence, in this order: a throttle reply is ``rate_limited`` whatever the
TLD; a registry's "no such domain" wording (:mod:`whois_wording`) is ``not_found`` unless the
answer carries registration data; an expiry date is ``registered``; registration data without
an expiry (a creation date, a registrar, name servers, statuses, the holder) is ``registered``
with the expiry unpublished; anything else is ``unparsed``, with the opening lines of the answer
in the reason so that a person can see what came back.

python-whois is used as a second opinion for TLDs this module has no table for, but only its
classes that were checked to run in linear time, on a copy of the answer with long tokens split
(its e-mail pattern is quadratic in the length of a token), and never its ``.jp``/``.hk`` classes.

The parser is total: whatever text comes in, a :class:`WhoisParse` comes out quickly.
"""

from __future__ import annotations

import contextlib
import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone, tzinfo
from typing import Any, Literal

import idna

from domwatch.sources.unpublished import NO_EXPIRY_TLDS
from domwatch.sources.whois_wording import (
    is_not_found,
    is_not_found_value,
    is_registered_value,
    is_throttle,
    is_throttle_value,
    mentions_throttle,
    negative_words,
    phrase_key,
)

Outcome = Literal["registered", "not_found", "rate_limited", "unparsed"]


@dataclass(frozen=True)
class WhoisParse:
    """What one WHOIS answer says about one domain."""

    outcome: Outcome
    expires: datetime | None = None  # tz-aware UTC; the registry's date
    registrar: str | None = None
    statuses: tuple[str, ...] = ()  # EPP status codes only
    nameservers: tuple[str, ...] = ()  # lower case, no trailing dot, no addresses
    referral: str | None = None  # registrar WHOIS server named by a thin registry
    expiry_published: bool = True  # False for registries that never publish one
    reason: str = ""  # one line for the report when not registered or not read


# re holds the GIL: one pathological answer must not stall every concurrent lookup, so every
# regex sees at most this much text, and lines are cut (no real WHOIS field is this long).
MAX_TEXT = 256 * 1024
_MAX_LINE = 1024
# python-whois gets less: its patterns are slower, and real answers are a few KiB.
_PW_MAX_TEXT = 64 * 1024
_PW_MAX_TOKEN = 100

# Registries whose numeric dates put the day first (1.3.2027 is 1 March). A numeric date whose
# first two fields are both <= 12 is read only for these (or MONTH_FIRST_TLDS); elsewhere it is
# refused as ambiguous.
DAY_FIRST_TLDS: frozenset[str] = frozenset(
    [
        "fi",
        "ax",
        "cz",
        "sk",
        "pt",
        "hk",
        "xn--j6w193g",  # .香港, HKIRC as .hk
        "ee",
        "dk",
        "no",
        "se",
        "nu",
        "is",
        "it",
        "fr",
        "es",
        "be",
        "nl",
        "at",
        "ch",
        "li",
        "de",
        "lu",
        "ru",
        "su",
        "xn--p1ai",
        "ua",
        "by",
        "kz",
        "tr",
        "uk",
        "ie",
        "hu",
        "ro",
        "bg",
        "hr",
        "si",
        "rs",
        "lt",
        "lv",
        "pl",
        "eu",
        "au",
        "nz",
        "in",
        "sg",
        "my",
        "il",
        "ar",
        "cl",
        "mx",
        "pe",
        "br",
        "md",
        "am",
        "im",  # Isle of Man, Guernsey, Jersey: British order
        "gg",
        "je",
    ]
)

# Dot TK (and the Freenom-run .ml/.ga/.cf/.gq that copied its software) writes US dates:
# "Domain registered: 12/18/2001", "Record will expire on: 03/02/2027" is 2 March.
MONTH_FIRST_TLDS: frozenset[str] = frozenset(["tk", "ml", "ga", "cf", "gq"])

# Local time of registries that print times without a zone (naive means UTC elsewhere).
_UTC = timezone.utc
_JST = timezone(timedelta(hours=9), "JST")
_CST_CN = timezone(timedelta(hours=8), "CST")


def _local(name: str, standard_hours: int) -> tzinfo:
    try:
        from zoneinfo import ZoneInfo

        return ZoneInfo(name)
    except Exception:  # no tz database: standard time is within an hour, close enough for a date
        return timezone(timedelta(hours=standard_hours))


_TLD_ZONE: dict[str, tzinfo] = {
    "jp": _JST,
    "kr": _JST,  # KST = UTC+9 as well
    "cn": _CST_CN,
    "xn--fiqs8s": _CST_CN,  # .中国, CNNIC as .cn
    "xn--j6w193g": _CST_CN,  # .香港
    "tw": _CST_CN,
    "hk": _CST_CN,
    # Traficom stamps its answers "(EET)": Finnish local time. Reading it as local gives the
    # earlier instant, the safe side for an expiry warning.
    "fi": _local("Europe/Helsinki", 2),
    "ax": _local("Europe/Mariehamn", 2),
    "pl": _local("Europe/Warsaw", 1),  # NASK "renewal date: 2027.03.01 12:00:00"
    "cz": _local("Europe/Prague", 1),
    "sk": _local("Europe/Bratislava", 1),
    "pt": _local("Europe/Lisbon", 0),  # DNS.PT "01/03/2027 23:59:00"
}

_NAMED_ZONES: dict[str, int] = {  # hours east of UTC; only names with one meaning
    "utc": 0,
    "gmt": 0,
    "z": 0,
    "ut": 0,
    "wet": 0,
    "west": 1,
    "cet": 1,
    "cest": 2,
    "met": 1,
    "mest": 2,
    "eet": 2,
    "eest": 3,
    "msk": 3,
    "jst": 9,
    "kst": 9,
    "hkt": 8,
    "sgt": 8,
    "aest": 10,
    "aedt": 11,
    "clt": -4,  # NIC Chile: "2027-11-20 14:48:02 CLST"
    "clst": -3,
    "brt": -3,
    "wat": 1,  # West Africa Time (ANTIC .cm: "07 Oct 2027 10:02 WAT")
    "cat": 2,  # Central Africa Time
    "eat": 3,  # East Africa Time
    "sast": 2,  # South Africa
    "nzst": 12,
    "nzdt": 13,
}

# --- field labels -------------------------------------------------------------------------------
# Normalised label (lower case, "-" and "_" read as spaces) -> rank: 1 the registry's own date,
# 2 a registry's plain expiry label, 3 the registrar's date (lower priority: in a thin+registrar
# answer the registry's date wins).
_EXPIRY_LABELS: dict[str, int] = {
    "registry expiry date": 1,
    "registry expiration date": 1,
    "expiration date": 2,
    "expiry date": 2,
    "expires": 2,
    "expires on": 2,
    "expire": 2,
    "expiry": 2,
    "expiration": 2,
    "expiration time": 2,  # CNNIC
    "paid till": 2,  # TCI (.ru/.su/.рф); "free-date" is after the grace period and not used
    "expire date": 2,  # IRNIC "expire-date", NIC.it "Expire Date"
    "valid until": 2,  # SK-NIC
    "valid date": 2,  # SK-NIC before 2012: "Valid-date          2011-07-23"
    "validity": 2,
    "renewal date": 2,  # NASK
    "domain expiration date": 2,
    "domain expiry date": 2,
    "domain expires": 2,
    "record expires on": 2,  # TWNIC (written without a colon, see _COLONLESS_EXPIRY_RE)
    "record will expire on": 2,  # Dot TK
    "domain datebilleduntil": 2,  # .nz before DNC dropped it
    "expires at": 2,
    "exp date": 2,
    "有効期限": 2,  # JPRS Japanese
    "사용 종료일": 2,  # KISA Korean part
    "renewal": 2,  # IEDR "renewal: 21-March-2027"
    "fecha de vencimiento": 2,  # NIC Bolivia and other Spanish-speaking registries
    "vencimiento": 2,
    "fecha de expiracion": 2,
    "fecha de expiración": 2,
    "registrar registration expiration date": 3,
    "registrar registration expiry date": 3,
    "registrar expiration date": 3,
    "registrar expiry date": 3,
}
# Words that make an unknown label an expiry label, and words that rule one out ("option
# expiration date" at NASK is an option's, "free-date" and quarantine dates come after it).
_EXPIRY_WORDS = ("expir", "vencim", "caduc", "paid till", "paid until", "valid until", "renewal")
_NOT_EXPIRY_WORDS = (
    "option", "free", "quarantine", "password", "auth", "notice", "grace", "auto", "last",
    "period", "status",
)
_STATUS_LABELS = frozenset(
    {
        "domain status",
        "status",
        "state",
        "eppstatus",
        "epp status",
        "registration status",
        "flags",
        "query status",  # DNC .nz "query_status: 200 Active"
        "domaintype",  # DNS-LU "domaintype: ACTIVE"
        "domain state",
        "estado",
        "状態",
        "ステータス",
    }
)
# Labels whose value says, in words, whether the name is taken: UDR "Available: No".
_AVAILABILITY_LABELS = frozenset({"available", "availability"})
# A creation date is evidence of a registration (never read as an expiry).
_CREATED_LABELS = frozenset(
    {
        "registered",
        "registered on",
        "registered date",
        "registration date",
        "registration time",  # CNNIC
        "domain registered",  # Dot TK
        "date registered",
        "first registration date",  # SWITCH
        "activated",
        "activation",  # JWhoisServer .tn
        "activated on",
        "registration",  # IEDR "registration: 21-March-2002"
        "date approved",  # co.ca
        "entry created",  # JANET
        "fecha de registro",
        "fecha de creacion",
        "fecha de creación",
        "登録年月日",
        "登録日",
    }
)
# Labels of the holder's name: a registration has one, a "no such domain" answer never.
_HOLDER_STARTS = (
    "registrant", "registry registrant", "holder", "owner", "titular", "domain holder",
    "domain owner",
)
_HOLDER_LABELS = frozenset(
    {"organisation", "organization", "org name", "org", "organization name", "organisation name"}
)
_NAMESERVER_LABELS = frozenset(
    {
        "name server",
        "name servers",
        "nameserver",
        "nameservers",
        "nserver",
        "domain nameservers",
        "domain servers",
        "name servers information",
        "dns servers",
        "name server information",  # Register.BG
        "domain servers in listed order",  # TWNIC
        "host name",  # KISA, under "Primary Name Server"
        "ns name",  # DNC .nz "ns_name_01" (a trailing number is dropped from labels)
        "primary server hostname",  # .com.ai and other older NIC layouts
        "secondary server hostname",
        "third server hostname",
        "fourth server hostname",
        "primary server",
        "secondary server",
        "primary ns",  # ZACR's government zones
        "secondary ns",
        "servers",  # JANET "Servers:" block
        "nameserver in listed order",
        "servidores dns",
        "servidor dns",
        "ネームサーバ",
    }
)
_REGISTRAR_LABELS = frozenset(
    {
        "registrar",
        "sponsoring registrar",
        "registrar name",  # also DNS-LU "registrar-name"
        "registration service provider",  # TWNIC
        "authorized agency",  # KISA
        "sponsoring registrar organization",  # PANDI
    }
)
# Labels that, written alone with a colon, head a block of fields (EIS, EURid, DNS Belgium, NASK).
_SECTION_HEADERS = frozenset(
    {
        "domain",
        "domain information",
        "registrar",
        "registrant",
        "holder",
        "administrative contact",
        "technical contact",
        "technical",
        "registrar technical contacts",
        "onsite(s)",
        "name servers",
        "nameservers",
        "domain nameservers",
        "keys",
        "flags",
        "dnssec",
        "contact information",
    }
)
_REGISTRAR_IN_SECTION = (
    "organization",
    "organisation",
    "name",
    "company name",
    "organization name",  # TRABIS "** Registrar:" block
)
_REFERRAL_LABELS = frozenset({"registrar whois server", "whois server"})
# RIPE-style handles of a domain object's contacts (eu.org, priv.at): with the registry's echo
# of the name they are registration data.
_HANDLE_LABELS = frozenset({"admin c", "tech c", "zone c", "holder c", "billing c", "owner c"})
# Fields that echo the name the answer is about, and what such a name looks like (a TLD's own
# record at IANA says "domain: GR"; U-labels are allowed, "Class-Name:domain" is not a name).
_ECHO_RE = re.compile(r"[^\s.:;/@]{1,63}(?:\.[^\s.:;/@]{1,63}){0,8}")
_DOMAIN_LABELS = frozenset(
    {
        "domain name",
        "domain",
        "domainname",
        "complete domain name",
        "nom de domaine",
        "dominio",
        "nombre de dominio",
        "query",
    }
)
# Sections whose "status"/"name" lines describe a contact, not the domain.
_CONTACT_WORDS = ("registrant", "holder", "contact", "admin", "tech", "billing", "registrar")

# EPP status codes (RFC 5731 and the RGP states of RFC 3915), keyed by their letters in lower
# case, so "client hold", "CLIENT-HOLD" and "clientHold https://icann.org/epp#clientHold" all map.
_EPP_STATUSES: dict[str, str] = {
    s.lower(): s
    for s in (
        "ok",
        "inactive",
        "clientDeleteProhibited",
        "clientHold",
        "clientRenewProhibited",
        "clientTransferProhibited",
        "clientUpdateProhibited",
        "serverDeleteProhibited",
        "serverHold",
        "serverRenewProhibited",
        "serverTransferProhibited",
        "serverUpdateProhibited",
        "pendingCreate",
        "pendingDelete",
        "pendingRenew",
        "pendingRestore",
        "pendingTransfer",
        "pendingUpdate",
        "addPeriod",
        "autoRenewPeriod",
        "renewPeriod",
        "transferPeriod",
        "redemptionPeriod",
    )
}

# JPRS "a. [Domain Name]  EXAMPLE.JP", MYNIC "d [Record Expired]  13-MAY-2027"
_BRACKET_RE = re.compile(r"(?:[a-z]\.?\s{1,4})?\[([^\[\]]{1,40})\]\s*(.*)", re.IGNORECASE)
_HOST_RE = re.compile(r"(?:[a-z0-9_](?:[a-z0-9_-]{0,62})?\.)+[a-z0-9-]{1,63}")
_JP_STATE_DATE_RE = re.compile(r"\((\d{4}/\d{1,2}/\d{1,2})\)")
# TWNIC writes its dates without a colon: "   Record expires on 2027-10-31 (YYYY-MM-DD)".
_COLONLESS_EXPIRY_RE = re.compile(r"record expires on\s+(\d.{0,60})", re.IGNORECASE)
# JWhoisServer (older): "Nom de domaine#. . . . . . .example.dz": the label, '#', dot leaders.
_LEADER_RE = re.compile(r"([^#:.]{1,60})#(?: ?\.){3,} ?(.*)")
# RWhois (RFC 2167): "domain:Domain-Name:example.ma", the object class before the attribute;
# "Primary-Server;I:111.example.ma" is a reference to another object (";I"), not a value.
_RWHOIS_RE = re.compile(r"([A-Z][A-Za-z-]{0,40})(;[A-Za-z])?:(.*)")
# One word, two spaces or more, the value: SK-NIC before 2012, "Valid-date          2011-07-23".
_SPACED_RE = re.compile(r"([A-Za-z][A-Za-z0-9_-]{1,40}) {2,}(\S.*)")
# A format hint after a date, "(YYYY-MM-DD)", "(dd/mm/yyyy)".
_FORMAT_HINT_RE = re.compile(r"\s*\((?:[ymd]{1,4}[-./ ]?){3}\)\s*$", re.IGNORECASE)
_TOKEN_RE = re.compile(r"\S{" + str(_PW_MAX_TOKEN) + "}")

# --- dates --------------------------------------------------------------------------------------
_MONTHS: dict[str, int] = {}
for _i, _name in enumerate(
    (
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
    ),
    start=1,
):
    _MONTHS[_name] = _i
    _MONTHS[_name[:3]] = _i
_MONTHS["sept"] = 9

_TIME = r"(?:[ T,]+(?P<H>\d{1,2}):(?P<M>\d{2})(?::(?P<S>\d{2})(?:[.,]\d{1,9})?)?)?"
_ZONE = (
    r"\s*\(?\s*(?P<zone>z|[+-]\d{2}(?::?\d{2})?|(?:utc|gmt)\s*[+-]\s*\d{1,2}(?::?\d{2})?"
    r"|[a-z]{1,5})?\s*\)?"
)
_DATE_FORMS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (kind, re.compile(pattern + _TIME + _ZONE, re.IGNORECASE))
    for kind, pattern in (
        # year first: unambiguous (2027-03-01, 2027/03/01, 2027.03.01, "2027. 03. 01.")
        ("ymd", r"(?P<y>\d{4})(?:-|/|\.\s?)(?P<m>\d{1,2})(?:-|/|\.\s?)(?P<d>\d{1,2})\.?"),
        ("ymd", r"(?P<y>\d{4})(?P<m>\d{2})(?P<d>\d{2})"),  # 20270301
        # 20271218000000 (Hostmaster.ua), the time glued to the date
        ("ymd", r"(?P<y>\d{4})(?P<m>\d{2})(?P<d>\d{2})(?P<H2>\d{2})(?P<M2>\d{2})(?P<S2>\d{2})"),
        ("ybd", r"(?P<y>\d{4})-(?P<b>[a-z]{3,9})-(?P<d>\d{1,2})\.?"),  # 2027-Mar-01 (TRABIS)
        # day or month first, year last: order decided per TLD
        ("xxy", r"(?P<a>\d{1,2})(?P<sep>[./-])(?P<c>\d{1,2})(?P=sep)(?P<y>\d{4}|\d{2})"),
        # 01-Mar-2027, "Monday 1st March 2027" (JANET), "30th April 2027" (.gg)
        (
            "dby",
            r"(?:[a-z]{3,9},?\s+)?(?P<d>\d{1,2})(?:st|nd|rd|th)?[- ](?P<b>[a-z]{3,9})\.?,?[- ]"
            r"(?P<y>\d{4}|\d{2})",
        ),
        # "March 1 2027", "Mar 1, 2027", "Tue Mar 1 2027"
        (
            "bdy",
            r"(?:[a-z]{3},?\s+)?(?P<b>[a-z]{3,9})\.?\s+(?P<d>\d{1,2})(?:st|nd|rd|th)?,?\s+"
            r"(?P<y>\d{4})",
        ),
    )
)
# The ctime form carries its own time and zone: matched without the generic suffix.
_CTIME_RE = re.compile(
    r"(?:[a-z]{3}\s+)?(?P<b>[a-z]{3,9})\s+(?P<d>\d{1,2})\s+(?P<H>\d{1,2}):(?P<M>\d{2})"
    r"(?::(?P<S>\d{2}))?(?:\s+(?P<zone>[a-z]{1,5}))?\s+(?P<y>\d{4})",
    re.IGNORECASE,
)


class _Ambiguous(Exception):
    """A numeric date whose day and month cannot be told apart for this TLD."""


def parse_date(value: str, tld: str = "") -> datetime | None:
    """A WHOIS date string as tz-aware UTC, or None when it cannot be read for ``tld``.

    A date without a time is taken as midnight UTC of that calendar date (the date people read
    in the registry's answer); a time without a zone is in the registry's local time when known.
    Raises nothing; an ambiguous day/month order reads as None.
    """
    try:
        return _parse_date(value, tld)
    except _Ambiguous:
        return None


def _parse_date(value: str, tld: str) -> datetime | None:
    text = value.strip()[:80]
    text = re.sub(r"\s*#.*$", "", text)  # registro.br "20000101 #123456"
    text = text.replace("\uff08", "(").replace("\uff09", ")")  # full-width brackets (JPRS)
    text = _FORMAT_HINT_RE.sub("", text)  # TWNIC "2027-10-31 (YYYY-MM-DD)"
    if not text:
        return None
    match = _CTIME_RE.fullmatch(text)
    kind = "ctime"
    if match is None:
        for form, pattern in _DATE_FORMS:
            match = pattern.fullmatch(text)
            if match is not None:
                kind = form
                break
    if match is None:
        return None
    parts = match.groupdict()
    year = int(parts["y"])
    if year < 100:  # two-digit years: expiry dates are in this century
        year += 2000 if year < 70 else 1900
    if kind == "xxy":
        first, second = int(parts["a"]), int(parts["c"])
        if tld in MONTH_FIRST_TLDS:  # a month past 12 then fails below: unreadable, not swapped
            day, month = second, first
        elif first > 12 or first == second:
            day, month = first, second
        elif second > 12:
            day, month = second, first
        elif tld in DAY_FIRST_TLDS or parts["sep"] == ".":
            # Dotted dates (01.03.2027) are day first in every locale that writes them; the
            # month-first convention writes slashes.
            day, month = first, second
        else:
            raise _Ambiguous(text)
    else:
        day = int(parts["d"])
        if parts.get("b"):
            month_number = _MONTHS.get(parts["b"].lower())
            if month_number is None:
                return None
            month = month_number
        else:
            month = int(parts["m"])
    hour_text = parts.get("H") or parts.get("H2")
    hour = int(hour_text) if hour_text else None
    minute = int(parts.get("M") or parts.get("M2") or 0)
    second = int(parts.get("S") or parts.get("S2") or 0)
    zone = _zone(parts.get("zone"), tld, has_time=hour is not None)
    if zone is None:
        return None
    try:
        moment = datetime(year, month, day, hour or 0, minute, second)
    except ValueError:
        return None
    if not 1970 <= year <= 2200:
        return None
    return moment.replace(tzinfo=zone).astimezone(_UTC)


def _zone(name: str | None, tld: str, *, has_time: bool) -> tzinfo | None:
    """The zone a date is written in; None when it is named but unknown (or has two meanings)."""
    if not name:
        return _TLD_ZONE.get(tld, _UTC) if has_time else _UTC
    label = name.strip().lower().replace(" ", "")
    if label in _NAMED_ZONES:
        return timezone(timedelta(hours=_NAMED_ZONES[label]))
    offset = re.fullmatch(r"(?:utc|gmt)?([+-])(\d{1,2}):?(\d{2})?", label)
    if offset is None:
        return None
    sign = -1 if offset.group(1) == "-" else 1
    minutes = int(offset.group(2)) * 60 + int(offset.group(3) or 0)
    if minutes > 14 * 60:
        return None
    return timezone(sign * timedelta(minutes=minutes))


# --- reading the answer -------------------------------------------------------------------------
@dataclass
class _Reading:
    """What our own line reader found, before the outcome is decided."""

    expiry: list[tuple[int, str]] = field(default_factory=list)  # (rank, raw value)
    statuses: list[str] = field(default_factory=list)
    nameservers: list[str] = field(default_factory=list)
    registrar: str | None = None
    referral: str | None = None
    rate_limit_line: str | None = None
    not_found_line: str | None = None
    created: bool = False  # a creation date of the domain
    holder: bool = False  # the holder's name or organisation
    taken: bool = False  # a status word meaning "registered" ("active", "connect", "taken")
    opening: list[str] = field(default_factory=list)  # the first non-blank lines
    plain_lines: int = 0  # non-blank lines that are not comments
    lines_seen: int = 0  # non-blank lines
    negative: list[tuple[str, bool]] = field(default_factory=list)  # (line, names the domain)
    refusal: str | None = None  # the first line with words of a temporary refusal
    echoes: list[str] = field(default_factory=list)  # values of "Domain Name:"-like fields
    handles: bool = False  # RIPE-style contact handles ("admin-c: XY1-NIC"): registration data
    last_plain: str = ""  # the previous non-comment line, for a sentence broken over two


_ENUMERATOR_RE = re.compile(r"\d{1,2}[a-z]?\.\s+")  # ZACR gov.za "5a.   Primary NS : ..."


def _norm_label(label: str) -> str:
    # "Expires on......:", "** Domain Name:", "% Registrant:", "expire-date", "registrar_name"
    label = label.strip().lower().rstrip(". \t").lstrip(".%#* \t")
    enumerated = _ENUMERATOR_RE.match(label)
    if enumerated is not None:
        label = label[enumerated.end() :]
    return " ".join(label.replace("-", " ").replace("_", " ").split())


def _read(tld: str, lines: Iterable[str], names: tuple[str, ...] = ()) -> _Reading:
    """Read ``lines`` field by field; ``names`` are the queried domain's spellings."""
    out = _Reading()
    # A section is opened by a header line ("Nameservers", "[Registrar]") that lasts to the next
    # header, or by a block label ("Registrar:") that lasts to a blank line. Any other label
    # with no value opens one that a sibling field closes, so an empty ICANN field ("Registrar
    # Abuse Contact Phone:") does not swallow the "Domain Status" fields after it.
    section = ""
    kind = ""  # "header" (no colon), "block" ("Registrar:"), "field" (an empty ICANN field)
    opener_indent = 0  # indentation of the label that opened a "field" section
    cont_label = ""  # last label with a value, for indented continuation lines (NASK nameservers)
    fresh = False  # a name-server block with nothing in it yet outlives one blank line (HKIRC)
    nameserver_labels = _NAMESERVER_LABELS | ({"hostname"} if tld == "dk" else frozenset())
    for raw in lines:
        line = raw.rstrip()
        stripped = line.lstrip()
        if not stripped:
            if kind in ("block", "field") and not fresh:
                section, kind = "", ""
            cont_label = ""
            continue
        fresh = False
        indent = len(line) - len(stripped)
        _note_wording(out, stripped, names)

        colonless = _COLONLESS_EXPIRY_RE.fullmatch(stripped)
        if colonless is not None:  # TWNIC: "Record expires on 2027-10-31 00:00:00 (UTC+8)"
            out.expiry.append((2, colonless.group(1)))
            continue
        label, value = _split_label(stripped)
        if label is None:
            # a value line: continuation of the last label, or an entry of the open section
            if cont_label and indent > 0:
                _take(out, tld, cont_label, stripped, section, nameserver_labels)
            elif section and (
                kind != "header" or indent > 0 or _is_nameserver(section, nameserver_labels)
            ):  # SWITCH lists its name servers unindented under "Name servers"
                _take_section_value(out, section, stripped, nameserver_labels)
            elif len(stripped) <= 40 and not any(ch.isdigit() for ch in stripped):
                section, kind = _norm_label(stripped.strip("[]")), "header"
            continue

        if kind == "field" and indent <= opener_indent:
            section, kind = "", ""  # a sibling field closes a field-opened section
        if not value:
            if stripped.startswith("["):
                section, kind = label, "header"  # NIC.lv "[Registrar]"
            elif label in _SECTION_HEADERS or label in nameserver_labels:
                section, kind, fresh = label, "block", label in nameserver_labels
            else:
                section, kind, opener_indent = label, "field", indent
            cont_label = ""
            continue
        cont_label = label
        _take(out, tld, label, value, section, nameserver_labels)
    return out


_SHAPE_LINES = 300


def _note_wording(out: _Reading, stripped: str, names: tuple[str, ...]) -> None:
    """What the line says in words: throttle, "no such domain", or the shape of either."""
    out.lines_seen += 1
    if len(out.opening) < 3:
        out.opening.append(stripped[:80])
    plain = not stripped.startswith(("%", "#")) and bool(stripped.strip("-=*_ \t"))
    if plain:
        out.plain_lines += 1
    key = phrase_key(stripped)
    if out.rate_limit_line is None and is_throttle(key):
        out.rate_limit_line = stripped[:160]
    if out.not_found_line is None and is_not_found(key):
        out.not_found_line = stripped[:160]
    # The shape of a "not found" or a refusal is a short answer: its words are near the top,
    # and the searches need not run over a quarter megabyte of lines.
    if len(stripped) <= 160 and out.lines_seen <= _SHAPE_LINES:
        if len(out.negative) < 8:
            sentence = stripped
            if stripped[0].islower() and ":" not in stripped and out.last_plain:
                # "The domain x.vu" / " is not valid!": one sentence over two lines
                sentence = f"{out.last_plain[:80]} {stripped}"
            low = sentence.lower()
            names_domain = any(name in low for name in names)
            if negative_words(low, names_domain):
                out.negative.append((sentence, names_domain))
        if out.refusal is None and mentions_throttle(stripped):
            out.refusal = stripped
    if plain:
        out.last_plain = stripped


def _split_label(stripped: str) -> tuple[str | None, str]:
    """``(label, value)`` of a field line, or ``(None, "")`` for a plain value line."""
    if stripped.startswith("[") or "[" in stripped[1:7]:
        bracket = _BRACKET_RE.fullmatch(stripped)  # JPRS "a. [Domain Name]  EXAMPLE.JP"
        if bracket is not None:
            return _norm_label(bracket.group(1)) or None, bracket.group(2).strip()
    leader = _LEADER_RE.fullmatch(stripped)
    if leader is not None:
        return _norm_label(leader.group(1)) or None, leader.group(2).strip()
    head, sep, tail = stripped.partition(":")
    if sep and tail.startswith("//"):  # "Registrant data available at http://..." is prose
        return None, ""
    if sep and head.isalpha() and head.islower():
        rwhois = _RWHOIS_RE.fullmatch(tail)
        if rwhois is not None:
            if rwhois.group(2):
                return None, ""
            return _norm_label(rwhois.group(1)) or None, rwhois.group(3).strip()
    if not sep and "\t" not in stripped:
        spaced = _SPACED_RE.fullmatch(stripped)
        if spaced is not None:
            return _norm_label(spaced.group(1)) or None, spaced.group(2).strip()
    if not sep and "\t" in stripped:
        # SWITCH: "Domain name<TAB>example.ch", "First registration date<TAB>31 May 1999"; a
        # tab after a host name is a name server's address, not a label
        head, sep, tail = stripped.partition("\t")
        if "." in head or any(ch.isdigit() for ch in head):
            return None, ""
    if not sep or not 0 < len(head) <= 60 or "//" in head or head.strip().isdigit():
        return None, ""
    # "Expiration:.........2027-08-12" (JWhoisServer): dot leaders belong to neither side
    return _norm_label(head) or None, tail.strip().lstrip(".").strip()


def _in_contact(section: str) -> bool:
    return any(word in section for word in _CONTACT_WORDS)


def _expiry_rank(label: str) -> int | None:
    """Rank of an expiry label (see ``_EXPIRY_LABELS``), or None when it is not one."""
    rank = _EXPIRY_LABELS.get(label)
    if rank is not None:
        return rank
    if any(word in label for word in _EXPIRY_WORDS) and not any(
        word in label for word in _NOT_EXPIRY_WORDS
    ):
        return 3 if "registrar" in label else 2
    return None


def _is_created(label: str) -> bool:
    if label in _CREATED_LABELS:
        return True
    return "creat" in label and "registrar" not in label and "expir" not in label


def _is_holder(label: str) -> bool:
    return label.startswith(_HOLDER_STARTS) or label in _HOLDER_LABELS


def _take(
    out: _Reading,
    tld: str,
    label: str,
    value: str,
    section: str,
    nameserver_labels: frozenset[str],
) -> None:
    if label[-1:].isdigit():  # "ns_name_01", "nserver2": numbered repeats of one field
        label = label.rstrip("0123456789 ") or label
    rank = _expiry_rank(label)
    contact = _in_contact(section)
    if rank is not None and not contact:
        out.expiry.append((rank, value))
    elif label in _STATUS_LABELS and not contact:
        _take_status(out, value)
        if tld == "jp" and label in ("state", "状態"):
            # co.jp style: "[State] Connected (2027/03/31)" - the date is the expiry
            dated = _JP_STATE_DATE_RE.search(value)
            if dated is not None:
                out.expiry.append((2, dated.group(1)))
    elif label in _AVAILABILITY_LABELS and not contact:
        answer = value.strip().lower().rstrip(".")
        out.taken = out.taken or answer in ("no", "false", "not available")
    elif _is_nameserver(label, nameserver_labels) or (
        label == "dns" and _is_nameserver(section, nameserver_labels)
    ):
        _take_nameserver(out, value)  # also "dns" lines of .mx's "Name Servers:" block
    elif label in _REGISTRAR_LABELS:
        if out.registrar is None and not section.startswith(("registrant", "holder")):
            out.registrar = _clean_registrar(value)
    elif section.startswith("registrar") and label in _REGISTRAR_IN_SECTION:
        if out.registrar is None:
            out.registrar = _clean_registrar(value)
    elif label in _REFERRAL_LABELS and out.referral is None:
        out.referral = _clean_referral(value)
    elif label in _DOMAIN_LABELS and not contact:
        token = value.split()[0].strip("\"'.").lower() if value.split() else ""
        if len(out.echoes) < 20 and _ECHO_RE.fullmatch(token):
            out.echoes.append(token)
    elif _is_created(label) and not contact:
        out.created = out.created or any(ch.isdigit() for ch in value)
    elif label in _HANDLE_LABELS:
        out.handles = out.handles or _has_text(value)
    elif _is_holder(label) or section.startswith(_HOLDER_STARTS):
        out.holder = out.holder or _has_text(value)


_UNTIL_RE = re.compile(r"\buntil\s+(\d[\d\-./: T]{5,30})", re.IGNORECASE)


def _take_status(out: _Reading, value: str) -> None:
    out.statuses.append(value)
    until = _UNTIL_RE.search(value)
    if until is not None:  # Hostmaster.ua "status: OK-UNTIL 20271218000000"
        out.expiry.append((2, until.group(1).strip()))
    if is_throttle_value(value) and out.rate_limit_line is None:
        out.rate_limit_line = value[:160]
    elif is_not_found_value(value) and out.not_found_line is None:
        out.not_found_line = value[:160]
    elif is_registered_value(value):
        out.taken = True


_MAX_NAMESERVERS = 64  # a delegation has at most 13 or so; more lines are not name servers


def _take_nameserver(out: _Reading, value: str) -> None:
    if len(out.nameservers) < _MAX_NAMESERVERS:
        out.nameservers.append(value)


def _has_text(value: str) -> bool:
    return any(ch.isalnum() for ch in value)


def _is_nameserver(label: str, known: frozenset[str]) -> bool:
    """Name-server labels: the table's, numbered ones ("ns1 hostname"), and the many
    "... server(s)" spellings ("Servidores de nombre (Domain servers)"), never a WHOIS server."""
    if label in known or _NUMBERED_NS_RE.fullmatch(label) is not None:
        return True
    words = ("name server", "nameserver", "domain server", "servidores de nombre", "dns server")
    return any(word in label for word in words) and "whois" not in label


# "ns1 hostname", "nserver2", "ns name" (numbers are dropped before): never "DNS" alone, which
# Punktum uses for the domain's own name
_NUMBERED_NS_RE = re.compile(
    r"(?:ns|dns|nserver|name ?server)\s?\d{1,2}(?: (?:hostname|name|host))?"
    r"|(?:ns|dns)\s?\d{0,2} (?:hostname|name|host)"
)


def _take_section_value(
    out: _Reading, section: str, value: str, nameserver_labels: frozenset[str]
) -> None:
    rank = _expiry_rank(section)
    if rank is not None and not _in_contact(section):
        out.expiry.append((rank, value))  # JANET "Renewal date:" then the date on its own line
    elif _is_created(section):
        out.created = out.created or any(ch.isdigit() for ch in value)
    elif _is_nameserver(section, nameserver_labels):
        _take_nameserver(out, value)
    elif section in ("flags", "registration status", "domain status", "status"):
        _take_status(out, value)
    elif section in _REGISTRAR_LABELS and out.registrar is None:
        out.registrar = _clean_registrar(value)
    elif section.startswith(_HOLDER_STARTS):
        out.holder = out.holder or _has_text(value)


def _clean_registrar(value: str) -> str | None:
    value = re.sub(r"\s*\[tag\s*=[^\]]*\]\s*$", "", value.strip(), flags=re.IGNORECASE)
    # KISA "Example Co.(http://registrar.example)", nic.at "Example GmbH ( https://nic.at/... )"
    value = re.sub(r"\s*\(\s*https?://[^()]*\)\s*$", "", value, flags=re.IGNORECASE)
    if not value or value.lower().startswith(("http://", "https://", "www.")):
        return None
    return value[:200]


def _clean_referral(value: str) -> str | None:
    host = value.strip().split()[0].lower() if value.strip() else ""
    host = re.sub(r"^[a-z][a-z0-9+.-]{0,15}://", "", host)  # http://, whois://, rwhois://
    host = host.split("/", 1)[0].rstrip(".")
    name, _, port = host.partition(":")
    name = name.rstrip(".")
    if not _HOST_RE.fullmatch(name) or _is_ip(name):
        return None
    if port:
        if not port.isdigit() or not 0 < int(port) < 65536:
            return None
        return f"{name}:{int(port)}"
    return name


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text.strip("[]"))
    except ValueError:
        return False
    return True


def _nameserver(value: str) -> str | None:
    token = value.strip().split()[0] if value.strip() else ""
    token = token.lower().rstrip(".,;")
    if not token or _is_ip(token) or not _HOST_RE.fullmatch(token):
        return None
    return token


# Registries whose "quarantine" is the restorable period after a cancellation or expiry (the
# former holder's registrar can still reactivate the name): RGP's redemptionPeriod in all but name.
# SIDN "in quarantine" (40 days), DNS Belgium "QUARANTINE" (40 days), EURid "QUARANTINED" (40 days).
_QUARANTINE_IS_REDEMPTION = frozenset({"nl", "be", "eu"})
_QUARANTINE_RE = re.compile(r"\b(?:in\s+)?quarantined?\b", re.IGNORECASE)


def _epp_statuses(values: Iterable[str], tld: str = "") -> tuple[str, ...]:
    found: list[str] = []
    for value in values:
        quarantined = tld in _QUARANTINE_IS_REDEMPTION and _QUARANTINE_RE.search(value)
        if quarantined and "redemptionPeriod" not in found:
            found.append("redemptionPeriod")
        value = re.sub(r"https?://\S*", " ", value)  # "clientHold https://icann.org/epp#..."
        value = re.sub(r"\([^)]*\)", " ", value)  # EIS "ok (paid and in zone)"
        for piece in re.split(r"[,/;|]", value):
            letters = re.sub(r"[^a-z]", "", piece.lower())
            code = _EPP_STATUSES.get(letters)
            if code is not None and code not in found:
                found.append(code)
    return tuple(found)


def _dedupe(items: Iterable[str | None]) -> tuple[str, ...]:
    seen: list[str] = []
    for item in items:
        if item and item not in seen:
            seen.append(item)
    return tuple(seen)


# --- python-whois, fenced in --------------------------------------------------------------------
# TLDs whose python-whois class was checked to stay linear on adversarial input (long tokens,
# thousands of repeated section words, lines of blanks). Its .fi/.it/.sk/.pt classes use
# "Holder[\s\w\W]+phone"-style patterns (quadratic); .jp/.hk are exponential/quadratic.
_PW_CLASS_TLDS = frozenset(
    [
        "com",
        "net",
        "org",
        "info",
        "biz",
        "io",
        "me",
        "us",
        "uk",
        "ru",
        "su",
        "fr",
        "pl",
        "ee",
        "br",
        "cz",
        "lt",
        "se",
        "nu",
        "no",
        "is",
        "ca",
        "in",
        "nz",
        "cn",
        "co",
        "dk",
        "be",
        "at",
        "ch",
        "li",
        "eu",
        "de",
        "nl",
    ]
)


def _pw_safe_regex() -> dict[str, str]:
    try:
        from whois.parser import WhoisEntry
    except Exception:
        return {}
    # the base class's simple "Label: *(.+)" patterns, minus the quadratic e-mail pattern
    base: dict[str, str] = dict(WhoisEntry._regex)
    base.pop("emails", None)
    return base


_PW_SAFE_REGEX = _pw_safe_regex()


def _pywhois(domain: str, tld: str, text: str) -> dict[str, Any] | None:
    """python-whois's reading of a sanitised copy of ``text``; None when it fails or raises."""
    try:
        from whois.parser import WhoisEntry
    except Exception:
        return None
    lines = (line[:_MAX_LINE] for line in text[:_PW_MAX_TEXT].splitlines())
    safe = _TOKEN_RE.sub(lambda m: m.group(0) + " ", "\n".join(lines))
    try:
        if tld in _PW_CLASS_TLDS:
            entry = WhoisEntry.load(domain, safe)
        else:
            entry = WhoisEntry(domain, safe, regex=_PW_SAFE_REGEX)
        return dict(entry)
    except Exception:  # unknown date format, "not found" exceptions, anything
        return None


def _pw_expiry(result: dict[str, Any]) -> datetime | None:
    """python-whois's expiry when it is one date (a list means registry + registrar dates)."""
    value = result.get("expiration_date")
    if isinstance(value, list):
        dates = {v.date() for v in value if isinstance(v, datetime)}
        if len(dates) != 1:
            return None
        value = next(v for v in value if isinstance(v, datetime))
    if not isinstance(value, datetime):
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=_UTC)
    return value.astimezone(_UTC)


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return [str(v) for v in value]
    return [str(value)]


# --- the entry point ----------------------------------------------------------------------------
def parse_whois(domain: str, text: str) -> WhoisParse:
    """Read one WHOIS answer about ``domain`` (A- or U-label); never raises, returns promptly."""
    try:
        return _parse(domain, text)
    except Exception as exc:  # the parser is total: a bug here must not abort a whole run
        reason = f"WHOIS answer could not be read ({type(exc).__name__})"
        return WhoisParse("unparsed", reason=reason)


def _a_label(domain: str) -> str:
    """``domain`` in A-labels, so that the tables keyed by ``xn--`` TLDs apply to a U-label too."""
    if domain.isascii():
        return domain
    try:
        return idna.encode(domain, uts46=True).decode("ascii")
    except (idna.IDNAError, UnicodeError, ValueError):
        return domain


def _parse(domain: str, text: str) -> WhoisParse:
    domain = _a_label(str(domain).strip().lower().rstrip("."))
    tld = domain.rsplit(".", 1)[-1]
    if not isinstance(text, str):
        text = str(text)
    text = text[:MAX_TEXT].replace("\x00", "").replace("\r\n", "\n")
    if not text.strip():
        return WhoisParse("unparsed", reason="empty WHOIS answer")
    lines = [line[:_MAX_LINE] for line in text.splitlines()]
    reading = _read(tld, lines, _spellings(domain))

    expires, ambiguous = _best_expiry(reading, tld)
    # registro.br answers "Query rate limit exceeded. Reduced information." and still says
    # "No match for domain ..." about the name asked: that is an answer, not a refusal.
    answered = reading.not_found_line is not None and any(
        name in reading.not_found_line.lower() for name in _spellings(domain)
    )
    if reading.rate_limit_line is not None and expires is None and not answered:
        return WhoisParse("rate_limited", reason=f"rate limited: {reading.rate_limit_line}")
    other = _other_name(reading, domain)
    if other is not None:
        # IANA's record of the TLD, a parent's record, another query's answer: none of its
        # data is about this domain, whatever it says.
        return WhoisParse("unparsed", reason=f"the answer is about {other[:80]!r}, not {domain}")
    nameservers = _dedupe(_nameserver(v) for v in reading.nameservers)
    statuses = _epp_statuses(reading.statuses, tld)
    registrar = reading.registrar
    # A registry's own "no such domain" wording yields only to hard data (a stray "Registrant
    # data available at ..." line is no registration); a wording only the shape suggests
    # yields to any evidence at all.
    strong = bool(registrar or nameservers or statuses)
    echoed = bool(reading.echoes)  # and about this domain: another name returned above
    evidence = (strong or reading.created or reading.holder or reading.taken
                or (reading.handles and echoed))
    if expires is None and reading.not_found_line is not None and not strong:
        return WhoisParse("not_found", reason=f"registry says: {reading.not_found_line}")
    if expires is None and not evidence:
        said = _not_found_shape(reading)
        if said is not None:
            return WhoisParse("not_found", reason=f"registry says: {said}")
        if reading.refusal is not None and reading.plain_lines <= 4:
            return WhoisParse("rate_limited", reason=f"rate limited: {reading.refusal}")

    no_expiry = tld in NO_EXPIRY_TLDS
    unread = [v for _, v in reading.expiry if any(ch.isdigit() for ch in v)]
    # python-whois is asked only for what our reading lacks (it costs more, and trusts less)
    wanted = (expires is None and not ambiguous and not no_expiry and evidence) or (
        evidence and not (registrar and nameservers)
    )
    pw = _pywhois(domain, tld, text) if tld and wanted else None
    if expires is None and not ambiguous and pw is not None and not no_expiry:
        expires = _pw_expiry(pw)
    if pw is not None:
        if registrar is None:
            registrar = next((_clean_registrar(v) for v in _as_list(pw.get("registrar"))), None)
        if not nameservers:
            nameservers = _dedupe(_nameserver(v) for v in _as_list(pw.get("name_servers")))

    common: dict[str, Any] = {
        "registrar": registrar,
        "statuses": statuses,
        "nameservers": nameservers,
        "referral": reading.referral,
    }
    if expires is not None:
        return WhoisParse("registered", expires=expires, **common)
    if ambiguous:
        reason = "expiry date is ambiguous (day and month could be swapped) for this registry"
        return WhoisParse("unparsed", reason=reason, **common)
    if unread and not no_expiry:
        return WhoisParse("unparsed", reason=f"expiry date not understood: {unread[0][:60]!r}",
                          **common)
    if evidence:
        # Registration data and no expiry: the registry does not publish one (or, for a
        # value such as "see www.register.bg", not here).
        return WhoisParse("registered", expiry_published=False, **common)
    opening = " | ".join(reading.opening)
    reason = (
        "neither registration data nor a 'not registered' answer found; "
        f"the answer begins: {opening}"
    )
    return WhoisParse("unparsed", reason=reason, **common)


def _other_name(reading: _Reading, domain: str) -> str | None:
    """The name the answer echoes when that is not ``domain`` (in any spelling), else None."""
    if not reading.echoes:
        return None
    names = _spellings(domain)
    if any(echo in names or _a_label(echo) in names for echo in reading.echoes):
        return None
    return reading.echoes[0]


# Variant TLDs delegated as one (the registry runs both from one database and echoes the
# name under the one it keeps): CNNIC's .中国/.中國 and TWNIC's .台湾/.台灣.
_VARIANT_TLDS = {
    "xn--fiqs8s": "xn--fiqz9s",
    "xn--fiqz9s": "xn--fiqs8s",
    "xn--kprw13d": "xn--kpry57d",
    "xn--kpry57d": "xn--kprw13d",
}


def _spellings(domain: str) -> tuple[str, ...]:
    """The lower-case ways a registry may echo ``domain``: A-labels and U-labels, under
    either TLD of a variant pair."""
    stem, _, tld = domain.rpartition(".")
    variant = _VARIANT_TLDS.get(tld)
    forms = [domain, f"{stem}.{variant}"] if stem and variant else [domain]
    names = list(forms)
    for form in forms:
        if "xn--" in form:
            with contextlib.suppress(idna.IDNAError, UnicodeError, ValueError):
                names.append(idna.decode(form))
    return tuple(names)


def _not_found_shape(reading: _Reading) -> str | None:
    """A "not found" answer in a wording no table knows: negative words in a line that names
    the queried domain, or in a short line of a short answer ("Invalid input", or the
    " is not valid!" that the .vu server puts on the line after the name)."""
    for line, names_domain in reading.negative:
        if names_domain or (len(line) <= 60 and reading.plain_lines <= 6):
            return line
    return None


def _best_expiry(reading: _Reading, tld: str) -> tuple[datetime | None, bool]:
    """The best-ranked readable expiry, and whether the best rank held an ambiguous date."""
    for rank in sorted({r for r, _ in reading.expiry}):
        ambiguous = False
        for value_rank, value in reading.expiry:
            if value_rank != rank:
                continue
            try:
                moment = _parse_date(value, tld)
            except _Ambiguous:
                ambiguous = True
                continue
            if moment is not None:
                return moment, False
        if ambiguous:
            return None, True
    return None, False
