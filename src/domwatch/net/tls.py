"""TLS inspection: read the chain a server sends, and judge expiry, name and trust separately.

A verifying handshake stops at the first problem and hides the certificate, yet an operator
needs the expiry date of exactly the certificate that is untrusted or for the wrong name. So a
handshake is first tried with the verifying context; when verification fails, the reason is
kept and the connection is made again without verification to read the chain. A healthy
server costs one handshake.
"""

from __future__ import annotations

import asyncio
import ipaddress
import ssl
import sys
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from typing import Any

from cryptography import x509
from cryptography.x509.oid import NameOID

from domwatch.errors import HandshakeFailed, ProbeError
from domwatch.model import CertCodes, Finding, Thresholds
from domwatch.net.errors import os_error_words, without_errno

Streams = tuple[asyncio.StreamReader, asyncio.StreamWriter]
# Opens a connection and returns it already upgraded to TLS with the given context.
Opener = Callable[[ssl.SSLContext], Awaitable[Streams]]

# OpenSSL verify codes that say the chain reached a trusted root (names/dates are judged apart).
_NAME_ERRORS = {62, 64}  # X509_V_ERR_HOSTNAME_MISMATCH, X509_V_ERR_IP_ADDRESS_MISMATCH
_TIME_ERRORS = {9, 10}  # X509_V_ERR_CERT_NOT_YET_VALID, X509_V_ERR_CERT_HAS_EXPIRED
_DER = 2  # _ssl.ENCODING_DER, for the C-level Certificate.public_bytes()


@dataclass(frozen=True)
class CertInfo:
    """The parts of one certificate domwatch reports."""

    subject: str
    issuer: str
    not_before: datetime  # UTC, aware
    not_after: datetime  # UTC, aware
    sans: tuple[str, ...]  # DNS names and IP addresses, in certificate order
    common_names: tuple[str, ...] = ()  # shown when there are no SANs, never matched

    @classmethod
    def from_der(cls, der: bytes) -> CertInfo:
        """Parse a DER certificate."""
        cert = x509.load_der_x509_certificate(der)
        sans: list[str] = []
        try:
            ext = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        except x509.ExtensionNotFound:
            pass
        else:
            sans.extend(ext.get_values_for_type(x509.DNSName))
            sans.extend(str(ip) for ip in ext.get_values_for_type(x509.IPAddress))
        return cls(
            subject=cert.subject.rfc4514_string(),
            issuer=cert.issuer.rfc4514_string(),
            not_before=cert.not_valid_before_utc,
            not_after=cert.not_valid_after_utc,
            sans=tuple(sans),
            common_names=tuple(
                str(a.value) for a in cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
            ),
        )

    def covers(self, host: str) -> bool:
        """RFC 6125 name match: SANs only, a wildcard only as the whole left-most label."""
        host = host.rstrip(".").lower()
        try:
            ip = ipaddress.ip_address(host.strip("[]"))
        except ValueError:
            ip = None
        for san in self.sans:
            if ip is not None:
                try:
                    if ipaddress.ip_address(san) == ip:
                        return True
                except ValueError:
                    continue
            elif _dns_match(san.lower().rstrip("."), host):
                return True
        return False


def _dns_match(pattern: str, host: str) -> bool:
    if pattern == host:
        return True
    if not pattern.startswith("*."):
        return False
    # "*.example.com" covers exactly one label below example.com, never example.com itself.
    head, _, rest = host.partition(".")
    return bool(head) and rest == pattern[2:] and rest.count(".") >= 1


@dataclass(frozen=True)
class TlsInfo:
    """What one TLS endpoint presented and how it judged."""

    chain: tuple[CertInfo, ...]  # as sent, leaf first (leaf only where the chain is unavailable)
    trusted: bool
    hostname_match: bool
    verify_error: str | None = None  # OpenSSL's reason when verification failed

    @property
    def leaf(self) -> CertInfo:
        """The server's own certificate."""
        return self.chain[0]

    @property
    def earliest(self) -> CertInfo:
        """The certificate of the chain that expires first."""
        return min(self.chain, key=lambda c: c.not_after)

    def days_left(self, now: datetime) -> int:
        """Whole days from ``now`` to the earliest ``notAfter``; negative when expired."""
        return (self.earliest.not_after.date() - now.date()).days

    def to_json(self, now: datetime) -> dict[str, Any]:
        """The report's ``tls`` object."""
        return {
            "not_after": self.earliest.not_after.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "days_left": self.days_left(now),
            "subject": self.leaf.subject,
            "issuer": self.leaf.issuer,
            "sans": list(self.leaf.sans),
            "trusted": self.trusted,
            "hostname_match": self.hostname_match,
            "verify_error": self.verify_error,
        }


@dataclass
class Session:
    """An open TLS connection and what its certificate chain says."""

    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    info: TlsInfo

    async def close(self) -> None:
        """Close without waiting long for a peer that does not answer the close."""
        await close_quietly(self.writer)


def insecure_context() -> ssl.SSLContext:
    """A client context that accepts any certificate, only to read what is presented."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


_INSECURE = insecure_context()


async def inspect(opener: Opener, host: str, verify: ssl.SSLContext, timeout: float) -> Session:
    """Open a TLS connection with ``opener`` and judge the chain for ``host``.

    ``verify`` is the trust (system store, ``SSL_CERT_FILE`` or the configured bundle). Each
    attempt is bounded by ``timeout``. Raises :class:`ProbeError` when no handshake completes.
    """
    try:
        reader, writer = await _bounded(opener(verify), timeout)
    except ssl.SSLCertVerificationError as exc:
        verify_code = exc.verify_code
        verify_error = _verify_text(exc)
    else:
        chain = _chain(writer)
        if not chain:  # a handshake without a certificate (anonymous ciphers): nothing to judge
            await close_quietly(writer)
            raise HandshakeFailed("TLS handshake failed: the server sent no certificate")
        return Session(reader, writer, TlsInfo(chain, trusted=True, hostname_match=True))
    reader, writer = await _bounded(opener(_INSECURE), timeout)
    chain = _chain(writer)
    if not chain:
        await close_quietly(writer)
        raise HandshakeFailed(f"TLS handshake failed: certificate verify failed: {verify_error}")
    trusted = verify_code in _NAME_ERRORS or verify_code in _TIME_ERRORS
    # OpenSSL checks the name only after the chain is trusted, so match it ourselves otherwise.
    hostname_match = False if verify_code in _NAME_ERRORS else chain[0].covers(host)
    return Session(reader, writer, TlsInfo(chain, trusted, hostname_match, verify_error))


async def _bounded(attempt: Awaitable[Streams], timeout: float) -> Streams:
    """Run one connection attempt within ``timeout``, turning failures into ProbeError."""
    try:
        return await asyncio.wait_for(attempt, timeout)
    except (ssl.SSLCertVerificationError, ProbeError):
        raise
    except ssl.SSLError as exc:
        raise HandshakeFailed(f"TLS handshake failed: {_reason(exc, timeout)}") from None
    except (OSError, EOFError, asyncio.IncompleteReadError, asyncio.TimeoutError) as exc:
        raise ProbeError(_reason(exc, timeout)) from None


async def handshake(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    ctx: ssl.SSLContext,
    *,
    server_hostname: str,
) -> Streams:
    """TLS on an open connection; a failure other than verification is a named handshake failure.

    Without this, a peer that hangs up mid-handshake would read like a refused connection.
    """
    try:
        return await start_tls(reader, writer, ctx, server_hostname=server_hostname)
    except ssl.SSLCertVerificationError:
        writer.transport.abort()
        raise
    except (OSError, EOFError, asyncio.IncompleteReadError) as exc:
        writer.transport.abort()
        raise HandshakeFailed(f"TLS handshake failed: {_reason(exc, 0)}") from None


def describe_error(exc: BaseException, timeout: float) -> str:
    """One line for a failed network operation (used by the HTTP and SMTP exchanges too)."""
    if isinstance(exc, ProbeError):
        return str(exc)
    if isinstance(exc, ssl.SSLError):
        return f"TLS error: {_reason(exc, timeout)}"
    return _reason(exc, timeout)


def _reason(exc: BaseException, timeout: float) -> str:
    if isinstance(exc, asyncio.TimeoutError):
        return f"timed out after {timeout:g}s"
    if isinstance(exc, ssl.SSLError):
        return _ssl_text(exc)
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, ConnectionResetError):
        return "connection reset by peer"
    if isinstance(exc, (EOFError, asyncio.IncompleteReadError, ConnectionAbortedError)):
        return "connection closed by peer"
    if isinstance(exc, OSError):
        return os_error_words(exc)
    return without_errno(str(exc).splitlines()[0]) if str(exc) else type(exc).__name__


def _verify_text(exc: ssl.SSLCertVerificationError) -> str:
    return str(exc.verify_message or exc.reason or "certificate verify failed")


def _ssl_text(exc: ssl.SSLError) -> str:
    if isinstance(exc, ssl.SSLCertVerificationError):
        return f"certificate verify failed: {_verify_text(exc)}"
    reason = exc.reason or str(exc)
    return str(reason).lower().replace("_", " ")


def _chain(writer: asyncio.StreamWriter) -> tuple[CertInfo, ...]:
    sslobj = writer.get_extra_info("ssl_object")
    if sslobj is None:
        return ()
    return tuple(CertInfo.from_der(der) for der in _chain_der(sslobj))


def _chain_der(sslobj: ssl.SSLObject) -> list[bytes]:
    """The certificates the peer sent, DER, leaf first."""
    # Public from Python 3.13 (DER bytes); 3.10-3.12 have it on the private C object only.
    method = getattr(sslobj, "get_unverified_chain", None)
    if method is None:
        method = getattr(getattr(sslobj, "_sslobj", None), "get_unverified_chain", None)
    if method is not None:
        return [c if isinstance(c, bytes) else c.public_bytes(_DER) for c in method() or []]
    leaf = sslobj.getpeercert(binary_form=True)
    return [leaf] if leaf else []


async def close_quietly(writer: asyncio.StreamWriter, wait: float = 1.0) -> None:
    """Close a connection; a peer that never answers the TLS close must not hold us up."""
    writer.close()
    try:
        await asyncio.wait_for(writer.wait_closed(), wait)
    except (asyncio.TimeoutError, OSError, ssl.SSLError):
        writer.transport.abort()


async def start_tls(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    ctx: ssl.SSLContext,
    *,
    server_hostname: str | None = None,
    timeout: float | None = None,
) -> Streams:
    """Upgrade an open stream pair to TLS in place (STARTTLS), client or server side.

    The side follows the streams: those handed to an ``asyncio.start_server`` callback are
    upgraded as the server.
    """
    if sys.version_info >= (3, 11):
        await writer.start_tls(ctx, server_hostname=server_hostname, ssl_handshake_timeout=timeout)
        return reader, writer
    return await start_tls_legacy(
        reader, writer, ctx, server_hostname=server_hostname, timeout=timeout
    )


async def start_tls_legacy(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    ctx: ssl.SSLContext,
    *,
    server_hostname: str | None = None,
    timeout: float | None = None,
) -> Streams:
    """:func:`start_tls` for Python 3.10, which has no ``StreamWriter.start_tls``.

    Upgrades the transport with ``loop.start_tls`` and swaps it in by hand, as 3.11 does.
    """
    loop = asyncio.get_running_loop()
    protocol = writer.transport.get_protocol()
    server_side = getattr(protocol, "_client_connected_cb", None) is not None
    new = await loop.start_tls(
        writer.transport,
        protocol,
        ctx,
        server_side=server_side,
        server_hostname=None if server_side else server_hostname,
        ssl_handshake_timeout=timeout,
    )
    if new is None:
        raise ConnectionResetError("connection closed during the TLS upgrade")
    writer._transport = new  # type: ignore[attr-defined]
    protocol._transport = new  # type: ignore[attr-defined]
    protocol._over_ssl = True  # type: ignore[attr-defined]
    return reader, writer


# -- judging -----------------------------------------------------------------------------------


def judge_endpoints(
    chains: Iterable[tuple[str, TlsInfo | None]],
    *,
    host: str,
    codes: CertCodes,
    thresholds: Thresholds,
    now: datetime,
    label: str = "certificate",
) -> tuple[list[Finding], int | None]:
    """Judge each distinct chain once, naming every address that served it.

    ``chains`` pairs an address with the chain it presented (None when there was none). Returns
    the findings and the fewest days left over all chains.
    """
    by_chain: dict[TlsInfo, list[str]] = {}
    for address, info in chains:
        if info is not None:
            by_chain.setdefault(info, []).append(address)
    findings: list[Finding] = []
    days: int | None = None
    for info, where in by_chain.items():
        findings.extend(
            judge(info, host=host, where=", ".join(where), codes=codes,
                  thresholds=thresholds, now=now, label=label)
        )
        left = info.days_left(now)
        days = left if days is None else min(days, left)
    return findings, days


def earliest_expiry(infos: Iterable[TlsInfo | None]) -> datetime | None:
    """The first ``notAfter`` over every chain given (None when there is none)."""
    return min((i.earliest.not_after for i in infos if i is not None), default=None)


def judge(
    info: TlsInfo,
    *,
    host: str,
    where: str,
    codes: CertCodes,
    thresholds: Thresholds,
    now: datetime,
    label: str = "certificate",
) -> list[Finding]:
    """Findings for one endpoint's chain, of the ``codes`` of its kind of endpoint: expired,
    critical, warning, hostname_mismatch and untrusted.

    ``where`` names the endpoint for people (an address, or ``mx1.example.fi 192.0.2.1``).
    """
    findings: list[Finding] = []
    cert = info.earliest
    days = info.days_left(now)
    expiry_day = cert.not_after.date().isoformat()
    what = f"{label} for {host}"
    if cert is not info.leaf:
        what = f"{label} chain for {host} (intermediate {_short(cert.subject)})"
    if cert.not_after <= now.astimezone(timezone.utc):
        ago = -days
        when = "today" if ago == 0 else f"{ago} day{'s' if ago != 1 else ''} ago"
        findings.append(
            codes.expired.finding(
                f"{what} expired {when} ({expiry_day}) on {where}",
            )
        )
    elif days <= max(thresholds.cert_crit_days, thresholds.cert_warn_days):
        critical = days <= thresholds.cert_crit_days
        when = "today" if days == 0 else f"in {days} day{'s' if days != 1 else ''}"
        findings.append(
            (codes.critical if critical else codes.warning).finding(
                f"{what} expires {when} ({expiry_day}) on {where}",
            )
        )
    if not info.hostname_match:
        covered = ", ".join(info.leaf.sans or info.leaf.common_names) or "no names"
        findings.append(
            codes.hostname_mismatch.finding(
                f"{label} on {where} does not cover {host} (it is for {covered})",
            )
        )
    if not info.trusted:
        reason = info.verify_error or "unknown issuer"
        findings.append(
            codes.untrusted.finding(
                f"{what} on {where} is not trusted: {reason} (issuer {_short(info.leaf.issuer)})",
            )
        )
    return findings


def _short(name: str) -> str:
    """The most telling part of an RFC 4514 name (its CN or first RDN)."""
    for part in name.split(","):
        if part.startswith("CN="):
            return part
    return name.split(",")[0] if name else "(empty)"


def merge(findings: Sequence[Finding]) -> list[Finding]:
    """One finding per code, messages joined: the report keeps only the first of each code."""
    by_code: dict[str, list[Finding]] = {}
    for finding in findings:
        by_code.setdefault(finding.code, []).append(finding)
    merged: list[Finding] = []
    for group in by_code.values():
        if len(group) == 1:
            merged.append(group[0])
            continue
        worst = max(group, key=lambda f: f.severity.status.rank)
        messages = list(dict.fromkeys(f.message for f in group))
        merged.append(replace(worst, message="; ".join(messages)))
    return merged
