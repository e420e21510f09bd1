"""Every error domwatch raises on purpose, under one root.

The type says what happened, so callers decide by type (ask again or not, exit status,
wording), never by matching a message. Every message is one line for people.

::

    DomwatchError
    ├── ConfigError          bad input: a domain file, an option, a target (exit status 64)
    │   └── BadName          not a usable domain name
    ├── NetworkError         a question to a server got no usable answer (.final: asking
    │   │                    again would only repeat it)
    │   ├── Unresolvable     the server's name has no address                       (final)
    │   ├── AddressRefused   the address policy forbids connecting there            (final)
    │   ├── RateLimited      the server refuses us for the run, or our quota is used up
    │   ├── WhoisError       one WHOIS exchange failed
    │   │   └── WhoisRefused the address policy refused a WHOIS server or referral  (final)
    │   ├── HttpError        an HTTPS request (RDAP, the bootstrap) got no usable answer
    │   │   └── ResponseTooLarge, TooManyRedirects, PrivateAddressRefused,
    │   │       HttpUnresolvable, HttpTimeout
    │   └── ProbeError       a web or SMTP probe of one address failed
    │       └── HandshakeFailed   the TLS handshake did not complete
    ├── DataError            what a server or a file holds is not what it must be
    │   ├── JsonError        not JSON, or JSON beyond the bounds
    │   │   └── NotJson      not JSON at all
    │   ├── BootstrapError   an RDAP bootstrap file that is not RFC 9224 JSON
    │   └── RecordSyntaxError  an SPF or DMARC record that does not parse
    ├── StateBusy            another run holds the state file
    ├── ListenError          ``serve`` cannot listen on the address
    └── ProbeRefused         ``serve``: a probe request refused (BadProbe: 400, ProbeRejected: 503)

The value errors (BadName, DataError and below, BadProbe) are also ``ValueError``: a validator
that raises one is a validator like any other.
"""

from __future__ import annotations

from domwatch.redaction import redact_urls


class DomwatchError(Exception):
    """The root of every error domwatch raises on purpose."""

    #: Asking again would only get the same answer (a refusal, an unknown name).
    final: bool = False


class ConfigError(DomwatchError):
    """Bad input: the message is one line naming the file, line and key (exit 64).

    URLs quoted in it are redacted as reports redact them: a notification URL typed in the
    wrong place (a string for an array, a URL for a variable name) must not print its secret.
    """

    def __init__(self, message: str) -> None:
        super().__init__(redact_urls(message))


class BadName(ConfigError, ValueError):
    """Input that is not a usable domain name; the message is one line for people."""


class NetworkError(DomwatchError):
    """A question to a server got no usable answer."""


class Unresolvable(NetworkError):
    """The name has no address (or its lookup failed)."""

    final = True


class AddressRefused(NetworkError):
    """The address policy forbids connecting there."""

    final = True


class RateLimited(NetworkError):
    """The server refuses us for the rest of the run, or our own quota is used up for long."""


class WhoisError(NetworkError):
    """One WHOIS exchange failed; ``final`` when asking again would only repeat it."""

    def __init__(self, message: str, *, final: bool = False) -> None:
        super().__init__(message)
        self.final = final


class WhoisRefused(WhoisError):
    """The address policy refused a WHOIS server (or a referral to one)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, final=True)


class HttpError(NetworkError):
    """A request that produced no usable HTTP answer (transport, TLS, policy or size)."""


class ResponseTooLarge(HttpError):
    """The answer was longer than the cap; reading stopped there."""


class TooManyRedirects(HttpError):
    """The redirect chain was longer than allowed."""


class PrivateAddressRefused(HttpError):
    """The address policy (or the https-only rule) refused a server or a redirect."""

    final = True


class HttpUnresolvable(HttpError):
    """The server's name has no address."""

    final = True


class HttpTimeout(HttpError):
    """No (complete) answer within the timeout."""


class ProbeError(NetworkError):
    """A connection attempt of a web or SMTP probe failed."""


class HandshakeFailed(ProbeError):
    """The connection was made but the TLS handshake did not complete."""


class DataError(DomwatchError, ValueError):
    """What a server or a file holds is not what it must be."""


class JsonError(DataError):
    """Not JSON, or JSON beyond the bounds."""


class NotJson(JsonError):
    """Not JSON at all (an HTML error page, say)."""


class BootstrapError(DataError):
    """A bootstrap file that is not RFC 9224 JSON."""


class RecordSyntaxError(DataError):
    """A DNS TXT record (SPF, DMARC) that does not parse; the message says where."""


class StateBusy(DomwatchError):
    """Another run holds the state file for longer than we may wait."""


class ListenError(DomwatchError):
    """The address cannot be listened on (in use, not ours, not permitted)."""


class ProbeRefused(DomwatchError):
    """``serve`` refuses a probe request."""


class BadProbe(ProbeRefused, ValueError):
    """A request that names no usable domain or checks: one line, answered 400."""


class ProbeRejected(ProbeRefused):
    """No room for another lookup (or shutting down): answered 503."""
