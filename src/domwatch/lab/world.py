"""A simulated world of domains: its truth, the servers that tell it, and a domain file for it.

Tests, benchmarks and ``domwatch demo`` describe domains as :class:`Site` values; :class:`World`
turns them into zones for a lab DNS server, registry answers for lab WHOIS servers (one per
TLD, found through a lab IANA server like the real ones), and a ``domwatch.toml`` that points
domwatch at them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

from domwatch.lab.dns_server import Behaviour, DnsServer
from domwatch.lab.runner import Lab
from domwatch.lab.whois_server import WhoisBehaviour, WhoisServer
from domwatch.sources.whois_servers import builtin_server


@dataclass
class Site:
    """The truth about one simulated domain."""

    name: str  # A-label
    expires_in: int | None = 300  # days from now; None: the registry publishes no expiry
    registered: bool = True
    statuses: Sequence[str] = ("clientTransferProhibited",)
    registrar: str = "Lab Registrar Oy"
    dns: Behaviour | None = None  # how the resolver treats the domain's names
    mx: Sequence[str] | None = None  # None: mail.<name>; ["."]: null MX; []: none
    records: str = ""  # extra zone lines, relative to the domain
    whois: WhoisBehaviour | None = None
    whois_text: str | None = None  # a registry answer written out in full
    nameservers: Sequence[str] = ()  # as the registry lists them; default ns1.<name>

    @property
    def ns(self) -> list[str]:
        """The name servers the registry lists."""
        return list(self.nameservers) or [f"ns1.{self.name}"]

    def expires(self, now: datetime) -> datetime | None:
        """The expiry instant the registry publishes."""
        if self.expires_in is None:
            return None
        day = (now + timedelta(days=self.expires_in)).date()
        return datetime(day.year, day.month, day.day, 12, 0, tzinfo=timezone.utc)


@dataclass
class World:
    """A set of :class:`Site` values served by lab servers."""

    sites: Sequence[Site]
    now: datetime = field(default_factory=lambda: datetime.now(timezone.utc))
    whois_latency: float = 0.0
    dns_latency: float = 0.0
    rate_limit: tuple[int, float] | None = None
    dns: DnsServer | None = None
    iana: WhoisServer | None = None
    registries: dict[str, WhoisServer] = field(default_factory=dict)

    @property
    def tlds(self) -> list[str]:
        """The TLDs of the world, in first-seen order."""
        return list(dict.fromkeys(s.name.rsplit(".", 1)[-1] for s in self.sites))

    def start(self, lab: Lab) -> World:
        """Start the DNS, IANA and registry servers on ``lab``."""
        behaviours: dict[str, Behaviour] = {}
        for site in self.sites:
            if site.dns is not None:
                behaviours[site.name] = site.dns
                behaviours[f"*.{site.name}"] = site.dns
        self.dns = lab.add(DnsServer(self.zones(), behaviours=behaviours, latency=self.dns_latency))
        for tld in self.tlds:
            sites = [s for s in self.sites if s.name.endswith("." + tld)]
            answers = {s.name: self.registry_answer(s) for s in sites if s.registered}
            behaviours_w = {s.name: s.whois for s in sites if s.whois is not None}
            self.registries[tld] = lab.add(
                WhoisServer(
                    answers,
                    default=not_found_text(tld),
                    latency=self.whois_latency,
                    rate_limit=self.rate_limit,
                    behaviours=behaviours_w,
                )
            )
        referrals = {
            tld: iana_answer(tld, server.address) for tld, server in self.registries.items()
        }
        self.iana = lab.add(WhoisServer(referrals, default="% This query returned 0 objects.\n"))
        return self

    def zones(self) -> dict[str, str]:
        """Zone texts: one per TLD (so unknown names get NXDOMAIN) and one per domain."""
        zones = {tld + ".": _soa(tld) for tld in self.tlds}
        for site in self.sites:
            if site.registered and site.dns != "nxdomain":
                zones[site.name + "."] = domain_zone(site)
        return zones

    def registry_answer(self, site: Site) -> str:
        """The registry's WHOIS answer for a registered site."""
        if site.whois_text is not None:
            return site.whois_text
        expires = site.expires(self.now)
        tld = site.name.rsplit(".", 1)[-1]
        if tld == "fi":
            return fi_answer(site, expires)
        if tld == "de":
            return denic_answer(site)
        return icann_answer(site, expires)

    def config(
        self,
        path: Path,
        *,
        extra: str = "",
        domains: Sequence[str] | None = None,
        whois_servers: dict[str, str] | None = None,
    ) -> Path:
        """Write a domain file that points domwatch at this world's servers."""
        assert self.dns is not None and self.iana is not None
        names = list(domains) if domains is not None else [s.name for s in self.sites]
        listed = ", ".join(f'"{n}"' for n in names)
        # TLDs in domwatch's built-in table would go to the real registry: point them here.
        builtin = [tld for tld in self.registries if builtin_server(tld) is not None]
        overrides = {tld: self.registries[tld].address for tld in builtin}
        overrides.update(whois_servers or {})
        servers = ", ".join(f'{tld} = "{address}"' for tld, address in overrides.items())
        text = (
            f"domains = [{listed}]\n\n"
            "[settings]\n"
            "timeout = 2\n"
            'checks = ["registration", "dns", "mail"]\n\n'
            "[settings.resolver]\n"
            f'nameservers = ["{self.dns.address}"]\n\n'
            "[settings.whois]\n"
            f'iana = "{self.iana.address}"\n'
            f"servers = {{ {servers} }}\n\n"
            "[settings.network]\n"
            "allow_private = true\n"
        ) + extra
        path.write_text(text, encoding="utf-8")
        return path


def _soa(origin: str) -> str:
    return (
        f"$ORIGIN {origin}.\n$TTL 300\n"
        f"@ SOA ns1.{origin}. hostmaster.{origin}. 2026112601 3600 600 86400 300\n"
        f"@ NS ns1.{origin}.\n"
        "ns1 A 127.0.0.1\n"
    )


def domain_zone(site: Site) -> str:
    """A plausible zone: apex and www addresses, MX, SPF and DMARC."""
    lines = [_soa(site.name), "@ A 127.0.0.1", "www A 127.0.0.1"]
    mx = ["mail." + site.name] if site.mx is None else list(site.mx)
    for preference, target in enumerate(mx, start=1):
        if target == ".":
            lines.append("@ MX 0 .")
        else:
            lines.append(f"@ MX {preference * 10} {target}.")
    if site.mx is None:
        lines.append("mail A 127.0.0.1")
    lines.append('@ TXT "v=spf1 mx -all"')
    lines.append('_dmarc TXT "v=DMARC1; p=reject; rua=mailto:dmarc@' + site.name + '"')
    if site.records:
        lines.append(site.records)
    return "\n".join(lines) + "\n"


def icann_answer(site: Site, expires: datetime | None) -> str:
    """A registry answer in the layout ICANN's registry agreement prescribes."""
    lines = [
        f"   Domain Name: {site.name.upper()}",
        "   Registry Domain ID: 2336799_DOMAIN_LAB-VRSN",
        "   Registrar WHOIS Server: ",
        "   Updated Date: 2026-01-15T08:00:00Z",
        "   Creation Date: 2010-03-01T10:00:00Z",
    ]
    if expires is not None:
        lines.append(f"   Registry Expiry Date: {expires.strftime('%Y-%m-%dT%H:%M:%SZ')}")
    lines += [f"   Registrar: {site.registrar}", "   Registrar IANA ID: 9999"]
    for status in site.statuses:
        lines.append(f"   Domain Status: {status} https://icann.org/epp#{status}")
    lines += [f"   Name Server: {ns.upper()}" for ns in site.ns]
    lines.append("   DNSSEC: unsigned")
    lines.append(">>> Last update of whois database: 2026-11-26T06:00:00Z <<<")
    return "\r\n".join(lines) + "\r\n"


def fi_answer(site: Site, expires: datetime | None) -> str:
    """An answer in the layout of whois.fi (Traficom): dotted labels, day-first dates."""

    def fi_date(moment: datetime) -> str:
        return f"{moment.day}.{moment.month}.{moment.year} {moment:%H:%M:%S}"

    lines = [
        f"domain.............: {site.name}",
        "status.............: Registered",
        "created............: 1.3.2010 10:00:00",
    ]
    if expires is not None:
        lines.append(f"expires............: {fi_date(expires)}")
        lines.append(f"available..........: {fi_date(expires + timedelta(days=30))}")
    lines += [
        "modified...........: 15.1.2026 08:00:00",
        "RegistryLock.......: no",
        "",
        "Nameservers",
        "",
        *(f"nserver............: {ns} [OK]" for ns in site.ns),
        "dnssec.............: no",
        "",
        "Registrar",
        "",
        f"registrar..........: {site.registrar}",
        "www................: www.example.fi",
        "",
        ">>> Last update of WHOIS database: 26.11.2026 6:00:00 (EET) <<<",
    ]
    return "\n".join(lines) + "\n"


def denic_answer(site: Site) -> str:
    """DENIC's public answer: no expiry date, ever."""
    return (
        f"Domain: {site.name}\n"
        + "".join(f"Nserver: {ns}\n" for ns in site.ns)
        + "Status: connect\n"
        "Changed: 2026-01-15T08:00:00+01:00\n"
    )


def not_found_text(tld: str) -> str:
    """What the lab registry of ``tld`` says for names it does not hold."""
    return 'No match for "{query}".\r\n>>> Last update of whois database: 2026-11-26 <<<\r\n'


def iana_answer(tld: str, server: str) -> str:
    """IANA's answer for a TLD, referring to its registry's WHOIS server."""
    return (
        "% IANA WHOIS server\n"
        f"refer:        {server}\n\n"
        f"domain:       {tld.upper()}\n\n"
        "organisation: Lab Registry\n"
        f"whois:        {server}\n\n"
        "status:       ACTIVE\n"
    )
