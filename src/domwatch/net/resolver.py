"""DNS lookups that tell failures apart from absences.

dnspython's stub resolver folds SERVFAIL and REFUSED into one ``NoNameservers`` error and retries
for its whole lifetime; domwatch must name each outcome and keep every query within ``--timeout``.
So we send the queries ourselves with ``dns.asyncquery`` and classify the answer.

Small resolvers (dnsmasq, home routers, some CI runners) drop queries past a few dozen in
flight, and a run of many domains asks many at once. So each server gets a window of queries in
flight (:class:`Flight`): it starts at :data:`INITIAL_IN_FLIGHT`, grows by about one per
window of answers, and halves when a query goes unanswered; and a query that gets no answer is
sent again, after a timeout that starts near the server's own answer time and doubles, until
``--timeout`` of network time is spent (waiting for a place in the window is not counted). A
timeout is reported only after that, so a query dropped in a burst is asked again at a slower
pace rather than reported.
"""

from __future__ import annotations

import asyncio
import enum
import ipaddress
import logging
from collections import OrderedDict, deque
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


INITIAL_IN_FLIGHT = 16  # below what small resolvers drop at (dnsmasq's default is 150)
MAX_IN_FLIGHT = 64
MIN_RTO = 1.0  # the first wait for an answer: never below a second (cold recursive lookups)
MAX_REMEMBERED = 8192  # answers kept for reuse within a run (shared name servers, MX hosts)


@dataclass
class Flight:
    """Queries in flight to one DNS server: additive increase, halved on a lost query."""

    window: float = INITIAL_IN_FLIGHT
    active: int = 0
    srtt: float | None = None  # smoothed answer time (RFC 6298)
    rttvar: float = 0.0
    lost_at: float = -1e9
    _waiting: deque[asyncio.Future[None]] = field(default_factory=deque)

    async def enter(self) -> None:
        """Wait for a place in the window (FIFO)."""
        if self.active < int(self.window) and not self._waiting:
            self.active += 1
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting.append(future)
        try:
            await future
        except asyncio.CancelledError:
            if future.done() and not future.cancelled():
                self.leave()  # admitted just as the caller was cancelled
            raise

    def leave(self) -> None:
        """Give the place back; admit whoever the window now has room for."""
        self.active -= 1
        while self._waiting and self.active < int(self.window):
            future = self._waiting.popleft()
            if not future.done():
                self.active += 1
                future.set_result(None)

    def answered(self, seconds: float) -> None:
        """An answer came after ``seconds``: learn the answer time, widen the window."""
        if self.srtt is None:
            self.srtt, self.rttvar = seconds, seconds / 2
        else:
            self.rttvar = 0.75 * self.rttvar + 0.25 * abs(self.srtt - seconds)
            self.srtt = 0.875 * self.srtt + 0.125 * seconds
        self.window = min(self.window + 1 / self.window, MAX_IN_FLIGHT)

    def lost(self, now: float) -> None:
        """A query went unanswered: halve the window, once per answer time at most."""
        if now - self.lost_at >= self.rto():
            self.window = max(self.window / 2, 1.0)
            self.lost_at = now

    def rto(self) -> float:
        """How long to wait for an answer before asking again."""
        if self.srtt is None:
            return MIN_RTO
        return max(self.srtt + 4 * self.rttvar, MIN_RTO)


@dataclass
class Resolver:
    """Asks recursive resolvers; a question is asked once while its answer is remembered."""

    nameservers: Sequence[Nameserver]
    timeout: float = 10.0
    _asking: dict[tuple[str, str], asyncio.Task[Answer]] = field(default_factory=dict)
    _known: OrderedDict[tuple[str, str], Answer] = field(default_factory=OrderedDict)
    _flights: dict[tuple[str, int], Flight] = field(default_factory=dict)
    queries: int = 0
    retries: int = 0

    async def resolve(self, name: str, rdtype: str) -> Answer:
        """Ask the configured resolvers for ``name``/``rdtype`` (recursion desired)."""
        key = (name.lower().rstrip("."), rdtype.upper())
        known = self._known.get(key)
        if known is not None:
            self._known.move_to_end(key)
            return known
        task = self._asking.get(key)
        if task is None:
            task = asyncio.ensure_future(self._resolve(*key))
            self._asking[key] = task
            task.add_done_callback(lambda done: self._keep(key, done))
        return await asyncio.shield(task)

    def _keep(self, key: tuple[str, str], task: asyncio.Task[Answer]) -> None:
        # The most recent answers are kept for reuse (name servers and MX hosts shared by many
        # domains); keeping all of them would grow with the domain list.
        self._asking.pop(key, None)
        if task.cancelled() or task.exception() is not None:
            return
        self._known[key] = task.result()
        if len(self._known) > MAX_REMEMBERED:
            self._known.popitem(last=False)

    def flight(self, server: Nameserver) -> Flight:
        """The in-flight window of ``server``."""
        key = (server.address, server.port)
        found = self._flights.get(key)
        if found is None:
            found = self._flights[key] = Flight()
        return found

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
        flight = self.flight(server)
        loop = asyncio.get_running_loop()
        spent = 0.0  # network time; waiting for a place in the window is not counted
        wait = flight.rto()
        while True:
            await flight.enter()
            began = loop.time()
            try:
                log.debug("dns %s %s? -> %s", name, rdtype, where)
                response = await self._exchange(query, server, min(wait, self.timeout - spent))
            except dns.exception.Timeout:
                flight.leave()
                flight.lost(loop.time())
                spent += loop.time() - began
                if spent >= self.timeout - 0.01:
                    return Answer(name, rdtype, Outcome.TIMEOUT, server=where,
                                  detail="no answer in time")
                self.queries += 1
                self.retries += 1
                wait *= 2
                continue
            except (OSError, dns.exception.DNSException, ValueError) as exc:
                flight.leave()
                return Answer(name, rdtype, Outcome.ERROR, server=where, detail=_one_line(exc))
            except BaseException:
                flight.leave()
                raise
            flight.answered(loop.time() - began)
            flight.leave()
            return classify(response, qname, rtype, where)

    @staticmethod
    async def _exchange(
        query: dns.message.Message, server: Nameserver, timeout: float
    ) -> dns.message.Message:
        """One exchange with one server: UDP, TCP when the answer is truncated."""
        # A datagram from elsewhere, or with another ID or question (a forgery racing the
        # real answer, RFC 5452), is dropped and the real answer still awaited.
        response, _ = await dns.asyncquery.udp_with_fallback(
            query, server.address, timeout=timeout, port=server.port,
            ignore_unexpected=True, ignore_errors=True,
        )
        return response


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

