"""Checks: a domain and the run's shared context in, findings out."""

from __future__ import annotations

import ssl
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from domwatch.model import CheckResult, Domain

if TYPE_CHECKING:
    from domwatch.net.resolver import Resolver
    from domwatch.settings import Settings
    from domwatch.sources.registry import RegistrationSource


@dataclass
class Context:
    """What every check of one run shares: settings, the clock, the resolver, the sources."""

    settings: Settings
    now: datetime  # one clock for the whole run, so days-left agree across checks
    resolver: Resolver
    registry: RegistrationSource
    tls: ssl.SSLContext  # verifying context: system store / SSL_CERT_FILE / ca_bundle


Check = Callable[[Domain, Context], Awaitable[CheckResult]]  # what runs one check of one domain
