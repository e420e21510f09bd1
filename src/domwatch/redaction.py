"""Secrets in URLs: one way to hide them, used wherever a URL may be shown.

Notification URLs (Apprise) carry tokens and passwords in every part: user and password,
the host place (``slack://A/B/C``), the path, the query. Reports, logs, the state file and
error messages about the configuration show them only through :func:`redact`, and text that
may quote them (a library's error, a configuration error) through :func:`scrub` or
:func:`redact_urls`.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from urllib.parse import unquote

_HOST = re.compile(r"(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}")
# A URL as it appears inside a sentence: up to whitespace or a quote around it.
_URL_IN_TEXT = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^\s'\"<>]*")


@dataclass(frozen=True)
class _Parts:
    scheme: str
    userinfo: str | None
    host: str
    port: str | None
    path: str
    query: str | None
    fragment: str | None


def _split(url: str) -> _Parts | None:
    # By hand rather than urllib, which raises on ports that are not numbers: Apprise URLs put
    # tokens where hosts go (slack://A/B/C, tgram://bot:token/chat). A password with an
    # unescaped '/' ends the authority early; what follows is path, hidden like the rest.
    scheme, sep, rest = url.strip().partition("://")
    if not sep or not re.fullmatch(r"[A-Za-z][A-Za-z0-9+.-]*", scheme):
        return None
    rest, hash_, fragment = rest.partition("#")
    cut = min((i for i in (rest.find("/"), rest.find("?")) if i >= 0), default=len(rest))
    netloc, tail = rest[:cut], rest[cut:]
    userinfo: str | None = None
    if "@" in netloc:
        userinfo, _, netloc = netloc.rpartition("@")
    path, qmark, query = tail.partition("?")
    host, port = netloc, None
    if netloc.startswith("["):
        end = netloc.find("]")
        host, port = (netloc[: end + 1], netloc[end + 2 :] or None) if end > 0 else (netloc, None)
    elif netloc.count(":") == 1:
        host, port = netloc.split(":")
    return _Parts(scheme.lower(), userinfo, host, port, path, query if qmark else None,
                  fragment if hash_ else None)


def _shown_host(host: str) -> bool:
    """A host name or address is shown; anything else in that place (a token, a topic) is not."""
    bare = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    try:
        ipaddress.ip_address(bare)
        return True
    except ValueError:
        pass
    return bare.lower() == "localhost" or bool(_HOST.fullmatch(bare))


def redact(url: str) -> str:
    """``url`` with everything that may be secret replaced by ``***``.

    Kept: the scheme, a host that is a real host name or address, a numeric port. Replaced:
    user and password, tokens in the host place, the path, the query and the fragment.
    ``json://user:pass@host/path?token=x`` becomes ``json://***@host/***?***``.
    """
    parts = _split(url)
    if parts is None:
        return "***"
    out = f"{parts.scheme}://"
    if parts.userinfo is not None:
        out += "***@"
    if _shown_host(parts.host):
        out += parts.host
        if parts.port is not None:
            out += f":{parts.port}" if parts.port.isdigit() else ":***"
    elif parts.host or parts.port:
        out += "***"
    if parts.path.strip("/"):
        out += "/***"
    if parts.query:
        out += "?***"
    if parts.fragment:
        out += "#***"
    return out


def redact_credentials(url: str) -> str:
    """``url`` for a log line about a server domwatch asks (RDAP, a web site): the path stays
    (it is a domain name, or the site's own page), a password or a query does not."""
    parts = _split(url)
    if parts is None:
        return "***"
    host = parts.host + (f":{parts.port}" if parts.port is not None else "")
    out = f"{parts.scheme}://{'***@' if parts.userinfo is not None else ''}{host}{parts.path}"
    return out + ("?***" if parts.query else "")


def _secrets(url: str) -> list[str]:
    """The pieces of ``url`` that :func:`redact` hides, raw and percent-decoded, longest first."""
    parts = _split(url)
    if parts is None:
        return [url.strip()]
    pieces: list[str] = []
    if parts.userinfo:
        pieces += [parts.userinfo, *parts.userinfo.split(":")]
    if not _shown_host(parts.host):
        pieces.append(parts.host)
    if parts.port is not None and not parts.port.isdigit():
        pieces.append(parts.port)
    if parts.path.strip("/"):
        pieces += [parts.path, *parts.path.split("/")]
    for text in (parts.query, parts.fragment):
        if text:
            # Values only: keys such as "to" and "from" are no secret, and common words.
            pieces += [text, *(pair.partition("=")[2] for pair in text.split("&"))]
    found = {p for piece in pieces for p in (piece, unquote(piece)) if len(p) >= 3}
    return sorted(found, key=len, reverse=True)


def scrub(text: str, url: str) -> str:
    """``text`` (an error from a delivery library, say) with ``url``'s secret pieces hidden."""
    for secret in _secrets(url):
        text = text.replace(secret, "***")
    return text


def redact_urls(text: str) -> str:
    """``text`` with every URL in it replaced by its :func:`redact`-ed form."""
    return _URL_IN_TEXT.sub(lambda m: redact(m[0]), text)
