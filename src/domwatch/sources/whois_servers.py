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


def builtin_server(tld: str) -> str | None:
    """The registry WHOIS host for an A-label TLD from the built-in table, or None."""
    return _SERVERS.get(tld.strip().lower().strip("."))


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
