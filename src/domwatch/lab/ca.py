"""A throwaway certificate authority for the lab: issue server certificates that tests trust."""

from __future__ import annotations

import ssl
from datetime import datetime
from pathlib import Path

import trustme


class LabCA:
    """A private CA (trustme) whose PEM can be given to clients as their only trust anchor.

    Two instances do not trust each other's certificates, so a second ``LabCA`` that is left out
    of the bundle is how the lab serves "a certificate from an unknown CA".
    """

    def __init__(self, organization: str = "domwatch lab CA") -> None:
        self._ca = trustme.CA(organization_name=organization)

    @property
    def cert_pem(self) -> bytes:
        """The CA certificate in PEM form."""
        return self._ca.cert_pem.bytes()

    def write_ca(self, path: Path) -> Path:
        """Write the CA certificate as PEM (for ``SSL_CERT_FILE`` or ``settings.tls.ca_bundle``)."""
        path = Path(path)
        path.write_bytes(self.cert_pem)
        return path

    def client_context(self) -> ssl.SSLContext:
        """A verifying client context that trusts this CA only."""
        ctx = ssl.create_default_context()
        self._ca.configure_trust(ctx)
        return ctx

    def issue_pem(
        self,
        *hosts: str,
        not_before: datetime | None = None,
        not_after: datetime | None = None,
    ) -> tuple[bytes, bytes]:
        """A leaf certificate for ``hosts`` (names or IP addresses): ``(cert_pem, key_pem)``."""
        if not hosts:
            raise ValueError("a certificate needs at least one host name")
        leaf = self._ca.issue_cert(
            *hosts, common_name=hosts[0], not_before=not_before, not_after=not_after
        )
        return leaf.cert_chain_pems[0].bytes(), leaf.private_key_pem.bytes()

    def server_context(
        self,
        *hosts: str,
        not_before: datetime | None = None,
        not_after: datetime | None = None,
    ) -> ssl.SSLContext:
        """A server context presenting a certificate for ``hosts`` issued by this CA.

        ``not_after`` in the past gives an expired certificate; a few days ahead, one about to
        expire. Naive datetimes are taken as UTC (as ``cryptography`` does).
        """
        if not hosts:
            raise ValueError("a certificate needs at least one host name")
        leaf = self._ca.issue_cert(
            *hosts, common_name=hosts[0], not_before=not_before, not_after=not_after
        )
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        leaf.configure_cert(ctx)
        return ctx
