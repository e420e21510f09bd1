"""The values a person types into a domain file or on the command line, and their kinds.

Each parser takes one value and returns it checked, or raises ``ValueError`` with a message
that reads after the key's name (``'dns.google' is not an IP address``). A :class:`Kind` is
one type of setting value: how it is read from a domain file (through a :class:`Reader`, which
places its errors at a file, line and key) and from the command line (a ``ValueError``).
"""

from __future__ import annotations

import difflib
import ipaddress
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from fnmatch import fnmatchcase
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Generic, Protocol, TypeVar
from urllib.parse import urlsplit

from domwatch.errors import BadName, ConfigError
from domwatch.model import CHECKS, FINDING_CODES
from domwatch.names import to_ascii

if TYPE_CHECKING:
    from domwatch.net.limits import ServerLimit

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)
KeyPath = tuple[str | int, ...]

# --------------------------------------------------------------------------- words


def kind_of(value: object) -> str:
    """A value's type in TOML words, for messages."""
    if isinstance(value, bool):
        return f"a boolean ({str(value).lower()})"
    if isinstance(value, int | float):
        return f"a number ({value})"
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:37] + "..."
        return f"a string ({shown!r})"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, datetime | date):
        return f"a date ({value.isoformat()})"
    return type(value).__name__


def suggest(word: str, choices: Sequence[str]) -> str:
    """`` (did you mean 'x'?)`` for the closest of ``choices``, or nothing."""
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


# --------------------------------------------------------------------------- endpoints


@dataclass(frozen=True)
class Endpoint:
    """A host with an optional port (``HOST``, ``HOST:PORT``, ``[v6]:PORT``)."""

    host: str
    port: int | None = None

    def __str__(self) -> str:
        if self.port is None:
            return self.host
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"


def parse_endpoint(text: str, *, require_ip: bool = False) -> Endpoint:
    """``ADDR``, ``ADDR:PORT``, ``[v6]:PORT`` or a bare IPv6 address; raises ValueError.

    With ``require_ip`` the host must be an IP address (resolvers are asked by address).
    """
    text = text.strip()
    if not text:
        raise ValueError("empty address")
    port: int | None = None
    if text.startswith("["):
        end = text.find("]")
        if end < 0:
            raise ValueError(f"{text!r}: missing ']'")
        host, rest = text[1:end], text[end + 1 :]
        if not is_ip(host, version=6):
            raise ValueError(f"{text!r}: only an IPv6 address goes inside [...]")
        if rest:
            if not rest.startswith(":"):
                raise ValueError(f"{text!r}: expected ':PORT' after ']'")
            port = _port(rest[1:], text)
    elif text.count(":") > 1:
        host = text
        if not is_ip(host, version=6):
            raise ValueError(f"{text!r}: not an IPv6 address (write [ADDR]:PORT to add a port)")
    elif ":" in text:
        host, _, port_text = text.partition(":")
        port = _port(port_text, text)
    else:
        host = text
    if is_ip(host):
        return Endpoint(str(ipaddress.ip_address(host)), port)
    if require_ip:
        raise ValueError(f"{host!r} is not an IP address (give the server by address)")
    try:
        return Endpoint(to_ascii(host), port)
    except BadName as exc:
        raise ValueError(str(exc)) from None


def is_ip(text: str, version: int | None = None) -> bool:
    """Whether ``text`` is an IP address (of ``version``, when given)."""
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return False
    return version is None or address.version == version


def _port(text: str, whole: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 65535:
        raise ValueError(f"{whole!r}: port must be a number from 1 to 65535")
    return int(text)


# --------------------------------------------------------------------------- plain values

_DURATION = re.compile(r"(\d+)\s*([smhdw]?)")
_UNIT_SECONDS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_CODE = re.compile(r"[a-z]+(\.[a-z_*]+)+")
_NOTIFY_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://\S+")
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
LIMIT_PERIODS = {"per_second": 1.0, "per_minute": 60.0, "per_hour": 3600.0, "per_day": 86400.0}
LIMIT_KEYS = ("concurrency", *LIMIT_PERIODS)


def parse_duration(value: object) -> float:
    """Seconds from ``"24h"``, ``"30m"``, ``"1d"``, ``"3600s"`` or a number of seconds."""
    if isinstance(value, bool):
        raise ValueError("expected a duration like '24h', got a boolean")
    if isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str):
        match = _DURATION.fullmatch(value.strip().lower())
        if not match:
            raise ValueError(f"{value!r} is not a duration (like '24h', '30m', '1d', '3600s')")
        seconds = float(int(match[1]) * _UNIT_SECONDS[match[2]])
    else:
        raise ValueError(f"expected a duration like '24h', got {kind_of(value)}")
    if seconds <= 0:
        raise ValueError("must be more than zero")
    return seconds


def seconds(value: object) -> float:
    """A number of seconds above zero (``timeout``)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"expected a number of seconds, got {kind_of(value)}")
    if not 0 < value < math.inf:  # also refuses TOML's nan and inf
        raise ValueError(f"must be a finite number above zero, got {value}")
    return float(value)


def choice(value: str, choices: Sequence[str], what: str) -> str:
    """``value`` when it is one of ``choices``; else an error listing them."""
    if value not in choices:
        raise ValueError(
            f"unknown {what} {value!r} (valid: {', '.join(choices)})" + suggest(value, choices)
        )
    return value


def check_names(values: Sequence[str]) -> tuple[str, ...]:
    """Check names, validated, in the one order whatever was typed."""
    if not values:
        raise ValueError(f"empty list of checks (valid: {', '.join(CHECKS)})")
    out: list[str] = []
    for value in values:
        if value == "tls":
            raise ValueError("unknown check 'tls' (the TLS certificate is part of 'web')")
        out.append(choice(value, CHECKS, "check"))
    return tuple(c for c in CHECKS if c in out)


def parse_checks(text: str) -> tuple[str, ...]:
    """``"registration,web"`` as validated check names, in the one order; raises ValueError."""
    return check_names([w for w in (w.strip().lower() for w in text.split(",")) if w])


def https_url(value: str) -> str:
    """An ``https://`` URL with a usable host name."""
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError as exc:
        raise ValueError(f"{value!r} is not a valid URL: {exc}") from None
    if parts.scheme != "https" or not parts.hostname:
        raise ValueError(f"{value!r} is not an https:// URL")
    try:
        to_ascii(parts.hostname) if not is_ip(parts.hostname) else None
    except BadName as exc:
        raise ValueError(f"{value!r}: bad host name: {exc}") from None
    return value


def notify_url(value: str) -> str:
    """An Apprise URL (its text is never echoed: these URLs carry tokens and passwords)."""
    if not _NOTIFY_URL.fullmatch(value.strip()):
        raise ValueError("not an Apprise URL (like 'mailto://ops@example.com' or 'ntfy://topic')")
    return value.strip()


def ignore_code(code: str) -> str:
    """An ``ignore`` entry: a finding code domwatch reports, or a pattern (``mail.spf.*``)
    matching at least one; anything else would silently ignore nothing."""
    if not _CODE.fullmatch(code):
        raise ValueError(f"{code!r} is not a finding code (like 'mail.dmarc.missing')")
    # An exact code (the usual case, per [[domain]] entry) needs no pattern scan.
    if code not in FINDING_CODES and not any(fnmatchcase(k, code) for k in FINDING_CODES):
        raise ValueError(
            f"{code!r} is no finding code domwatch reports" + suggest(code, sorted(FINDING_CODES))
        )
    return code


def expiry_date(value: object) -> date:
    """A date typed by a person (``2027-03-01``, or a TOML date)."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()):
        try:
            return date.fromisoformat(value.strip())
        except ValueError as exc:
            raise ValueError(f"{value!r} is not a real date: {exc}") from None
    raise ValueError(f"expected a date like 2027-03-01, got {kind_of(value)}")


def tld_key(key: str) -> str:
    """A top-level domain (``rdap.servers`` keys)."""
    try:
        tld = to_ascii(key.lstrip("."))
    except BadName as exc:
        raise ValueError(str(exc)) from None
    if "." in tld:
        raise ValueError(f"{key!r}: expected a top-level domain (one label, like 'fi')")
    return tld


def zone_key(key: str) -> str:
    """A TLD, or a zone run by its own registry (``co.za``, ``gb.com``): WHOIS server keys."""
    try:
        return to_ascii(key.lstrip("."))
    except BadName as exc:
        raise ValueError(str(exc)) from None


def whois_limit_key(text: str) -> str:
    """A WHOIS server as the limiters name it (``host:43``)."""
    from domwatch.net.limits import whois_key  # asyncio: not for `domwatch --help`

    endpoint = parse_endpoint(text)
    return whois_key(endpoint.host, endpoint.port or 43)


def rdap_limit_key(text: str) -> str:
    """An RDAP server as the limiters name it (``https://host``)."""
    from domwatch.net.limits import rdap_key

    if "://" in text:
        return rdap_key(https_url(text))
    endpoint = parse_endpoint(text)
    return rdap_key("https://" + str(endpoint))


def _address(text: str) -> Endpoint:
    return parse_endpoint(text, require_ip=True)


def _as_list(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
        return list(value)
    raise ValueError(f"expected text, got {kind_of(value)}")


def _option_int(value: object, minimum: int) -> int:
    if isinstance(value, str) and re.fullmatch(r"\s*-?\d+\s*", value):
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValueError(f"expected a whole number, got {kind_of(value)}")
    if value < minimum:
        raise ValueError(f"must be at least {minimum}, got {value}")
    return value


# --------------------------------------------------------------------------- kinds


class Reader(Protocol):
    """A domain file being read: its methods raise errors placed at a file, line and key."""

    def error(self, path: KeyPath, what: str) -> ConfigError:
        """The error ``what`` at ``path``."""
        ...

    def table(self, path: KeyPath, value: object) -> dict[str, object]:
        """``value`` as a table."""
        ...

    def keys(self, path: KeyPath, table: Mapping[str, object], allowed: Sequence[str]) -> None:
        """Refuse keys not ``allowed`` (suggesting the closest)."""
        ...

    def typed(self, path: KeyPath, value: object, kind: type[T], words: str) -> T:
        """``value`` when it is a ``kind`` (a bool is no number)."""
        ...

    def integer(self, path: KeyPath, value: object, minimum: int) -> int:
        """A whole number at least ``minimum``."""
        ...

    def strings(self, path: KeyPath, value: object, what: str = "a string") -> list[str]:
        """An array of strings."""
        ...

    def check(self, path: KeyPath, fn: Callable[..., T], *args: Any) -> T:
        """``fn(*args)``, its ValueError placed at ``path``."""
        ...

    def file_path(self, path: KeyPath, value: object, must_exist: bool) -> Path:
        """A path relative to the domain file."""
        ...


class Kind(Generic[T_co]):
    """One type of setting value: how it is read from a domain file and from an option.

    ``words`` says it in the table of settings. A kind with no command-line reading refuses
    it (``unknown option``): such settings live in domain files only.
    """

    words: ClassVar[str] = "a value"

    def describe(self) -> str:
        """The kind in a few words, for the table of settings."""
        return self.words

    def from_toml(self, reader: Reader, path: KeyPath, value: object) -> T_co:
        """The value at ``path`` of a domain file, checked."""
        raise NotImplementedError

    def from_option(self, value: object, cwd: Path) -> T_co:
        """The value given on the command line (or by a caller), checked; ValueError."""
        raise ValueError("unknown option")


class Flag(Kind[bool]):
    """``true`` / ``false``; on the command line a flag."""

    words = "true or false"

    def from_toml(self, reader: Reader, path: KeyPath, value: object) -> bool:
        return reader.typed(path, value, bool, "true or false")

    def from_option(self, value: object, cwd: Path) -> bool:
        if not isinstance(value, bool):
            raise ValueError(f"expected on or off, got {kind_of(value)}")
        return value


@dataclass(frozen=True)
class Count(Kind[int]):
    """A whole number, at least ``minimum``."""

    minimum: int
    words = "a whole number"

    def from_toml(self, reader: Reader, path: KeyPath, value: object) -> int:
        return reader.integer(path, value, self.minimum)

    def from_option(self, value: object, cwd: Path) -> int:
        return _option_int(value, self.minimum)


class Seconds(Kind[float]):
    """A number of seconds above zero."""

    words = "seconds"

    def from_toml(self, reader: Reader, path: KeyPath, value: object) -> float:
        return reader.check(path, seconds, value)

    def from_option(self, value: object, cwd: Path) -> float:
        if isinstance(value, str):
            try:
                value = float(value)
            except ValueError:
                raise ValueError(f"expected a number of seconds, got {kind_of(value)}") from None
        return seconds(value)


@dataclass(frozen=True)
class Choice(Kind[str]):
    """One word of ``choices`` (``what`` names them in errors: format, state, order)."""

    choices: tuple[str, ...]
    what: str

    def describe(self) -> str:
        return " | ".join(f"`{c}`" for c in self.choices)

    def from_toml(self, reader: Reader, path: KeyPath, value: object) -> str:
        text = reader.typed(path, value, str, "a string")
        return reader.check(path, choice, text, self.choices, self.what)

    def from_option(self, value: object, cwd: Path) -> str:
        if not isinstance(value, str):
            raise ValueError(f"expected text, got {kind_of(value)}")
        return choice(value.strip().lower(), self.choices, self.what)


class Checks(Kind[tuple[str, ...]]):
    """A list of check names; on the command line comma-separated."""

    words = "a list of checks"

    def from_toml(self, reader: Reader, path: KeyPath, value: object) -> tuple[str, ...]:
        return reader.check(path, check_names, reader.strings(path, value))

    def from_option(self, value: object, cwd: Path) -> tuple[str, ...]:
        return parse_checks(",".join(_as_list(value)))


@dataclass(frozen=True)
class FilePath(Kind[Path | None]):
    """A file path: in a domain file relative to the file, on the command line to the cwd."""

    must_exist: bool = False
    words = "a file path"

    def from_toml(self, reader: Reader, path: KeyPath, value: object) -> Path | None:
        return reader.file_path(path, value, must_exist=self.must_exist)

    def from_option(self, value: object, cwd: Path) -> Path | None:
        if not isinstance(value, str | Path) or not str(value).strip():
            raise ValueError(f"expected a path, got {kind_of(value)}")
        # A must-exist path (ca_bundle) has no option; its check is the file reader's.
        return cwd / Path(value).expanduser()


class Nameservers(Kind[tuple[Endpoint, ...]]):
    """DNS resolvers by address: ``ADDR`` or ``ADDR:PORT`` (``[v6]:PORT``)."""

    words = "addresses"

    def from_toml(self, reader: Reader, path: KeyPath, value: object) -> tuple[Endpoint, ...]:
        servers = reader.strings(path, value, "an IP address")
        return tuple(
            reader.check((*path, i), _address, server) for i, server in enumerate(servers)
        )

    def from_option(self, value: object, cwd: Path) -> tuple[Endpoint, ...]:
        return tuple(_address(v) for v in _as_list(value))


class HostPort(Kind[Endpoint]):
    """A server as ``HOST[:PORT]``."""

    words = "HOST[:PORT]"

    def from_toml(self, reader: Reader, path: KeyPath, value: object) -> Endpoint:
        text = reader.typed(path, value, str, "a HOST[:PORT] string")
        return reader.check(path, parse_endpoint, text)


class WhoisServers(Kind[dict[str, Endpoint]]):
    """Per TLD, or per zone with its own registry (``gb.com``): a ``HOST[:PORT]``."""

    words = "{ TLD = HOST[:PORT] }"

    def from_toml(self, reader: Reader, path: KeyPath, value: object) -> dict[str, Endpoint]:
        out: dict[str, Endpoint] = {}
        for zone, server in reader.table(path, value).items():
            text = reader.typed((*path, zone), server, str, "a HOST[:PORT] string")
            key = reader.check((*path, zone), zone_key, zone)
            out[key] = reader.check((*path, zone), parse_endpoint, text)
        return out


class RdapServers(Kind[dict[str, str]]):
    """Per TLD: the base URL of its RDAP server."""

    words = "{ TLD = URL }"

    def from_toml(self, reader: Reader, path: KeyPath, value: object) -> dict[str, str]:
        urls: dict[str, str] = {}
        for tld, url in reader.table(path, value).items():
            text = reader.typed((*path, tld), url, str, "an https:// URL")
            key = reader.check((*path, tld), tld_key, tld)
            # A base URL: the client appends "domain/NAME", which needs the slash.
            base = reader.check((*path, tld), https_url, text)
            urls[key] = base if base.endswith("/") else base + "/"
        return urls


@dataclass(frozen=True)
class ServerLimits(Kind["dict[str, ServerLimit]"]):
    """``{ "server" = { concurrency = 2, per_minute = 60 } }``: politeness per server."""

    key_of: Callable[[str], str]
    words = "{ SERVER = { concurrency, per_second, ... } }"

    def from_toml(self, reader: Reader, path: KeyPath, value: object) -> dict[str, ServerLimit]:
        from domwatch.net.limits import Quota, ServerLimit

        limits: dict[str, ServerLimit] = {}
        for server, spec in reader.table(path, value).items():
            where = (*path, server)
            key = reader.check(where, self.key_of, server)
            table = reader.table(where, spec)
            reader.keys(where, table, LIMIT_KEYS)
            if not table:
                raise reader.error(where, "empty limit (set concurrency and/or " + ", ".join(
                    LIMIT_PERIODS) + ")")
            concurrency = None
            if "concurrency" in table:
                concurrency = reader.integer((*where, "concurrency"), table["concurrency"], 1)
            quotas = tuple(
                Quota(reader.integer((*where, name), table[name], 1), length)
                for name, length in LIMIT_PERIODS.items()
                if name in table
            )
            limits[key] = ServerLimit(concurrency, quotas or None)
        return limits


class Bootstrap(Kind[str | None]):
    """Where IANA's RDAP bootstrap is read: an https URL or a file."""

    words = "a URL or a file path"

    def from_toml(self, reader: Reader, path: KeyPath, value: object) -> str | None:
        text = reader.typed(path, value, str, "a URL or a file path")
        if "://" in text:
            return reader.check(path, https_url, text)
        return str(reader.file_path(path, text, must_exist=True))


class NotifyUrls(Kind[tuple[str, ...]]):
    """Apprise URLs."""

    words = "URLs"

    def from_toml(self, reader: Reader, path: KeyPath, value: object) -> tuple[str, ...]:
        urls = reader.strings(path, value, "a URL")
        return tuple(reader.check((*path, i), notify_url, u) for i, u in enumerate(urls))

    def from_option(self, value: object, cwd: Path) -> tuple[str, ...]:
        return tuple(notify_url(v) for v in _as_list(value))


class EnvName(Kind[str | None]):
    """The name of an environment variable."""

    words = "a variable name"

    def from_toml(self, reader: Reader, path: KeyPath, value: object) -> str | None:
        name = reader.typed(path, value, str, "an environment variable name")
        if not _ENV_NAME.fullmatch(name):
            raise reader.error(path, f"{name!r} is not an environment variable name")
        return name


class Duration(Kind[float]):
    """A duration: ``"24h"``, ``"30m"``, ``"1d"`` or seconds."""

    words = "a duration"

    def from_toml(self, reader: Reader, path: KeyPath, value: object) -> float:
        return reader.check(path, parse_duration, value)


class Urls(Kind[tuple[str, ...]]):
    """``https://`` URLs (a domain's web pages)."""

    words = "https:// URLs"

    def from_toml(self, reader: Reader, path: KeyPath, value: object) -> tuple[str, ...]:
        urls = reader.strings(path, value, "an https:// URL")
        return tuple(reader.check((*path, i), https_url, u) for i, u in enumerate(urls))


class Date(Kind[date | None]):
    """A date (``2027-03-01``)."""

    words = "a date"

    def from_toml(self, reader: Reader, path: KeyPath, value: object) -> date | None:
        return reader.check(path, expiry_date, value)


class Codes(Kind[frozenset[str]]):
    """Finding codes, or patterns matching some."""

    words = "finding codes"

    def from_toml(self, reader: Reader, path: KeyPath, value: object) -> frozenset[str]:
        codes = reader.strings(path, value, "a finding code")
        for i, code in enumerate(codes):
            reader.check((*path, i), ignore_code, code)
        return frozenset(codes)


class Tags(Kind[tuple[str, ...]]):
    """Words to select domains by (``--tag``)."""

    words = "strings"

    def from_toml(self, reader: Reader, path: KeyPath, value: object) -> tuple[str, ...]:
        tags = reader.strings(path, value, "a string")
        for i, tag in enumerate(tags):
            if not tag.strip():
                raise reader.error((*path, i), "empty tag")
        return tuple(tags)

    def from_option(self, value: object, cwd: Path) -> tuple[str, ...]:
        tags = tuple(t.strip() for t in _as_list(value))
        if not all(tags):
            raise ValueError("empty tag")
        return tags
