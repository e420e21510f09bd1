"""The mail transport check (opt-in ``mail_tls``): each MX host's STARTTLS certificate.

Mail servers fall back to plain text when STARTTLS breaks, so a lapsed certificate there goes
unnoticed until a strict sender refuses to deliver. Each address of each MX host is asked for
its banner, EHLO and STARTTLS, and the certificate is judged like a web server's.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import ssl
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from domwatch import model
from domwatch.checks import Context
from domwatch.checks.dns import failure_finding
from domwatch.errors import HandshakeFailed, ProbeError
from domwatch.model import CheckResult, Domain, Finding
from domwatch.net import tls

log = logging.getLogger("domwatch.smtp")

_MAX_REPLY_LINES = 100  # a multi-line reply longer than this is not an SMTP server
_HELO_NAME = socket.gethostname() or "domwatch.invalid"


class _Unavailable(ProbeError):
    """The server answered SMTP but STARTTLS is not offered or not completed."""


@dataclass
class _Probe:
    address: str
    stage: str = "connect"  # connect, banner, ehlo, starttls, handshake: where a failure happened
    banner: str | None = None
    connected: bool = False
    starttls: bool | None = None  # None: never got as far as EHLO
    error: str | None = None
    info: tls.TlsInfo | None = None

    def to_json(self, ctx: Context) -> dict[str, Any]:
        return {
            "address": self.address,
            "connected": self.connected,
            "banner": self.banner,
            "starttls": self.starttls,
            "error": self.error,
            "tls": self.info.to_json(ctx.now) if self.info is not None else None,
        }


async def check_mail_tls(
    domain: Domain, mx_hosts: Sequence[str], ctx: Context, port: int = 25
) -> CheckResult:
    """Probe STARTTLS on every address of ``mx_hosts``; findings use the ``mail.tls.*`` codes.

    ``data`` is ``{"hosts": [{"host", "addresses": [...]}]}``, meant to sit beside the mail
    check's own section.
    """
    hosts = [h.rstrip(".").lower() for h in dict.fromkeys(mx_hosts) if h.rstrip(".")]
    judged = await asyncio.gather(*(_probe_host(h, domain, ctx, port) for h in hosts))
    result = CheckResult()
    findings: list[Finding] = []
    for _section, host_findings, days, expires in judged:
        findings.extend(host_findings)
        if days is not None and (result.cert_days_left is None or days < result.cert_days_left):
            result.cert_days_left = days
        if expires is not None and (result.cert_expires is None or expires < result.cert_expires):
            result.cert_expires = expires
    result.findings = tls.merge(findings)
    result.data = {"hosts": [section for section, _, _, _ in judged]}
    return result


async def _probe_host(
    host: str, domain: Domain, ctx: Context, port: int
) -> tuple[dict[str, Any], list[Finding], int | None, datetime | None]:
    section: dict[str, Any] = {"host": host, "addresses": []}
    findings: list[Finding] = []
    addresses, failed = await ctx.resolver.addresses(host)
    for answer in failed:
        if (finding := failure_finding(answer, host)) is not None:
            findings.append(finding)
    # An MX host without addresses is the mail check's mail.mx_unresolvable; not repeated here.
    probes = await asyncio.gather(*(_probe(host, a, port, ctx) for a in addresses))
    for probe in probes:
        outcome = probe.error or ("certificate read" if probe.info is not None else "no TLS")
        log.debug("smtp STARTTLS %s:%d on %s -> %s", host, port, probe.address, outcome)
    section["addresses"] = [p.to_json(ctx) for p in probes]

    unreachable = [p for p in probes if not p.connected]
    if unreachable:
        reasons = "; ".join(f"{p.address}: {p.error}" for p in unreachable)
        # Unknown, not critical: outbound port 25 is blocked on many networks.
        findings.append(
            model.MAIL_TLS_UNREACHABLE.finding(
                f"could not reach mail server {host} on port {port} to check STARTTLS ({reasons})",
            )
        )
    unavailable: dict[str, list[str]] = {}
    for probe in probes:
        if probe.connected and probe.info is None:
            unavailable.setdefault(probe.error or "STARTTLS failed", []).append(probe.address)
    for reason, where in unavailable.items():
        findings.append(
            model.MAIL_TLS_UNAVAILABLE.finding(
                f"mail server {host} on {', '.join(where)}: {reason}; mail to it travels "
                "unencrypted",
            )
        )

    judged, days = tls.judge_endpoints(
        ((p.address, p.info) for p in probes),
        host=host,
        codes=model.MAIL_TLS,
        thresholds=domain.thresholds,
        now=ctx.now,
        label="STARTTLS certificate",
    )
    findings.extend(judged)
    return section, findings, days, tls.earliest_expiry(p.info for p in probes)


async def _probe(host: str, address: str, port: int, ctx: Context) -> _Probe:
    """Banner, EHLO, STARTTLS and the certificate of one address; never raises."""
    probe = _Probe(address)
    timeout = ctx.settings.timeout

    async def opener(context: ssl.SSLContext) -> tls.Streams:
        probe.stage = "connect"
        reader, writer = await asyncio.open_connection(address, port)
        try:
            probe.stage = "banner"
            code, lines = await _reply(reader)
            probe.banner = lines[0] if lines else ""
            probe.connected = True
            if code != 220:
                raise _Unavailable(f"the server refuses sessions ({code} {probe.banner})")
            probe.stage = "ehlo"
            writer.write(f"EHLO {_HELO_NAME}\r\n".encode("ascii"))
            code, lines = await _reply(reader)
            if code != 250:
                raise _Unavailable(f"EHLO was answered {code} {' '.join(lines[:1])}")
            keywords = {line.split(" ", 1)[0].upper() for line in lines[1:] if line}
            probe.starttls = "STARTTLS" in keywords
            if not probe.starttls:
                raise _Unavailable("STARTTLS is not offered")
            probe.stage = "starttls"
            writer.write(b"STARTTLS\r\n")
            code, lines = await _reply(reader)
            if code != 220:
                raise _Unavailable(f"STARTTLS was answered {code} {' '.join(lines[:1])}")
            probe.stage = "handshake"
            await tls.handshake(reader, writer, context, server_hostname=host)
        except BaseException:
            writer.transport.abort()
            raise
        return reader, writer

    try:
        session = await tls.inspect(opener, host, ctx.tls, timeout)
    except ProbeError as exc:
        probe.error = str(exc)
        if probe.stage == "handshake" and not isinstance(exc, HandshakeFailed):
            probe.error = f"TLS handshake after STARTTLS failed: {exc}"
        return probe
    probe.info = session.info
    try:
        # Say goodbye politely; a server that does not answer must not cost more time.
        session.writer.write(b"QUIT\r\n")
        await asyncio.wait_for(_reply(session.reader), min(timeout, 1.0))
    except (OSError, asyncio.TimeoutError, ssl.SSLError, ProbeError):
        pass
    finally:
        await session.close()
    return probe


async def _reply(reader: asyncio.StreamReader) -> tuple[int, list[str]]:
    """One SMTP reply: its code and the text of each line (``250-A``, ``250 B`` -> A, B)."""
    lines: list[str] = []
    for _ in range(_MAX_REPLY_LINES):
        raw = await reader.readline()
        if not raw:
            raise ProbeError("connection closed by peer")
        line = raw.decode("utf-8", "replace").rstrip("\r\n")
        if len(line) < 3 or not line[:3].isdigit():
            raise ProbeError(f"not an SMTP reply: {line[:60]!r}")
        lines.append(line[4:])
        if len(line) == 3 or line[3] != "-":
            return int(line[:3]), lines
    raise ProbeError("SMTP reply too long")
