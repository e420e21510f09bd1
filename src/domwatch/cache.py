"""Registration answers and IANA referrals kept between runs, in SQLite.

One file (``domwatch.sqlite3`` in the cache directory) in WAL mode with a busy timeout, so two
runs that overlap (cron) both read while one writes, and a run that is killed loses at most its
unwritten answers: SQLite commits are atomic, and the next run recovers the journal.

How long an answer stays fresh shrinks as the registration nears expiry, because that is when
it changes (renewed, or lapsed): 24 hours normally, 6 hours inside the warning window or with a
status that takes the domain offline, never past the expiry date itself. "Not registered" is
kept an hour. Failures are never kept. A stale answer (up to :data:`STALE_FOR` old; an expired
registration's answer is kept for this only) still stands in when a lookup fails, and is
reported as such.

The database work is small (an indexed read per domain, batched writes) and local, so it runs
on the event loop rather than in a thread.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sqlite3
import time
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Protocol

from domwatch import safe_json
from domwatch.files import PRIVATE_FILE, private_dir
from domwatch.model import Registration

log = logging.getLogger("domwatch.cache")

FILE_NAME = "domwatch.sqlite3"
SCHEMA_VERSION = 1
FRESH = 24 * 3600.0
FRESH_NEAR_EXPIRY = 6 * 3600.0
FRESH_NOT_FOUND = 3600.0
FRESH_REFERRAL = 7 * 86400.0  # IANA's referrals change a few times a year
STALE_FOR = 30 * 86400.0
BUSY_TIMEOUT_MS = 5000
FLUSH_EVERY = 200  # answers buffered before they are written (a killed run loses fewer)

# Statuses after which the registration may change any hour.
_VOLATILE = frozenset(
    {"redemptionPeriod", "pendingDelete", "clientHold", "serverHold", "autoRenewPeriod"}
)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS registration (
    domain TEXT PRIMARY KEY,
    outcome TEXT NOT NULL,
    data TEXT NOT NULL,
    fetched REAL NOT NULL,
    fresh_until REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS referral (
    tld TEXT PRIMARY KEY,
    server TEXT NOT NULL,
    fetched REAL NOT NULL,
    fresh_until REAL NOT NULL
);
"""


class ReferralStore(Protocol):
    """Where the WHOIS source keeps the IANA referral of each TLD."""

    def referral(self, tld: str) -> str | None:
        """The cached WHOIS server of ``tld`` (``host[:port]``), when fresh."""
        ...

    def remember_referral(self, tld: str, server: str) -> None:
        """Keep IANA's answer for ``tld``."""
        ...


@dataclass(frozen=True)
class Cached:
    """One cached registration answer."""

    outcome: str  # "registered" or "not_found"
    registration: Registration | None
    fetched: float  # epoch seconds
    fresh_until: float

    def fresh(self, now: float) -> bool:
        """Still good enough to answer without asking."""
        return now < self.fresh_until

    def usable_stale(self, now: float) -> bool:
        """Young enough to stand in for a failed lookup."""
        return now - self.fetched <= STALE_FOR


def fresh_for(outcome: str, registration: Registration | None, now: datetime,
              warn_days: int) -> float:
    """Seconds an answer stays fresh (0: do not keep it)."""
    if outcome == "not_found":
        return FRESH_NOT_FOUND
    if outcome != "registered" or registration is None:
        return 0.0
    ttl = FRESH
    if _VOLATILE.intersection(registration.statuses):
        ttl = FRESH_NEAR_EXPIRY
    if registration.expires is not None:
        left = (registration.expires - now).total_seconds()
        if left <= warn_days * 86400.0:
            ttl = FRESH_NEAR_EXPIRY
        ttl = min(ttl, left)  # never past the expiry itself
    return max(ttl, 0.0)


def age_text(seconds: float) -> str:
    """``"3 h"``, ``"2 days"``: an age a person reads at a glance."""
    if seconds < 90:
        return f"{max(seconds, 0):.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min"
    if seconds < 36 * 3600:
        return f"{seconds / 3600:.0f} h"
    return f"{seconds / 86400:.0f} days"


class Cache:
    """The SQLite cache of one run; see the module docstring."""

    def __init__(self, connection: sqlite3.Connection, path: Path) -> None:
        self.path = path
        self._db = connection
        self._rows: dict[str, Cached | None] = {}
        self._pending: list[tuple[str, str, str, float, float]] = []
        self.broken = False
        self.unreadable = 0  # rows set aside this run (not as this version writes them)

    @classmethod
    def open(cls, directory: Path) -> Cache | None:
        """The cache in ``directory``, or None (with a warning) when it cannot be used.

        Only a file SQLite says is damaged or not a database is set aside (renamed, with its
        journal, to ``domwatch.sqlite3.corrupt-<time>``) and a new one started; anything else,
        "database is locked" by another run above all, means this run goes on without the
        cache and leaves the file alone.
        """
        path = directory / FILE_NAME
        try:
            private_dir(directory)
            return cls(_connect(path), path)
        except sqlite3.DatabaseError as exc:
            if not _is_corruption(exc):
                log.warning("cache %s unusable (%s); running without it", path, exc)
                return None
            aside = _set_aside(path)
            log.warning("cache %s is damaged (%s); %s, starting a new one", path, exc, aside)
            try:
                return cls(_connect(path), path)
            except (OSError, sqlite3.Error) as again:
                log.warning("cache %s unusable (%s); running without it", path, again)
        except (OSError, sqlite3.Error) as exc:
            why = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
            log.warning("cache %s unusable (%s); running without it", path, why)
        return None

    def load(self, domains: Iterable[str]) -> None:
        """Read the rows of ``domains`` in a few queries rather than one per lookup."""
        names = [d for d in dict.fromkeys(domains) if d not in self._rows]
        for start in range(0, len(names), 500):
            chunk = names[start : start + 500]
            for name in chunk:
                self._rows[name] = None
            marks = ",".join("?" * len(chunk))
            rows = self._query(
                "SELECT domain, outcome, data, fetched, fresh_until FROM registration "
                f"WHERE domain IN ({marks})",
                chunk,
            )
            for domain, outcome, data, fetched, fresh_until in rows:
                cached = _decode(outcome, data, fetched, fresh_until)
                if cached is None:
                    self._unreadable(domain)
                self._rows[domain] = cached

    def registration(self, domain: str) -> Cached | None:
        """The cached answer about ``domain``, fresh or not.

        A row fetched by :meth:`load` is handed over once and forgotten: a run asks about each
        domain once, and holding every row would grow with the domain list.
        """
        if domain not in self._rows:
            self.load([domain])
        return self._rows.pop(domain, None)

    def remember(self, domain: str, outcome: str, registration: Registration | None,
                 ttl: float, now: float | None = None) -> None:
        """Keep a conclusive answer, fresh for ``ttl`` seconds (buffered; see :meth:`flush`).

        An answer with no freshness left (an expired registration) is still kept: it is not
        used as is, but it can stand in, told as stale, when the next lookup fails.
        """
        if outcome not in ("registered", "not_found"):
            return
        ttl = max(ttl, 0.0)
        now = time.time() if now is None else now
        if registration is not None and registration.fetched is None:
            fetched_at = datetime.fromtimestamp(now, timezone.utc)
            registration = replace(registration, fetched=fetched_at)
        data = json.dumps(_encode(registration), separators=(",", ":"))
        self._rows.pop(domain, None)
        self._pending.append((domain, outcome, data, now, now + ttl))
        if len(self._pending) >= FLUSH_EVERY:
            self.flush()

    def referral(self, tld: str) -> str | None:
        """The cached WHOIS server of ``tld``, when fresh."""
        rows = self._query("SELECT server, fresh_until FROM referral WHERE tld = ?", (tld,))
        for server, fresh_until in rows:
            if not isinstance(server, str) or not isinstance(fresh_until, int | float):
                self._unreadable(f"referral of .{tld}")
                return None
            if time.time() < fresh_until:
                return server
        return None

    def remember_referral(self, tld: str, server: str) -> None:
        """Keep IANA's answer for ``tld`` for :data:`FRESH_REFERRAL`."""
        now = time.time()
        self._write(
            "INSERT OR REPLACE INTO referral (tld, server, fetched, fresh_until) "
            "VALUES (?, ?, ?, ?)",
            [(tld, server, now, now + FRESH_REFERRAL)],
        )

    def flush(self) -> None:
        """Write the buffered answers in one transaction."""
        pending, self._pending = self._pending, []
        if pending:
            self._write(
                "INSERT OR REPLACE INTO registration "
                "(domain, outcome, data, fetched, fresh_until) VALUES (?, ?, ?, ?, ?)",
                pending,
            )

    def close(self) -> None:
        """Flush and close; safe to call twice."""
        try:
            self.flush()
        finally:
            with contextlib.suppress(sqlite3.Error):
                self._db.close()

    def _query(self, sql: str, args: Iterable[object]) -> list[tuple[Any, ...]]:
        if self.broken:
            return []
        try:
            return self._db.execute(sql, tuple(args)).fetchall()
        except sqlite3.Error as exc:
            self._give_up(exc)
            return []

    def _write(self, sql: str, rows: list[tuple[Any, ...]]) -> None:
        if self.broken:
            return
        try:
            with self._db:  # one transaction: committed whole or not at all
                self._db.executemany(sql, rows)
        except sqlite3.Error as exc:
            # A locked database past the busy timeout, a full disk: the run goes on uncached.
            self._give_up(exc)

    def _unreadable(self, what: str) -> None:
        """A row this version cannot read is ignored (the next answer replaces it); one warning."""
        self.unreadable += 1
        if self.unreadable == 1:
            log.warning("cache %s: unreadable entries set aside (first: %s); they are asked afresh",
                        self.path, what[:80])

    def _give_up(self, exc: sqlite3.Error) -> None:
        log.warning("cache %s: %s; going on without it", self.path, exc)
        self.broken = True


_CORRUPTION_CODES = frozenset({11, 26})  # SQLITE_CORRUPT, SQLITE_NOTADB


def _is_corruption(exc: sqlite3.DatabaseError) -> bool:
    """Whether SQLite says the file is damaged, as opposed to busy, locked, read-only..."""
    code = getattr(exc, "sqlite_errorcode", None)  # Python 3.11+
    if isinstance(code, int):
        return code & 0xFF in _CORRUPTION_CODES
    # Before 3.11: OperationalError is locked/busy/readonly/IO; the base class is corruption.
    text = str(exc).lower()
    return type(exc) is sqlite3.DatabaseError and (
        "malformed" in text or "not a database" in text
    )


def _set_aside(path: Path) -> str:
    """Rename a damaged cache (and its journal files) out of the way; never delete it."""
    aside = path.with_name(f"{path.name}.corrupt-{int(time.time())}")
    try:
        for suffix in ("-wal", "-shm", ""):
            with contextlib.suppress(FileNotFoundError):
                os.replace(f"{path}{suffix}", f"{aside}{suffix}")
    except OSError as exc:
        return f"could not move it aside ({exc.strerror or exc})"
    return f"moved to {aside.name}"


def _connect(path: Path) -> sqlite3.Connection:
    # The file is created 0600 before SQLite opens it: SQLite gives its -wal and -shm files
    # the database's mode, and the cache says which domains this operator watches.
    fd = os.open(path, os.O_RDWR | os.O_CREAT, PRIVATE_FILE)
    os.close(fd)
    with contextlib.suppress(OSError):
        if os.stat(path).st_mode & 0o077:
            os.chmod(path, PRIVATE_FILE)
            for suffix in ("-wal", "-shm"):
                with contextlib.suppress(FileNotFoundError):
                    os.chmod(f"{path}{suffix}", PRIVATE_FILE)
    db = sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000)
    try:
        db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        db.execute("PRAGMA journal_mode = WAL")
        db.execute("PRAGMA synchronous = NORMAL")  # WAL + NORMAL: durable enough for a cache
        version = db.execute("PRAGMA user_version").fetchone()[0]
        if version != SCHEMA_VERSION:
            with db:
                db.execute("DROP TABLE IF EXISTS registration")
                db.execute("DROP TABLE IF EXISTS referral")
                db.executescript(_SCHEMA)
                db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
    except BaseException:
        db.close()
        raise
    return db


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def _when(text: object) -> datetime | None:
    if text is None:
        return None
    if not isinstance(text, str):
        raise ValueError("not a date")
    moment = datetime.fromisoformat(text)
    moment = moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)  # OverflowError past datetime.max: a bad row


def _encode(registration: Registration | None) -> dict[str, Any] | None:
    if registration is None:
        return None
    return {
        "source": registration.source,
        "server": registration.server,
        "registrar": registration.registrar,
        "expires": _iso(registration.expires),
        "registrar_expires": _iso(registration.registrar_expires),
        "statuses": list(registration.statuses),
        "nameservers": list(registration.nameservers),
        "expiry_published": registration.expiry_published,
        "fetched": _iso(registration.fetched),
    }


def _decode(outcome: object, data: object, fetched: object, fresh_until: object) -> Cached | None:
    """A row back as an answer; None for a row this version cannot read (every field typed)."""
    if outcome not in ("registered", "not_found") or not isinstance(data, str):
        return None
    if not isinstance(fetched, int | float) or not isinstance(fresh_until, int | float):
        return None
    try:
        doc = safe_json.loads(data)
        registration = None
        if doc is not None:
            if not isinstance(doc, dict):
                return None
            registration = Registration(
                source=_typed(doc.get("source"), str),
                server=_optional(doc.get("server"), str),
                registrar=_optional(doc.get("registrar"), str),
                expires=_when(doc.get("expires")),
                registrar_expires=_when(doc.get("registrar_expires")),
                statuses=_texts(doc.get("statuses", [])),
                nameservers=_texts(doc.get("nameservers", [])),
                expiry_published=_typed(doc.get("expiry_published", True), bool),
                cached=True,
                fetched=_when(doc.get("fetched")),
            )
    except (ValueError, OverflowError):
        return None
    return Cached(str(outcome), registration, float(fetched), float(fresh_until))


def _typed(value: object, kind: type[Any]) -> Any:
    if not isinstance(value, kind):
        raise ValueError(f"expected {kind.__name__}")
    return value


def _optional(value: object, kind: type[Any]) -> Any:
    return None if value is None else _typed(value, kind)


def _texts(value: object) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError("expected a list of text")
    return tuple(value)

