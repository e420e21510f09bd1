"""Domain files and command-line options in, validated settings and domains out.

What a domain file and the command line may hold is declared once, in :mod:`domwatch.settings`
(the run's settings) and :mod:`domwatch.values` (the kinds of value); this module reads, checks
and merges by those declarations. Every input error becomes a :class:`ConfigError` with one line
that names the file, the line and the key (``domains.toml:14: settings.warn_dayz: unknown key
(did you mean 'warn_days'?)``), or the option (``--checks: unknown check 'foo' ...``).
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO, TypeVar, cast

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib  # type: ignore[import-not-found, unused-ignore]

from domwatch.errors import BadName, ConfigError
from domwatch.model import Domain, Thresholds
from domwatch.names import Name, known_suffix, normalise
from domwatch.report import FORMATS
from domwatch.settings import (
    DOMAIN_KEYS,
    SETTINGS,
    TAGS,
    THRESHOLDS,
    Setting,
    Settings,
    default,
)
from domwatch.values import (
    Endpoint,
    KeyPath,
    Kind,
    kind_of,
    parse_checks,
    parse_duration,
    parse_endpoint,
    suggest,
)

# Re-exported: callers and tests name them by this module, the front door for settings.
__all__ = [
    "FORMATS", "Config", "ConfigError", "Endpoint", "Settings", "check_report_path",
    "load_config", "parse_checks", "parse_duration", "parse_endpoint", "report_path_problem",
]

DEFAULT_FILE = "domwatch.toml"

_T = TypeVar("_T")


@dataclass(frozen=True)
class Config:
    """What a run needs: the settings and the domains, in input order, each once."""

    settings: Settings
    domains: tuple[Domain, ...]


# --------------------------------------------------------------------------- words


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
_Layer = dict[str, tuple[object, _Where]]  # setting name -> (value, where it was set)

_TOP_KEYS = ("domains", "settings", "domain")


_Key = tuple[Setting[Any], tuple[str, ...], Kind[Any]]  # a setting, a key of it, its kind


def _settings_keys() -> dict[str, list[_Key]]:
    """The keys of ``[settings]`` (a sub-table's name for dotted keys) with what they fill,
    in the order the declarations first name them."""
    groups: dict[str, list[_Key]] = {}
    for spec in SETTINGS.values():
        for keys, kind in spec.keys:
            groups.setdefault(keys[0], []).append((spec, keys, kind))
    return groups


_SETTINGS_KEYS = _settings_keys()
_PER_DOMAIN = {name: spec for name, spec in SETTINGS.items() if spec.per_domain}
_DOMAIN_KEYS = ("name", *_PER_DOMAIN, *DOMAIN_KEYS)


@dataclass
class _Entry:
    """One domain as read, before duplicates are merged and settings applied."""

    name: Name
    source: str
    layer: _Layer = field(default_factory=dict)  # the per-domain settings set here
    extra: dict[str, Any] = field(default_factory=dict)  # the other Domain fields


class _File:
    """One TOML domain file being validated: turns key paths into located errors.

    It is the :class:`domwatch.values.Reader` the kinds of value read through.
    """

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
                raise self.error((*path, key), "unknown key" + suggest(key, allowed))

    def table(self, path: KeyPath, value: object) -> dict[str, object]:
        if not isinstance(value, dict):
            raise self.error(path, f"expected a table, got {kind_of(value)}")
        return cast(dict[str, object], value)

    def typed(self, path: KeyPath, value: object, kind: type[_T], words: str) -> _T:
        # bool is an int in Python, but `warn_days = true` is surely a mistake.
        if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
            raise self.error(path, f"expected {words}, got {kind_of(value)}")
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

    def check(self, path: KeyPath, fn: Callable[..., _T], *args: Any) -> _T:
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


def _put(layer: _Layer, spec: Setting[Any], value: object, where: _Where) -> None:
    """Set ``spec`` in ``layer``; a table that adds up takes the new keys over the old."""
    if spec.adds_up and spec.name in layer:
        value = {**cast(dict[str, object], layer[spec.name][0]), **cast(dict[str, object], value)}
    layer[spec.name] = (value, where)


def _read_settings(f: _File, raw: object) -> _Layer:
    """``[settings]``, key by key as :data:`domwatch.settings.SETTINGS` declares them."""
    path: KeyPath = ("settings",)
    table = f.table(path, raw)
    f.keys(path, table, tuple(_SETTINGS_KEYS))
    layer: _Layer = {}
    for name, group in _SETTINGS_KEYS.items():
        if name not in table:
            continue
        holder = table
        if len(group[0][1]) > 1:  # a sub-table: [settings.whois]
            holder = f.table((*path, name), table[name])
            f.keys((*path, name), holder, [keys[1] for _spec, keys, _kind in group])
        for spec, keys, kind in group:
            if keys[-1] in holder:
                where = (*path, *keys)
                _put(layer, spec, kind.from_toml(f, where, holder[keys[-1]]), f.where(where))
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
    for key, spec in _PER_DOMAIN.items():
        if key in table:
            where = (*path, key)
            entry.layer[key] = (spec.kind.from_toml(f, where, table[key]), f.where(where))
    for key, domain_key in DOMAIN_KEYS.items():
        if key in table:
            entry.extra[key] = domain_key.kind.from_toml(f, (*path, key), table[key])
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
                ("domain",), f"expected [[domain]] tables (two brackets), got {kind_of(tables)}"
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


def _option_layer(options: Mapping[str, object], cwd: Path) -> _Layer:
    """The command line's values (or a caller's), each read by its setting's kind."""
    layer: _Layer = {}
    for key, value in options.items():
        if value is None:  # click's "not given"
            continue
        spec = TAGS if key == TAGS.name else SETTINGS.get(key)
        flag = spec.flag if spec is not None else "--" + key.replace("_", "-")
        try:
            # What a command line can give, and the per-domain settings a caller may override
            # for every domain (mail_tls); the rest belongs in a domain file.
            if spec is None or (spec.option is None and not spec.per_domain):
                raise ValueError("unknown option")
            layer[key] = (spec.kind.from_option(value, cwd), flag)
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
    names = list(THRESHOLDS)  # warn, crit; cert_warn, cert_crit
    values: dict[str, int] = {}
    for warn, crit in zip(names[0::2], names[1::2], strict=True):
        w, w_where, w_rank = _pick(layers, warn, default(warn))
        c, c_where, c_rank = _pick(layers, crit, default(crit))
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
    values: _Layer = {}
    for layer in (*file_layers, options):
        for name, (value, where) in layer.items():
            # Per-TLD tables add up across files; the same TLD: the later file wins.
            _put(values, SETTINGS[name], value, where)
    thresholds = _thresholds([*file_layers, options])
    return Settings.of(
        {name: value for name, (value, _) in values.items() if name not in THRESHOLDS},
        thresholds,
    )


def _domains(
    entries: Sequence[_Entry], file_layers: Sequence[_Layer], options: _Layer
) -> tuple[Domain, ...]:
    # hosts: an ordered set (a dict), so a domain given as many host names stays linear
    firsts: dict[str, tuple[_Entry, dict[str, None]]] = {}
    for entry in entries:
        _first, hosts = firsts.setdefault(entry.name.name, (entry, {}))
        if entry.name.host is not None:
            hosts.setdefault(entry.name.host)
    domains: list[Domain] = []
    # A hundred thousand domains mostly share one set of thresholds, and an ASCII name is its
    # own display name: one object each instead of one per domain.
    shared: dict[Thresholds, Thresholds] = {}
    for entry, hosts in firsts.values():
        own: dict[str, object] = {}
        for key, spec in _PER_DOMAIN.items():
            if key in THRESHOLDS:
                continue
            if spec.narrows and key in entry.layer:
                # --checks picks categories for this run; it never adds one a domain opted out of.
                value = entry.layer[key][0]
                if key in options:
                    given = cast(tuple[object, ...], options[key][0])
                    value = tuple(v for v in cast(tuple[object, ...], value) if v in given)
                own[key] = value
            else:
                own[key] = _pick([*file_layers, entry.layer, options], key, default(key))[0]
        thresholds = _thresholds([*file_layers, entry.layer, options])
        name, display = entry.name.name, entry.name.display_name
        domains.append(
            Domain(
                name=name,
                display_name=name if display == name else display,
                hosts=tuple(hosts) if hosts else (),
                thresholds=shared.setdefault(thresholds, thresholds),
                source=entry.source,
                **own,  # type: ignore[arg-type]  # each value read by its setting's kind
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
    wanted_tags = cast("tuple[str, ...]", option_layer.pop(TAGS.name, ((), ""))[0])
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
