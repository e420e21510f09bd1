"""DNS lookups that tell failures apart from absences.

dnspython's stub resolver folds SERVFAIL and REFUSED into one ``NoNameservers`` error and retries
for its whole lifetime; domwatch must name each outcome and keep every query within ``--timeout``.
So we send the queries ourselves with ``dns.asyncquery`` and classify the answer.
"""

from __future__ import annotations

import asyncio
import enum
import ipaddress
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import dns.asyncquery
import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.resolver

from domwatch.net.errors import os_error_words

log = logging.getLogger("domwatch.dns")


class Outcome(str, enum.Enum):
    """How one DNS question ended."""

    OK = "ok"  # records of the asked type
    NODATA = "nodata"  # the name exists, no records of that type
    NXDOMAIN = "nxdomain"
    SERVFAIL = "servfail"
    REFUSED = "refused"
    TIMEOUT = "timeout"
    ERROR = "error"  # a malformed or unexpected answer, or a socket error

    @property
    def failed(self) -> bool:
        """True when the question got no usable answer (not an absence)."""
        return self in (Outcome.SERVFAIL, Outcome.REFUSED, Outcome.TIMEOUT, Outcome.ERROR)


@dataclass(frozen=True)
class Answer:
    """The classified answer to one question."""

    name: str  # asked name, no trailing dot
    rdtype: str
    outcome: Outcome
    rdatas: tuple[Any, ...] = ()  # dnspython rdata objects of the asked type
    cname: str | None = None  # the name is an alias of this target (first link)
    server: str = ""
    authoritative: bool = False
    detail: str = ""

    @property
    def texts(self) -> list[str]:
        """The records in presentation form."""
        return [r.to_text() for r in self.rdatas]


@dataclass(frozen=True)
class Nameserver:
    """A DNS server address to ask."""

    address: str
    port: int = 53

    def __str__(self) -> str:
        host = f"[{self.address}]" if ":" in self.address else self.address
        return host if self.port == 53 else f"{host}:{self.port}"


def system_nameservers() -> list[Nameserver]:
    """The resolvers of the system configuration (``/etc/resolv.conf``)."""
    try:
        conf = dns.resolver.Resolver(configure=True)
    except (dns.resolver.NoResolverConfiguration, OSError):
        return [Nameserver("127.0.0.1")]
    return [Nameserver(str(a), conf.port) for a in conf.nameservers]


@dataclass
class Resolver:
    """Asks recursive resolvers; every distinct question is asked once per run."""

    nameservers: Sequence[Nameserver]
    timeout: float = 10.0
    _memo: dict[tuple[str, str], asyncio.Task[Answer]] = field(default_factory=dict)
    queries: int = 0
    retries: int = 0

    async def resolve(self, name: str, rdtype: str) -> Answer:
        """Ask the configured resolvers for ``name``/``rdtype`` (recursion desired)."""
        key = (name.lower().rstrip("."), rdtype.upper())
        task = self._memo.get(key)
        if task is None:
            task = asyncio.ensure_future(self._resolve(*key))
            self._memo[key] = task
        return await asyncio.shield(task)

    async def addresses(self, host: str) -> tuple[list[str], list[Answer]]:
        """A and AAAA of ``host`` (an address literal is its own), and the lookups that failed.

        Sorted, IPv4 first: resolvers rotate record order, and reports should not.
        """
        try:
            return [str(ipaddress.ip_address(host))], []
        except ValueError:
            pass
        answers = await asyncio.gather(self.resolve(host, "A"), self.resolve(host, "AAAA"))
        found = {
            ipaddress.ip_address(r.address)
            for a in answers
            if a.outcome is Outcome.OK
            for r in a.rdatas
        }
        ordered = sorted(found, key=lambda ip: (ip.version, int(ip)))
        return [str(ip) for ip in ordered], [a for a in answers if a.outcome.failed]

    async def _resolve(self, name: str, rdtype: str) -> Answer:
        answer = Answer(name, rdtype, Outcome.ERROR, detail="no resolver configured")
        # A timeout or SERVFAIL is tried once more on another resolver, when there is one.
        tries = 2 if len(self.nameservers) > 1 else 1
        for attempt in range(tries):
            server = self.nameservers[(hash(name) + attempt) % len(self.nameservers)]
            if attempt:
                self.retries += 1
            answer = await self.ask(server, name, rdtype, recursion=True)
            if answer.outcome not in (Outcome.TIMEOUT, Outcome.SERVFAIL, Outcome.ERROR):
                break
        return answer

    async def ask(
        self, server: Nameserver, name: str, rdtype: str, *, recursion: bool
    ) -> Answer:
        """Send one question to one server and classify its answer."""
        self.queries += 1
        qname = dns.name.from_text(name)
        rtype = dns.rdatatype.from_text(rdtype)
        query = dns.message.make_query(qname, rtype, use_edns=0, payload=1232)
        if not recursion:
            query.flags &= ~dns.flags.RD
        where = str(server)
        log.debug("dns %s %s? -> %s", name, rdtype, where)
        try:
            # A datagram from elsewhere, or with another ID or question (a forgery racing the
            # real answer, RFC 5452), is dropped and the real answer still awaited.
            response, _ = await dns.asyncquery.udp_with_fallback(
                query, server.address, timeout=self.timeout, port=server.port,
                ignore_unexpected=True, ignore_errors=True,
            )
        except dns.exception.Timeout:
            return Answer(name, rdtype, Outcome.TIMEOUT, server=where, detail="no answer in time")
        except (OSError, dns.exception.DNSException, ValueError) as exc:
            return Answer(name, rdtype, Outcome.ERROR, server=where, detail=_one_line(exc))
        return classify(response, qname, rtype, where)


def classify(
    response: dns.message.Message, qname: dns.name.Name, rtype: dns.rdatatype.RdataType, server: str
) -> Answer:
    """Turn a DNS response into an :class:`Answer` (following CNAMEs inside it)."""
    name = qname.to_text(omit_final_dot=True)
    rdtype = dns.rdatatype.to_text(rtype)
    aa = bool(response.flags & dns.flags.AA)
    rcode = response.rcode()
    if rcode == dns.rcode.NXDOMAIN:
        return Answer(name, rdtype, Outcome.NXDOMAIN, server=server, authoritative=aa)
    if rcode == dns.rcode.SERVFAIL:
        return Answer(name, rdtype, Outcome.SERVFAIL, server=server, authoritative=aa)
    if rcode == dns.rcode.REFUSED:
        return Answer(name, rdtype, Outcome.REFUSED, server=server, authoritative=aa)
    if rcode != dns.rcode.NOERROR:
        text = dns.rcode.to_text(rcode)
        return Answer(name, rdtype, Outcome.ERROR, server=server, detail=f"rcode {text}")
    cname: str | None = None
    current = qname
    for _ in range(16):  # bounded: a CNAME loop in an answer must not spin
        rrset = response.get_rrset(response.answer, current, dns.rdataclass.IN, rtype)
        if rrset is not None:
            return Answer(
                name, rdtype, Outcome.OK, tuple(rrset), cname, server=server, authoritative=aa
            )
        alias = response.get_rrset(
            response.answer, current, dns.rdataclass.IN, dns.rdatatype.CNAME
        )
        if alias is None or rtype == dns.rdatatype.CNAME:
            break
        target = alias[0].target
        if cname is None:
            cname = target.to_text(omit_final_dot=True)
        current = target
    return Answer(name, rdtype, Outcome.NODATA, (), cname, server=server, authoritative=aa)


def _one_line(exc: BaseException) -> str:
    if isinstance(exc, OSError):
        return os_error_words(exc)
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text[:200]

