"""Lab endpoints that receive notifications: an HTTP receiver and an SMTP server.

Apprise really sends to these over real sockets: ``json://`` and ``form://`` targets post to
:class:`HttpReceiver`, ``mailto://`` delivers to :class:`MailReceiver` (aiosmtpd). Both record
what arrived, in order, and run on a :class:`~domwatch.lab.runner.Lab` like every lab server.
"""

from __future__ import annotations

import asyncio
import json
import warnings
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from email.policy import default as default_policy
from typing import Any
from urllib.parse import parse_qs

from domwatch.lab.https_server import HttpsServer, Request, Response

# --------------------------------------------------------------------------- HTTP


@dataclass
class Received:
    """One notification as it arrived: the raw request plus its title and message."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    fields: dict[str, Any]  # the JSON object, or the form fields (one value each)

    @property
    def title(self) -> str:
        """The notification title (Apprise's ``title`` field)."""
        return str(self.fields.get("title", ""))

    @property
    def message(self) -> str:
        """The notification body (Apprise's ``message`` field)."""
        return str(self.fields.get("message", ""))

    @property
    def text(self) -> str:
        """Title and body together, for assertions that do not care which holds a word."""
        return f"{self.title}\n{self.message}"


@dataclass
class HttpReceiver(HttpsServer):
    """Plain HTTP on ``host:port`` that records every POST (JSON or form) and answers ``status``.

    Set ``status`` to 500 (say) to play a receiver that is up but failing, ``latency`` to play a
    slow one; stop the server to play one that is down (connections refused). Restarting keeps
    the same port.
    """

    def __init__(
        self, *, host: str = "127.0.0.1", port: int = 0, status: int = 200, latency: float = 0.0
    ) -> None:
        super().__init__(self._answer, ssl_context=None, host=host, port=port, latency=latency)
        self.status = status
        self.received: list[Received] = []

    def target(self, scheme: str, path: str = "/notify", userinfo: str = "") -> str:
        """An Apprise URL for this receiver, e.g. ``json://127.0.0.1:4321/notify``."""
        at = f"{userinfo}@" if userinfo else ""
        return f"{scheme}://{at}{self.host}:{self.port}{path}"

    def _answer(self, request: Request) -> Response:
        body = request.body
        if self.status < 400:
            # A failing receiver did not take the message: only accepted ones count.
            self.received.append(
                Received(request.method, request.path, request.headers, body,
                         _fields(request.headers.get("content-type", ""), body))
            )
        return Response(self.status, {"Content-Type": "text/plain"}, b"ok\n")


def _fields(content_type: str, body: bytes) -> dict[str, Any]:
    kind = content_type.split(";", 1)[0].strip().lower()
    text = body.decode("utf-8", "replace")
    if kind == "application/json":
        data = json.loads(text)
        return data if isinstance(data, dict) else {"value": data}
    if kind == "application/x-www-form-urlencoded":
        return {k: v[0] for k, v in parse_qs(text, keep_blank_values=True).items()}
    return {}


# --------------------------------------------------------------------------- SMTP

# aiosmtpd 1.4 itself sets the deprecated Session.login_data on every AUTH; nothing to act on.
warnings.filterwarnings("ignore", message="Session.login_data is deprecated",
                        category=DeprecationWarning)


@dataclass
class Mail:
    """One message the SMTP server accepted."""

    mail_from: str
    rcpt_tos: list[str]
    login: tuple[str, str] | None  # the AUTH user and password, when the client logged in
    raw: bytes
    message: Message = field(init=False)

    def __post_init__(self) -> None:
        self.message = message_from_bytes(self.raw, policy=default_policy)

    @property
    def subject(self) -> str:
        """The decoded Subject header."""
        return str(self.message.get("Subject", ""))

    @property
    def body(self) -> str:
        """The text part (the plain one when there are several)."""
        part = self.message
        if part.is_multipart():
            plain = [p for p in part.walk() if p.get_content_type() == "text/plain"]
            texts = plain or [p for p in part.walk() if p.get_content_maintype() == "text"]
            if not texts:
                return ""
            part = texts[0]
        payload = part.get_payload(decode=True)
        if not isinstance(payload, bytes):
            return str(part.get_payload())
        return payload.decode(part.get_content_charset() or "utf-8", "replace")

    @property
    def text(self) -> str:
        """Subject and body together."""
        return f"{self.subject}\n{self.body}"


class MailReceiver:
    """An aiosmtpd SMTP server (no TLS; AUTH PLAIN/LOGIN allowed in clear) recording mail.

    ``credentials`` (user, password) makes AUTH check them; ``None`` accepts any login.
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        credentials: tuple[str, str] | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.credentials = credentials
        self.received: list[Mail] = []
        self._server: asyncio.Server | None = None
        self._protocols: list[asyncio.Protocol] = []

    async def start(self) -> None:
        """Listen on ``host:port`` (port 0 picks a free one, stored in ``port``)."""
        from aiosmtpd.smtp import SMTP

        loop = asyncio.get_running_loop()

        def factory() -> asyncio.Protocol:
            protocol = SMTP(
                _Handler(self),
                hostname="mail.lab.test",
                authenticator=self._authenticate,
                # Apprise's mailto:// without TLS logs in over the clear connection; this is a
                # loopback test server, so let it.
                auth_require_tls=False,
                loop=loop,
            )
            self._protocols.append(protocol)
            return protocol

        self._server = await loop.create_server(factory, self.host, self.port)
        self.port = int(self._server.sockets[0].getsockname()[1])

    async def stop(self) -> None:
        """Stop listening and drop open connections."""
        if self._server is not None:
            self._server.close()
            for protocol in self._protocols:
                transport = getattr(protocol, "transport", None)
                if transport is not None:
                    transport.close()
            self._protocols.clear()
            await self._server.wait_closed()
            self._server = None

    def _authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
    ) -> Any:
        from aiosmtpd.smtp import AuthResult, LoginPassword

        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        login = (auth_data.login.decode("utf-8"), auth_data.password.decode("utf-8"))
        if self.credentials is not None and login != self.credentials:
            # handled=False: aiosmtpd answers 535 itself (True would leave the client waiting).
            return AuthResult(success=False, handled=False)
        return AuthResult(success=True, auth_data=login)


class _Handler:
    """aiosmtpd calls ``handle_DATA`` once per message."""

    def __init__(self, receiver: MailReceiver) -> None:
        self._receiver = receiver

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        login = session.auth_data if isinstance(session.auth_data, tuple) else None
        raw = envelope.original_content or envelope.content or b""
        self._receiver.received.append(
            Mail(str(envelope.mail_from), [str(r) for r in envelope.rcpt_tos], login,
                 raw if isinstance(raw, bytes) else raw.encode("utf-8"))
        )
        return "250 Message accepted for delivery"
