"""A careful HTTPS client: verified TLS, size-capped reads, bounded redirects, no SSRF by referral.

Registries answer with whatever they like and refer us to servers we did not choose (redirects,
a thin registry's link to the registrar). So every answer is read as a stream and cut off past
``max_bytes``, redirects are followed by hand (at most ``max_redirects``) so that each hop can
be vetted, and a hop from a public server to a private, loopback or link-local address is
refused unless ``allow_private`` is set.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import ssl
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from urllib.parse import urljoin, urlsplit

import httpx

from domwatch.config import Settings

MAX_BODY = 1024 * 1024  # no registry answer comes near this; anything bigger is refused
MAX_REDIRECTS = 5
USER_AGENT = "domwatch (+https://github.com/domwatch/domwatch)"

AddressCheck = Callable[[str], Awaitable[bool]]


class HttpError(Exception):
    """A request that produced no usable HTTP answer (transport, TLS, policy or size)."""


class ResponseTooLarge(HttpError):
    """The answer was longer than the cap; reading stopped there."""


class TooManyRedirects(HttpError):
    """The redirect chain was longer than allowed."""


class PrivateAddressRefused(HttpError):
    """A public server referred us to a private, loopback or link-local address."""


class HttpTimeout(HttpError):
    """No (complete) answer within the timeout."""


@dataclass
class HttpResponse:
    """One HTTP answer; ``history`` holds the redirect answers that led to it, in order."""

    url: str
    status: int
    headers: Mapping[str, str]  # lower-case names
    body: bytes
    history: list[HttpResponse] = field(default_factory=list)

    def header(self, name: str) -> str | None:
        """A header's value, case-insensitively."""
        return self.headers.get(name.lower())


def make_ssl_context(ca_bundle: Path | None = None) -> ssl.SSLContext:
    """A verifying client context.

    Without ``ca_bundle`` it is the system trust store, which OpenSSL reads from
    ``SSL_CERT_FILE``/``SSL_CERT_DIR`` when they are set (certifi is deliberately not used: it
    would ignore both the system store and the variables). With ``ca_bundle`` that PEM file is
    the only trust anchor.
    """
    if ca_bundle is not None:
        return ssl.create_default_context(cafile=str(ca_bundle))
    return ssl.create_default_context()


def is_private_address(address: str) -> bool:
    """True for addresses that are not globally routable (private, loopback, link-local...)."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return not ip.is_global or ip.is_multicast


async def host_is_private(host: str) -> bool:
    """Whether ``host`` (a name or an address literal) leads to a non-public address.

    A name counts as private when any of its addresses is: an attacker who controls a name can
    give it one public and one private address. A name that does not resolve is not private;
    the request itself will fail.
    """
    host = host.strip("[]").rstrip(".").lower()
    try:
        ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        pass
    else:
        return is_private_address(host)
    if host == "localhost" or host.endswith(".localhost"):
        return True
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except OSError:
        return False
    return any(is_private_address(str(info[4][0])) for info in infos)


def referral_allowed(*, referrer_private: bool, target_private: bool, allow_private: bool) -> bool:
    """May a server send us (by redirect or link) to a target?

    A public server must not steer us into private address space: that would let any registry
    or registrar on the internet make domwatch probe the operator's intranet (SSRF). A server
    that is itself private (the lab, an intranet registry the operator configured on purpose)
    already is inside that space, so its referrals within it are allowed.
    """
    return allow_private or referrer_private or not target_private


class HttpClient:
    """An ``httpx.AsyncClient`` wrapper with the safety rules above; use ``async with``."""

    def __init__(
        self,
        *,
        timeout: float = 10.0,
        ca_bundle: Path | None = None,
        allow_private: bool = False,
        max_bytes: int = MAX_BODY,
        max_redirects: int = MAX_REDIRECTS,
        user_agent: str = USER_AGENT,
        address_check: AddressCheck = host_is_private,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.timeout = timeout
        self.allow_private = allow_private
        self.max_bytes = max_bytes
        self.max_redirects = max_redirects
        self._address_check = address_check
        self._private_cache: dict[str, bool] = {}
        self._client = httpx.AsyncClient(
            verify=make_ssl_context(ca_bundle),
            timeout=httpx.Timeout(timeout),
            follow_redirects=False,  # done by hand, one vetted hop at a time
            headers={"User-Agent": user_agent},
            transport=transport,
        )

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        *,
        max_bytes: int = MAX_BODY,
        address_check: AddressCheck = host_is_private,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> HttpClient:
        """A client with the run's timeout, trust store and private-address policy."""
        return cls(
            timeout=settings.timeout,
            ca_bundle=settings.ca_bundle,
            allow_private=settings.allow_private,
            max_bytes=max_bytes,
            address_check=address_check,
            transport=transport,
        )

    async def __aenter__(self) -> HttpClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._client.aclose()

    async def is_private(self, url: str) -> bool:
        """Whether ``url``'s host is in private address space (cached per host)."""
        host = urlsplit(url).hostname or ""
        if host not in self._private_cache:
            self._private_cache[host] = await self._address_check(host)
        return self._private_cache[host]

    async def check_referral(self, referrer: str, target: str) -> None:
        """Raise :class:`PrivateAddressRefused` when ``referrer`` may not send us to ``target``."""
        if self.allow_private:
            return
        if urlsplit(target).scheme not in ("http", "https"):
            raise PrivateAddressRefused(f"refused to follow {target}: not an HTTP URL")
        target_private = await self.is_private(target)
        if not target_private:
            return
        if not referral_allowed(
            referrer_private=await self.is_private(referrer),
            target_private=target_private,
            allow_private=self.allow_private,
        ):
            raise PrivateAddressRefused(
                f"refused to follow {referrer} to {target}: a private address"
            )

    async def get(self, url: str, headers: Mapping[str, str] | None = None) -> HttpResponse:
        """GET ``url`` following up to ``max_redirects`` vetted redirects.

        Non-2xx answers are returned, not raised; :class:`HttpError` means no usable answer.
        """
        history: list[HttpResponse] = []
        current = url
        while True:
            response = await self._get_once(current, headers)
            location = response.header("location")
            if response.status not in (301, 302, 303, 307, 308) or not location:
                response.history = history
                return response
            history.append(response)
            if len(history) > self.max_redirects:
                raise TooManyRedirects(f"more than {self.max_redirects} redirects from {url}")
            target = urljoin(current, location)
            await self.check_referral(current, target)
            current = target

    async def _get_once(self, url: str, headers: Mapping[str, str] | None) -> HttpResponse:
        try:
            async with self._client.stream("GET", url, headers=dict(headers or {})) as reply:
                declared = reply.headers.get("content-length")
                if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
                    raise ResponseTooLarge(
                        f"{url}: answer of {declared} bytes exceeds {self.max_bytes}"
                    )
                chunks: list[bytes] = []
                size = 0
                async for chunk in reply.aiter_bytes():
                    size += len(chunk)
                    if size > self.max_bytes:
                        raise ResponseTooLarge(f"{url}: answer exceeds {self.max_bytes} bytes")
                    chunks.append(chunk)
                return HttpResponse(
                    url=url,
                    status=reply.status_code,
                    headers={k.lower(): v for k, v in reply.headers.items()},
                    body=b"".join(chunks),
                )
        except httpx.TimeoutException as exc:
            raise HttpTimeout(f"{url}: no answer within {self.timeout:g} s") from exc
        except httpx.HTTPError as exc:
            raise HttpError(f"{url}: {_describe(exc)}") from exc
        except ssl.SSLError as exc:  # some TLS failures surface unwrapped
            raise HttpError(f"{url}: TLS error: {exc}") from exc


def _describe(exc: httpx.HTTPError) -> str:
    """The most telling message in an httpx exception chain (TLS errors hide underneath)."""
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, ssl.SSLCertVerificationError):
            return f"certificate not trusted: {cause.verify_message}"
        if isinstance(cause, ssl.SSLError):
            return f"TLS error: {cause.reason or cause}"
        cause = cause.__cause__ or cause.__context__
    return str(exc) or type(exc).__name__
