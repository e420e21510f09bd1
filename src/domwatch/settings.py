"""Every setting of a run, declared once, on the field it fills.

A field of :class:`Settings` is declared with :func:`setting`: its default, its :class:`Kind`
of value (how a domain file's value and a command-line value are checked), its key under
``[settings]``, its command-line :class:`Option`, its help line, and whether ``[[domain]]``
may set it too. Everything else is derived from these declarations: the keys a domain file may
hold (and the closest one suggested for a typo), reading and validating them
(:mod:`domwatch.config`), merging files and options, the command-line options with their help
and shown defaults (:mod:`domwatch.cli`), the settings in ``init``'s starter file
(:mod:`domwatch.starter`) and the table in ``docs/settings.md``.

The names are the fields' own, so no key is spelt twice.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Mapping
from dataclasses import Field, dataclass, field, fields, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, TypeVar, cast

from domwatch.model import CHECKS, Thresholds
from domwatch.report import FORMATS
from domwatch.values import (
    Bootstrap,
    Checks,
    Choice,
    Codes,
    Count,
    Date,
    Duration,
    Endpoint,
    EnvName,
    FilePath,
    Flag,
    HostPort,
    Kind,
    Nameservers,
    NotifyUrls,
    RdapServers,
    Seconds,
    ServerLimits,
    Tags,
    Urls,
    WhoisServers,
    rdap_limit_key,
    whois_limit_key,
)

if TYPE_CHECKING:
    from domwatch.net.limits import ServerLimit

T = TypeVar("T")

FAIL_ON = ("warning", "critical", "never")
SORTS = ("urgency", "input")  # the table's order
NOTIFY_MIN = ("warning", "critical")
_SPEC = "domwatch.setting"


def _number_word(n: int) -> str:
    """``four`` for 4, as help text says a small count; digits beyond ten."""
    words = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")
    return words[n] if n < len(words) else str(n)


@dataclass(frozen=True)
class Option:
    """How a setting is given on the command line (click's declarations, in domwatch's words).

    ``sets`` makes it an on/off flag that sets this value (``-q``: True, ``--no-state``:
    False); a ``--x/--no-x`` pair is a switch by its flags alone. ``shown`` is the default
    as ``--help`` says it, when the value itself would not say it well ("the system's").
    ``path`` is ``"file"`` or ``"dir"`` for a path option.
    """

    flags: tuple[str, ...]
    metavar: str | None = None
    shown: str | None = None
    multiple: bool = False
    sets: bool | None = None
    number: type[int] | type[float] | None = None
    path: str | None = None

    @property
    def flag(self) -> str:
        """The flag errors name: ``--output`` for ``-o, --output``."""
        return next((f for f in self.flags if f.startswith("--")), self.flags[0])


@dataclass(frozen=True)
class Starter:
    """How a setting appears in ``init``'s starter file.

    ``example`` makes it a commented-out line with that value (the default otherwise, live);
    ``note`` lines come before it; ``comment`` after it, at ``column``.
    """

    comment: str = ""
    note: tuple[str, ...] = ()
    example: object = None
    column: int = 25


@dataclass(frozen=True)
class Setting(Generic[T]):
    """One setting: see the module docstring. ``name`` is its field's (filled in for you)."""

    kind: Kind[T]
    help: str
    toml: tuple[str, ...] | None  # the key under [settings]; None: the command line only
    option: Option | None = None
    per_domain: bool = False  # also a key of [[domain]]
    adds_up: bool = False  # a table whose keys add up across files (the same key: later wins)
    narrows: bool = False  # the command line narrows a domain's own value instead of replacing it
    also: tuple[tuple[str, ...], ...] = ()  # more keys that fill the same table (server limits)
    kinds: tuple[Kind[T], ...] = ()  # the kind of each of ``also``
    starter: Starter | None = None
    name: str = ""

    @property
    def keys(self) -> Iterator[tuple[tuple[str, ...], Kind[T]]]:
        """Each key under ``[settings]`` that fills this setting, with its kind."""
        if self.toml is not None:
            yield self.toml, self.kind
        yield from zip(self.also, self.kinds, strict=True)

    @property
    def flag(self) -> str:
        """The option as errors name it (``--warn-days``)."""
        return self.option.flag if self.option is not None else "--" + self.name.replace("_", "-")


def setting(
    default: T,
    kind: Kind[T],
    help: str,
    *,
    toml: str | None = None,
    option: Option | None = None,
    per_domain: bool = False,
    adds_up: bool = False,
    narrows: bool = False,
    also: Mapping[str, Kind[T]] | None = None,
    starter: Starter | None = None,
) -> T:
    """A field of :class:`Settings`; ``toml`` is its dotted key under ``[settings]``."""
    spec = Setting(
        kind, help, tuple(toml.split(".")) if toml else None, option, per_domain, adds_up,
        narrows, tuple(tuple(k.split(".")) for k in (also or {})), tuple((also or {}).values()),
        starter,
    )
    metadata = {_SPEC: spec}
    if isinstance(default, dict):
        initial = dict(default)
        return cast(T, field(default_factory=lambda: dict(initial), metadata=metadata))
    return field(default=default, metadata=metadata)


def _either(words: tuple[str, ...]) -> str:
    return ", ".join(words[:-1]) + " or " + words[-1]


def _thresholds() -> dict[str, Setting[int]]:
    registration = "Registration days left that make"
    certificate = "Certificate days left that make"
    parts = {
        "warn_days": (f"{registration} a WARNING.", Starter(note=(
            "Registration expiry: a hosting provider wants changes a month before the next "
            "billing", "period, so warn early; critical when there is barely time to pay an "
            "invoice."))),
        "crit_days": (f"{registration} it CRITICAL.", Starter()),
        "cert_warn_days": (f"{certificate} a WARNING.", Starter(note=(
            "TLS certificates: a new one can take one to three working days to issue.",))),
        "cert_crit_days": (f"{certificate} it CRITICAL.", Starter()),
    }
    names = [f.name for f in fields(Thresholds)]
    if list(parts) != names:  # at import: a Thresholds field without its keys and option
        raise TypeError("THRESHOLDS must name the fields of model.Thresholds, in their order")
    return {
        name: Setting(Count(0), help_text, (name,), Option(
            ("--" + name.replace("_", "-"),), metavar="N", number=int), per_domain=True,
            starter=starter, name=name)
        for name, (help_text, starter) in parts.items()
    }


#: The four thresholds: keys of [settings] and [[domain]] and options; Settings.thresholds.
THRESHOLDS = _thresholds()


@dataclass(frozen=True)
class Settings:
    """Run-wide settings: the ``[settings]`` table merged with command-line options."""

    format: str = setting(
        "table", Choice(FORMATS, "format"), f"Report format: {_either(FORMATS)}.",
        toml="format", option=Option(("--format",), metavar="FORMAT"))
    output: Path | None = setting(
        None, FilePath(), "Write the report to PATH (atomically), not stdout.",
        toml="output", option=Option(("-o", "--output"), metavar="PATH", shown="stdout",
                                     path="file"))
    sort: str = setting(
        "urgency", Choice(SORTS, "order"),
        "Table order: urgency (worst state, then fewest days) or input.",
        toml="sort", option=Option(("--sort",), metavar="ORDER"))
    # The four thresholds' keys are THRESHOLDS: a Thresholds object is what checks use.
    thresholds: Thresholds = field(default_factory=Thresholds)
    checks: tuple[str, ...] = setting(
        CHECKS, Checks(), f"Categories to run, comma-separated: {', '.join(CHECKS)}.",
        toml="checks",
        option=Option(("--checks",), metavar="LIST", shown=f"all {_number_word(len(CHECKS))}"),
        per_domain=True, narrows=True,
        starter=Starter(comment="tls is part of web", column=50))
    timeout: float = setting(
        10.0, Seconds(), "Seconds for one network operation.",
        toml="timeout", option=Option(("--timeout",), metavar="SECONDS", number=float),
        starter=Starter(comment="seconds for one network operation"))
    concurrency: int = setting(
        32, Count(1), "Domains whose DNS, web and mail checks run at once.",
        toml="concurrency", option=Option(("--concurrency",), metavar="N", number=int),
        starter=Starter(comment="domains in flight at once"))
    fail_on: str = setting(
        "warning", Choice(FAIL_ON, "state"),
        "Worst state that fails the exit status: warning, critical or never (UNKNOWN fails at "
        "all but never).", toml="fail_on", option=Option(("--fail-on",), metavar="STATE"))
    quiet: bool = setting(
        False, Flag(), "Print nothing at all unless a domain needs attention.",
        toml="quiet", option=Option(("-q", "--quiet"), sets=True))
    progress: bool | None = setting(
        None, Flag(), "Progress bar on stderr.",
        toml="progress", option=Option(("--progress/--no-progress",), shown="on a terminal"))
    verbose: bool = setting(
        False, Flag(), "Log every DNS, RDAP, WHOIS, HTTPS and SMTP exchange to stderr.",
        toml="verbose", option=Option(("-v", "--verbose"), sets=True))
    mail_tls: bool = setting(
        False, Flag(), "Also probe each MX host's STARTTLS certificate.",
        toml="mail_tls", per_domain=True)
    smtp_port: int = setting(
        25, Count(1), "The port MX hosts are probed on for STARTTLS (a test lab's).",
        toml="smtp_port")
    resolvers: tuple[Endpoint, ...] = setting(
        (), Nameservers(), "DNS resolver to ask (repeatable).",
        toml="resolver.nameservers",
        option=Option(("--resolver",), metavar="ADDR[:PORT]", shown="the system's",
                      multiple=True),
        starter=Starter(comment="default: the system's resolvers",
                        example=("192.0.2.53", "127.0.0.1:5353"), column=53))
    cache: bool = setting(
        True, Flag(), "Cache registration answers between runs.",
        toml="cache", option=Option(("--cache/--no-cache",)))
    cache_dir: Path | None = setting(
        None, FilePath(), "Where the cache lives.",
        toml="cache_dir", option=Option(("--cache-dir",), metavar="PATH",
                                        shown="the XDG cache dir", path="dir"))
    state_path: Path | None = setting(
        None, FilePath(), "State file: what the last run saw, for change.* findings.",
        toml="state_path", option=Option(("--state",), metavar="PATH",
                                         shown="the XDG state dir", path="file"))
    state: bool = setting(
        True, Flag(), "Keep no state (no change.* findings).",
        toml="state", option=Option(("--no-state",), sets=False, shown="off"))
    whois_iana: Endpoint = setting(
        Endpoint("whois.iana.org"), HostPort(), "Where unknown TLDs are looked up.",
        toml="whois.iana")
    # TLD, or a zone with its own registry (co.za, gb.com) -> server
    whois_servers: dict[str, Endpoint] = setting(
        {}, WhoisServers(), "Per-TLD (or per-zone: gb.com) WHOIS server.",
        toml="whois.servers", adds_up=True,
        starter=Starter(comment="per-TLD WHOIS server, HOST[:PORT]",
                        example={"fi": "whois.fi"}, column=53))
    rdap_bootstrap: str | None = setting(
        None, Bootstrap(), "IANA's RDAP bootstrap: an https URL or a file.",
        toml="rdap.bootstrap")
    rdap_servers: dict[str, str] = setting(  # TLD -> base URL, ends in "/"
        {}, RdapServers(), "Per-TLD RDAP base URL.", toml="rdap.servers", adds_up=True)
    # Per-server politeness overrides, keyed like the limiters ("host:43", "https://host").
    server_limits: dict[str, ServerLimit] = setting(
        {}, ServerLimits(whois_limit_key),
        "Per-server pace: concurrency, per_second, per_minute, per_hour, per_day.",
        toml="whois.limits", also={"rdap.limits": ServerLimits(rdap_limit_key)}, adds_up=True)
    ca_bundle: Path | None = setting(
        None, FilePath(must_exist=True),
        "The CA certificates to trust (default: the system store; SSL_CERT_FILE honoured).",
        toml="tls.ca_bundle")
    allow_private: bool = setting(
        False, Flag(),
        "Follow referrals and redirects to private, loopback or link-local addresses.",
        toml="network.allow_private")
    notify_urls: tuple[str, ...] = setting(
        (), NotifyUrls(), "Apprise URL to tell what changed (repeatable).",
        toml="notify.urls",
        option=Option(("--notify",), metavar="URL", shown="none", multiple=True))
    notify_urls_env: str | None = setting(
        None, EnvName(), "An environment variable holding more Apprise URLs (space-separated).",
        toml="notify.urls_env",
        starter=Starter(comment="Apprise URLs (space-separated) from this variable",
                        example="DOMWATCH_NOTIFY", column=33))
    notify_remind: float = setting(
        86400.0, Duration(), "Repeat a digest of what is still wrong at most this often.",
        toml="notify.remind")
    notify_min: str = setting(
        "warning", Choice(NOTIFY_MIN, "state"),
        "Least severe state that is told: warning or critical.",
        toml="notify.min", option=Option(("--notify-min",), metavar="STATE"),
        starter=Starter(example="warning"))
    dry_run_notify: bool = setting(
        False, Flag(), "Show what would be told; send nothing.",
        option=Option(("--dry-run-notify",), sets=True))

    @classmethod
    def of(cls, values: Mapping[str, Any], thresholds: Thresholds | None = None) -> Settings:
        """Settings from ``values`` keyed by field name, each read by that field's kind.

        A name that is no field is a bug, not a user's typo (those are caught where they are
        read): it raises TypeError.
        """
        return replace(cls(), thresholds=thresholds or Thresholds(), **values)


#: ``--tag``: not a setting of the run but a choice of its domains.
TAGS = Setting(
    Tags(), "Check only the domains with this tag (repeatable: any of them).", None,
    Option(("--tag",), metavar="TAG", shown="every domain", multiple=True), name="tags")


def _settings() -> dict[str, Setting[Any]]:
    out: dict[str, Setting[Any]] = {}
    for f in fields(Settings):
        if f.name == "thresholds":
            out.update(THRESHOLDS)
            continue
        spec = _spec(f)
        out[f.name] = replace(spec, name=f.name)
    return out


def _spec(f: Field[Any]) -> Setting[Any]:
    spec = f.metadata.get(_SPEC)
    if not isinstance(spec, Setting):
        raise TypeError(f"Settings.{f.name} is not declared with setting()")
    return spec


#: Every setting, by name (a Settings field, or one of the four thresholds), in field order.
SETTINGS: dict[str, Setting[Any]] = _settings()


@functools.cache
def _defaults() -> Settings:
    # One instance: config asks for defaults per domain; callers only read them.
    return Settings()


def default(name: str) -> object:
    """The default value of setting ``name``."""
    base = _defaults()
    return getattr(base.thresholds, name) if name in THRESHOLDS else getattr(base, name)


def shown_default(name: str) -> str:
    """The default of setting ``name`` as ``--help`` and the docs say it."""
    spec = SETTINGS.get(name, TAGS)
    if spec.option is not None and spec.option.shown is not None:
        return spec.option.shown
    value = default(name)
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


@dataclass(frozen=True)
class DomainKey(Generic[T]):
    """A key of ``[[domain]]`` that only a domain has (the Domain field of the same name)."""

    kind: Kind[T]
    help: str


#: The keys of ``[[domain]]`` besides ``name`` and the per-domain settings.
DOMAIN_KEYS: dict[str, DomainKey[Any]] = {
    "web": DomainKey(Urls(), "URLs probed (default: https://NAME/ and https://www.NAME/)."),
    "mail": DomainKey(Flag(), "The domain must receive mail: a missing or null MX is critical."),
    "expires": DomainKey(Date(), "The expiry, for registries that publish none."),
    "ignore": DomainKey(Codes(), "Finding codes not to report (patterns like mail.tls.*)."),
    "tags": DomainKey(Tags(), "Words to select domains by (--tag), shown in JSON and CSV."),
    "notify": DomainKey(NotifyUrls(), "More Apprise URLs, told about this domain only."),
}

