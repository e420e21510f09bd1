"""The lab's CA and HTTPS server, exercised with the standard library's own client."""

from __future__ import annotations

import asyncio
import http.client
import socket
import ssl
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from domwatch.lab import Lab
from domwatch.lab.ca import LabCA
from domwatch.lab.https_server import HttpsServer, Request, Response, SilentServer


@pytest.fixture(scope="module")
def ca() -> LabCA:
    return LabCA()


@pytest.fixture
def lab() -> Iterator[Lab]:
    with Lab() as lab:
        yield lab


def _get(
    server: HttpsServer, path: str, ctx: ssl.SSLContext | None, sni: str = "site.test"
) -> tuple[int, bytes, dict[str, str]]:
    if ctx is None:
        conn: http.client.HTTPConnection = http.client.HTTPConnection(
            server.host, server.port, timeout=5
        )
    else:
        conn = http.client.HTTPSConnection(server.host, server.port, context=ctx, timeout=5)
        # Connect to the address but present (and verify) the name, as a browser would.
        conn.sock = ctx.wrap_socket(
            socket.create_connection((server.host, server.port), 5),
            server_hostname=sni,
        )
    conn.request("GET", path, headers={"Host": sni})
    resp = conn.getresponse()
    body = resp.read()
    conn.close()
    return resp.status, body, {k.lower(): v for k, v in resp.getheaders()}


def test_https_mapping_sni_and_trust(ca: LabCA, lab: Lab, tmp_path: Path) -> None:
    srv = lab.add(
        HttpsServer(
            {"/": Response(200, {"X-Test": "yes"}, b"hello")},
            ssl_context=ca.server_context("site.test"),
        )
    )
    assert srv.url == f"https://127.0.0.1:{srv.port}"
    client = ssl.create_default_context(cafile=str(ca.write_ca(tmp_path / "ca.pem")))
    status, body, headers = _get(srv, "/", client)
    assert (status, body, headers["x-test"], headers["connection"]) == (
        200,
        b"hello",
        "yes",
        "close",
    )
    assert _get(srv, "/missing", client)[0] == 404
    assert [r.path for r in srv.requests] == ["/", "/missing"]
    assert srv.requests[0].host == "site.test"
    assert srv.requests[0].method == "GET"


def test_untrusted_ca_is_rejected(ca: LabCA, lab: Lab, tmp_path: Path) -> None:
    other = LabCA()
    srv = lab.add(HttpsServer({"/": Response()}, ssl_context=other.server_context("site.test")))
    client = ssl.create_default_context(cafile=str(ca.write_ca(tmp_path / "ca.pem")))
    with pytest.raises(ssl.SSLCertVerificationError):
        _get(srv, "/", client)


def test_expired_certificate(ca: LabCA, lab: Lab) -> None:
    past = datetime.now(timezone.utc) - timedelta(days=3)
    srv = lab.add(
        HttpsServer(
            {"/": Response()},
            ssl_context=ca.server_context(
                "site.test", not_before=past - timedelta(days=90), not_after=past
            ),
        )
    )
    with pytest.raises(ssl.SSLCertVerificationError, match="expired"):
        _get(srv, "/", ca.client_context())


def test_handler_async_plain_http_and_shared_port(lab: Lab) -> None:
    async def handler(req: Request) -> Response:
        await asyncio.sleep(0)
        return Response(503, body=f"{req.method} {req.path} {req.host}".encode())

    first = lab.add(HttpsServer(handler, ssl_context=None))
    second = lab.add(
        HttpsServer(lambda r: Response(201), ssl_context=None, host="127.0.0.3", port=first.port)
    )
    assert first.url.startswith("http://127.0.0.1:")
    assert second.port == first.port
    assert _get(first, "/x?y=1", None) == (
        503,
        b"GET /x?y=1 site.test",
        {"content-length": "20", "connection": "close"},
    )
    assert _get(second, "/", None)[0] == 201


def test_silent_server_accepts_and_never_answers(lab: Lab) -> None:
    srv = lab.add(SilentServer())
    sock = socket.create_connection((srv.host, srv.port), 2)
    sock.settimeout(0.3)
    with pytest.raises(TimeoutError):
        sock.recv(10)
    sock.close()
    assert srv.connections == 1
