"""A minimal SMTP server for the lab: banner, EHLO, STARTTLS, QUIT; enough to test STARTTLS."""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from dataclasses import dataclass

from domwatch.lab.https_server import sni_of, watch_sni
from domwatch.lab.runner import StreamServer
from domwatch.net.tls import start_tls

_MAX_LINE = 1000  # RFC 5321 §4.5.3.1.4 (a command line, CRLF included)


@dataclass
class Session:
    """What one client did, for tests to assert on."""

    ehlo: str | None = None
    tls: bool = False
    sni: str | None = None
    quit: bool = False


class SmtpServer(StreamServer):
    """Speak just enough SMTP for a STARTTLS probe.

    ``ssl_context`` None, or ``offer_starttls=False``, leaves STARTTLS out of the EHLO answer;
    ``refuse_starttls`` offers it but answers the command with 454.
    """

    def __init__(
        self,
        *,
        ssl_context: ssl.SSLContext | None,
        host: str = "127.0.0.1",
        port: int = 0,
        hostname: str = "mx.lab.test",
        offer_starttls: bool = True,
        refuse_starttls: bool = False,
    ) -> None:
        super().__init__(host=host, port=port)  # plain TCP: TLS starts with STARTTLS
        self.ssl_context = ssl_context
        self.hostname = hostname
        self.offer_starttls = offer_starttls and ssl_context is not None
        self.refuse_starttls = refuse_starttls
        self.sessions: list[Session] = []

    async def start(self) -> None:
        """Listen on ``host:port`` (port 0 picks a free one, stored in ``port``)."""
        if self.ssl_context is not None:
            watch_sni(self.ssl_context)
        await super().start()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        session = Session()
        self.sessions.append(session)
        try:
            await self._dialogue(session, reader, writer)
        except (ConnectionError, ssl.SSLError, asyncio.IncompleteReadError, ValueError):
            pass  # clients that hang up mid-dialogue are part of the tests
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError, ssl.SSLError, OSError):
                await writer.wait_closed()

    async def _dialogue(
        self, session: Session, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        async def say(*lines: str) -> None:
            text = "".join(
                f"{line[:3]}{'-' if i < len(lines) - 1 else ' '}{line[4:]}\r\n"
                for i, line in enumerate(lines)
            )
            writer.write(text.encode("ascii"))
            await writer.drain()

        await say(f"220 {self.hostname} ESMTP domwatch lab")
        while True:
            raw = await reader.readline()
            if not raw:
                return
            if len(raw) > _MAX_LINE:
                await say("500 5.5.2 line too long")
                continue
            line = raw.decode("ascii", "replace").rstrip("\r\n")
            verb, _, arg = line.partition(" ")
            verb = verb.upper()
            if verb == "EHLO":
                session.ehlo = arg.strip()
                extensions = ["PIPELINING", "8BITMIME"]
                if self.offer_starttls and not session.tls:
                    extensions.append("STARTTLS")
                await say(f"250 {self.hostname}", *(f"250 {e}" for e in extensions))
            elif verb == "HELO":
                session.ehlo = arg.strip()
                await say(f"250 {self.hostname}")
            elif verb == "STARTTLS" and self.ssl_context is not None and not session.tls:
                if self.refuse_starttls:
                    await say("454 4.7.0 TLS not available due to temporary reason")
                    continue
                await say("220 2.0.0 Ready to start TLS")
                await start_tls(reader, writer, self.ssl_context)
                session.tls = True
                session.sni = sni_of(writer.get_extra_info("ssl_object"))
            elif verb in ("NOOP", "RSET"):
                await say("250 2.0.0 OK")
            elif verb == "QUIT":
                session.quit = True
                await say("221 2.0.0 Bye")
                return
            else:
                await say("502 5.5.2 command not recognized")
