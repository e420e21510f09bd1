"""A throwaway certificate authority for the lab: issue server certificates that tests trust.

Built on ``cryptography`` (a runtime dependency) so that ``domwatch demo`` works from a plain
``pip install .``, without the test extras.
"""

from __future__ import annotations

import ipaddress
import ssl
import tempfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

_LEEWAY = timedelta(days=1)  # certificates start a day early: clocks differ, tests run at night
_LIFETIME = timedelta(days=3650)  # a certificate nobody set a date for is simply valid


class LabCA:
    """A private CA whose PEM can be given to clients as their only trust anchor.

    Two instances do not trust each other's certificates, so a second ``LabCA`` that is left out
    of the bundle is how the lab serves "a certificate from an unknown CA".
    """

    def __init__(self, organization: str = "domwatch lab CA") -> None:
        # P-256 keys: generated in microseconds, where RSA would cost the demo a second.
        self._key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization),
            x509.NameAttribute(NameOID.COMMON_NAME, f"{organization} root"),
        ])
        now = datetime.now(timezone.utc)
        public = self._key.public_key()
        self._cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(public)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - _LEEWAY)
            .not_valid_after(now + _LIFETIME)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True, content_commitment=False, key_encipherment=False,
                    data_encipherment=False, key_agreement=False, key_cert_sign=True,
                    crl_sign=True, encipher_only=False, decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
            .sign(self._key, hashes.SHA256())
        )

    @property
    def cert_pem(self) -> bytes:
        """The CA certificate in PEM form."""
        return self._cert.public_bytes(serialization.Encoding.PEM)

    def write_ca(self, path: Path) -> Path:
        """Write the CA certificate as PEM (for ``SSL_CERT_FILE`` or ``settings.tls.ca_bundle``)."""
        path = Path(path)
        path.write_bytes(self.cert_pem)
        return path

    def client_context(self) -> ssl.SSLContext:
        """A verifying client context that trusts this CA only."""
        return ssl.create_default_context(cadata=self.cert_pem.decode("ascii"))

    def issue_pem(
        self,
        *hosts: str,
        not_before: datetime | None = None,
        not_after: datetime | None = None,
    ) -> tuple[bytes, bytes]:
        """A leaf certificate for ``hosts`` (names or IP addresses): ``(cert_pem, key_pem)``.

        Naive datetimes are taken as UTC (as ``cryptography`` does).
        """
        if not hosts:
            raise ValueError("a certificate needs at least one host name")
        now = datetime.now(timezone.utc)
        key = ec.generate_private_key(ec.SECP256R1())
        ca_ski = self._cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
        cert = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hosts[0])]))
            .issuer_name(self._cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(not_before or now - _LEEWAY)
            .not_valid_after(not_after or now + _LIFETIME)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski),
                critical=False,
            )
            .add_extension(
                x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False
            )
            .add_extension(x509.SubjectAlternativeName([_san(h) for h in hosts]), critical=False)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True, content_commitment=False, key_encipherment=False,
                    data_encipherment=False, key_agreement=False, key_cert_sign=False,
                    crl_sign=False, encipher_only=False, decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(
                x509.ExtendedKeyUsage(
                    [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]
                ),
                critical=False,
            )
            .sign(self._key, hashes.SHA256())
        )
        key_pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        return cert.public_bytes(serialization.Encoding.PEM), key_pem

    def server_context(
        self,
        *hosts: str,
        not_before: datetime | None = None,
        not_after: datetime | None = None,
    ) -> ssl.SSLContext:
        """A server context presenting a certificate for ``hosts`` issued by this CA.

        ``not_after`` in the past gives an expired certificate; a few days ahead, one about to
        expire.
        """
        cert_pem, key_pem = self.issue_pem(*hosts, not_before=not_before, not_after=not_after)
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        # The ssl module loads certificates from files only: a private directory, gone at once.
        with tempfile.TemporaryDirectory(prefix="domwatch-lab-") as tmp:
            chain = Path(tmp) / "cert.pem"
            chain.write_bytes(cert_pem)
            key = Path(tmp) / "key.pem"
            key.write_bytes(key_pem)
            ctx.load_cert_chain(chain, key)
        return ctx


def _san(host: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(host))
    except ValueError:
        return x509.DNSName(host)
