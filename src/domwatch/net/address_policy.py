"""Where registration lookups may connect: one rule for every server, configured or referred.

Registries answer with the names of other servers (IANA's ``whois:`` line, a thin registry's
``Registrar WHOIS Server:``, RDAP redirects and ``related`` links). Anybody on the internet can
write such an answer, so each name is resolved **once** per run, the address is judged, and the
connection goes to exactly that address (no second resolution a DNS-rebinding attacker could
answer differently):

* link-local addresses (169.254.0.0/16, fe80::/10), cloud metadata services (by name and by
  address), unspecified, multicast and reserved addresses are never a target, whoever asks;
* a server the operator configured (or IANA's bootstrap and the built-in tables name) may be
  anywhere else, the operator's own loopback or intranet included;
* a referral may lead to the public internet, or stay within the address space of the server
  that made it (a lab on loopback refers to loopback, an intranet registry to the intranet);
  it never leads from one space into a more private one (public -> intranet, intranet ->
  this machine) unless ``[settings.network] allow_private`` is set.

Names are resolved with domwatch's own resolver (the one ``--resolver`` sets), not the system's
``getaddrinfo``, so the same answers are used everywhere and tests can control them.
"""

from __future__ import annotations

import asyncio
import enum
import ipaddress
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import dns.exception
import dns.name

from domwatch.errors import AddressRefused, Unresolvable

if TYPE_CHECKING:
    from domwatch.net.resolver import Resolver
    from domwatch.settings import Settings

IP = ipaddress.IPv4Address | ipaddress.IPv6Address

# Cloud instance metadata services. Most sit on 169.254.169.254 (link-local, refused anyway);
# these are the names and the addresses outside link-local space.
METADATA_NAMES = frozenset(
    {
        "metadata",
        "metadata.google.internal",
        "metadata.goog",
        "instance-data",
        "instance-data.ec2.internal",
        "metadata.packet.net",
        "metadata.platformequinix.com",
    }
)
METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a)
    for a in (
        "fd00:ec2::254",  # AWS IMDS over IPv6
        "fd20:ce::254",  # Google Cloud metadata over IPv6
        "100.100.100.200",  # Alibaba Cloud
        "168.63.129.16",  # Azure WireServer (a public-looking address)
        "192.0.0.192",  # Oracle Cloud (legacy)
    )
)
_THIS_NETWORK = ipaddress.ip_network("0.0.0.0/8")


class Scope(str, enum.Enum):
    """The address space an address belongs to, from most to least reachable."""

    PUBLIC = "public"
    PRIVATE = "private"  # RFC 1918, ULA, CGNAT, documentation ranges: an intranet
    LOOPBACK = "loopback"  # this machine
    FORBIDDEN = "forbidden"  # link-local, metadata, unspecified, multicast, reserved


def scope_of(address: str | IP) -> tuple[Scope, str]:
    """The scope of an address and, when it is not public, a few words saying what it is."""
    ip = ipaddress.ip_address(address.split("%", 1)[0]) if isinstance(address, str) else address
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip in METADATA_ADDRESSES:
        return Scope.FORBIDDEN, "a cloud metadata service"
    if ip.is_link_local:
        return Scope.FORBIDDEN, "a link-local address"
    if ip.is_unspecified or (isinstance(ip, ipaddress.IPv4Address) and ip in _THIS_NETWORK):
        return Scope.FORBIDDEN, "an unspecified address"
    if ip.is_multicast:
        return Scope.FORBIDDEN, "a multicast address"
    if ip.is_loopback:
        return Scope.LOOPBACK, "a loopback address"
    if ip.is_reserved:
        return Scope.FORBIDDEN, "a reserved address"
    if ip.is_global:
        return Scope.PUBLIC, "a public address"
    return Scope.PRIVATE, "a private address"


@dataclass(frozen=True)
class Vetted:
    """A server name and the one address it may be reached at in this run."""

    host: str  # lower case, no brackets or trailing dot
    address: str
    scope: Scope

    def __str__(self) -> str:
        return self.host if self.host == self.address else f"{self.host} ({self.address})"


def normalise_host(host: str) -> str:
    """``host`` as the policy keys it: no brackets, zone, trailing dot; lower case."""
    return host.strip().strip("[]").rstrip(".").lower()


@dataclass
class AddressPolicy:
    """Resolves each server name once per run and decides where a connection may go."""

    resolver: Resolver
    allow_private: bool = False
    _addresses: dict[str, asyncio.Task[str]] = field(default_factory=dict)

    @classmethod
    def from_settings(cls, settings: Settings) -> AddressPolicy:
        """A policy with its own resolver (the configured one, else the system's)."""
        from domwatch.net.resolver import Nameserver, Resolver, system_nameservers

        nameservers = [Nameserver(e.host, e.port or 53) for e in settings.resolvers]
        resolver = Resolver(nameservers or system_nameservers(), timeout=settings.timeout)
        return cls(resolver, allow_private=settings.allow_private)

    async def vet(self, host: str, referrer: Vetted | None = None) -> Vetted:
        """The address to connect to for ``host``; :class:`AddressRefused` if none may be used.

        ``referrer`` is the server whose answer named ``host`` (None: a configured server).
        """
        name = normalise_host(host)
        if name in METADATA_NAMES:
            raise AddressRefused(f"{name} is a cloud metadata service")
        address = await self._address(name)
        scope, what = scope_of(address)
        target = Vetted(name, address, scope)
        if scope is Scope.FORBIDDEN:
            raise AddressRefused(f"{target} is {what}, never a registration server")
        if (
            referrer is not None
            and scope is not Scope.PUBLIC
            and scope is not referrer.scope
            and not self.allow_private
        ):
            raise AddressRefused(
                f"{referrer} ({referrer.scope.value}) referred to {target}, {what}; "
                "set settings.network.allow_private to follow it"
            )
        return target

    async def _address(self, name: str) -> str:
        task = self._addresses.get(name)
        if task is None:
            task = asyncio.ensure_future(self._resolve(name))
            self._addresses[name] = task
        return await asyncio.shield(task)

    async def _resolve(self, name: str) -> str:
        """The one address of ``name`` for this run: the first of its A, then AAAA, records."""
        try:
            return str(ipaddress.ip_address(name.split("%", 1)[0]))
        except ValueError:
            pass
        if name == "localhost" or name.endswith(".localhost"):
            return "127.0.0.1"  # RFC 6761: never asked of DNS
        try:
            dns.name.from_text(name)  # a referral may hold anything: only host names are asked
        except (dns.exception.DNSException, ValueError):
            raise Unresolvable(f"not a host name: {name[:60]!r}") from None
        found, failed = await self.resolver.addresses(name)
        if found:
            return found[0]
        if failed:
            why = failed[0].outcome.value
            raise Unresolvable(f"cannot resolve {name}: {why}")
        raise Unresolvable(f"cannot resolve {name}: no address")
