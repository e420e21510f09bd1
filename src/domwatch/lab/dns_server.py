"""A small authoritative (and pretend-recursive) DNS server for the lab, over UDP and TCP.

It answers from master-file zones, follows CNAMEs within its own zones like a resolver would,
and can be told to misbehave per query name (SERVFAIL, REFUSED, silence, NXDOMAIN, no AA,
a forged answer racing the real one), or to answer a name differently each time it is asked
(DNS rebinding).
"""

from __future__ import annotations

import asyncio
import contextlib
import struct
from collections.abc import Coroutine, Mapping
from typing import Any, Literal

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.node
import dns.opcode
import dns.rcode
import dns.rdataclass
import dns.rdataset
import dns.rdatatype
import dns.rrset
import dns.zone

from domwatch.lab.runner import close_tracked_server, start_tracked_server

Behaviour = Literal["servfail", "refused", "silent", "nxdomain", "noaa", "forged"]

_BEHAVIOURS = ("servfail", "refused", "silent", "nxdomain", "noaa", "forged")
FORGERY_LEAD = 0.2  # seconds between a forged UDP answer and the real one
_MAX_CNAME_CHAIN = 8
_CLASSIC_UDP_SIZE = 512
_TCP_MAX = 65535
_EMPTY_NODE: dns.node.Node = dns.node.Node()  # type: ignore[no-untyped-call]


def _key(name: str | dns.name.Name) -> str:
    """Normalise a name for behaviour lookup: lower case, no trailing dot."""
    text = name.to_text() if isinstance(name, dns.name.Name) else name
    return text.rstrip(".").lower() or "."


class _Udp(asyncio.DatagramProtocol):
    def __init__(self, server: DnsServer) -> None:
        self.server = server

    def datagram_received(self, data: bytes, addr: tuple[str | int, ...]) -> None:
        self.server._take_udp(data, addr)

    def error_received(self, exc: Exception) -> None:
        # ICMP port unreachable from a client that went away: nothing to do.
        pass


class DnsServer:
    """Authoritative DNS server answering from ``zones`` on one UDP+TCP port.

    ``zones`` maps an origin to zone text in master-file format (SOA/NS optional). Behaviour
    keys are exact names or ``*.name`` for everything strictly below ``name``. With
    ``max_in_flight`` it drops UDP queries that arrive while that many are being answered, like
    a small forwarder (dnsmasq, a home router) under a burst; ``dropped`` counts them.
    """

    def __init__(
        self,
        zones: Mapping[str, str],
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        behaviours: Mapping[str, Behaviour] | None = None,
        latency: float = 0.0,
        recursive: bool = True,
        max_in_flight: int | None = None,
    ) -> None:
        self.max_in_flight = max_in_flight
        self.dropped = 0
        self._udp_in_flight = 0
        self.host = host
        self.port = port
        self.latency = latency
        self.recursive = recursive
        self.queries: list[tuple[str, str]] = []
        self._zones: dict[dns.name.Name, dns.zone.Zone] = {}
        for origin, text in zones.items():
            oname = dns.name.from_text(origin)
            self._zones[oname] = dns.zone.from_text(
                text, origin=oname, relativize=False, check_origin=False
            )
        self._behaviours: dict[str, Behaviour] = {}
        for name, behaviour in (behaviours or {}).items():
            self.set_behaviour(name, behaviour)
        self._sequences: dict[tuple[str, int], list[list[str]]] = {}
        self._udp: asyncio.DatagramTransport | None = None
        self._tcp: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._transports: set[asyncio.BaseTransport] = set()

    @property
    def address(self) -> str:
        """``host:port``, the form ``--resolver`` and the settings take."""
        return f"{self.host}:{self.port}"

    def set_behaviour(self, name: str, behaviour: Behaviour | None) -> None:
        """Make queries for ``name`` misbehave (``None`` restores normal answers)."""
        if behaviour is not None and behaviour not in _BEHAVIOURS:
            raise ValueError(f"unknown DNS behaviour {behaviour!r}")
        if behaviour is None:
            self._behaviours.pop(_key(name), None)
        else:
            self._behaviours[_key(name)] = behaviour

    def answer_in_turn(self, name: str, rdtype: str, answers: list[list[str]]) -> None:
        """Answer ``name``/``rdtype`` with ``answers[0]`` the first time, then the next (the
        last one for good): a name that rebinds, say public first and 169.254.169.254 after.
        """
        self._sequences[(_key(name), int(dns.rdatatype.from_text(rdtype)))] = [
            list(a) for a in answers
        ]

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        """Bind UDP and TCP on the same port; with port 0 retry until one port suits both."""
        loop = asyncio.get_running_loop()
        attempts = 50 if self.port == 0 else 1
        last: OSError | None = None
        for _ in range(attempts):
            transport, _proto = await loop.create_datagram_endpoint(
                lambda: _Udp(self), local_addr=(self.host, self.port)
            )
            port = int(transport.get_extra_info("sockname")[1])
            try:
                self._tcp = await start_tracked_server(
                    self._serve_tcp, self.host, port, self._transports
                )
            except OSError as exc:
                # The UDP port is taken on TCP by somebody else: try another free UDP port.
                transport.close()
                last = exc
                continue
            self._udp = transport
            self.port = port
            return
        raise OSError(f"could not bind UDP and TCP on one port on {self.host}") from last

    async def stop(self) -> None:
        """Close both sockets and drop every pending answer and TCP connection."""
        if self._udp is not None:
            self._udp.close()
            self._udp = None
        if self._tcp is not None:
            await close_tracked_server(self._tcp, self._transports)
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._tcp is not None:
            await self._tcp.wait_closed()
            self._tcp = None

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- transports --------------------------------------------------------------------------

    def _take_udp(self, data: bytes, addr: tuple[str | int, ...]) -> None:
        if self.max_in_flight is not None and self._udp_in_flight >= self.max_in_flight:
            self.dropped += 1
            return
        self._udp_in_flight += 1
        self._spawn(self._serve_udp_counted(data, addr))

    async def _serve_udp_counted(self, data: bytes, addr: tuple[str | int, ...]) -> None:
        try:
            await self._serve_udp(data, addr)
        finally:
            self._udp_in_flight -= 1

    async def _serve_udp(self, data: bytes, addr: tuple[str | int, ...]) -> None:
        query = self._parse(data)
        if query is None:
            return
        response = await self._respond(query)
        if response is None or self._udp is None:
            return
        limit = max(_CLASSIC_UDP_SIZE, query.payload) if query.edns >= 0 else _CLASSIC_UDP_SIZE
        wire = self._render(response, limit, truncate=True)
        if wire is not None and query.question and self._behaviour(
            query.question[0].name
        ) == "forged":
            # An off-path attacker's guess (RFC 5452): the same answer under another ID, first.
            forged = ((query.id + 1) % 65536).to_bytes(2, "big") + wire[2:]
            self._udp.sendto(forged, addr)
            await asyncio.sleep(FORGERY_LEAD)
        if wire is not None and self._udp is not None:
            self._udp.sendto(wire, addr)

    async def _serve_tcp(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                header = await reader.readexactly(2)
                (length,) = struct.unpack("!H", header)
                data = await reader.readexactly(length)
                # Answer each query in its own task so a slow one does not block the next.
                self._spawn(self._answer_tcp(data, writer))
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    async def _answer_tcp(self, data: bytes, writer: asyncio.StreamWriter) -> None:
        query = self._parse(data)
        if query is None:
            return
        response = await self._respond(query)
        if response is None or writer.is_closing():
            return
        wire = self._render(response, _TCP_MAX, truncate=False)
        if wire is None:
            response = self._error(query, dns.rcode.SERVFAIL)
            wire = self._render(response, _TCP_MAX, truncate=False)
        if wire is not None:
            # One write call per frame, so answers of concurrent tasks never interleave.
            writer.write(struct.pack("!H", len(wire)) + wire)
            with contextlib.suppress(ConnectionError):
                await writer.drain()

    @staticmethod
    def _parse(data: bytes) -> dns.message.Message | None:
        try:
            query = dns.message.from_wire(data)
        except Exception:  # any garbage: ignore the packet, never crash
            return None
        if query.flags & dns.flags.QR:
            return None  # a response sent to us; answering it could loop
        return query

    @staticmethod
    def _render(response: dns.message.Message, limit: int, *, truncate: bool) -> bytes | None:
        try:
            return response.to_wire(max_size=limit, prefer_truncation=truncate)
        except dns.exception.DNSException:
            return None

    # -- answering ---------------------------------------------------------------------------

    def _error(self, query: dns.message.Message, rcode: dns.rcode.Rcode) -> dns.message.Message:
        response = dns.message.make_response(query, recursion_available=self.recursive)
        response.set_rcode(rcode)
        return response

    def _behaviour(self, qname: dns.name.Name) -> Behaviour | None:
        if not self._behaviours:
            return None
        found = self._behaviours.get(_key(qname))
        if found is not None:
            return found
        parent = qname
        while len(parent) > 1:
            parent = parent.parent()
            found = self._behaviours.get("*." + _key(parent) if len(parent) > 1 else "*")
            if found is not None:
                return found
        return None

    async def _respond(self, query: dns.message.Message) -> dns.message.Message | None:
        """Build the response for ``query`` or return ``None`` to stay silent."""
        if query.opcode() != dns.opcode.QUERY:
            return self._error(query, dns.rcode.NOTIMP)
        if len(query.question) != 1:
            return self._error(query, dns.rcode.FORMERR)
        question = query.question[0]
        qname, rdtype = question.name, question.rdtype
        self.queries.append((_key(qname), dns.rdatatype.to_text(rdtype)))
        behaviour = self._behaviour(qname)
        if behaviour == "silent":
            return None
        if self.latency > 0:
            await asyncio.sleep(self.latency)
        if behaviour == "servfail":
            return self._error(query, dns.rcode.SERVFAIL)
        if behaviour == "refused":
            return self._error(query, dns.rcode.REFUSED)
        response = dns.message.make_response(query, recursion_available=self.recursive)
        if question.rdclass != dns.rdataclass.IN:
            response.set_rcode(dns.rcode.REFUSED)
            return response
        zone = self._zone_for(qname)
        if zone is None:
            # Like a real authoritative server asked about a zone it does not serve.
            response.set_rcode(dns.rcode.REFUSED)
            return response
        sequence = self._sequences.get((_key(qname), int(rdtype)))
        if behaviour == "nxdomain":
            response.set_rcode(dns.rcode.NXDOMAIN)
            self._add_soa(response, zone)
        elif sequence:
            texts = sequence.pop(0) if len(sequence) > 1 else sequence[0]
            if texts:
                response.answer.append(dns.rrset.from_text_list(qname, 0, "IN", rdtype, texts))
        else:
            response.set_rcode(self._lookup(response, zone, qname, rdtype))
        if behaviour != "noaa":
            response.flags |= dns.flags.AA
        return response

    def _zone_for(self, name: dns.name.Name) -> dns.zone.Zone | None:
        """The zone with the closest enclosing origin, if any."""
        best: dns.name.Name | None = None
        for origin in self._zones:
            if name.is_subdomain(origin) and (best is None or len(origin) > len(best)):
                best = origin
        return None if best is None else self._zones[best]

    @staticmethod
    def _exists(zone: dns.zone.Zone, name: dns.name.Name) -> bool:
        """True for a node or an empty non-terminal (which must answer NODATA, not NXDOMAIN)."""
        if name in zone.nodes:
            return True
        return any(other.is_subdomain(name) for other in zone.nodes)

    def _find_node(self, zone: dns.zone.Zone, name: dns.name.Name) -> dns.node.Node | None:
        node = zone.get_node(name)
        if node is not None:
            return node
        if self._exists(zone, name):
            return _EMPTY_NODE  # empty non-terminal
        # Wildcard synthesis (RFC 4592): "*" at the closest encloser.
        assert zone.origin is not None
        encloser = name
        while encloser != zone.origin and len(encloser) > 1:
            encloser = encloser.parent()
            if self._exists(zone, encloser):
                break
        wildcard = dns.name.Name(("*", *encloser.labels))
        return zone.get_node(wildcard)

    def _lookup(
        self,
        response: dns.message.Message,
        zone: dns.zone.Zone,
        qname: dns.name.Name,
        rdtype: dns.rdatatype.RdataType,
    ) -> dns.rcode.Rcode:
        """Fill the answer (chasing CNAMEs in the lab's zones) and return the rcode."""
        name = qname
        for _ in range(_MAX_CNAME_CHAIN):
            node = self._find_node(zone, name)
            if node is None:
                self._add_soa(response, zone)
                return dns.rcode.NXDOMAIN
            if rdtype == dns.rdatatype.ANY and node.rdatasets:
                for rdataset in node.rdatasets:
                    self._add(response, name, rdataset)
                return dns.rcode.NOERROR
            rdataset = node.get_rdataset(dns.rdataclass.IN, rdtype)
            if rdataset is not None:
                self._add(response, name, rdataset)
                return dns.rcode.NOERROR
            cname = node.get_rdataset(dns.rdataclass.IN, dns.rdatatype.CNAME)
            if cname is None:
                self._add_soa(response, zone)
                return dns.rcode.NOERROR  # NODATA
            self._add(response, name, cname)
            name = cname[0].target
            target_zone = self._zone_for(name)
            if target_zone is None:
                return dns.rcode.NOERROR  # target outside the lab: the client has the CNAME
            zone = target_zone
        return dns.rcode.NOERROR  # CNAME loop or overlong chain: give what we have

    @staticmethod
    def _add(
        response: dns.message.Message, name: dns.name.Name, rdataset: dns.rdataset.Rdataset
    ) -> None:
        rrset = dns.rrset.from_rdata_list(name, rdataset.ttl, list(rdataset))
        if rrset not in response.answer:
            response.answer.append(rrset)

    @staticmethod
    def _add_soa(response: dns.message.Message, zone: dns.zone.Zone) -> None:
        assert zone.origin is not None
        soa = zone.get_rdataset(zone.origin, dns.rdatatype.SOA)
        if soa is not None:
            response.authority.append(dns.rrset.from_rdata_list(zone.origin, soa.ttl, list(soa)))
