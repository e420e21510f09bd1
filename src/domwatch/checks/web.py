"""The web check: every address of every web host over HTTPS, as a visitor would reach it.

Each address is probed on its own and all at once: connect, TLS with SNI for the host name,
one HTTP/1.1 GET. One dead address of two breaks the site for part of the visitors, so it is
told apart from a host that is down altogether.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

import h11
import idna

from domwatch import model
from domwatch.checks import Context
from domwatch.checks.dns import failure_finding
from domwatch.errors import ProbeError
from domwatch.model import CheckResult, Domain, Finding, HostCertificate, Severity
from domwatch.net import tls
from domwatch.net.resolver import Outcome
from domwatch.redaction import redact_credentials

log = logging.getLogger("domwatch.web")
_MAX_REDIRECTS = 5  # same-origin hops followed; a redirect elsewhere is only reported
_USER_AGENT = "domwatch (web check)"


@dataclass(frozen=True)
class Target:
    """One URL to probe."""

    url: str
    scheme: str  # "https" or "http"
    host: str  # A-label or address literal, lower case
    port: int
    target: str  # path and query, as sent in the request line

    @classmethod
    def parse(cls, url: str) -> Target:
        """Split a URL; a bare host name means ``https://HOST/``."""
        if "://" not in url:
            url = f"https://{url}/"
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme not in ("https", "http") or not parts.hostname:
            raise ValueError(f"not an http(s) URL: {url}")
        host = parts.hostname.rstrip(".").lower()
        port = parts.port or (443 if scheme == "https" else 80)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        return cls(url, scheme, host, port, target)

    @property
    def host_header(self) -> str:
        """The Host header: the name, with the port when it is not the scheme's default."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        default = 443 if self.scheme == "https" else 80
        return host if self.port == default else f"{host}:{self.port}"

    def same_origin(self, url: str) -> bool:
        """Whether ``url`` is on this scheme, host and port (a redirect we may follow)."""
        try:
            other = Target.parse(url)
        except ValueError:
            return False
        return (other.scheme, other.host, other.port) == (self.scheme, self.host, self.port)


@dataclass
class _AddressResult:
    address: str
    connected: bool = False
    error: str | None = None
    http_status: int | None = None
    http_error: str | None = None
    redirects: list[str] = field(default_factory=list)
    tls: tls.TlsInfo | None = None

    def outcome(self) -> str:
        """One line for ``-v``."""
        if self.error:
            return self.error
        if self.http_status is None:
            return f"TLS done, no HTTP answer: {self.http_error or 'none'}"
        if self.redirects:
            return f"HTTP {self.http_status} to {redact_credentials(self.redirects[-1])}"
        return f"HTTP {self.http_status}"

    def to_json(self, ctx: Context) -> dict[str, Any]:
        return {
            "address": self.address,
            "connected": self.connected,
            "error": self.error or self.http_error,
            "http_status": self.http_status,
            "redirects": self.redirects,
            "tls": self.tls.to_json(ctx.now) if self.tls is not None else None,
        }


async def check_web(domain: Domain, ctx: Context) -> CheckResult:
    """Probe the domain's web hosts; findings per spec, ``data`` is the report's ``web``."""
    result = CheckResult()
    targets = await _targets(domain, ctx)
    hosts = await asyncio.gather(*(_probe_host(t, domain, ctx) for t in targets))
    findings: list[Finding] = []
    for target, (_section, host_findings, days, expires) in zip(targets, hosts, strict=True):
        findings.extend(host_findings)
        if days is not None and (result.cert_days_left is None or days < result.cert_days_left):
            result.cert_days_left = days
        if expires is not None and (result.cert_expires is None or expires < result.cert_expires):
            result.cert_expires = expires
        if days is not None and expires is not None:
            result.certificates.append(HostCertificate(target.host, days, expires))
    result.findings.extend(tls.merge(findings))
    result.data = {"hosts": [section for section, _, _, _ in hosts]}
    return result


async def _targets(domain: Domain, ctx: Context) -> list[Target]:
    """The URLs to probe: the configured ones, else the apex, www when it exists, given hosts."""
    urls: list[str] = list(domain.web)
    if not urls:
        urls.append(f"https://{domain.name}/")
        www = f"www.{domain.name}"
        if await _exists(www, ctx):
            urls.append(f"https://{www}/")
        urls.extend(f"https://{host}/" for host in domain.hosts)
    targets: dict[str, Target] = {}
    for url in urls:
        try:
            target = Target.parse(url)
        except ValueError as exc:  # the domain file is validated; this is a last resort
            log.warning("%s: skipping web URL: %s", domain.name, exc)
            continue
        targets.setdefault(f"{target.scheme}://{target.host_header}{target.target}", target)
    return list(targets.values())


async def _exists(host: str, ctx: Context) -> bool:
    """Whether ``host`` has address records (a failing lookup counts: the probe will tell)."""
    answers = await asyncio.gather(
        ctx.resolver.resolve(host, "A"), ctx.resolver.resolve(host, "AAAA")
    )
    return any(a.outcome is Outcome.OK or a.outcome.failed for a in answers)


async def _probe_host(
    target: Target, domain: Domain, ctx: Context
) -> tuple[dict[str, Any], list[Finding], int | None, datetime | None]:
    """The host's report section, findings, and its earliest certificate (days left, notAfter)."""
    name = _display(target.host)
    addresses, failed = await ctx.resolver.addresses(target.host)
    section: dict[str, Any] = {"host": target.host, "url": target.url, "addresses": []}
    findings: list[Finding] = []
    for answer in failed:
        finding = failure_finding(answer, name)
        if finding is not None:
            findings.append(finding)
    if not addresses:
        if not failed:
            findings.append(
                model.WEB_NO_ADDRESS.finding(
                    f"web host {name} has no A or AAAA record",
                )
            )
        return section, findings, None, None
    probes = await asyncio.gather(*(_probe_address(target, a, ctx) for a in addresses))
    for probe in probes:
        log.debug("web GET %s on %s -> %s", redact_credentials(target.url), probe.address,
                  probe.outcome())
    section["addresses"] = [p.to_json(ctx) for p in probes]
    findings.extend(_reachability(target, name, probes))
    findings.extend(_http(target, probes))
    judged, days = tls.judge_endpoints(
        ((p.address, p.tls) for p in probes),
        host=name,
        codes=model.TLS,
        thresholds=domain.thresholds,
        now=ctx.now,
    )
    findings.extend(judged)
    return section, findings, days, tls.earliest_expiry(p.tls for p in probes)


def _reachability(target: Target, name: str, probes: Sequence[_AddressResult]) -> list[Finding]:
    dead = [p for p in probes if not p.connected]
    if not dead:
        return []
    reasons = "; ".join(f"{p.address}: {p.error}" for p in dead)
    if len(dead) == len(probes):
        return [
            model.WEB_UNREACHABLE.finding(
                f"{name} port {target.port} is unreachable on every address ({reasons})",
            )
        ]
    return [
        model.WEB_ADDRESS_UNREACHABLE.finding(
            f"{name} port {target.port}: {len(dead)} of {len(probes)} addresses unreachable "
            f"({reasons})",
        )
    ]


def _http(target: Target, probes: Sequence[_AddressResult]) -> list[Finding]:
    # Group addresses giving the same answer so a load-balanced host yields one line.
    groups: dict[tuple[Severity, str], list[str]] = {}
    for probe in probes:
        if not probe.connected:
            continue
        url = probe.redirects[-1] if probe.redirects else target.url
        if probe.http_status is None:
            key = (Severity.CRITICAL, f"{url} gave no HTTP answer ({probe.http_error})")
        elif probe.http_status >= 500:
            key = (Severity.CRITICAL, f"{url} answers HTTP {probe.http_status}")
        elif probe.http_status >= 400:
            key = (Severity.WARNING, f"{url} answers HTTP {probe.http_status}")
        else:
            continue
        groups.setdefault(key, []).append(probe.address)
    return [
        model.WEB_HTTP_ERROR.finding(f"{text} on {', '.join(where)}", severity)
        for (severity, text), where in groups.items()
    ]


async def _probe_address(target: Target, address: str, ctx: Context) -> _AddressResult:
    """Connect to one address, judge its TLS, ask for the URL; never raises."""
    timeout = ctx.settings.timeout
    result = _AddressResult(address)
    verify = ctx.tls
    current = target
    for hop in range(_MAX_REDIRECTS + 1):
        try:
            reader, writer = await _connect(
                current, address, verify, timeout, result, first=not hop
            )
        except ProbeError as exc:
            if hop == 0:
                result.error = str(exc)
            else:
                result.http_error = str(exc)
            return result
        result.connected = True
        try:
            status, location = await asyncio.wait_for(_get(reader, writer, current), timeout)
        except (OSError, asyncio.TimeoutError, h11.ProtocolError, ProbeError) as exc:
            result.http_error = tls.describe_error(exc, timeout)
            return result
        finally:
            await tls.close_quietly(writer)
        result.http_status = status
        if not (300 <= status < 400 and location):
            return result
        absolute = urljoin(current.url, location)
        result.redirects.append(absolute)
        if not current.same_origin(absolute):
            return result  # another host: reported, not followed
        current = Target.parse(absolute)
        verify = tls.insecure_context()  # the chain was judged on the first hop
    return result


async def _connect(
    target: Target,
    address: str,
    verify: ssl.SSLContext,
    timeout: float,
    result: _AddressResult,
    *,
    first: bool,
) -> tls.Streams:
    if target.scheme == "http":
        try:
            return await asyncio.wait_for(asyncio.open_connection(address, target.port), timeout)
        except (OSError, asyncio.TimeoutError) as exc:
            raise ProbeError(tls.describe_error(exc, timeout)) from None

    async def opener(context: ssl.SSLContext) -> tls.Streams:
        # TCP first, then TLS, so that a failure is told as one of connect or handshake.
        reader, writer = await asyncio.open_connection(address, target.port)
        return await tls.handshake(reader, writer, context, server_hostname=target.host)

    session = await tls.inspect(opener, target.host, verify, timeout)
    if first:
        result.tls = session.info
    return session.reader, session.writer


async def _get(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, target: Target
) -> tuple[int, str | None]:
    """One HTTP/1.1 GET; the status and ``Location`` of the answer (the body is not read)."""
    conn = h11.Connection(h11.CLIENT)
    request = h11.Request(
        method="GET",
        target=target.target,
        headers=[
            ("Host", target.host_header),
            ("User-Agent", _USER_AGENT),
            ("Accept", "*/*"),
            ("Connection", "close"),
        ],
    )
    writer.write((conn.send(request) or b"") + (conn.send(h11.EndOfMessage()) or b""))
    await writer.drain()
    while True:
        event = conn.next_event()
        if event is h11.NEED_DATA:
            conn.receive_data(await reader.read(65536))
        elif isinstance(event, h11.Response):
            location = next((v for k, v in event.headers if k == b"location"), None)
            return event.status_code, location.decode("latin-1") if location else None
        elif isinstance(event, h11.ConnectionClosed):
            raise ProbeError("connection closed before an HTTP answer")
        # InformationalResponse (1xx): keep reading for the final answer.


def _display(host: str) -> str:
    """A host name as people write it (Unicode for IDNs)."""
    if "xn--" not in host:
        return host
    try:
        return str(idna.decode(host))
    except idna.IDNAError:
        return host
