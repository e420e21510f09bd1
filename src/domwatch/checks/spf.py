"""SPF (RFC 7208): find the one ``v=spf1`` record, parse it, count its DNS lookups.

pyspf evaluates a record against a sender; domwatch only needs to judge a published record, so
this is a small parser plus a walk through ``include`` and ``redirect`` that counts the terms
which make a receiver query DNS (§4.6.4: more than 10 is a permerror).
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from domwatch.errors import RecordSyntaxError
from domwatch.net.resolver import Answer, Outcome, Resolver

MAX_LOOKUPS = 10  # RFC 7208 §4.6.4
# Each fetched record adds at least one lookup (the include that led to it), so past this many
# the verdict cannot change; the cap keeps a hostile include tree from costing a run.
_MAX_RECORDS = 40

QUALIFIERS = "+-~?"
MECHANISMS = ("all", "include", "a", "mx", "ptr", "ip4", "ip6", "exists")
LOOKUP_TERMS = ("include", "a", "mx", "ptr", "exists", "redirect")

_VERSION = re.compile(r"v=spf1(?: |$)", re.IGNORECASE)
_MODIFIER = re.compile(r"([A-Za-z][A-Za-z0-9_.-]*)=(.*)", re.DOTALL)
_MACRO = re.compile(r"%\{[slodiphcrtv][0-9]*r?[.+,/_=-]*\}|%%|%_|%-", re.IGNORECASE)
_MACRO_AT_END = re.compile(r"%\{[^}]*\}$")
_LABEL = re.compile(r"[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?")
_TOPLABEL = re.compile(r"(?=[A-Za-z0-9-]*[A-Za-z])[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?")
_CIDR = re.compile(r"0|[1-9][0-9]{0,2}")
# [":" domain-spec] [ip4-cidr] ["//" ip6-cidr] after "a" or "mx"; the spec is non-greedy so a
# trailing "/24" or "//64" goes to the CIDR groups.
_A_ARGS = re.compile(r"(?::(?P<spec>.*?))?(?:/(?P<v4>[0-9]+))?(?://(?P<v6>[0-9]+))?")


class SpfSyntaxError(RecordSyntaxError):
    """The record does not parse (a permerror for receivers)."""


@dataclass(frozen=True)
class Term:
    """One mechanism (with its qualifier) or one modifier of a record."""

    name: str  # lower case
    value: str | None = None  # domain-spec, network or modifier value
    qualifier: str = "+"  # "" for modifiers
    modifier: bool = False
    arg: str = ""  # the text after the name, as written (for messages)

    def __str__(self) -> str:
        if self.modifier:
            return f"{self.name}={self.value}"
        return ("" if self.qualifier == "+" else self.qualifier) + self.name + self.arg


@dataclass(frozen=True)
class SpfRecord:
    """A parsed SPF record."""

    terms: tuple[Term, ...]

    def modifier(self, name: str) -> str | None:
        """The value of modifier ``name``, if present."""
        return next((t.value for t in self.terms if t.modifier and t.name == name), None)

    def lookup_terms(self) -> list[Term]:
        """The terms a receiver may evaluate that query DNS (RFC 7208 §4.6.4).

        Evaluation stops at ``all`` (it always matches), and ``redirect`` is ignored when
        the record has ``all``, so terms a receiver can never reach are not counted.
        """
        counted: list[Term] = []
        has_all = False
        for term in self.terms:
            if term.modifier:
                continue
            if term.name == "all":
                has_all = True
                break
            if term.name in LOOKUP_TERMS:
                counted.append(term)
        if not has_all:
            counted.extend(t for t in self.terms if t.modifier and t.name == "redirect")
        return counted


def is_spf(text: str) -> bool:
    """True for a TXT string that claims to be SPF version 1 (``v=spf1`` then space or end)."""
    return _VERSION.match(text) is not None


def txt_text(rdata: Any) -> str:
    """One TXT record as a string: its character-strings joined without separator (§3.3)."""
    strings: Iterable[bytes] = getattr(rdata, "strings", ())
    return b"".join(strings).decode("utf-8", errors="replace")


def has_macro(spec: str) -> bool:
    """True when ``spec`` holds a macro expansion, so its target is known only per message."""
    return "%{" in spec


def parse(text: str) -> SpfRecord:
    """Parse an SPF record (``v=spf1 ...``); raise :class:`SpfSyntaxError` naming the fault."""
    if not is_spf(text):
        raise SpfSyntaxError("the record does not start with v=spf1")
    terms: list[Term] = []
    seen: set[str] = set()
    for token in text.split(" ")[1:]:
        if not token:
            continue  # terms are separated by one or more spaces
        if not all(0x21 <= ord(c) <= 0x7E for c in token):
            raise SpfSyntaxError(f"'{token}': characters other than visible ASCII")
        modifier = _MODIFIER.fullmatch(token)
        if modifier is not None:
            term = _parse_modifier(modifier.group(1).lower(), modifier.group(2), token)
            if term.name in ("redirect", "exp"):
                if term.name in seen:
                    raise SpfSyntaxError(f"the {term.name}= modifier appears more than once")
                seen.add(term.name)
        else:
            term = _parse_mechanism(token)
        terms.append(term)
    return SpfRecord(tuple(terms))


def _parse_modifier(name: str, value: str, token: str) -> Term:
    if name in ("redirect", "exp"):
        _check_domain_spec(value, token)
    else:
        # Unknown modifiers are allowed (§6) but their value must still be a macro-string.
        _check_macros(value, token)
    return Term(name, value, "", modifier=True)


def _parse_mechanism(token: str) -> Term:
    qualifier = "+"
    body = token
    if body[0] in QUALIFIERS:
        qualifier, body = body[0], body[1:]
    match = re.match(r"[A-Za-z][A-Za-z0-9_.-]*", body)
    if match is None:
        raise SpfSyntaxError(f"'{token}' is not a mechanism")
    name, rest = match.group(0).lower(), body[match.end() :]
    if name not in MECHANISMS:
        raise SpfSyntaxError(f"'{token}': unknown mechanism '{name}'")
    if name == "all":
        if rest:
            raise SpfSyntaxError(f"'{token}': all takes no argument")
        return Term(name, None, qualifier)
    if name in ("include", "exists"):
        if not rest.startswith(":") or len(rest) == 1:
            raise SpfSyntaxError(f"'{token}': {name} needs ':domain'")
        _check_domain_spec(rest[1:], token)
        return Term(name, rest[1:], qualifier, arg=rest)
    if name == "ptr":
        if rest and not rest.startswith(":"):
            raise SpfSyntaxError(f"'{token}': expected ':domain' after ptr")
        if rest:
            _check_domain_spec(rest[1:], token)
        return Term(name, rest[1:] or None, qualifier, arg=rest)
    if name in ("ip4", "ip6"):
        return Term(name, _check_network(name, rest, token), qualifier, arg=rest)
    # a and mx: optional domain-spec, optional dual CIDR length.
    args = _A_ARGS.fullmatch(rest)
    if args is None:
        raise SpfSyntaxError(f"'{token}': bad arguments to {name}")
    spec = args.group("spec")
    if spec is not None:
        _check_domain_spec(spec, token)
    _check_cidr(args.group("v4"), 32, token)
    _check_cidr(args.group("v6"), 128, token)
    return Term(name, spec, qualifier, arg=rest)


def _check_network(name: str, rest: str, token: str) -> str:
    if not rest.startswith(":") or len(rest) == 1:
        raise SpfSyntaxError(f"'{token}': {name} needs ':address'")
    address, _, length = rest[1:].partition("/")
    try:
        if name == "ip4":
            ipaddress.IPv4Address(address)
        else:
            ipaddress.IPv6Address(address)
    except ValueError:
        raise SpfSyntaxError(f"'{token}': '{address}' is not an {name} address") from None
    if "/" in rest:
        _check_cidr(length, 32 if name == "ip4" else 128, token)
    return rest[1:]


def _check_cidr(length: str | None, limit: int, token: str) -> None:
    if length is None:
        return
    if _CIDR.fullmatch(length) is None or int(length) > limit:
        raise SpfSyntaxError(f"'{token}': prefix length /{length} is not 0-{limit}")


def _check_macros(value: str, token: str) -> None:
    """Every ``%`` must start a valid macro-expand (§7.1)."""
    if "%" in _MACRO.sub("", value):
        raise SpfSyntaxError(f"'{token}': bad macro syntax")


def _check_domain_spec(spec: str, token: str) -> None:
    """A loose domain-spec check: macros well formed; a literal name looks like a name."""
    if not spec:
        raise SpfSyntaxError(f"'{token}': empty domain")
    _check_macros(spec, token)
    if has_macro(spec) or "%" in spec:
        # The expanded name is known only per message; §7.1 only asks for a domain-end,
        # which a trailing macro-expand is.
        if _MACRO_AT_END.search(spec) is None and not _ends_in_toplabel(spec):
            raise SpfSyntaxError(f"'{token}': '{spec}' does not end in a domain name")
        return
    labels = spec.rstrip(".").split(".")
    if len(labels) < 2 or not all(_LABEL.fullmatch(label) for label in labels[:-1]):
        raise SpfSyntaxError(f"'{token}': '{spec}' is not a domain name")
    if not _ends_in_toplabel(spec):
        raise SpfSyntaxError(f"'{token}': '{spec}' does not end in a valid top label")


def _ends_in_toplabel(spec: str) -> bool:
    last = spec.rstrip(".").rsplit(".", 1)
    return len(last) == 2 and _TOPLABEL.fullmatch(last[1]) is not None


# ------------------------------------------------------------------------------ evaluation


@dataclass
class SpfResult:
    """The judged SPF of one domain."""

    record: str | None = None
    lookups: int | None = None
    verdict: str = "missing"  # ok | missing | invalid | too_many_lookups | unknown
    error: str | None = None
    failure: Answer | None = None  # the DNS answer that kept the walk from finishing

    def to_json(self) -> dict[str, Any]:
        """The report's ``spf`` object."""
        return {
            "record": self.record,
            "lookups": self.lookups,
            "verdict": self.verdict,
            "error": self.error,
        }


class _Invalid(Exception):
    """A permerror found while walking includes."""


class _DnsFailed(Exception):
    """A lookup on the walk got no usable answer (a temperror, not an absence)."""

    def __init__(self, answer: Answer) -> None:
        super().__init__(answer.outcome.value)
        self.answer = answer


async def _fetch(resolver: Resolver, name: str) -> tuple[Answer, list[str]]:
    answer = await resolver.resolve(name, "TXT")
    return answer, [t for t in map(txt_text, answer.rdatas) if is_spf(t)]


async def evaluate(resolver: Resolver, name: str) -> SpfResult:
    """Find, parse and count the SPF record of ``name``."""
    answer, records = await _fetch(resolver, name)
    if answer.outcome.failed:
        return SpfResult(
            verdict="unknown", error=f"TXT lookup {answer.outcome.value}", failure=answer
        )
    if not records:
        return SpfResult()
    result = SpfResult(record=records[0])
    if len(records) > 1:
        result.verdict = "invalid"
        result.error = f"{len(records)} SPF records published (there must be exactly one)"
        return result
    walk = _Walk(resolver)
    try:
        record = parse(records[0])
        result.lookups = await walk.count(name, record, (name.lower().rstrip("."),))
    except SpfSyntaxError as exc:
        result.verdict, result.error = "invalid", str(exc)
    except _Invalid as exc:
        result.verdict, result.error, result.lookups = "invalid", str(exc), walk.total
    except _DnsFailed as exc:
        result.verdict, result.failure = "unknown", exc.answer
        result.error = f"TXT lookup of {exc.answer.name} {exc.answer.outcome.value}"
        result.lookups = walk.total
    else:
        over = result.lookups > MAX_LOOKUPS
        result.verdict = "too_many_lookups" if over else "ok"
    return result


class _Walk:
    """Counts lookups through include/redirect, each target fetched via the run's resolver."""

    def __init__(self, resolver: Resolver) -> None:
        self.resolver = resolver
        self.fetched = 0
        self.total = 0  # running count, for reporting when the walk stops early

    async def count(self, name: str, record: SpfRecord, chain: tuple[str, ...]) -> int:
        terms = record.lookup_terms()
        self.total += len(terms)
        targets = [
            (t, t.value.lower().rstrip("."))
            for t in terms
            if t.name in ("include", "redirect") and t.value and not has_macro(t.value)
        ]
        for term, target in targets:
            if target in chain:
                raise _Invalid(f"{name}: '{term}' loops back to {target}")
        if self.fetched + len(targets) > _MAX_RECORDS:
            return len(terms)  # certainly over the limit already; stop fetching
        self.fetched += len(targets)
        below = await asyncio.gather(
            *(self._follow(name, term, target, chain) for term, target in targets),
            return_exceptions=True,
        )
        total = len(terms)
        for item in below:  # in record order, so the first fault named is the first one met
            if isinstance(item, BaseException):
                raise item
            total += item
        return total

    async def _follow(self, name: str, term: Term, target: str, chain: tuple[str, ...]) -> int:
        answer, records = await _fetch(self.resolver, target)
        if answer.outcome.failed:
            raise _DnsFailed(answer)
        if not records:
            why = "does not exist" if answer.outcome is Outcome.NXDOMAIN else "has no SPF record"
            raise _Invalid(f"{name}: '{term}' target {target} {why}")
        if len(records) > 1:
            raise _Invalid(f"{name}: '{term}' target {target} has {len(records)} SPF records")
        try:
            record = parse(records[0])
        except SpfSyntaxError as exc:
            raise _Invalid(f"{name}: '{term}' target {target}: {exc}") from None
        return await self.count(target, record, (*chain, target))
