"""A tiny HTTP(S) server for the lab: asyncio streams, h11 framing, one request per connection.

Several servers can share a port on different loopback addresses (``127.0.0.2``,
``127.0.0.3``, ...) so that one host name with several A records reaches several servers.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import ssl
import weakref
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field

import h11

from domwatch.lab.runner import StreamServer

_MAX_REQUEST = 64 * 1024


@dataclass
class Request:
    """One request as the server saw it."""

    method: str
    path: str  # the request target, query string included
    headers: dict[str, str]  # lower-case names
    host: str | None  # the SNI name, else the Host header without port
    body: bytes = b""


@dataclass
class Response:
    """What to answer; ``Content-Length`` and ``Connection: close`` are added."""

    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""


Handler = Callable[[Request], "Response | Awaitable[Response]"]

# SNI names seen in handshakes, keyed by the SSLObject (the callback gets no other handle).
_SNI: weakref.WeakKeyDictionary[object, str] = weakref.WeakKeyDictionary()


def _record_sni(sslobj: object, name: str | None, _ctx: ssl.SSLContext) -> None:
    if name is not None:
        with contextlib.suppress(TypeError):
            _SNI[sslobj] = name


def watch_sni(ctx: ssl.SSLContext) -> None:
    """Make a server context remember the SNI name of each handshake (see :func:`sni_of`)."""
    if ctx.sni_callback is None:
        ctx.sni_callback = _record_sni


def sni_of(sslobj: object | None) -> str | None:
    """The SNI name the client sent on this connection, when the context is watched."""
    return _SNI.get(sslobj) if sslobj is not None else None


class HttpsServer(StreamServer):
    """Serve ``handler`` over TLS with ``ssl_context`` (``None``: plain HTTP).

    ``handler`` is a function of the request, or a mapping from the exact request target
    (or its path without the query) to a response or a function; other paths get 404.
    ``latency`` delays every answer, to exercise timeouts.
    """

    def __init__(
        self,
        handler: Handler | Mapping[str, Response | Handler],
        *,
        ssl_context: ssl.SSLContext | None,
        host: str = "127.0.0.1",
        port: int = 0,
        latency: float = 0.0,
    ) -> None:
        super().__init__(host=host, port=port, ssl=ssl_context)
        self.handler = handler
        self.ssl_context = ssl_context
        self.latency = latency
        self.requests: list[Request] = []

    @property
    def url(self) -> str:
        """The base URL, e.g. ``https://127.0.0.1:43210``."""
        scheme = "https" if self.ssl_context is not None else "http"
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{scheme}://{host}:{self.port}"

    async def start(self) -> None:
        """Listen on ``host:port`` (port 0 picks a free one, stored in ``port``)."""
        if self.ssl_context is not None:
            watch_sni(self.ssl_context)
        await super().start()

    async def __aenter__(self) -> HttpsServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            conn = h11.Connection(h11.SERVER, max_incomplete_event_size=_MAX_REQUEST)
            request = await self._read_request(conn, reader, writer)
            if request is None:
                return
            self.requests.append(request)
            if self.latency:
                await asyncio.sleep(self.latency)
            response = await self._respond(request)
            await self._write_response(conn, writer, request.method, response)
        except h11.RemoteProtocolError:
            # Not HTTP (a TLS ClientHello on a plain server, say): answer as real servers do.
            with contextlib.suppress(ConnectionError, ssl.SSLError):
                writer.write(b"HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n")
                await writer.drain()
        except (ConnectionError, ssl.SSLError, h11.ProtocolError, asyncio.IncompleteReadError):
            pass  # a client that goes away mid-request is normal in tests of failures
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError, ssl.SSLError, OSError):
                await writer.wait_closed()

    async def _read_request(
        self, conn: h11.Connection, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> Request | None:
        head: h11.Request | None = None
        chunks: list[bytes] = []
        while True:
            event = conn.next_event()
            if event is h11.NEED_DATA:
                conn.receive_data(await reader.read(65536))
                continue
            if isinstance(event, h11.Request):
                head = event
            elif isinstance(event, h11.Data):
                chunks.append(bytes(event.data))
            elif isinstance(event, h11.EndOfMessage) and head is not None:
                break
            elif isinstance(event, h11.ConnectionClosed):
                return None
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in head.headers}
        host = sni_of(writer.get_extra_info("ssl_object"))
        if host is None and "host" in headers:
            host = _strip_port(headers["host"])
        return Request(
            method=head.method.decode("ascii"),
            path=head.target.decode("latin-1"),
            headers=headers,
            host=host,
            body=b"".join(chunks),
        )

    async def _respond(self, request: Request) -> Response:
        target: Response | Handler | None
        if isinstance(self.handler, Mapping):
            target = self.handler.get(request.path)
            if target is None:
                target = self.handler.get(request.path.split("?", 1)[0])
            if target is None:
                return Response(404, {"Content-Type": "text/plain"}, b"not found\n")
        else:
            target = self.handler
        if isinstance(target, Response):
            return target
        result = target(request)
        if inspect.isawaitable(result):
            result = await result
        assert isinstance(result, Response)
        return result

    @staticmethod
    async def _write_response(
        conn: h11.Connection, writer: asyncio.StreamWriter, method: str, response: Response
    ) -> None:
        headers = [(k, v) for k, v in response.headers.items() if k.lower() != "content-length"]
        headers.append(("Content-Length", str(len(response.body))))
        if not any(k.lower() == "connection" for k, _ in headers):
            headers.append(("Connection", "close"))
        out = conn.send(h11.Response(status_code=response.status, headers=headers)) or b""
        if response.body and method != "HEAD":
            out += conn.send(h11.Data(data=response.body)) or b""
        out += conn.send(h11.EndOfMessage()) or b""
        writer.write(out)
        await writer.drain()


class SilentServer(StreamServer):
    """Accepts TCP connections and never says anything: a TLS handshake or banner that hangs."""

    def __init__(self, *, host: str = "127.0.0.1", port: int = 0) -> None:
        super().__init__(host=host, port=port)
        self.connections = 0

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while await reader.read(65536):
                pass  # swallow whatever comes until the client gives up
        except ConnectionError:
            pass
        finally:
            writer.close()


def _strip_port(host: str) -> str:
    if host.startswith("["):
        return host[1:].split("]", 1)[0]
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host
