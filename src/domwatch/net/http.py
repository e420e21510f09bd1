"""A careful HTTPS client: verified TLS, size-capped reads, bounded redirects, no SSRF by referral.

Registries answer with whatever they like and refer us to servers we did not choose (redirects,
a thin registry's link to the registrar). So every answer is read as a stream and cut off past
``max_bytes``, redirects are followed by hand (at most ``max_redirects``) so that each hop can
be vetted, a redirect from ``https`` to plain ``http`` is refused, and every host is vetted by
the run's :class:`~domwatch.net.address_policy.AddressPolicy`: the connection goes to exactly
the address that was judged (the URL keeps the name, so SNI, ``Host`` and certificate checks
are for the name), never to one a second DNS lookup would give.
"""

from __future__ import annotations

import logging
import ssl
import typing
from collections.abc import AsyncIterator, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from urllib.parse import urljoin, urlsplit

import httpcore
import httpx

from domwatch.errors import (
    AddressRefused,
    HttpError,
    HttpTimeout,
    HttpUnresolvable,
    PrivateAddressRefused,
    ResponseTooLarge,
    TooManyRedirects,
    Unresolvable,
)
from domwatch.net.address_policy import AddressPolicy, Vetted
from domwatch.net.errors import first_os_error, os_error_words, without_errno
from domwatch.redaction import redact_credentials
from domwatch.settings import Settings

MAX_BODY = 1024 * 1024  # no registry answer comes near this; anything bigger is refused
MAX_REDIRECTS = 5
USER_AGENT = "domwatch (+https://github.com/domwatch/domwatch)"

log = logging.getLogger("domwatch.https")


@dataclass
class HttpResponse:
    """One HTTP answer; ``history`` holds the redirect answers that led to it, in order."""

    url: str
    status: int
    headers: Mapping[str, str]  # lower-case names
    body: bytes
    history: list[HttpResponse] = field(default_factory=list)
    peer: Vetted | None = None  # the server that gave this answer, as the policy vetted it

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


class _PinnedBackend(httpcore.AsyncNetworkBackend):
    """Opens TCP connections only to the address the policy vetted for the URL's host."""

    def __init__(self) -> None:
        self._inner = httpcore.AnyIOBackend()
        self._pins: dict[str, str] = {}

    def pin(self, target: Vetted) -> None:
        # One address per name per run (the policy resolves once), so a pooled connection to a
        # name is always to the address vetted for it.
        self._pins.setdefault(target.host, target.address)

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        address = self._pins.get(host.strip("[]").rstrip(".").lower())
        if address is None:  # a request that bypassed the policy: never connect
            raise httpcore.ConnectError(f"{host}: no vetted address")
        return await self._inner.connect_tcp(
            address, port, timeout=timeout, local_address=local_address,
            socket_options=socket_options,
        )

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise httpcore.ConnectError("unix sockets are not used")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


# httpcore's exceptions as httpx's, most specific first (what HttpClient tells apart).
_MAPPED: tuple[tuple[type[Exception], type[httpx.TransportError]], ...] = (
    (httpcore.ConnectTimeout, httpx.ConnectTimeout),
    (httpcore.ReadTimeout, httpx.ReadTimeout),
    (httpcore.WriteTimeout, httpx.WriteTimeout),
    (httpcore.PoolTimeout, httpx.PoolTimeout),
    (httpcore.TimeoutException, httpx.TimeoutException),
    (httpcore.ConnectError, httpx.ConnectError),
    (httpcore.ReadError, httpx.ReadError),
    (httpcore.WriteError, httpx.WriteError),
    (httpcore.NetworkError, httpx.NetworkError),
    (httpcore.RemoteProtocolError, httpx.RemoteProtocolError),
    (httpcore.LocalProtocolError, httpx.LocalProtocolError),
    (httpcore.ProtocolError, httpx.ProtocolError),
    (httpcore.UnsupportedProtocol, httpx.UnsupportedProtocol),
)


def _mapped(exc: Exception) -> Exception:
    for source, target in _MAPPED:
        if isinstance(exc, source):
            return target(str(exc) or type(exc).__name__)
    return exc


class _Stream(httpx.AsyncByteStream):
    def __init__(self, inner: typing.AsyncIterable[bytes]) -> None:
        self._inner = inner

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            async for part in self._inner:
                yield part
        except Exception as exc:
            raise _mapped(exc) from exc

    async def aclose(self) -> None:
        close = getattr(self._inner, "aclose", None)
        if close is not None:
            await close()


class _PinnedTransport(httpx.AsyncBaseTransport):
    """httpx over an httpcore pool whose connections go to vetted addresses only.

    httpx has no option for the network backend, so the small mapping its own transport does
    is done here (request in, response stream and exceptions out).
    """

    def __init__(self, ssl_context: ssl.SSLContext, backend: _PinnedBackend) -> None:
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=ssl_context,
            max_connections=100,
            max_keepalive_connections=20,
            keepalive_expiry=5.0,
            network_backend=backend,
        )

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        assert isinstance(request.stream, httpx.AsyncByteStream)
        core = httpcore.Request(
            method=request.method,
            url=httpcore.URL(
                scheme=request.url.raw_scheme,
                host=request.url.raw_host,
                port=request.url.port,
                target=request.url.raw_path,
            ),
            headers=request.headers.raw,
            content=request.stream,
            extensions=request.extensions,
        )
        try:
            reply = await self._pool.handle_async_request(core)
        except Exception as exc:
            raise _mapped(exc) from exc
        assert isinstance(reply.stream, typing.AsyncIterable)
        return httpx.Response(
            status_code=reply.status,
            headers=reply.headers,
            stream=_Stream(reply.stream),
            extensions=reply.extensions,
        )

    async def aclose(self) -> None:
        await self._pool.aclose()


class HttpClient:
    """An ``httpx.AsyncClient`` wrapper with the safety rules above; use ``async with``."""

    def __init__(
        self,
        *,
        policy: AddressPolicy,
        timeout: float = 10.0,
        ca_bundle: Path | None = None,
        max_bytes: int = MAX_BODY,
        max_redirects: int = MAX_REDIRECTS,
        user_agent: str = USER_AGENT,
    ) -> None:
        self.timeout = timeout
        self.policy = policy
        self.max_bytes = max_bytes
        self.max_redirects = max_redirects
        self._backend = _PinnedBackend()
        self._client = httpx.AsyncClient(
            timeout=httpx.Timeout(timeout),
            follow_redirects=False,  # done by hand, one vetted hop at a time
            headers={"User-Agent": user_agent},
            transport=_PinnedTransport(make_ssl_context(ca_bundle), self._backend),
            trust_env=False,  # no proxy: the connection must go to the vetted address
        )

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        *,
        policy: AddressPolicy | None = None,
        max_bytes: int = MAX_BODY,
    ) -> HttpClient:
        """A client with the run's timeout, trust store and address policy."""
        return cls(
            policy=policy or AddressPolicy.from_settings(settings),
            timeout=settings.timeout,
            ca_bundle=settings.ca_bundle,
            max_bytes=max_bytes,
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

    async def vet(self, url: str, referrer: Vetted | None = None) -> Vetted:
        """The vetted server of ``url`` (``referrer``: the server whose answer named it)."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise PrivateAddressRefused(f"refused to follow {url}: not an HTTP URL")
        try:
            host = httpx.URL(url).raw_host.decode("ascii")
        except (httpx.InvalidURL, UnicodeError) as exc:
            raise HttpError(f"{url}: bad URL: {exc}") from None
        try:
            target = await self.policy.vet(host, referrer)
        except AddressRefused as exc:
            raise PrivateAddressRefused(f"refused {url}: {exc}") from None
        except Unresolvable as exc:
            raise HttpUnresolvable(f"{url}: {exc}") from None
        self._backend.pin(target)
        return target

    async def get(
        self,
        url: str,
        headers: Mapping[str, str] | None = None,
        *,
        referrer: Vetted | None = None,
    ) -> HttpResponse:
        """GET ``url`` following up to ``max_redirects`` vetted redirects.

        ``referrer`` is the server whose answer gave ``url`` (None: a configured URL). Non-2xx
        answers are returned, not raised; :class:`HttpError` means no usable answer.
        """
        history: list[HttpResponse] = []
        current = url
        peer = await self.vet(current, referrer)
        while True:
            shown = redact_credentials(current)
            try:
                response = await self._get_once(current, headers)
            except HttpError as exc:
                log.debug("https GET %s on %s -> %s", shown, peer.address, exc)
                raise
            log.debug("https GET %s on %s -> HTTP %d, %d bytes", shown, peer.address,
                      response.status, len(response.body))
            response.peer = peer
            location = response.header("location")
            if response.status not in (301, 302, 303, 307, 308) or not location:
                response.history = history
                return response
            history.append(response)
            if len(history) > self.max_redirects:
                raise TooManyRedirects(f"more than {self.max_redirects} redirects from {url}")
            target = urljoin(current, location)
            if urlsplit(current).scheme == "https" and urlsplit(target).scheme != "https":
                # An answer that could be read or changed on the way is not an answer.
                raise PrivateAddressRefused(f"refused to follow {current} to {target}: not HTTPS")
            peer = await self.vet(target, peer)
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
    os_error = first_os_error(exc)
    if os_error is not None:
        return os_error_words(os_error)
    return without_errno(str(exc)) or type(exc).__name__
