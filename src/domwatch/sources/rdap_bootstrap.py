"""Which RDAP server answers for a TLD: IANA's bootstrap file (RFC 9224) plus what it lacks.

Three layers, asked in order: the operator's ``[settings.rdap] servers``, IANA's file (the copy
bundled in the package, or a newer one refreshed into the cache at most once a day, or fetched
for this run alone with the cache off), and the bundled overlay of ccTLD registries that run
RDAP without being listed by IANA (.de, .ch, .io, ...). A refresh that fails never costs the
run: the best copy at hand is used.

The overlay is a guess that can go stale (a registry moves, or its RDAP host serves other TLDs
and not this one), so only the first two layers are authoritative: a 404 from an overlay server
is not taken as "not registered" on its own word (see :meth:`Bootstrap.authoritative`).
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from importlib import resources
from pathlib import Path
from typing import Any

import platformdirs

from domwatch import safe_json
from domwatch.errors import BootstrapError, HttpError, JsonError
from domwatch.files import PRIVATE_FILE, private_dir, write_atomically
from domwatch.net.errors import without_errno
from domwatch.net.http import HttpClient
from domwatch.settings import Settings

log = logging.getLogger(__name__)

IANA_BOOTSTRAP = "https://data.iana.org/rdap/dns.json"
CACHE_NAME = "rdap-dns.json"
REFRESH_INTERVAL = 24 * 3600.0  # IANA updates the file a few times a month at most
# A failed refresh is worth a line only when the copy standing in is older than this: a new
# TLD's RDAP server is missed for that long (and a daily cron job must not mail every day).
STALE_AFTER_DAYS = 30
_ATTEMPT_SUFFIX = ".attempt"  # touched on every refresh try, so failures are not retried hourly


@dataclass(frozen=True)
class Bootstrap:
    """TLD → RDAP base URLs, with where the IANA part came from."""

    publication: str  # IANA's publication stamp of the file in use
    services: Mapping[str, tuple[str, ...]]  # from IANA's file
    overlay: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    overrides: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    origin: str = "bundled"  # "bundled", "cache" or the refresh source

    def base_urls(self, tld: str) -> list[str]:
        """Base URLs for ``tld`` (A-label): overrides, then IANA, then the overlay.

        HTTPS URLs come first in each layer (RFC 9224 §3 tells clients to prefer them).
        """
        key = tld.lower().rstrip(".")
        out: list[str] = []
        for layer in (self.overrides, self.services, self.overlay):
            for url in _https_first(layer.get(key, ())):
                if url not in out:
                    out.append(url)
        return out

    def authoritative(self, tld: str, base: str) -> bool:
        """Whether ``base`` is the operator's or IANA's server for ``tld`` (not a guess)."""
        key = tld.lower().rstrip(".")
        wanted = _with_slash(base)
        return any(wanted in layer.get(key, ()) for layer in (self.overrides, self.services))

    def with_overrides(self, servers: Mapping[str, str]) -> Bootstrap:
        """A copy with the operator's per-TLD base URLs in front."""
        overrides: dict[str, tuple[str, ...]] = {
            k.lower().rstrip("."): (_with_slash(v),) for k, v in servers.items()
        }
        return Bootstrap(
            publication=self.publication,
            services=self.services,
            overlay=self.overlay,
            overrides=overrides,
            origin=self.origin,
        )


def parse_bootstrap(raw: bytes | str) -> tuple[str, dict[str, tuple[str, ...]]]:
    """``(publication, {tld: base URLs})`` from an RFC 9224 DNS bootstrap document."""
    try:
        doc = safe_json.loads(raw)
    except JsonError as exc:
        raise BootstrapError(str(exc)) from None
    if not isinstance(doc, dict) or not isinstance(doc.get("services"), list):
        raise BootstrapError("no 'services' array")
    publication = doc.get("publication")
    if not isinstance(publication, str):
        raise BootstrapError("no 'publication' string")
    services = _services(doc["services"])
    if not services:
        raise BootstrapError("'services' names no TLD")
    return publication, services


def _services(entries: list[Any]) -> dict[str, tuple[str, ...]]:
    out: dict[str, tuple[str, ...]] = {}
    for entry in entries:
        if not (isinstance(entry, list) and len(entry) >= 2):
            raise BootstrapError(f"malformed service entry: {entry!r:.80}")
        tlds, urls = entry[0], entry[1]
        if not (isinstance(tlds, list) and isinstance(urls, list)):
            raise BootstrapError(f"malformed service entry: {entry!r:.80}")
        bases = tuple(
            _with_slash(u) for u in urls if isinstance(u, str) and u.startswith(("https:", "http:"))
        )
        for tld in tlds:
            if isinstance(tld, str) and bases:
                out[tld.lower().rstrip(".")] = bases
    return out


def _with_slash(url: str) -> str:
    return url if url.endswith("/") else url + "/"


def _https_first(urls: tuple[str, ...]) -> list[str]:
    return sorted(urls, key=lambda u: not u.startswith("https:"))


def _data(name: str) -> bytes:
    return resources.files("domwatch").joinpath("data").joinpath(name).read_bytes()


def load_bundled() -> Bootstrap:
    """The snapshot of IANA's file and the overlay shipped in the package."""
    publication, services = parse_bootstrap(_data("rdap-dns.json"))
    overlay_doc = json.loads(_data("rdap-overlay.json"))
    return Bootstrap(
        publication=publication,
        services=services,
        overlay=_services(overlay_doc["services"]),
        origin="bundled",
    )


async def load_bootstrap(
    settings: Settings, client: HttpClient, *, now: float | None = None
) -> Bootstrap:
    """The bootstrap for this run, refreshed into the cache when the cached copy is a day old.

    ``settings.rdap_bootstrap`` (default: IANA's URL) is a URL or a file path. With the cache
    off the answers are to be fresh, the bootstrap too: it is fetched for this run and kept in
    memory only, the bundled copy standing in when that fails. For IANA's file the newer (by
    its ``publication`` stamp) of the bundled and the fetched or cached copy wins, so that a
    package upgrade is not shadowed by an old cache; a file the operator named wins whatever
    its date.
    """
    bundled = load_bundled()
    explicit = settings.rdap_bootstrap is not None
    source = settings.rdap_bootstrap or IANA_BOOTSTRAP
    loaded: Bootstrap | None = None
    failure: str | None = None
    when = time.time() if now is None else now
    if settings.cache:
        cache_dir = settings.cache_dir or Path(platformdirs.user_cache_dir("domwatch"))
        loaded, failure = await _cached_or_refreshed(source, cache_dir / CACHE_NAME, client, when)
    else:
        try:
            loaded = _from_raw(await _fetch(source, client), origin=source)
        except (OSError, HttpError, BootstrapError) as exc:
            failure = without_errno(str(exc))
    chosen = bundled
    if loaded is not None and (explicit or loaded.publication >= bundled.publication):
        chosen = Bootstrap(
            publication=loaded.publication,
            services=loaded.services,
            overlay=bundled.overlay,
            origin=loaded.origin,
        )
    if failure is not None:
        _tell_failed_refresh(source, failure, chosen, when)
    return chosen.with_overrides(settings.rdap_servers) if settings.rdap_servers else chosen


def _tell_failed_refresh(source: str, failure: str, chosen: Bootstrap, now: float) -> None:
    """One line when the copy in use is old (a warning), else only with ``-v``."""
    age = _age_days(chosen.publication, now)
    failure = failure.removeprefix(f"{source}: ")  # HTTP errors name the URL first
    if age is not None and age > STALE_AFTER_DAYS:
        log.warning(
            "the RDAP bootstrap in use (%s copy) is %d days old: refreshing it from %s failed "
            "(%s)", chosen.origin, age, source, failure,
        )
    else:
        log.debug("RDAP bootstrap refresh from %s failed: %s; using the %s copy",
                  source, failure, chosen.origin)


def _age_days(publication: str, now: float) -> int | None:
    try:
        stamp = datetime.fromisoformat(publication.replace("Z", "+00:00"))
    except ValueError:
        return None
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=timezone.utc)
    return int((now - stamp.timestamp()) // 86400)


def _is_url(source: str) -> bool:
    return source.startswith(("https://", "http://"))


def _from_raw(raw: bytes, origin: str) -> Bootstrap:
    publication, services = parse_bootstrap(raw)
    return Bootstrap(publication=publication, services=services, origin=origin)


async def _cached_or_refreshed(
    source: str, path: Path, client: HttpClient, now: float
) -> tuple[Bootstrap | None, str | None]:
    """The cached or refreshed copy, and why a refresh failed (told by the caller)."""
    cached = _read_cached(path)
    attempt = path.with_name(path.name + _ATTEMPT_SUFFIX)
    last_try = _mtime(attempt)
    if last_try is not None and now - last_try < REFRESH_INTERVAL and last_try <= now:
        return cached, None
    try:
        private_dir(path.parent)
        attempt.touch()
        os.utime(attempt, (now, now))
    except OSError as exc:  # an unwritable cache would make us refresh on every run
        log.warning("RDAP bootstrap cache %s unusable (%s); using the bundled copy", path, exc)
        return cached, None
    try:
        raw = await _fetch(source, client)
        publication, services = parse_bootstrap(raw)
    except (OSError, HttpError, BootstrapError) as exc:
        return cached, without_errno(str(exc))
    try:
        # Another run reads the old copy or the new one, never half of one.
        write_atomically(path, raw, mode=PRIVATE_FILE)
    except OSError as exc:
        log.warning("could not cache the RDAP bootstrap in %s: %s", path, exc)
    return Bootstrap(publication=publication, services=services, origin=source), None


async def _fetch(source: str, client: HttpClient) -> bytes:
    if _is_url(source):
        response = await client.get(source, headers={"Accept": "application/json"})
        if response.status != 200:
            raise HttpError(f"{source}: HTTP {response.status}")
        return response.body
    path = Path(source[len("file://") :] if source.startswith("file://") else source)
    return path.expanduser().read_bytes()


def _read_cached(path: Path) -> Bootstrap | None:
    try:
        publication, services = parse_bootstrap(path.read_bytes())
    except FileNotFoundError:
        return None
    except (OSError, BootstrapError) as exc:
        log.warning("ignoring the cached RDAP bootstrap %s: %s", path, exc)
        return None
    return Bootstrap(publication=publication, services=services, origin="cache")


def _mtime(path: Path) -> float | None:
    try:
        return path.stat().st_mtime
    except OSError:
        return None
