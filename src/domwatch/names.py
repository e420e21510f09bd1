"""Domain-name normalisation: IDNA 2008 / UTS 46 and the Public Suffix List."""

from __future__ import annotations

import functools
import ipaddress
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

import idna
from publicsuffixlist import PublicSuffixList

from domwatch.errors import BadName
from domwatch.sources.whois_servers import second_level_zone

_MAX_NAME = 253  # octets, without the trailing dot (RFC 1035 §2.3.4 less the root label)
_MAX_LABEL = 63
_SHOWN = 80  # longest input quoted back in a message, so errors stay readable
_LDH = re.compile(r"[a-z0-9]([a-z0-9-]*[a-z0-9])?")


@dataclass(frozen=True)
class Name:
    """A normalised domain name."""

    name: str  # registrable domain, A-label, lower case, no trailing dot
    display_name: str  # the same as a U-label, for people
    host: str | None = None  # the A-label host as given, when below the registrable domain


@functools.lru_cache(maxsize=1)
def _psl() -> PublicSuffixList:
    # Building the list takes tens of milliseconds: do it once, and only when needed.
    # ICANN section only: registrations happen under ICANN suffixes; the private section
    # (blogspot.com, github.io, ...) is mostly about cookie scope, and the owner of
    # "me.github.io" cannot renew "github.io" anyway; the host is kept for the web check.
    # The private entries that are registries of their own (gb.com, eu.org) are known by
    # ``second_level_zone`` instead, which also knows their WHOIS servers.
    return PublicSuffixList(only_icann=True)


def _quote(raw: str) -> str:
    text = raw if len(raw) <= _SHOWN else raw[: _SHOWN - 3] + "..."
    return repr(text)


def _bad(raw: str, reason: str) -> BadName:
    return BadName(f"not a domain name: {_quote(raw)} ({reason})")


def _host_of_url(text: str, raw: str) -> str:
    """The host part of a URL: people paste URLs where a name is wanted."""
    try:
        host = urlsplit(text).hostname
    except ValueError as exc:
        raise _bad(raw, f"unreadable URL: {exc}") from None
    if not host:
        raise _bad(raw, "URL without a host name")
    return host


def _ip_literal(text: str) -> bool:
    try:
        ipaddress.ip_address(text[1:-1] if text.startswith("[") else text)
    except ValueError:
        return False
    return True


def _check_ascii_labels(text: str, raw: str) -> None:
    """Catch the common mistakes before IDNA, with a clearer reason than its own."""
    for label in text.split("."):
        if not label:
            raise _bad(raw, "empty label: two dots in a row, or a leading dot")
        if not label.isascii():
            continue  # IDNA judges U-labels
        if "_" in label:
            raise _bad(raw, "underscore not allowed in a host name")
        if label.startswith("-") or label.endswith("-"):
            raise _bad(raw, f"label {label!r} starts or ends with a hyphen")
        if len(label) > _MAX_LABEL:
            raise _bad(raw, f"label longer than {_MAX_LABEL} octets")


def _to_ascii(text: str, raw: str) -> str:
    try:
        return idna.encode(text, uts46=True).decode("ascii")
    except UnicodeError as exc:  # idna.IDNAError is one; the punycode codec raises others
        for label in text.lower().split("."):
            if label.startswith("xn--") and not _valid_a_label(label):
                # idna's own complaint is about the decoded code points: meaningless to people.
                raise _bad(raw, f"{label!r} is not a valid IDNA A-label") from None
        reason = str(exc) or type(exc).__name__
        raise _bad(raw, reason[0].lower() + reason[1:]) from None


def _valid_a_label(label: str) -> bool:
    try:
        idna.decode(label)
    except UnicodeError:
        return False
    return True


def _to_unicode(ascii_name: str) -> str:
    try:
        return idna.decode(ascii_name)
    except UnicodeError:
        # Already accepted by encode(), so this should not happen; A-labels are still correct.
        return ascii_name


def to_ascii(raw: str) -> str:
    """A host name (any level, no Public Suffix List reduction) as a lower-case A-label.

    For server names in settings (``whois.fi``, TLD keys); raises :class:`BadName`.
    """
    return _ascii(raw.strip(), raw)


def _ascii(text: str, raw: str) -> str:
    if text.endswith("."):
        text = text[:-1]
    if not text:
        raise _bad(raw, "empty")
    if any(ch.isspace() for ch in text):
        raise _bad(raw, "space not allowed")
    _check_ascii_labels(text, raw)
    ascii_name = _to_ascii(text, raw)
    for label in ascii_name.split("."):
        if not _LDH.fullmatch(label):
            raise _bad(raw, f"label {label!r} is not letters, digits and hyphens")
    if len(ascii_name) > _MAX_NAME:
        raise _bad(raw, f"longer than {_MAX_NAME} octets")
    return ascii_name


def normalise(raw: str) -> Name:
    """Normalise one domain name as typed by a person; raises :class:`BadName`.

    Case folded (UTS 46), one trailing dot dropped, Unicode converted with IDNA 2008,
    a URL reduced to its host, and the host reduced to its registrable domain (the Public
    Suffix List's ICANN section, or a second-level registry's zone such as gb.com).
    """
    text = raw.strip()
    if "://" in text:
        text = _host_of_url(text, raw)
    if not text:
        raise _bad(raw, "empty")
    if any(ch.isspace() for ch in text):
        raise _bad(raw, "space not allowed")
    if _ip_literal(text):
        raise _bad(raw, "an IP address; give the domain name")
    for char, reason in (
        ("/", "looks like a path or URL; give the domain name alone"),
        ("@", "looks like an e-mail address; give the part after '@'"),
        (":", "':' not allowed; give the domain name without a port"),
        ("*", "wildcards not allowed"),
    ):
        if char in text:
            raise _bad(raw, reason)
    ascii_name = _ascii(text, raw)
    if ascii_name.rsplit(".", 1)[-1].isdigit():
        # A numeric last label is never a TLD: it is a truncated or mistyped IPv4 address.
        raise _bad(raw, "numeric top-level label; an IP address?")
    registrable = _psl().privatesuffix(ascii_name)
    zone = second_level_zone(ascii_name)
    if zone is not None:
        # hotel.gb.com is a registration at CentralNic's gb.com registry, not part of gb.com
        registrable = ascii_name.split(".")[-zone.count(".") - 2] + "." + zone
    if registrable is None:
        raise BadName(f"{_quote(raw)} is a public suffix, not a registrable domain")
    return Name(
        name=registrable,
        display_name=_to_unicode(registrable),
        host=ascii_name if ascii_name != registrable else None,
    )


def known_suffix(ascii_name: str) -> bool:
    """Whether the name ends in a suffix listed in the Public Suffix List (ICANN section).

    Lets callers tell ``example.com`` (surely a domain) from ``domains.lst`` (maybe a file).
    """
    return _psl().publicsuffix(ascii_name, accept_unknown=False) is not None
