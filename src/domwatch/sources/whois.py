"""Registration over WHOIS (RFC 3912, port 43): find the server, ask, follow the referral, parse."""

from __future__ import annotations

import asyncio
import logging
import random
import socket
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from domwatch.errors import (
    AddressRefused,
    RateLimited,
    Unresolvable,
    WhoisError,
    WhoisRefused,
)
from domwatch.model import Registration
from domwatch.net.address_policy import AddressPolicy, Vetted
from domwatch.net.errors import os_error_words
from domwatch.net.limits import Budget, Limits, whois_key
from domwatch.settings import Settings
from domwatch.sources.base import Exchange, Lookup
from domwatch.sources.whois_parse import WhoisParse, parse_whois
from domwatch.sources.whois_servers import builtin_server, parent_zones, query_for
from domwatch.values import Endpoint

if TYPE_CHECKING:
    from domwatch.cache import ReferralStore

log = logging.getLogger("domwatch.whois")

MAX_ANSWER = 1 << 20  # real answers are a few KiB; anything past 1 MiB is not a WHOIS answer
TRAIL_CHARS = 64 * 1024
WHOIS_PORT = 43
MAX_ATTEMPTS = 4  # queries per domain and server, rate-limit retries included
MAX_TRANSIENT_RETRIES = 2  # repeats after a timeout or reset
BUDGET_FACTOR = 3  # one domain may take this many ``settings.timeout`` (queueing excluded)


def decode(raw: bytes) -> str:
    """Text of an answer: UTF-8 when it is, Latin-1 otherwise (which never fails)."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


async def fetch(address: str, port: int, query: str, timeout: float) -> bytes:
    """Send one query line and read the answer to EOF, within ``timeout`` in all."""
    deadline = time.monotonic() + timeout

    async def exchange() -> bytes:
        reader, writer = await asyncio.open_connection(address, port)
        try:
            writer.write(query.encode("utf-8") + b"\r\n")
            await writer.drain()
            chunks: list[bytes] = []
            size = 0
            while True:
                chunk = await reader.read(65536)
                if not chunk:
                    break
                chunks.append(chunk)
                size += len(chunk)
                if size >= MAX_ANSWER:
                    raise WhoisError(f"answer larger than {MAX_ANSWER // 1024} KiB, cut off")
            if not any(chunk.strip() for chunk in chunks):
                raise WhoisError("the server closed the connection without an answer")
            return b"".join(chunks)
        finally:
            writer.close()

    try:
        return await asyncio.wait_for(exchange(), max(deadline - time.monotonic(), 0.01))
    except asyncio.TimeoutError:
        raise WhoisError(f"no complete answer within {timeout:g} s") from None
    except ConnectionRefusedError:
        raise WhoisError("connection refused", final=True) from None
    except OSError as exc:
        # A name that does not resolve would not resolve a second later either.
        raise WhoisError(os_error_words(exc), final=isinstance(exc, socket.gaierror)) from None
    except (OverflowError, ValueError) as exc:  # a referral's port past 65535, say
        raise WhoisError(f"bad server address: {exc}") from None


@dataclass
class WhoisSource:
    """Asks the registry's WHOIS server, and the registrar's for thin registries."""

    settings: Settings
    limits: Limits = field(default_factory=Limits)
    referral_cache: ReferralStore | None = None  # IANA's answers, kept between runs
    policy: AddressPolicy | None = None  # where connections may go (default: from settings)
    _referrals: dict[str, asyncio.Task[Endpoint | None]] = field(default_factory=dict)
    iana_trail: dict[str, Exchange] = field(default_factory=dict)
    # TLD -> why IANA's referral for it is not followed (the address policy refused it)
    iana_refusals: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.policy is None:
            self.policy = AddressPolicy.from_settings(self.settings)

    async def server_for(self, tld: str) -> Endpoint | None:
        """The WHOIS server of ``tld``: settings, then the built-in table, then IANA (once)."""
        override = self.settings.whois_servers.get(tld)
        if override is not None:
            return override
        host = builtin_server(tld)
        if host is not None:
            return Endpoint(host)
        task = self._referrals.get(tld)
        if task is None:
            task = asyncio.ensure_future(self._ask_iana(tld))
            self._referrals[tld] = task
        return await asyncio.shield(task)

    def zone_server(self, domain: str) -> Endpoint | None:
        """The server of the zone ``domain`` is registered in, when that is not just its TLD.

        The operator's settings come first, the nearest zone first: a per-TLD setting applies
        to every name under the TLD, names under second-level registries included (a key
        such as ``"gb.com"`` sends those elsewhere). Then the built-in table of registries
        that run a zone below a TLD (co.za, gb.com, eu.org), which IANA cannot name.
        """
        zones = parent_zones(domain)
        for zone in zones:
            override = self.settings.whois_servers.get(zone)
            if override is not None:
                return override
        for zone in zones[:-1]:
            host = builtin_server(zone)
            if host is not None:
                return Endpoint(host)
        return None

    async def _ask_iana(self, tld: str) -> Endpoint | None:
        iana = self.settings.whois_iana
        known = self.referral_cache.referral(tld) if self.referral_cache is not None else None
        if known is not None:
            note = f"refers to {known} (cached IANA answer)"
            endpoint = parse_endpoint(known)
            # Vetted again each run: the name may resolve elsewhere now, or the row be forged.
            refusal = await self._refusal(iana, endpoint) if endpoint is not None else None
            self.iana_trail[tld] = Exchange(_server_name(iana), tld, "", refusal or note)
            if refusal:
                self.iana_refusals[tld] = refusal
            return None if refusal else endpoint
        try:
            raw = await self._ask(iana, tld)
        except WhoisError as exc:
            self.iana_trail[tld] = Exchange(_server_name(iana), tld, "", f"failed: {exc}")
            return None
        text = decode(raw)
        server = _iana_whois(text)
        note = f"refers to {server}" if server else "no WHOIS server for this TLD"
        endpoint = parse_endpoint(server) if server else None
        refusal = await self._refusal(iana, endpoint) if endpoint is not None else None
        self.iana_trail[tld] = Exchange(_server_name(iana), tld, text[:TRAIL_CHARS],
                                        refusal or note)
        if refusal:
            self.iana_refusals[tld] = refusal
            return None  # neither asked nor remembered
        if endpoint is not None and self.referral_cache is not None:
            self.referral_cache.remember_referral(tld, str(endpoint))
        return endpoint

    async def _refusal(self, referrer: Endpoint, target: Endpoint) -> str | None:
        """Why ``referrer`` may not send us to ``target`` (None: it may)."""
        try:
            await self._vet(target, await self._vet(referrer))
        except WhoisRefused as exc:
            return str(exc)
        except WhoisError:
            pass  # an unresolvable target fails when it is asked, as before
        return None

    async def _vet(self, server: Endpoint, referrer: Vetted | None = None) -> Vetted:
        """The address ``server`` may be reached at (see :mod:`domwatch.net.address_policy`)."""
        assert self.policy is not None
        try:
            return await asyncio.wait_for(
                self.policy.vet(server.host, referrer), self.settings.timeout
            )
        except AddressRefused as exc:
            raise WhoisRefused(f"refused: {exc}") from None
        except Unresolvable as exc:
            raise WhoisError(str(exc), final=True) from None
        except asyncio.TimeoutError:
            message = f"cannot resolve {server.host}: no answer in time"
            raise WhoisError(message, final=True) from None

    async def _ask(self, server: Endpoint, query: str, referrer: Vetted | None = None) -> bytes:
        port = server.port or WHOIS_PORT
        try:
            async with self.limits.for_server(whois_key(server.host, port)).slot():
                return await self._fetch(server, query, referrer)
        except RateLimited as exc:
            raise WhoisError(f"rate limited: {exc}") from None

    async def _fetch(self, server: Endpoint, query: str, referrer: Vetted | None = None) -> bytes:
        port = server.port or WHOIS_PORT
        # The address the policy vetted (resolved once per run) is the one connected to.
        target = await self._vet(server, referrer)
        shown = f"whois {query!r} to {server.host}:{port} on {target.address}"
        try:
            answer = await fetch(target.address, port, query, self.settings.timeout)
        except WhoisError as exc:
            log.debug("%s -> %s", shown, exc)
            raise
        log.debug("%s -> %d bytes", shown, len(answer))
        return answer

    async def lookup(self, domain: str) -> Lookup:
        """Registration of ``domain`` (A-label registrable name) as WHOIS tells it."""
        tld = domain.rsplit(".", 1)[-1]
        trail: list[Exchange] = []
        server = self.zone_server(domain)
        if server is None:
            server = await self.server_for(tld)
            if tld in self.iana_trail:
                trail.append(self.iana_trail[tld])
        if server is None:
            refused = self.iana_refusals.get(tld, "")
            reason = f"IANA's referral for .{tld} {refused}" if refused else (
                f"no WHOIS server known for .{tld}"
            )
            return Lookup("failed" if refused else "unsupported", reason=reason, trail=trail)
        parsed, retried, throttled = await self._query_parsed(server, domain, trail)
        if parsed is None:
            # The trail says "failed: why" after the server; the report's sentence says failed.
            reason = trail[-1].note.removeprefix("failed: ")
            return Lookup(
                "failed", reason=reason, trail=trail, retried=retried, throttled=throttled
            )
        if parsed.outcome != "registered":
            return Lookup(
                parsed.outcome, reason=parsed.reason, trail=trail, retried=retried,
                throttled=throttled,
            )
        registrar_expires = None
        referral = parsed.referral and parse_endpoint(parsed.referral)
        if referral and referral.host.lower() != server.host.lower():
            registrar_expires = await self._registrar_date(server, referral, domain, trail)
        registration = Registration(
            source="whois",
            server=_server_name(server),
            registrar=parsed.registrar,
            expires=parsed.expires,
            registrar_expires=(
                registrar_expires
                if registrar_expires is not None and registrar_expires != parsed.expires
                else None
            ),
            statuses=parsed.statuses,
            nameservers=parsed.nameservers,
            expiry_published=parsed.expiry_published,
        )
        if parsed.expires is None and parsed.expiry_published:
            return Lookup(
                "unparsed",
                registration=registration,
                reason=parsed.reason or "no expiry date found in the answer",
                trail=trail,
                retried=retried,
                throttled=throttled,
            )
        return Lookup(
            "registered", registration=registration, trail=trail, retried=retried,
            throttled=throttled,
        )

    async def _query_parsed(
        self, server: Endpoint, domain: str, trail: list[Exchange]
    ) -> tuple[WhoisParse | None, int, int]:
        """Ask ``server`` about ``domain``: (answer or None, queries repeated, rate limits met).

        A timeout or reset is repeated after a jittered backoff, a rate-limit reply after the
        pause the server's limiter now imposes, each only while the domain's budget allows.
        Time queued behind the server's limits is not charged to the budget.
        """
        query = query_for(server.host, domain)
        name = _server_name(server)
        limiter = self.limits.for_server(whois_key(server.host, server.port or WHOIS_PORT))
        budget = Budget(BUDGET_FACTOR * self.settings.timeout)
        retried = throttled = transient = 0
        parsed: WhoisParse | None = None
        delay = 1.0
        for _attempt in range(MAX_ATTEMPTS):
            pause: float | None = None
            try:
                async with limiter.slot(budget) as ticket:
                    raw = await self._fetch(server, query)
                    ticket.got_answer()
                    text = decode(raw)
                    parsed = await asyncio.to_thread(parse_whois, domain, text)
                    if parsed.outcome == "rate_limited":
                        pause = ticket.throttled()
            except RateLimited as exc:  # the server is given up on for this run
                trail.append(Exchange(name, query, "", f"rate limited: {exc}"))
                return WhoisParse("rate_limited", reason=str(exc)), retried, throttled
            except WhoisError as exc:
                trail.append(Exchange(name, query, "", f"failed: {exc}"))
                wait = delay * random.uniform(1.0, 1.5)
                # A refusal or an unknown host would only repeat itself.
                if (
                    exc.final
                    or transient >= MAX_TRANSIENT_RETRIES
                    or budget.left() < wait + min(self.settings.timeout, 1.0)
                ):
                    return None, retried, throttled
                transient += 1
                retried += 1
                await asyncio.sleep(wait)
                delay *= 2
                continue
            trail.append(Exchange(name, query, text[:TRAIL_CHARS], _note(parsed)))
            if pause is None:
                return parsed, retried, throttled
            throttled += 1
            # The pause is this domain's backoff and must fit its budget. The wait for the
            # server's next free slot is queueing, not charged, while the server still answers
            # others; one that answers nobody is blocking us, and waiting would not help.
            wait = pause if limiter.serving() else max(pause, limiter.ready_in())
            if wait >= budget.left():
                return parsed, retried, throttled
            retried += 1
            await asyncio.sleep(pause)
        return parsed, retried, throttled

    async def _registrar_date(
        self, registry: Endpoint, referral: Endpoint, domain: str, trail: list[Exchange]
    ) -> datetime | None:
        """The registrar's expiry from a thin registry's referral (None when unavailable)."""
        try:
            vetted_registry = await self._vet(registry)
            raw = await self._ask(referral, query_for(referral.host, domain), vetted_registry)
        except WhoisError as exc:
            note = str(exc) if isinstance(exc, WhoisRefused) else f"failed: {exc}"
            trail.append(Exchange(_server_name(referral), domain, "", note))
            return None
        text = decode(raw)
        parsed = await asyncio.to_thread(parse_whois, domain, text)
        trail.append(Exchange(_server_name(referral), domain, text[:TRAIL_CHARS], _note(parsed)))
        return parsed.expires


def parse_endpoint(text: str) -> Endpoint | None:
    """``host`` or ``host:port`` as a registry writes it (a URL scheme is tolerated)."""
    value = text.strip().split()[0] if text.strip() else ""
    for prefix in ("whois://", "rwhois://", "http://", "https://"):
        if value.lower().startswith(prefix):
            value = value[len(prefix) :]
    value = value.strip("/")
    if not value:
        return None
    if value.startswith("["):
        host, _, rest = value[1:].partition("]")
        port = rest.lstrip(":")
        return Endpoint(host, int(port)) if port.isdigit() else Endpoint(host)
    host, sep, port = value.rpartition(":")
    if sep and port.isdigit() and ":" not in host:
        return Endpoint(host.lower(), int(port))
    return Endpoint(value.lower())


def _iana_whois(text: str) -> str | None:
    """The ``whois:`` (or ``refer:``) line of an IANA TLD answer."""
    found: dict[str, str] = {}
    for line in text[:65536].splitlines():
        key, sep, value = line.partition(":")
        key = key.strip().lower()
        if sep and key in ("whois", "refer") and value.strip():
            found.setdefault(key, value.strip())
    return found.get("whois") or found.get("refer")


def _server_name(server: Endpoint) -> str:
    return str(Endpoint(server.host, server.port or WHOIS_PORT))


def _note(parsed: WhoisParse) -> str:
    if parsed.outcome == "registered":
        expiry = parsed.expires.date().isoformat() if parsed.expires else "none published"
        return f"registered; expiry {expiry}"
    return f"{parsed.outcome.replace('_', ' ')}: {parsed.reason}".rstrip(": ")
