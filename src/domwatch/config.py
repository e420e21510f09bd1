"""Domain files and command-line options in, validated settings and domains out.

Every input error becomes a :class:`ConfigError` with one line that names the file, the line
and the key (``domains.toml:14: settings.warn_dayz: unknown key (did you mean 'warn_days'?)``),
or the option (``--checks: unknown check 'foo' ...``).
"""

from __future__ import annotations

import contextlib
import difflib
import ipaddress
import math
import os
import re
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any, TextIO, TypeVar, cast
from urllib.parse import urlsplit

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib  # type: ignore[import-not-found, unused-ignore]

from domwatch.errors import BadName, ConfigError
from domwatch.model import CHECKS, FINDING_CODES, Domain, Thresholds
from domwatch.names import Name, known_suffix, normalise, to_ascii
from domwatch.net.limits import Quota, ServerLimit, rdap_key, whois_key

FORMATS = ("table", "json", "csv", "junit", "prometheus", "nagios", "github", "ics", "html")
FAIL_ON = ("warning", "critical", "never")
SORTS = ("urgency", "input")  # the table's order
NOTIFY_MIN = ("warning", "critical")
DEFAULT_FILE = "domwatch.toml"

_T = TypeVar("_T")
KeyPath = tuple[str | int, ...]


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


@dataclass(frozen=True)
class Settings:
    """Run-wide settings: the ``[settings]`` table merged with command-line options."""

    format: str = "table"
    output: Path | None = None
    checks: tuple[str, ...] = CHECKS
    thresholds: Thresholds = field(default_factory=Thresholds)
    fail_on: str = "warning"  # warning | critical | never
    sort: str = "urgency"  # the table's order: urgency | input
    quiet: bool = False
    concurrency: int = 32
    smtp_port: int = 25  # where MX hosts are probed for STARTTLS (the lab uses another)
    timeout: float = 10.0
    resolvers: tuple[Endpoint, ...] = ()  # empty: the system's
    cache: bool = True
    cache_dir: Path | None = None
    state: bool = True
    state_path: Path | None = None
    progress: bool | None = None  # None: when stderr is a terminal
    verbose: bool = False
    mail_tls: bool = False
    whois_iana: Endpoint = Endpoint("whois.iana.org")
    # TLD, or a zone with its own registry (co.za, gb.com) -> server
    whois_servers: dict[str, Endpoint] = field(default_factory=dict)
    rdap_bootstrap: str | None = None  # https URL, or an absolute file path
    rdap_servers: dict[str, str] = field(default_factory=dict)  # TLD -> base URL, ends in "/"
    # Per-server politeness overrides, keyed like the limiters ("host:43", "https://host").
    server_limits: dict[str, ServerLimit] = field(default_factory=dict)
    ca_bundle: Path | None = None
    allow_private: bool = False
    notify_urls: tuple[str, ...] = ()
    notify_urls_env: str | None = None
    notify_remind: float = 86400.0
    notify_min: str = "warning"
    dry_run_notify: bool = False


@dataclass(frozen=True)
class Config:
    """What a run needs: the settings and the domains, in input order, each once."""

    settings: Settings
    domains: tuple[Domain, ...]


# --------------------------------------------------------------------------- small parsers


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
        if not _is_ip(host, version=6):
            raise ValueError(f"{text!r}: only an IPv6 address goes inside [...]")
        if rest:
            if not rest.startswith(":"):
                raise ValueError(f"{text!r}: expected ':PORT' after ']'")
            port = _port(rest[1:], text)
    elif text.count(":") > 1:
        host = text
        if not _is_ip(host, version=6):
            raise ValueError(f"{text!r}: not an IPv6 address (write [ADDR]:PORT to add a port)")
    elif ":" in text:
        host, _, port_text = text.partition(":")
        port = _port(port_text, text)
    else:
        host = text
    if _is_ip(host):
        return Endpoint(str(ipaddress.ip_address(host)), port)
    if require_ip:
        raise ValueError(f"{host!r} is not an IP address (give the server by address)")
    try:
        return Endpoint(to_ascii(host), port)
    except BadName as exc:
        raise ValueError(str(exc)) from None


def _is_ip(text: str, version: int | None = None) -> bool:
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return False
    return version is None or address.version == version


def _port(text: str, whole: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 65535:
        raise ValueError(f"{whole!r}: port must be a number from 1 to 65535")
    return int(text)


_DURATION = re.compile(r"(\d+)\s*([smhdw]?)")
_UNIT_SECONDS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


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
        raise ValueError(f"expected a duration like '24h', got {_kind(value)}")
    if seconds <= 0:
        raise ValueError("must be more than zero")
    return seconds


def _kind(value: object) -> str:
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


def _suggest(word: str, choices: Sequence[str]) -> str:
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


def _format_path(path: KeyPath) -> str:
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            key = part if re.fullmatch(r"[A-Za-z0-9_-]+", part) else f'"{part}"'
            out += f".{key}" if out else key
    return out


# --------------------------------------------------------------------------- line locator


class _ScanStop(Exception):
    """The scanner met something it does not follow; what it found so far stays valid."""


class _Locator:
    """Line numbers of key paths in TOML source, since tomllib reports none.

    Only used on text tomllib has accepted, so it can be lenient: it follows table headers
    (with the index of each ``[[array]]`` occurrence), dotted keys, arrays (one entry per
    element) and inline tables, and skips strings and comments.
    """

    def __init__(self, text: str) -> None:
        self._s = text
        self._i = 0
        self._line = 1
        self._aot: dict[KeyPath, int] = {}
        self.lines: dict[KeyPath, int] = {}
        with contextlib.suppress(_ScanStop, IndexError, tomllib.TOMLDecodeError, RecursionError):
            self._document()

    def line(self, path: KeyPath) -> int:
        """The line of ``path``, or of its nearest recorded parent (1 when none)."""
        for n in range(len(path), 0, -1):
            if path[:n] in self.lines:
                return self.lines[path[:n]]
        return 1

    def _peek(self, n: int = 1) -> str:
        return self._s[self._i : self._i + n]

    def _advance(self, n: int = 1) -> None:
        self._line += self._s.count("\n", self._i, self._i + n)
        self._i += n

    def _skip(self, newlines: bool) -> None:
        while self._i < len(self._s):
            char = self._s[self._i]
            if char in " \t\r" or (newlines and char == "\n"):
                self._advance()
            elif char == "#":
                end = self._s.find("\n", self._i)
                self._advance((len(self._s) if end < 0 else end) - self._i)
            else:
                return

    def _record(self, path: KeyPath, line: int) -> None:
        for n in range(1, len(path) + 1):
            self.lines.setdefault(path[:n], line)

    def _document(self) -> None:
        table: KeyPath = ()
        while True:
            self._skip(newlines=True)
            if self._i >= len(self._s):
                return
            line = self._line
            if self._peek(2) == "[[":
                self._advance(2)
                keys = self._keys()
                parent = self._resolve(keys[:-1])
                array = (*parent, keys[-1])
                index = self._aot.get(array, 0)
                self._aot[array] = index + 1
                table = (*array, index)
                self._expect("]]")
            elif self._peek() == "[":
                self._advance()
                table = self._resolve(self._keys())
                self._expect("]")
            else:
                path = (*table, *self._keys())
                self._skip(newlines=False)
                self._expect("=")
                self._record(path, line)
                self._skip(newlines=False)
                self._value(path)
                continue
            self._record(table, line)

    def _resolve(self, keys: Sequence[str]) -> KeyPath:
        # A header naming an array of tables means its latest element, as in TOML itself.
        path: KeyPath = ()
        for key in keys:
            path = (*path, key)
            if path in self._aot:
                path = (*path, self._aot[path] - 1)
        return path

    def _expect(self, token: str) -> None:
        self._skip(newlines=False)
        if self._peek(len(token)) != token:
            raise _ScanStop
        self._advance(len(token))

    def _keys(self) -> list[str]:
        keys: list[str] = []
        while True:
            self._skip(newlines=False)
            char = self._peek()
            if char in ('"', "'"):
                start = self._i
                self._string()
                # Let tomllib decode the escapes: exact, and no second implementation.
                keys.append(str(tomllib.loads("k = " + self._s[start : self._i])["k"]))
            else:
                match = re.compile(r"[A-Za-z0-9_-]+").match(self._s, self._i)
                if not match:
                    raise _ScanStop
                keys.append(match[0])
                self._advance(match.end() - self._i)
            self._skip(newlines=False)
            if self._peek() != ".":
                return keys
            self._advance()

    def _string(self) -> None:
        quote = self._peek()
        if self._peek(3) == quote * 3:
            self._advance(3)
            while self._i < len(self._s):
                if quote == '"' and self._peek() == "\\":
                    self._advance(2)
                elif self._peek(3) == quote * 3:
                    # Up to two quotes may end the content right before the closing three.
                    run = len(self._s[self._i :]) - len(self._s[self._i :].lstrip(quote))
                    self._advance(min(run, 5))
                    return
                else:
                    self._advance()
            raise _ScanStop
        self._advance()
        while self._i < len(self._s) and self._peek() != quote:
            self._advance(2 if quote == '"' and self._peek() == "\\" else 1)
        self._advance()

    def _value(self, path: KeyPath) -> None:
        char = self._peek()
        if char in ('"', "'"):
            self._string()
        elif char == "[":
            self._advance()
            index = 0
            while True:
                self._skip(newlines=True)
                if self._peek() in ("]", ""):
                    self._advance()
                    return
                self._record((*path, index), self._line)
                self._value((*path, index))
                index += 1
                self._skip(newlines=True)
                if self._peek() == ",":
                    self._advance()
        elif char == "{":
            self._advance()
            while True:
                self._skip(newlines=True)
                if self._peek() in ("}", ""):
                    self._advance()
                    return
                line = self._line
                sub = (*path, *self._keys())
                self._expect("=")
                self._record(sub, line)
                self._skip(newlines=False)
                self._value(sub)
                self._skip(newlines=True)
                if self._peek() == ",":
                    self._advance()
        else:
            start = self._i
            while self._i < len(self._s) and self._s[self._i] not in ",]}#\n":
                self._advance()
            if self._i == start:
                raise _ScanStop


# --------------------------------------------------------------------------- reading files


def _read_text(label: str, path: Path) -> str:
    """The file as text, or a ConfigError that says why not."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"{label}: no such file") from None
    except IsADirectoryError:
        raise ConfigError(f"{label}: is a directory, not a file") from None
    except PermissionError:
        raise ConfigError(f"{label}: permission denied") from None
    except OSError as exc:
        raise ConfigError(f"{label}: cannot read: {exc.strerror or exc}") from None
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ConfigError(f"{label}: UTF-16 text; save the file as UTF-8")
    nul = data.find(b"\0")
    if nul >= 0:
        line = data.count(b"\n", 0, nul) + 1
        raise ConfigError(f"{label}:{line}: binary data (a NUL byte), not a text file")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise ConfigError(
            f"{label}:{line}: not UTF-8 text (byte 0x{data[exc.start]:02x}); save it as UTF-8"
        ) from None


def _parse_toml(label: str, text: str) -> dict[str, Any]:
    try:
        doc: dict[str, Any] = tomllib.loads(text)
    except RecursionError:
        # tomllib recurses once per level of nesting; no domain file needs more than three.
        raise ConfigError(
            f"{label}:{_deepest_line(text)}: TOML syntax error: arrays or inline tables "
            "nested too deeply"
        ) from None
    except tomllib.TOMLDecodeError as exc:
        message = str(exc).splitlines()[0] if str(exc) else "invalid TOML"
        line: int | str = "?"
        match = re.search(r"\s*\(at line (\d+), column (\d+)\)$", message)
        if match:
            line = int(match[1])
            message = f"{message[: match.start()]} (column {match[2]})"
        elif message.endswith("(at end of document)"):
            line = text.count("\n") + (0 if text.endswith("\n") else 1)
            message = message[: -len("(at end of document)")].rstrip() + " (at end of file)"
        raise ConfigError(f"{label}:{line}: TOML syntax error: {_lower_first(message)}") from None
    return doc


def _deepest_line(text: str) -> int:
    """The line where brackets nest deepest (counted roughly: strings are not skipped)."""
    depth = deepest = 0
    line = where = 1
    for char in text:
        if char == "\n":
            line += 1
        elif char in "[{":
            depth += 1
            if depth > deepest:
                deepest, where = depth, line
        elif char in "]}":
            depth -= 1
    return where


# --------------------------------------------------------------------------- TOML schema

_Where = str  # "file.toml:5: settings.crit_days", "--crit-days", or "" for a default
_Layer = dict[str, tuple[object, _Where]]  # Settings-ish field -> (value, where it was set)

_THRESHOLD_KEYS = ("warn_days", "crit_days", "cert_warn_days", "cert_crit_days")
_SETTINGS_KEYS = (
    *_THRESHOLD_KEYS,
    *("checks", "concurrency", "timeout", "fail_on", "format", "quiet", "mail_tls", "output"),
    "sort",
    "smtp_port",
    *("cache", "cache_dir", "state", "state_path", "progress", "verbose"),
    *("resolver", "whois", "rdap", "tls", "network", "notify"),
)
_SUBTABLE_KEYS = {
    "resolver": ("nameservers",),
    "whois": ("iana", "servers", "limits"),
    "rdap": ("bootstrap", "servers", "limits"),
    "tls": ("ca_bundle",),
    "network": ("allow_private",),
    "notify": ("urls", "urls_env", "remind", "min"),
}
_DOMAIN_KEYS = (
    "name",
    *_THRESHOLD_KEYS,
    *("checks", "web", "mail", "mail_tls", "expires", "ignore", "tags", "notify"),
)
_TOP_KEYS = ("domains", "settings", "domain")
_LIMIT_PERIODS = {"per_second": 1.0, "per_minute": 60.0, "per_hour": 3600.0, "per_day": 86400.0}
_LIMIT_KEYS = ("concurrency", *_LIMIT_PERIODS)
_CODE = re.compile(r"[a-z]+(\.[a-z_*]+)+")
_NOTIFY_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://\S+")
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass
class _Entry:
    """One domain as read, before duplicates are merged and settings applied."""

    name: Name
    source: str
    layer: _Layer = field(default_factory=dict)  # thresholds, checks, mail_tls set here
    extra: dict[str, Any] = field(default_factory=dict)  # the other Domain fields


class _File:
    """One TOML domain file being validated: turns key paths into located errors."""

    def __init__(self, label: str, path: Path, text: str) -> None:
        self.label = label
        self.base = path.parent
        self.doc = _parse_toml(label, text)
        self.loc = _Locator(text)

    def where(self, path: KeyPath) -> str:
        return f"{self.label}:{self.loc.line(path)}: {_format_path(path)}"

    def error(self, path: KeyPath, what: str) -> ConfigError:
        return ConfigError(f"{self.where(path)}: {what}")

    def keys(self, path: KeyPath, table: Mapping[str, object], allowed: Sequence[str]) -> None:
        for key in table:
            if key not in allowed:
                raise self.error((*path, key), "unknown key" + _suggest(key, allowed))

    def table(self, path: KeyPath, value: object) -> dict[str, object]:
        if not isinstance(value, dict):
            raise self.error(path, f"expected a table, got {_kind(value)}")
        return cast(dict[str, object], value)

    def typed(self, path: KeyPath, value: object, kind: type[_T], words: str) -> _T:
        # bool is an int in Python, but `warn_days = true` is surely a mistake.
        if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
            raise self.error(path, f"expected {words}, got {_kind(value)}")
        return value

    def integer(self, path: KeyPath, value: object, minimum: int) -> int:
        number = self.typed(path, value, int, "a whole number")
        if number < minimum:
            raise self.error(path, f"must be at least {minimum}, got {number}")
        return number

    def strings(self, path: KeyPath, value: object, what: str = "a string") -> list[str]:
        plural = re.sub(r"^an? ", "", what) + ("es" if what.endswith("s") else "s")
        items = self.typed(path, value, list, f"an array of {plural}")
        return [self.typed((*path, i), item, str, what) for i, item in enumerate(items)]

    def check(self, path: KeyPath, fn: Any, *args: Any) -> Any:
        """Run a validator that raises ValueError, locating its complaint at ``path``."""
        try:
            return fn(*args)
        except ValueError as exc:
            raise self.error(path, str(exc)) from None

    def file_path(self, path: KeyPath, value: object, must_exist: bool) -> Path:
        text = self.typed(path, value, str, "a file path")
        if not text.strip():
            raise self.error(path, "empty path")
        # Relative to the domain file, so cron and CI can run from any directory.
        resolved = self.base / Path(text).expanduser()
        if must_exist and not resolved.is_file():
            what = "is a directory" if resolved.is_dir() else "no such file"
            raise self.error(path, f"{what}: {str(resolved)!r}")
        return resolved


def _seconds(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"expected a number of seconds, got {_kind(value)}")
    if not 0 < value < math.inf:  # also refuses TOML's nan and inf
        raise ValueError(f"must be a finite number above zero, got {value}")
    return float(value)


def _choice(value: str, choices: Sequence[str], what: str) -> str:
    if value not in choices:
        raise ValueError(
            f"unknown {what} {value!r} (valid: {', '.join(choices)})" + _suggest(value, choices)
        )
    return value


def _checks(values: Sequence[str]) -> tuple[str, ...]:
    if not values:
        raise ValueError(f"empty list of checks (valid: {', '.join(CHECKS)})")
    out: list[str] = []
    for value in values:
        if value == "tls":
            raise ValueError("unknown check 'tls' (the TLS certificate is part of 'web')")
        out.append(_choice(value, CHECKS, "check"))
    return tuple(c for c in CHECKS if c in out)  # one order everywhere, whatever was typed


def parse_checks(text: str) -> tuple[str, ...]:
    """``"registration,web"`` as validated check names, in the one order; raises ValueError."""
    return _checks([w for w in (w.strip().lower() for w in text.split(",")) if w])


def _https_url(value: str) -> str:
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError as exc:
        raise ValueError(f"{value!r} is not a valid URL: {exc}") from None
    if parts.scheme != "https" or not parts.hostname:
        raise ValueError(f"{value!r} is not an https:// URL")
    try:
        to_ascii(parts.hostname) if not _is_ip(parts.hostname) else None
    except BadName as exc:
        raise ValueError(f"{value!r}: bad host name: {exc}") from None
    return value


def _notify_url(value: str) -> str:
    # The value is not echoed: these URLs often carry tokens and passwords.
    if not _NOTIFY_URL.fullmatch(value.strip()):
        raise ValueError("not an Apprise URL (like 'mailto://ops@example.com' or 'ntfy://topic')")
    return value.strip()


def ignore_code(code: str) -> str:
    """An ``ignore`` entry: a finding code domwatch reports, or a pattern (``mail.spf.*``)
    matching at least one; anything else would silently ignore nothing."""
    if not _CODE.fullmatch(code):
        raise ValueError(f"{code!r} is not a finding code (like 'mail.dmarc.missing')")
    if not any(fnmatchcase(known, code) for known in FINDING_CODES):
        raise ValueError(
            f"{code!r} is no finding code domwatch reports" + _suggest(code, sorted(FINDING_CODES))
        )
    return code


def check_report_path(settings: Settings) -> None:
    """``check``'s report file can be written: found before the first query, not after the run
    (ConfigError otherwise)."""
    if settings.output is None:
        return
    problem = report_path_problem(settings.output)
    if problem is not None:
        raise ConfigError(f"output: cannot write the report to {settings.output}: {problem}")


def report_path_problem(path: Path) -> str | None:
    """Why a report could not be written to ``path``, or None.

    The report is written atomically (a temporary file in the same directory, then a rename),
    so it is the directory that must exist and take new files.
    """
    if path.is_dir():
        return "is a directory"
    parent = path.parent
    if not parent.is_dir():
        return f"no such directory {parent}" if not parent.exists() else f"{parent} is no directory"
    if not os.access(parent, os.W_OK | os.X_OK):
        return f"cannot create files in {parent}"
    return None


def _expiry_date(value: object) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()):
        try:
            return date.fromisoformat(value.strip())
        except ValueError as exc:
            raise ValueError(f"{value!r} is not a real date: {exc}") from None
    raise ValueError(f"expected a date like 2027-03-01, got {_kind(value)}")


def _whois_limit_key(text: str) -> str:
    endpoint = parse_endpoint(text)
    return whois_key(endpoint.host, endpoint.port or 43)


def _rdap_limit_key(text: str) -> str:
    if "://" in text:
        return rdap_key(_https_url(text))
    endpoint = parse_endpoint(text)
    return rdap_key("https://" + str(endpoint))


def _read_limits(f: _File, where: KeyPath, raw: object, key_of: Any) -> dict[str, ServerLimit]:
    """``{ "server" = { concurrency = 2, per_minute = 60 } }``: politeness per server."""
    limits: dict[str, ServerLimit] = {}
    for server, spec in f.table(where, raw).items():
        path = (*where, server)
        key = f.check(path, key_of, server)
        table = f.table(path, spec)
        f.keys(path, table, _LIMIT_KEYS)
        if not table:
            raise f.error(path, "empty limit (set concurrency and/or " + ", ".join(
                _LIMIT_PERIODS) + ")")
        concurrency = None
        if "concurrency" in table:
            concurrency = f.integer((*path, "concurrency"), table["concurrency"], 1)
        quotas = tuple(
            Quota(f.integer((*path, name), table[name], 1), seconds)
            for name, seconds in _LIMIT_PERIODS.items()
            if name in table
        )
        limits[key] = ServerLimit(concurrency, quotas or None)
    return limits


def _tld_key(key: str) -> str:
    try:
        tld = to_ascii(key.lstrip("."))
    except BadName as exc:
        raise ValueError(str(exc)) from None
    if "." in tld:
        raise ValueError(f"{key!r}: expected a top-level domain (one label, like 'fi')")
    return tld


def _zone_key(key: str) -> str:
    """A TLD, or a zone run by its own registry (``co.za``, ``gb.com``): WHOIS server keys."""
    try:
        return to_ascii(key.lstrip("."))
    except BadName as exc:
        raise ValueError(str(exc)) from None


def _read_thresholds_and_checks(f: _File, path: KeyPath, table: Mapping[str, object]) -> _Layer:
    """The keys shared by ``[settings]`` and ``[[domain]]``."""
    layer: _Layer = {}
    for key in _THRESHOLD_KEYS:
        if key in table:
            layer[key] = (f.integer((*path, key), table[key], 0), f.where((*path, key)))
    if "checks" in table:
        where = (*path, "checks")
        layer["checks"] = (
            f.check(where, _checks, f.strings(where, table["checks"])),
            f.where(where),
        )
    if "mail_tls" in table:
        where = (*path, "mail_tls")
        layer["mail_tls"] = (
            f.typed(where, table["mail_tls"], bool, "true or false"),
            f.where(where),
        )
    return layer


def _read_settings(f: _File, raw: object) -> _Layer:
    path: KeyPath = ("settings",)
    table = f.table(path, raw)
    f.keys(path, table, _SETTINGS_KEYS)
    layer = _read_thresholds_and_checks(f, path, table)

    def put(key: str, value: object, *where: str | int) -> None:
        layer[key] = (value, f.where((*path, *where)) if where else f.where((*path, key)))

    def sub(name: str) -> dict[str, object]:
        subtable = f.table((*path, name), table[name])
        f.keys((*path, name), subtable, _SUBTABLE_KEYS[name])
        return subtable

    for key in ("quiet", "cache", "state", "progress", "verbose"):
        if key in table:
            put(key, f.typed((*path, key), table[key], bool, "true or false"))
    if "concurrency" in table:
        put("concurrency", f.integer((*path, "concurrency"), table["concurrency"], 1))
    if "smtp_port" in table:
        put("smtp_port", f.integer((*path, "smtp_port"), table["smtp_port"], 1))
    if "timeout" in table:
        put("timeout", f.check((*path, "timeout"), _seconds, table["timeout"]))
    for key, choices, what in (
        ("fail_on", FAIL_ON, "state"), ("format", FORMATS, "format"), ("sort", SORTS, "order")
    ):
        if key in table:
            text = f.typed((*path, key), table[key], str, "a string")
            put(key, f.check((*path, key), _choice, text, choices, what))
    for key in ("output", "cache_dir", "state_path"):
        if key in table:
            put(key, f.file_path((*path, key), table[key], must_exist=False))

    if "resolver" in table:
        resolver = sub("resolver")
        if "nameservers" in resolver:
            where = (*path, "resolver", "nameservers")
            servers = f.strings(where, resolver["nameservers"], "an IP address")
            endpoints = tuple(
                f.check((*where, i), lambda s: parse_endpoint(s, require_ip=True), server)
                for i, server in enumerate(servers)
            )
            put("resolvers", endpoints, *where)
    limits: dict[str, ServerLimit] = {}
    limits_where: KeyPath = ()
    if "whois" in table:
        whois = sub("whois")
        if "iana" in whois:
            where = (*path, "whois", "iana")
            text = f.typed(where, whois["iana"], str, "a HOST[:PORT] string")
            put("whois_iana", f.check(where, parse_endpoint, text), *where)
        if "servers" in whois:
            where = (*path, "whois", "servers")
            servers_table = f.table(where, whois["servers"])
            endpoints_by_tld: dict[str, Endpoint] = {}
            for tld, server in servers_table.items():
                text = f.typed((*where, tld), server, str, "a HOST[:PORT] string")
                key = f.check((*where, tld), _zone_key, tld)
                endpoints_by_tld[key] = f.check((*where, tld), parse_endpoint, text)
            put("whois_servers", endpoints_by_tld, *where)
        if "limits" in whois:
            where = (*path, "whois", "limits")
            limits.update(_read_limits(f, where, whois["limits"], _whois_limit_key))
            limits_where = where[1:]
    if "rdap" in table:
        rdap = sub("rdap")
        if "bootstrap" in rdap:
            where = (*path, "rdap", "bootstrap")
            text = f.typed(where, rdap["bootstrap"], str, "a URL or a file path")
            if "://" in text:
                put("rdap_bootstrap", f.check(where, _https_url, text), *where)
            else:
                put("rdap_bootstrap", str(f.file_path(where, text, must_exist=True)), *where)
        if "servers" in rdap:
            where = (*path, "rdap", "servers")
            urls: dict[str, str] = {}
            for tld, url in f.table(where, rdap["servers"]).items():
                text = f.typed((*where, tld), url, str, "an https:// URL")
                key = f.check((*where, tld), _tld_key, tld)
                # A base URL: the client appends "domain/NAME", which needs the slash.
                base_url = f.check((*where, tld), _https_url, text)
                urls[key] = base_url if base_url.endswith("/") else base_url + "/"
            put("rdap_servers", urls, *where)
        if "limits" in rdap:
            where = (*path, "rdap", "limits")
            limits.update(_read_limits(f, where, rdap["limits"], _rdap_limit_key))
            limits_where = where[1:]
    if limits:
        put("server_limits", limits, *limits_where)
    if "tls" in table:
        tls = sub("tls")
        if "ca_bundle" in tls:
            where = (*path, "tls", "ca_bundle")
            put("ca_bundle", f.file_path(where, tls["ca_bundle"], must_exist=True), *where)
    if "network" in table:
        network = sub("network")
        if "allow_private" in network:
            where = (*path, "network", "allow_private")
            put(
                "allow_private",
                f.typed(where, network["allow_private"], bool, "true or false"),
                *where,
            )
    if "notify" in table:
        notify = sub("notify")
        if "urls" in notify:
            where = (*path, "notify", "urls")
            urls_list = f.strings(where, notify["urls"], "a URL")
            put(
                "notify_urls",
                tuple(f.check((*where, i), _notify_url, u) for i, u in enumerate(urls_list)),
                *where,
            )
        if "urls_env" in notify:
            where = (*path, "notify", "urls_env")
            name = f.typed(where, notify["urls_env"], str, "an environment variable name")
            if not _ENV_NAME.fullmatch(name):
                raise f.error(where, f"{name!r} is not an environment variable name")
            put("notify_urls_env", name, *where)
        if "remind" in notify:
            where = (*path, "notify", "remind")
            put("notify_remind", f.check(where, parse_duration, notify["remind"]), *where)
        if "min" in notify:
            where = (*path, "notify", "min")
            text = f.typed(where, notify["min"], str, "a string")
            put("notify_min", f.check(where, _choice, text, NOTIFY_MIN, "state"), *where)
    return layer


def _read_domain(f: _File, index: int, raw: object) -> _Entry:
    path: KeyPath = ("domain", index)
    table = f.table(path, raw)
    f.keys(path, table, _DOMAIN_KEYS)
    if "name" not in table:
        raise f.error(path, "missing key 'name' (the domain this entry is about)")
    where = (*path, "name")
    text = f.typed(where, table["name"], str, "a domain name")
    name = f.check(where, normalise, text)
    entry = _Entry(name, f"{f.label}:{f.loc.line(where)}")
    entry.layer = _read_thresholds_and_checks(f, path, table)
    extra = entry.extra
    if "web" in table:
        where = (*path, "web")
        urls = f.strings(where, table["web"], "an https:// URL")
        extra["web"] = tuple(f.check((*where, i), _https_url, u) for i, u in enumerate(urls))
    if "mail" in table:
        extra["mail"] = f.typed((*path, "mail"), table["mail"], bool, "true or false")
    if "expires" in table:
        extra["expires"] = f.check((*path, "expires"), _expiry_date, table["expires"])
    if "ignore" in table:
        where = (*path, "ignore")
        codes = f.strings(where, table["ignore"], "a finding code")
        for i, code in enumerate(codes):
            f.check((*where, i), ignore_code, code)
        extra["ignore"] = frozenset(codes)
    if "tags" in table:
        where = (*path, "tags")
        tags = f.strings(where, table["tags"], "a string")
        for i, tag in enumerate(tags):
            if not tag.strip():
                raise f.error((*where, i), "empty tag")
        extra["tags"] = tuple(tags)
    if "notify" in table:
        where = (*path, "notify")
        urls = f.strings(where, table["notify"], "a URL")
        extra["notify"] = tuple(f.check((*where, i), _notify_url, u) for i, u in enumerate(urls))
    return entry


def _read_toml(label: str, path: Path) -> tuple[list[_Entry], _Layer]:
    f = _File(label, path, _read_text(label, path))
    doc = f.doc
    f.keys((), doc, _TOP_KEYS)
    entries: list[_Entry] = []
    if "domains" in doc:
        names = doc["domains"]
        if isinstance(names, list):
            for i, item in enumerate(names):
                if isinstance(item, dict):
                    raise f.error(
                        ("domains", i),
                        "expected a domain name; write [[domain]] tables for the long form",
                    )
        for i, text in enumerate(f.strings(("domains",), names, "a domain name")):
            name = f.check(("domains", i), normalise, text)
            entries.append(_Entry(name, f"{label}:{f.loc.line(('domains', i))}"))
    if "domain" in doc:
        tables = doc["domain"]
        if not isinstance(tables, list):
            raise f.error(
                ("domain",), f"expected [[domain]] tables (two brackets), got {_kind(tables)}"
            )
        entries.extend(_read_domain(f, i, item) for i, item in enumerate(tables))
    layer = _read_settings(f, doc["settings"]) if "settings" in doc else {}
    return entries, layer


# --------------------------------------------------------------------------- plain lists


def _read_list(label: str, text: str) -> list[_Entry]:
    """One name per line; ``#`` starts a comment anywhere on a line."""
    entries: list[_Entry] = []
    for number, line in enumerate(text.splitlines(), 1):
        content = line.split("#", 1)[0].strip()
        if not content:
            continue
        try:
            entries.append(_Entry(normalise(content), f"{label}:{number}"))
        except BadName as exc:
            raise ConfigError(f"{label}:{number}: {exc}") from None
    return entries


def _read_stdin(stdin: TextIO | None) -> str:
    stream = stdin if stdin is not None else sys.stdin
    try:
        return stream.read()
    except UnicodeDecodeError:
        raise ConfigError("stdin: not UTF-8 text") from None
    except OSError as exc:
        raise ConfigError(f"stdin: cannot read: {exc.strerror or exc}") from None


# --------------------------------------------------------------------------- options

_BOOL_OPTIONS = ("quiet", "cache", "state", "progress", "verbose", "dry_run_notify", "mail_tls")
_PATH_OPTIONS = ("output", "cache_dir", "state_path")
_CHOICE_OPTIONS = {
    "format": (FORMATS, "format"),
    "fail_on": (FAIL_ON, "state"),
    "notify_min": (NOTIFY_MIN, "state"),
    "sort": (SORTS, "order"),
}
_FLAGS = {
    "resolvers": "--resolver",
    "notify_urls": "--notify",
    "tags": "--tag",
    "cache": "--cache/--no-cache",
    "state": "--no-state",
    "state_path": "--state",
    "progress": "--progress/--no-progress",
}


def _flag(key: str) -> str:
    return _FLAGS.get(key, "--" + key.replace("_", "-"))


def _as_list(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
        return list(value)
    raise ValueError(f"expected text, got {_kind(value)}")


def _option_int(value: object, minimum: int) -> int:
    if isinstance(value, str) and re.fullmatch(r"\s*-?\d+\s*", value):
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValueError(f"expected a whole number, got {_kind(value)}")
    if value < minimum:
        raise ValueError(f"must be at least {minimum}, got {value}")
    return value


def _option_value(key: str, value: object, cwd: Path) -> object:
    """One command-line value, checked as strictly as the same key in a domain file."""
    if key in _BOOL_OPTIONS:
        if not isinstance(value, bool):
            raise ValueError(f"expected on or off, got {_kind(value)}")
        return value
    if key in _THRESHOLD_KEYS:
        return _option_int(value, 0)
    if key == "concurrency":
        return _option_int(value, 1)
    if key == "timeout":
        if isinstance(value, str):
            try:
                value = float(value)
            except ValueError:
                raise ValueError(f"expected a number of seconds, got {_kind(value)}") from None
        return _seconds(value)
    if key in _CHOICE_OPTIONS:
        choices, what = _CHOICE_OPTIONS[key]
        if not isinstance(value, str):
            raise ValueError(f"expected text, got {_kind(value)}")
        return _choice(value.strip().lower(), choices, what)
    if key == "checks":
        words = [w.strip().lower() for item in _as_list(value) for w in item.split(",")]
        return _checks([w for w in words if w])
    if key == "resolvers":
        return tuple(parse_endpoint(v, require_ip=True) for v in _as_list(value))
    if key == "notify_urls":
        return tuple(_notify_url(v) for v in _as_list(value))
    if key == "tags":
        tags = tuple(t.strip() for t in _as_list(value))
        if not all(tags):
            raise ValueError("empty tag")
        return tags
    if key in _PATH_OPTIONS:
        if not isinstance(value, str | Path) or not str(value).strip():
            raise ValueError(f"expected a path, got {_kind(value)}")
        return cwd / Path(value).expanduser()
    raise ValueError("unknown option")


def _option_layer(options: Mapping[str, object], cwd: Path) -> _Layer:
    layer: _Layer = {}
    for key, value in options.items():
        if value is None:  # click's "not given"
            continue
        flag = _flag(key)
        try:
            layer[key] = (_option_value(key, value, cwd), flag)
        except ValueError as exc:
            raise ConfigError(f"{flag}: {exc}") from None
    return layer


# --------------------------------------------------------------------------- assembling


def _pick(layers: Sequence[_Layer], key: str, default: object) -> tuple[object, str, int]:
    """The value of ``key`` from the last layer that sets it, where, and that layer's rank."""
    for rank in range(len(layers) - 1, -1, -1):
        if key in layers[rank]:
            value, where = layers[rank][key]
            return value, where, rank
    return default, "", -1


def _thresholds(layers: Sequence[_Layer]) -> Thresholds:
    """Thresholds from ``layers`` (later wins), with crit never above warn."""
    default = Thresholds()
    values: dict[str, int] = {}
    for warn, crit in (("warn_days", "crit_days"), ("cert_warn_days", "cert_crit_days")):
        w, w_where, w_rank = _pick(layers, warn, getattr(default, warn))
        c, c_where, c_rank = _pick(layers, crit, getattr(default, crit))
        values[warn], values[crit] = cast(int, w), cast(int, c)
        if values[crit] <= values[warn]:
            continue
        # Blame the value given last: it is the one that made the pair inconsistent.
        if c_rank >= w_rank:
            origin = f"set at {w_where}" if w_where else "the default"
            raise ConfigError(f"{c_where}: {crit} ({c}) is more than {warn} ({w}, {origin})")
        origin = f"set at {c_where}" if c_where else "the default"
        raise ConfigError(f"{w_where}: {warn} ({w}) is less than {crit} ({c}, {origin})")
    return Thresholds(**values)


def _settings(file_layers: Sequence[_Layer], options: _Layer) -> Settings:
    merged: dict[str, object] = {}
    for layer in (*file_layers, options):
        for key, (value, _where) in layer.items():
            if key in _THRESHOLD_KEYS:
                continue
            if key in ("whois_servers", "rdap_servers", "server_limits") and key in merged:
                # Per-TLD tables add up across files; the same TLD: the later file wins.
                value = {**cast(dict[str, object], merged[key]), **cast(dict[str, object], value)}
            merged[key] = value
    thresholds = _thresholds([*file_layers, options])
    return Settings(thresholds=thresholds, **cast(dict[str, Any], merged))


def _domains(
    entries: Sequence[_Entry], file_layers: Sequence[_Layer], options: _Layer
) -> tuple[Domain, ...]:
    firsts: dict[str, tuple[_Entry, list[str]]] = {}
    for entry in entries:
        _first, hosts = firsts.setdefault(entry.name.name, (entry, []))
        if entry.name.host is not None and entry.name.host not in hosts:
            hosts.append(entry.name.host)
    file_checks = cast(tuple[str, ...], _pick(file_layers, "checks", CHECKS)[0])
    option_checks = cast("tuple[str, ...] | None", options.get("checks", (None, ""))[0])
    domains: list[Domain] = []
    # A hundred thousand domains mostly share one set of thresholds, and an ASCII name is its
    # own display name: one object each instead of one per domain.
    shared: dict[Thresholds, Thresholds] = {}
    for entry, hosts in firsts.values():
        if "checks" in entry.layer:
            checks = cast(tuple[str, ...], entry.layer["checks"][0])
            if option_checks is not None:
                # --checks picks categories for this run; it never adds one a domain opted out of.
                checks = tuple(c for c in checks if c in option_checks)
        else:
            checks = option_checks if option_checks is not None else file_checks
        mail_tls = _pick([*file_layers, entry.layer, options], "mail_tls", False)[0]
        thresholds = _thresholds([*file_layers, entry.layer, options])
        name, display = entry.name.name, entry.name.display_name
        domains.append(
            Domain(
                name=name,
                display_name=name if display == name else display,
                hosts=tuple(hosts) if hosts else (),
                thresholds=shared.setdefault(thresholds, thresholds),
                checks=checks,
                mail_tls=cast(bool, mail_tls),
                source=entry.source,
                **entry.extra,
            )
        )
    return tuple(domains)


def _classify(target: str, cwd: Path) -> tuple[str, Path]:
    """What a TARGET is: "stdin", "toml", "list" or "name", and its path."""
    if target == "-":
        return "stdin", cwd
    if "://" in target:
        return "name", cwd
    path = cwd / Path(target).expanduser()
    lower = target.lower()
    if lower.endswith(".toml"):
        return "toml", path
    if "/" in target or os.sep in target or target.startswith("~"):
        return "list", path
    if lower.endswith((".txt", ".list")):
        return "list", path
    try:
        is_file, is_dir = path.is_file(), path.is_dir()
    except OSError:  # a "name" longer than a file name may be (ENAMETOOLONG): not a file
        return "name", path
    if is_file:
        try:
            name = normalise(target)
        except BadName:
            return "list", path
        # A file named like a domain under a real TLD (nginx's sites-available/example.com):
        # on a command line the domain is what people mean. "domains.lst" stays a file.
        return ("name", path) if known_suffix(name.name) else ("list", path)
    if is_dir:
        try:
            normalise(target)
        except BadName:
            raise ConfigError(f"{target}: is a directory, not a domain file") from None
    return "name", path


def load_config(
    targets: Sequence[str],
    options: Mapping[str, object],
    *,
    stdin: TextIO | None = None,
    cwd: Path | None = None,
) -> Config:
    """Read every TARGET and the command-line ``options`` into one validated Config.

    TARGETs: a domain name (or URL), a ``.toml`` domain file, any other file as a plain list,
    or ``-`` for a plain list on ``stdin``; none means ``./domwatch.toml``. A bare word that is
    both an existing file and a domain under a known TLD is taken as the domain.

    ``options`` holds only what the user gave (``None`` counts as not given), keyed by
    Settings field names plus ``checks``, the four threshold names, ``resolvers`` and
    ``notify_urls``. Precedence, lowest first: defaults, ``[settings]`` of every TOML file in
    the order given (later files win key by key; per-TLD server tables are combined), a
    ``[[domain]]`` entry's own keys, then the command line. For ``checks`` the command line
    narrows a domain's own list rather than replacing it.

    Domains keep input order; a domain given twice is checked once, with the first entry's
    options and the host names of every entry. Relative paths in a file are relative to the
    file; those on the command line to ``cwd``.
    """
    base = cwd if cwd is not None else Path.cwd()
    option_layer = _option_layer(options, base)
    # --tag selects domains; it is no setting of the run.
    wanted_tags = cast("tuple[str, ...]", option_layer.pop("tags", ((), ""))[0])
    if not targets:
        if not (base / DEFAULT_FILE).exists():
            raise ConfigError(
                "no domains given: name a domain, a .toml domain file, a list file or '-' "
                f"(or create ./{DEFAULT_FILE} with 'domwatch init')"
            )
        targets = [DEFAULT_FILE]
    entries: list[_Entry] = []
    file_layers: list[_Layer] = []
    for target in targets:
        if not target.strip():
            raise ConfigError(
                "an empty argument: name a domain, a .toml domain file, a list file or '-'"
            )
        kind, path = _classify(target, base)
        if kind == "toml":
            found, layer = _read_toml(target, path)
            entries.extend(found)
            file_layers.append(layer)
        elif kind == "list":
            entries.extend(_read_list(target, _read_text(target, path)))
        elif kind == "stdin":
            entries.extend(_read_list("stdin", _read_stdin(stdin)))
        else:
            try:
                entries.append(_Entry(normalise(target), "argv"))
            except BadName as exc:
                raise ConfigError(f"argument {target!r}: {exc}") from None
    if not entries:
        raise ConfigError(f"{', '.join(targets)}: no domains found")
    settings = _settings(file_layers, option_layer)
    domains = _domains(entries, file_layers, option_layer)
    if wanted_tags:
        domains = _tagged(domains, wanted_tags)
    return Config(settings, domains)


def _tagged(domains: Sequence[Domain], wanted: Sequence[str]) -> tuple[Domain, ...]:
    """The domains with any of the ``wanted`` tags (``--tag``); none is an error."""
    chosen = tuple(d for d in domains if set(d.tags) & set(wanted))
    if not chosen:
        known = sorted({t for d in domains for t in d.tags})
        have = f"tags in use: {', '.join(known)}" if known else "no domain has any tag"
        raise ConfigError(f"--tag: no domain has the tag {', '.join(wanted)} ({have})")
    return chosen
