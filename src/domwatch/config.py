"""Domain files and command-line options in, validated settings and domains out."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from domwatch.model import CHECKS, Domain, Thresholds


class ConfigError(Exception):
    """Bad input: the message is one line naming the file, line and key (exit 64)."""


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
    thresholds: Thresholds = Thresholds()
    fail_on: str = "warning"  # warning | critical | never
    quiet: bool = False
    concurrency: int = 32
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
    whois_servers: dict[str, Endpoint] = field(default_factory=dict)  # TLD -> server
    rdap_bootstrap: str | None = None
    rdap_servers: dict[str, str] = field(default_factory=dict)  # TLD -> base URL
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
