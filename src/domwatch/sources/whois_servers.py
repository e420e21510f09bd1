"""Built-in WHOIS servers for common TLDs and the query line each server expects.

The table is the fallback after the IANA referral (and before nothing): it lets a lookup work
when whois.iana.org is unreachable and saves one round trip for the TLDs people watch most.
"""

from __future__ import annotations

# A-label TLD -> registry WHOIS host (port 43). Hosts as the registries publish them in the
# IANA root zone database; a TLD without a public port-43 service (.gr, .vn, ...) is absent.
_SERVERS: dict[str, str] = {
    # gTLDs
    "com": "whois.verisign-grs.com",
    "net": "whois.verisign-grs.com",
    "org": "whois.publicinterestregistry.org",
    "info": "whois.nic.info",
    "biz": "whois.nic.biz",
    "name": "whois.nic.name",
    "mobi": "whois.nic.mobi",
    "pro": "whois.nic.pro",
    "asia": "whois.nic.asia",
    "tel": "whois.nic.tel",
    "cat": "whois.nic.cat",
    "aero": "whois.aero",
    "coop": "whois.nic.coop",
    "travel": "whois.nic.travel",
    "edu": "whois.educause.edu",
    "gov": "whois.dotgov.gov",
    "int": "whois.iana.org",
    "xyz": "whois.nic.xyz",
    "app": "whois.nic.google",
    "dev": "whois.nic.google",
    "page": "whois.nic.google",
    "online": "whois.nic.online",
    "site": "whois.nic.site",
    "store": "whois.nic.store",
    "tech": "whois.nic.tech",
    "shop": "whois.nic.shop",
    "club": "whois.nic.club",
    "top": "whois.nic.top",
    "icu": "whois.nic.icu",
    "vip": "whois.nic.vip",
    "fun": "whois.nic.fun",
    "space": "whois.nic.space",
    "website": "whois.nic.website",
    "sbs": "whois.nic.sbs",
    "cfd": "whois.nic.cfd",
    "bond": "whois.nic.bond",
    "cyou": "whois.nic.cyou",
    "live": "whois.nic.live",
    "life": "whois.nic.life",
    "cloud": "whois.nic.cloud",
    "buzz": "whois.nic.buzz",
    "work": "whois.nic.work",
    # ccTLDs run like gTLDs
    "io": "whois.nic.io",
    "co": "whois.registry.co",
    "me": "whois.nic.me",
    "us": "whois.nic.us",
    "tv": "whois.nic.tv",
    "cc": "ccwhois.verisign-grs.com",
    "ai": "whois.nic.ai",
    "ac": "whois.nic.ac",
    "sh": "whois.nic.sh",
    "cx": "whois.nic.cx",
    "fm": "whois.nic.fm",
    "to": "whois.tonic.to",
    "ws": "whois.website.ws",
    "la": "whois.nic.la",
    "tk": "whois.dot.tk",
    # Europe
    "uk": "whois.nic.uk",
    "ie": "whois.weare.ie",
    "de": "whois.denic.de",
    "fi": "whois.fi",
    "ax": "whois.ax",
    "se": "whois.iis.se",
    "nu": "whois.iis.nu",
    "dk": "whois.punktum.dk",
    "no": "whois.norid.no",
    "is": "whois.isnic.is",
    "fo": "whois.nic.fo",
    "gl": "whois.nic.gl",
    "ee": "whois.tld.ee",
    "lv": "whois.nic.lv",
    "lt": "whois.domreg.lt",
    "pl": "whois.dns.pl",
    "cz": "whois.nic.cz",
    "sk": "whois.sk-nic.sk",
    "at": "whois.nic.at",
    "ch": "whois.nic.ch",
    "li": "whois.nic.li",
    "nl": "whois.domain-registry.nl",
    "be": "whois.dns.be",
    "lu": "whois.dns.lu",
    "fr": "whois.nic.fr",
    "it": "whois.nic.it",
    "es": "whois.nic.es",  # answers only registered source addresses
    "pt": "whois.dns.pt",
    "eu": "whois.eu",
    "hu": "whois.nic.hu",
    "ro": "whois.rotld.ro",
    "si": "whois.register.si",
    "hr": "whois.dns.hr",
    "bg": "whois.register.bg",
    "rs": "whois.rnids.rs",
    "md": "whois.nic.md",
    "ua": "whois.ua",
    "by": "whois.cctld.by",
    "ru": "whois.tcinet.ru",
    "su": "whois.tcinet.ru",
    "xn--p1ai": "whois.tcinet.ru",  # .рф
    "gg": "whois.gg",
    "je": "whois.je",
    "tr": "whois.trabis.gov.tr",
    "il": "whois.isoc.org.il",
    # Asia / Pacific
    "jp": "whois.jprs.jp",
    "cn": "whois.cnnic.cn",
    "kr": "whois.kr",
    "tw": "whois.twnic.net.tw",
    "hk": "whois.hkirc.hk",
    "xn--j6w193g": "whois.hkirc.hk",  # .香港
    "xn--fiqs8s": "cwhois.cnnic.cn",  # .中国
    "xn--fiqz9s": "cwhois.cnnic.cn",  # .中國, its variant
    "xn--kpry57d": "whois.twnic.net.tw",  # .台灣
    "xn--kprw13d": "whois.twnic.net.tw",  # .台湾, its variant
    "sg": "whois.sgnic.sg",
    "my": "whois.mynic.my",
    "id": "whois.id",
    "th": "whois.thnic.co.th",
    "in": "whois.registry.in",
    "kz": "whois.nic.kz",
    "uz": "whois.cctld.uz",
    "am": "whois.amnic.net",
    "ae": "whois.aeda.net.ae",
    "sa": "whois.nic.net.sa",
    "ir": "whois.nic.ir",
    "au": "whois.auda.org.au",
    "nz": "whois.irs.net.nz",
    # Americas
    "ca": "whois.cira.ca",
    "br": "whois.registro.br",
    "mx": "whois.mx",
    "ar": "whois.nic.ar",
    "cl": "whois.nic.cl",
    "pe": "kero.yachay.pe",
    # Registries that run second-level zones with a server each and none for the whole TLD;
    # asked by the domain's public suffix before its TLD.
    "co.za": "whois.registry.net.za",
    "org.za": "org-whois.registry.net.za",
    "net.za": "net-whois.registry.net.za",
    "web.za": "web-whois.registry.net.za",
}

# Second-level registries: a zone that is itself a domain registered under a TLD (gb.com is a
# .com registration) and whose owner runs a registry of its own below it, with its own WHOIS
# server. A name under one (hotel.gb.com) is a registration at that registry: the TLD's
# registry knows nothing of it (its RDAP would answer 404), and IANA cannot name the server.
# Sources: the registries' own pages, and the PSL private section where they list their zones.
_CENTRALNIC = "whois.centralnic.com"  # CentralNic serves every zone it runs from one host
_UDR = "whois.registry.hk.com"  # UDR Limited (hk.com, hk.org, inc.hk, ltd.hk)
_FAITID = "whois.flexireg.net"  # FAITID's regional zones under .ru and .su
_MSKIX = "whois.nic.net.ru"  # MSK-IX: net.ru, org.ru, pp.ru
SECOND_LEVEL_REGISTRIES: dict[str, str] = {
    **{
        zone: _CENTRALNIC
        for zone in (
            "ae.org", "africa.com", "ar.com", "br.com", "cn.com", "co.com", "com.de", "com.se",
            "de.com", "eu.com", "gb.com", "gb.net", "gr.com", "hu.com", "hu.net", "in.net",
            "jp.net", "jpn.com", "kr.com", "mex.com", "no.com", "qc.com", "ru.com", "sa.com",
            "se.com", "se.net", "uk.com", "uk.net", "us.com", "us.org", "uy.com", "web.com",
            "za.bz", "za.com",
        )
    },
    **{zone: _UDR for zone in ("hk.com", "hk.org", "inc.hk", "ltd.hk")},
    **{
        zone: _FAITID
        for zone in ("com.ru", "msk.ru", "nov.ru", "spb.ru", "ru.net", "msk.su", "nov.su", "spb.su")
    },
    **{zone: _MSKIX for zone in ("net.ru", "org.ru", "pp.ru")},
    "eu.org": "whois.eu.org",
    "za.net": "whois.za.net",
    "za.org": "whois.za.org",
    "co.ca": "whois.co.ca",
    "co.pl": "whois.co.pl",
    "priv.at": "whois.nic.priv.at",
    "uk.co": "whois.uk.co",
}

# Servers that need more than the bare name on the query line.
_QUERY_FORMS: dict[str, str] = {
    # DENIC answers only "Domain/Status" to a bare query; "-T dn,ace" asks for the domain object
    # and takes the A-label form.
    "whois.denic.de": "-T dn,ace {domain}",
    # JPRS answers in Japanese unless "/e" asks for English.
    "whois.jprs.jp": "{domain}/e",
    # Verisign's bare query also matches host (name server) records; "domain" limits it.
    "whois.verisign-grs.com": "domain {domain}",
    "ccwhois.verisign-grs.com": "domain {domain}",
}


def builtin_tlds() -> frozenset[str]:
    """Every TLD of the built-in table (A-labels)."""
    return frozenset(key for key in _SERVERS if "." not in key)


def builtin_server(zone: str) -> str | None:
    """The registry WHOIS host for an A-label TLD or registry zone (co.za, gb.com), or None."""
    key = zone.strip().lower().strip(".")
    return _SERVERS.get(key) or SECOND_LEVEL_REGISTRIES.get(key)


def second_level_zone(name: str) -> str | None:
    """The second-level registry zone ``name`` (A-label) is registered under, if any.

    ``hotel.gb.com`` and ``www.hotel.gb.com`` give ``gb.com``; ``gb.com`` itself (a .com
    registration) and ``example.com`` give None.
    """
    labels = name.strip().lower().rstrip(".").split(".")
    for cut in range(1, len(labels) - 1):  # longest zone first, always one label below it
        zone = ".".join(labels[cut:])
        if zone in SECOND_LEVEL_REGISTRIES:
            return zone
    return None


def parent_zones(domain: str) -> list[str]:
    """The zones above ``domain``, nearest first: ``a.gb.com`` -> ``["gb.com", "com"]``."""
    labels = domain.strip().lower().rstrip(".").split(".")
    return [".".join(labels[cut:]) for cut in range(1, len(labels))]


def query_for(server: str, domain: str) -> str:
    """The query line (without CRLF) that ``server`` expects for ``domain``."""
    return _QUERY_FORMS.get(_host_of(server), "{domain}").format(domain=domain)


def _host_of(server: str) -> str:
    """Lower-case host of ``host``, ``host:port`` or ``[v6]:port`` (a port does not change it)."""
    host = server.strip().lower()
    if host.startswith("["):
        return host[1:].split("]", 1)[0]
    if host.count(":") == 1:
        host = host.split(":", 1)[0]
    return host.rstrip(".")
