"""A simulated world of domains: its truth, the servers that tell it, and a domain file for it.

Tests, benchmarks and ``domwatch demo`` describe domains as :class:`Site` values; :class:`World`
turns them into zones for a lab DNS server, registry answers for lab WHOIS servers (one per
TLD, found through a lab IANA server like the real ones), and a ``domwatch.toml`` that points
domwatch at them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone, tzinfo
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from domwatch.lab.ca import LabCA
from domwatch.lab.dns_server import Behaviour, DnsServer
from domwatch.lab.https_server import HttpsServer, Request, Response
from domwatch.lab.rdap_server import RdapDomain, RdapServer
from domwatch.lab.runner import Lab
from domwatch.lab.smtp_server import SmtpServer
from domwatch.lab.whois_server import WhoisBehaviour, WhoisServer
from domwatch.sources.rdap_bootstrap import load_bundled
from domwatch.sources.whois_servers import builtin_server

# "down": 503 (the caller falls back to WHOIS); "throttled": one 429 with Retry-After: 1 first.
RdapMode = Literal["down", "throttled"]
# What the site's web server does: a valid certificate, an expired one, one expiring in 5 days,
# one for another name, one from a CA nobody trusts, a 503, a 404, no listener at all, or two
# addresses of which one is dead.
WebMode = Literal[
    "ok", "expired", "soon", "wrongname", "untrusted", "503", "404", "down", "halfdown"
]

# What the site's MX host does on the SMTP port: STARTTLS with a good, expired or untrusted
# certificate, or no STARTTLS at all.
SmtpMode = Literal["ok", "expired", "untrusted", "nostarttls"]


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
    rdap: RdapMode | None = None  # how the lab RDAP server treats the domain
    web: WebMode | None = None  # None: no web check; else what https://NAME:PORT/ serves
    smtp: SmtpMode | None = None  # None: no STARTTLS probe; else what mail.NAME's SMTP does

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
    rdap_enabled: bool = True  # False: every RDAP answer is a 503, so WHOIS answers everything
    dns: DnsServer | None = None
    rdap: RdapServer | None = None
    rdap_tlds: list[str] = field(default_factory=list)
    web: dict[str, HttpsServer] = field(default_factory=dict)
    smtp: dict[str, SmtpServer] = field(default_factory=dict)
    smtp_port: int = 0
    ca: LabCA = field(default_factory=LabCA)
    rogue_ca: LabCA = field(default_factory=lambda: LabCA("a CA nobody trusts"))
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
        self._start_rdap(lab)
        for site in self.sites:
            if site.web is not None and site.web != "down":
                self.web[site.name] = lab.add(self._web_server(site))
        self._start_smtp(lab)
        return self

    def _start_smtp(self, lab: Lab) -> None:
        # domwatch probes every MX on one port (settings.smtp_port), so each site's mail host
        # gets its own loopback address and all of them share the first server's port.
        day = timedelta(days=1)
        for site in self.sites:
            if site.smtp is None:
                continue
            host = f"mail.{site.name}"
            if site.smtp == "expired":
                context = self.ca.server_context(
                    host, not_before=self.now - 90 * day, not_after=self.now - day
                )
            elif site.smtp == "untrusted":
                context = self.rogue_ca.server_context(host, not_after=self.now + 90 * day)
            else:
                context = self.ca.server_context(host, not_after=self.now + 90 * day)
            server = SmtpServer(
                ssl_context=context,
                host=self.smtp_address(site),
                port=self.smtp_port,
                hostname=host,
                offer_starttls=site.smtp != "nostarttls",
            )
            lab.add(server)
            self.smtp_port = server.port
            self.smtp[site.name] = server

    def smtp_address(self, site: Site) -> str:
        """The loopback address of a site's mail host (its own, when it runs SMTP)."""
        names = [s.name for s in self.sites if s.smtp is not None]
        return f"127.0.0.{10 + names.index(site.name)}" if site.name in names else "127.0.0.1"

    def _start_rdap(self, lab: Lab) -> None:
        # The TLDs whose real registries run RDAP (per the bundled bootstrap) get it here too,
        # so that nothing in the world is ever looked up outside this machine.
        bundled = load_bundled()
        self.rdap_tlds = [tld for tld in self.tlds if bundled.base_urls(tld)]
        domains: dict[str, RdapDomain] = {}
        for site in self.sites:
            if site.name.rsplit(".", 1)[-1] not in self.rdap_tlds:
                continue
            if not self.rdap_enabled or site.rdap == "down":
                domains[site.name] = RdapDomain(status=503)
            elif site.registered:
                domains[site.name] = RdapDomain(
                    expires=site.expires(self.now),
                    registrar=site.registrar,
                    statuses=tuple(_rdap_status(s) for s in site.statuses),
                    nameservers=tuple(site.ns),
                    throttle=1 if site.rdap == "throttled" else 0,
                    retry_after="1",
                )
        context = self.ca.server_context("127.0.0.1")
        self.rdap = lab.add(RdapServer(ssl_context=context, domains=domains))
        # The world's own IANA bootstrap: a run without the cache fetches one, and must not
        # fetch IANA's. An empty file is refused, so a world without RDAP names .test (RFC 2606).
        served = self.rdap_tlds or ["test"]
        self.rdap.serve_bootstrap({tld: self.rdap.url for tld in served})

    def _web_server(self, site: Site) -> HttpsServer:
        day = timedelta(days=1)
        mode = site.web
        hosts = (site.name, "www." + site.name)
        if mode == "expired":
            context = self.ca.server_context(
                *hosts, not_before=self.now - 90 * day, not_after=self.now - 2 * day
            )
        elif mode == "soon":
            # Noon of the fifth day: days left count calendar dates, so "+5.5 days" would
            # read as 6 in the afternoon.
            fifth = (self.now + 5 * day).replace(hour=12, minute=0, second=0, microsecond=0)
            context = self.ca.server_context(*hosts, not_after=fifth)
        elif mode == "wrongname":
            context = self.ca.server_context("other.example")
        elif mode == "untrusted":
            context = self.rogue_ca.server_context(*hosts, not_after=self.now + 90 * day)
        else:
            # A 90-day certificate, as most CAs issue today.
            context = self.ca.server_context(*hosts, not_after=self.now + 90 * day)
        status = int(mode) if mode in ("503", "404") else 200

        def handler(_request: Request) -> Response:
            return Response(status, {"Content-Type": "text/plain"}, b"lab\n")

        return HttpsServer(handler, ssl_context=context)

    def web_url(self, site: Site) -> str:
        """The URL the domain file gives for a site's web check."""
        server = self.web.get(site.name)
        # A "down" site has no server; its address (127.0.0.3) has no listener on any port.
        port = server.port if server is not None else 443
        return f"https://{site.name}:{port}/"

    def zones(self) -> dict[str, str]:
        """Zone texts: one per TLD (so unknown names get NXDOMAIN) and one per domain."""
        zones = {tld + ".": _soa(tld) for tld in self.tlds}
        for site in self.sites:
            if site.registered and site.dns != "nxdomain":
                zones[site.name + "."] = domain_zone(site, self.smtp_address(site))
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
        """Write a domain file (and the lab CA beside it) pointing domwatch at this world."""
        assert self.dns is not None and self.iana is not None and self.rdap is not None
        names = list(domains) if domains is not None else [s.name for s in self.sites]
        by_name = {s.name: s for s in self.sites}
        long_form = {n for n in names if n in by_name and (by_name[n].web or by_name[n].smtp)}
        short = [n for n in names if n not in long_form]
        listed = ", ".join(f'"{n}"' for n in short)
        # TLDs in domwatch's built-in table would go to the real registry: point them here.
        builtin = [tld for tld in self.registries if builtin_server(tld) is not None]
        overrides = {tld: self.registries[tld].address for tld in builtin}
        overrides.update(whois_servers or {})
        servers = ", ".join(f'{tld} = "{address}"' for tld, address in overrides.items())
        rdap = ", ".join(f'{tld} = "{self.rdap.url}"' for tld in self.rdap_tlds)
        ca_file = self.ca.write_ca(path.with_name(path.stem + "-ca.pem"))
        text = (
            f"domains = [{listed}]\n\n"
            "[settings]\n"
            "timeout = 2\n"
            f"smtp_port = {self.smtp_port or 25}\n"
            'checks = ["registration", "dns", "mail"]\n\n'
            "[settings.resolver]\n"
            f'nameservers = ["{self.dns.address}"]\n\n'
            "[settings.whois]\n"
            f'iana = "{self.iana.address}"\n'
            f"servers = {{ {servers} }}\n\n"
            "[settings.rdap]\n"
            f'bootstrap = "{self.rdap.bootstrap_url}"\n'
            f"servers = {{ {rdap} }}\n\n"
            "[settings.tls]\n"
            f'ca_bundle = "{ca_file.name}"\n\n'
            "[settings.network]\n"
            "allow_private = true\n"
        ) + extra
        for name in names:
            if name not in long_form:
                continue
            site = by_name[name]
            checks = ["registration", "dns", "mail"] + (["web"] if site.web else [])
            text += "\n[[domain]]\n" f'name = "{name}"\n'
            text += "checks = [" + ", ".join(f'"{c}"' for c in checks) + "]\n"
            if site.web:
                text += f'web = ["{self.web_url(site)}"]\n'
            if site.smtp:
                text += "mail_tls = true\n"
        path.write_text(text, encoding="utf-8")
        return path


def _rdap_status(epp: str) -> str:
    """RFC 8056: ``clientHold`` is ``client hold`` in RDAP."""
    words = "".join(f" {c.lower()}" if c.isupper() else c for c in epp)
    return "active" if epp == "ok" else words.strip()


def _soa(origin: str) -> str:
    return (
        f"$ORIGIN {origin}.\n$TTL 300\n"
        f"@ SOA ns1.{origin}. hostmaster.{origin}. 2026112601 3600 600 86400 300\n"
        f"@ NS ns1.{origin}.\n"
        "ns1 A 127.0.0.1\n"
    )


def domain_zone(site: Site, mail_address: str = "127.0.0.1") -> str:
    """A plausible zone: apex and www addresses, MX, SPF and DMARC."""
    apex = {"down": ["127.0.0.3"], "halfdown": ["127.0.0.1", "127.0.0.3"]}.get(
        site.web or "", ["127.0.0.1"]
    )
    lines = [_soa(site.name), *(f"@ A {a}" for a in apex), "www A 127.0.0.1"]
    mx = ["mail." + site.name] if site.mx is None else list(site.mx)
    for preference, target in enumerate(mx, start=1):
        if target == ".":
            lines.append("@ MX 0 .")
        else:
            lines.append(f"@ MX {preference * 10} {target}.")
    if site.mx is None:
        lines.append(f"mail A {mail_address}")
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
        # whois.fi writes Finnish local time (its footer says EET).
        local = moment.astimezone(_helsinki())
        return f"{local.day}.{local.month}.{local.year} {local:%H:%M:%S}"

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


def _helsinki() -> tzinfo:
    try:
        return ZoneInfo("Europe/Helsinki")
    except ZoneInfoNotFoundError:  # no tz database: EET without summer time is close enough
        return timezone(timedelta(hours=2))


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
