"""An RDAP registry (or registrar) for the lab, on top of :class:`HttpsServer`.

Each domain is a small description (:class:`RdapDomain`) turned into RFC 9083 JSON shaped like a
real registry's answer; the same description can make the server misbehave on demand: a status
code, ``429`` with ``Retry-After`` for the first N requests, a body that is not JSON, a redirect,
or a slow answer. The server can also serve an RFC 9224 bootstrap file at ``/dns.json``.
"""

from __future__ import annotations

import asyncio
import json
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from domwatch.lab.https_server import HttpsServer, Request, Response

RDAP_JSON = "application/rdap+json"


@dataclass
class RdapDomain:
    """How the lab answers for one domain."""

    expires: datetime | str | None = field(
        default_factory=lambda: datetime.now(timezone.utc) + timedelta(days=200)
    )  # a string is sent as is (odd date forms); None: no expiration event
    registrar: str | None = "Lab Registrar Oy"
    statuses: tuple[str, ...] = ("client transfer prohibited",)
    nameservers: tuple[str, ...] = ("NS1.LAB.TEST", "ns2.lab.test.")
    related: str | None = None  # URL of the registrar's RDAP record (thin registry)
    registrar_expires: datetime | str | None = None  # a "registrar expiration" event
    status: int = 200  # HTTP status of the answer
    throttle: int = 0  # answer this many requests 429 before the real answer
    retry_after: str | None = "1"  # Retry-After of those 429s (None: no header)
    body: bytes | None = None  # a raw body instead of the JSON (bad JSON, huge answers)
    redirect: str | None = None  # answer 302 to this URL
    latency: float = 0.0  # seconds before answering
    hits: int = 0  # requests seen so far (updated by the server)


class RdapServer:
    """Serves ``domains`` at ``<url>domain/<name>`` and ``bootstrap`` at ``/dns.json``."""

    def __init__(
        self,
        *,
        ssl_context: ssl.SSLContext | None,
        domains: Mapping[str, RdapDomain] | None = None,
        prefix: str = "/rdap/",
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.domains: dict[str, RdapDomain] = dict(domains or {})
        self.prefix = "/" + prefix.strip("/") + "/" if prefix.strip("/") else "/"
        self.bootstrap: bytes | None = None
        self.bootstrap_status = 200
        self.server = HttpsServer(self._handle, ssl_context=ssl_context, host=host, port=port)

    @property
    def url(self) -> str:
        """The RDAP base URL, ending in ``/`` (e.g. ``https://127.0.0.1:4321/rdap/``)."""
        return self.server.url + self.prefix

    @property
    def bootstrap_url(self) -> str:
        """Where the bootstrap file is served."""
        return self.server.url + "/dns.json"

    @property
    def requests(self) -> list[Request]:
        """Every request seen, in order."""
        return self.server.requests

    def add(self, name: str, spec: RdapDomain | None = None, **fields: Any) -> RdapDomain:
        """Describe ``name`` (keyword arguments are :class:`RdapDomain` fields)."""
        domain = spec or RdapDomain(**fields)
        self.domains[name.lower()] = domain
        return domain

    def serve_bootstrap(
        self, tlds: Mapping[str, str], publication: str = "2030-01-01T00:00:00Z"
    ) -> bytes:
        """Serve a bootstrap file mapping each TLD to a base URL; returns its bytes."""
        self.bootstrap = bootstrap_document(tlds, publication)
        return self.bootstrap

    async def start(self) -> None:
        """Listen (port 0 picks a free one)."""
        await self.server.start()

    async def stop(self) -> None:
        """Stop listening."""
        await self.server.stop()

    async def _handle(self, request: Request) -> Response:
        path = request.path.split("?", 1)[0]
        if path == "/dns.json" and self.bootstrap is not None:
            return Response(
                self.bootstrap_status, {"Content-Type": "application/json"}, self.bootstrap
            )
        lead = self.prefix + "domain/"
        if not path.startswith(lead):
            return _error(400, "Bad Request", "only domain queries are served here")
        name = path[len(lead) :].rstrip(".").lower()
        spec = self.domains.get(name)
        if spec is None:
            return _error(404, "Not Found", f"{name} is not registered")
        spec.hits += 1
        if spec.latency:
            await asyncio.sleep(spec.latency)
        if spec.hits <= spec.throttle:
            headers = {"Content-Type": RDAP_JSON}
            if spec.retry_after is not None:
                headers["Retry-After"] = spec.retry_after
            return Response(429, headers, _error_body(429, "Too Many Requests", "slow down"))
        if spec.redirect is not None:
            return Response(302, {"Location": spec.redirect}, b"")
        if spec.body is not None:
            return Response(spec.status, {"Content-Type": RDAP_JSON}, spec.body)
        if spec.status == 404:
            return _error(404, "Not Found", f"{name} is not registered")
        if spec.status != 200:
            return _error(spec.status, "Error", "the lab was told to fail")
        body = json.dumps(render_domain(name, spec, self.url)).encode()
        return Response(200, {"Content-Type": RDAP_JSON}, body)


def render_domain(
    name: str, spec: RdapDomain, base: str = "https://rdap.lab.test/"
) -> dict[str, Any]:
    """The RFC 9083 domain object for ``spec``, laid out like gTLD registries answer."""
    events: list[dict[str, str]] = [
        {"eventAction": "registration", "eventDate": "2015-03-01T12:00:00Z"},
        {"eventAction": "last changed", "eventDate": "2025-02-10T08:30:00Z"},
    ]
    if spec.expires is not None:
        events.insert(1, {"eventAction": "expiration", "eventDate": _date(spec.expires)})
    if spec.registrar_expires is not None:
        events.append(
            {"eventAction": "registrar expiration", "eventDate": _date(spec.registrar_expires)}
        )
    self_url = base + "domain/" + name
    links: list[dict[str, str]] = [
        {"value": self_url, "rel": "self", "href": self_url, "type": RDAP_JSON}
    ]
    if spec.related is not None:
        links.append({"value": self_url, "rel": "related", "href": spec.related, "type": RDAP_JSON})
    doc: dict[str, Any] = {
        "rdapConformance": ["rdap_level_0", "icann_rdap_response_profile_1"],
        "objectClassName": "domain",
        "handle": name.upper().replace(".", "_") + "-LAB",
        "ldhName": name.upper(),
        "links": links,
        "status": list(spec.statuses),
        "events": events,
        "nameservers": [
            {"objectClassName": "nameserver", "ldhName": ns} for ns in spec.nameservers
        ],
        "secureDNS": {"delegationSigned": False},
        "notices": [{"title": "Terms of Use", "description": ["Lab data, not for real use."]}],
    }
    if spec.registrar is not None:
        doc["entities"] = [
            {
                "objectClassName": "entity",
                "handle": "9999",
                "roles": ["registrar"],
                "publicIds": [{"type": "IANA Registrar ID", "identifier": "9999"}],
                "vcardArray": [
                    "vcard",
                    [["version", {}, "text", "4.0"], ["fn", {}, "text", spec.registrar]],
                ],
            }
        ]
    return doc


def bootstrap_document(tlds: Mapping[str, str], publication: str) -> bytes:
    """An RFC 9224 DNS bootstrap file: one service per TLD."""
    doc = {
        "description": "RDAP bootstrap file for Domain Name System registrations (lab)",
        "publication": publication,
        "services": [[[tld], [url]] for tld, url in tlds.items()],
        "version": "1.0",
    }
    return json.dumps(doc).encode()


def _date(value: datetime | str) -> str:
    if isinstance(value, str):
        return value
    return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _error_body(code: int, title: str, text: str) -> bytes:
    doc = {
        "rdapConformance": ["rdap_level_0"],
        "errorCode": code,
        "title": title,
        "description": [text],
    }
    return json.dumps(doc).encode()


def _error(code: int, title: str, text: str) -> Response:
    return Response(code, {"Content-Type": RDAP_JSON}, _error_body(code, title, text))
