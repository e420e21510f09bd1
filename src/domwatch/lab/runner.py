"""Run lab servers on a private event loop in a daemon thread.

The code under test calls ``asyncio.run`` itself in the main thread, so the servers cannot share
its loop; they live on this one, and tests talk to them over real sockets.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import ssl as ssl_module
import threading
from collections.abc import Callable, Coroutine
from types import TracebackType
from typing import Any, Protocol, TypeVar

T = TypeVar("T")


class Server(Protocol):
    """Anything the lab can run: bound by ``start()``, released by ``stop()``."""

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


S = TypeVar("S", bound=Server)
Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Coroutine[Any, Any, None]]

_TIMEOUT = 30.0


class _TrackedProtocol(asyncio.StreamReaderProtocol):
    """A stream protocol that registers its transport, so the server can close every one."""

    def __init__(self, handler: Handler, transports: set[asyncio.BaseTransport]) -> None:
        super().__init__(asyncio.StreamReader(), handler)
        self._transports = transports
        self._own: asyncio.BaseTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._own = transport
        self._transports.add(transport)
        super().connection_made(transport)

    def connection_lost(self, exc: Exception | None) -> None:
        if self._own is not None:
            self._transports.discard(self._own)
        super().connection_lost(exc)


async def start_tracked_server(
    handler: Handler,
    host: str,
    port: int,
    transports: set[asyncio.BaseTransport],
    *,
    ssl: ssl_module.SSLContext | None = None,
) -> asyncio.Server:
    """Like ``asyncio.start_server`` but every open connection's transport is in ``transports``.

    Before Python 3.13 a server cannot close its clients, and a handler task cancelled before
    its first step never closes its own writer, so the server closes the transports itself.
    """
    loop = asyncio.get_running_loop()
    return await loop.create_server(
        lambda: _TrackedProtocol(handler, transports),
        host,
        port,
        ssl=ssl,
        ssl_handshake_timeout=10 if ssl is not None else None,
    )


async def close_tracked_server(
    server: asyncio.Server, transports: set[asyncio.BaseTransport]
) -> None:
    """Stop accepting, then close every open connection, including ones still being accepted."""
    loop = asyncio.get_running_loop()
    # Stop accepting first but keep the server open for a few loop turns: a connection the loop
    # has just accepted gets its transport then, and (CPython 3.11) one that arrives after
    # Server.close() is silently dropped without closing its socket, so the client would hang.
    for sock in server.sockets:
        with contextlib.suppress(NotImplementedError, ValueError):
            loop.remove_reader(sock.fileno())
    for _ in range(5):
        await asyncio.sleep(0)
    server.close()
    for transport in list(transports):
        transport.close()


class StreamServer:
    """A TCP (or TLS) server whose ``stop()`` also closes every open connection.

    Subclasses implement ``_serve``; ``port`` 0 picks a free port, stored on start.
    """

    def __init__(
        self, *, host: str = "127.0.0.1", port: int = 0, ssl: ssl_module.SSLContext | None = None
    ) -> None:
        self.host = host
        self.port = port
        self._ssl = ssl
        self._server: asyncio.Server | None = None
        self._transports: set[asyncio.BaseTransport] = set()

    async def start(self) -> None:
        """Listen on ``host:port``."""
        self._server = await start_tracked_server(
            self._serve, self.host, self.port, self._transports, ssl=self._ssl
        )
        self.port = int(self._server.sockets[0].getsockname()[1])

    async def stop(self) -> None:
        """Stop listening and drop open connections."""
        if self._server is not None:
            await close_tracked_server(self._server, self._transports)
            await self._server.wait_closed()
            self._server = None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        raise NotImplementedError


class Lab:
    """A set of servers on a background event loop; use as ``with Lab() as lab: ...``."""

    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._servers: list[Server] = []

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        """The lab's event loop (started on first use)."""
        if self._loop is None:
            self.start()
        assert self._loop is not None
        return self._loop

    def start(self) -> None:
        """Start the loop thread (idempotent)."""
        if self._loop is not None:
            return
        loop = asyncio.new_event_loop()
        ready = threading.Event()

        def run() -> None:
            asyncio.set_event_loop(loop)
            loop.call_soon(ready.set)
            loop.run_forever()

        self._thread = threading.Thread(target=run, name="domwatch-lab", daemon=True)
        self._loop = loop
        self._thread.start()
        ready.wait()

    def stop(self) -> None:
        """Stop every server (last added first), then the loop; safe to call twice."""
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        errors: list[BaseException] = []
        while self._servers:
            server = self._servers.pop()
            try:
                self.run(server.stop())
            except Exception as exc:  # keep stopping the others, report afterwards
                errors.append(exc)
        self.run(self._cancel_leftovers())
        loop.call_soon_threadsafe(loop.stop)
        thread.join(_TIMEOUT)
        loop.close()
        self._loop = self._thread = None
        if errors:
            raise errors[0]

    @staticmethod
    async def _cancel_leftovers() -> None:
        # Cancelled tasks may start others (accept handlers) and closed transports release
        # their sockets in later callbacks: go round until nothing is left, so no connection
        # outlives the lab and hangs a client.
        for _ in range(10):
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            for _ in range(3):
                await asyncio.sleep(0)
            if not tasks:
                return

    def add(self, server: S) -> S:
        """Start ``server`` on the lab loop, wait until it is bound, and return it."""
        self.run(server.start())
        self._servers.append(server)
        return server

    def run(self, coro: Coroutine[Any, Any, T], timeout: float | None = _TIMEOUT) -> T:
        """Run a coroutine on the lab loop and wait for its result."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def call(self, fn: Callable[[], T]) -> T:
        """Run ``fn`` on the lab loop thread (e.g. ``set_behaviour``) and return its result."""
        future: concurrent.futures.Future[T] = concurrent.futures.Future()

        def invoke() -> None:
            try:
                future.set_result(fn())
            except BaseException as exc:
                future.set_exception(exc)

        self.loop.call_soon_threadsafe(invoke)
        return future.result(_TIMEOUT)

    def __enter__(self) -> Lab:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
