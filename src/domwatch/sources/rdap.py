"""Registration data over RDAP (RFC 9082/9083): the registry first, then a thin one's registrar.

The registry's ``expiration`` event is *the* expiry. A thin registry (Verisign's .com/.net)
links to the registrar's own RDAP record with ``rel: related``; that is followed for the
registrar's view, whose date is shown beside the registry's only when it differs, and whose
failures (a 404 included) never undo the registry's answer.

Both claims need evidence. "Not registered" is a 404 from the registry's server as IANA's
bootstrap (or the operator) names it; a 404 from a server the bundled overlay only guesses is
handed on, as a failure, to be confirmed over WHOIS. "Registered" is a domain object that names
the domain and carries registration data (events, a registrar, name servers or statuses).
"""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import itertools
import re
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import urlsplit

import idna

from domwatch.errors import HttpError, HttpTimeout, JsonError, NotJson, RateLimited
from domwatch.model import Registration
from domwatch.net.address_policy import Vetted
from domwatch.net.http import HttpClient, HttpResponse
from domwatch.net.limits import Budget, Limits, Ticket, rdap_key
from domwatch.safe_json import loads as json_loads
from domwatch.settings import Settings
from domwatch.sources.base import Exchange, Lookup
from domwatch.sources.rdap_bootstrap import Bootstrap, load_bootstrap
from domwatch.sources.unpublished import publishes_expiry
from domwatch.sources.whois_servers import second_level_zone

ACCEPT = "application/rdap+json, application/json;q=0.9"  # rdap.nic.fr once refused rdap+json alone
TRAIL_BODY = 64 * 1024  # what ``domwatch lookup`` shows of each answer
BUDGET_FACTOR = 3  # one domain may take this many ``settings.timeout`` in all
MAX_ATTEMPTS = 4  # per URL, rate-limit waits and one transport retry included
MAX_ENTITIES = 1000  # real answers name fewer than 20; the walk stops here, whatever comes

# RFC 8056 §2 maps every EPP status to an RDAP one; this is the way back.
_RDAP_TO_EPP = {
    "active": "ok",
    "inactive": "inactive",
    "add period": "addPeriod",
    "auto renew period": "autoRenewPeriod",
    "client delete prohibited": "clientDeleteProhibited",
    "client hold": "clientHold",
    "client renew prohibited": "clientRenewProhibited",
    "client transfer prohibited": "clientTransferProhibited",
    "client update prohibited": "clientUpdateProhibited",
    "pending create": "pendingCreate",
    "pending delete": "pendingDelete",
    "pending renew": "pendingRenew",
    "pending restore": "pendingRestore",
    "pending transfer": "pendingTransfer",
    "pending update": "pendingUpdate",
    "redemption period": "redemptionPeriod",
    "renew period": "renewPeriod",
    "server delete prohibited": "serverDeleteProhibited",
    "server renew prohibited": "serverRenewProhibited",
    "server transfer prohibited": "serverTransferProhibited",
    "server update prohibited": "serverUpdateProhibited",
    "server hold": "serverHold",
    "transfer period": "transferPeriod",
}

_DATE = re.compile(
    r"""^\s*(\d{4})-(\d{2})-(\d{2})
        (?:[Tt\ ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?)?
        \s*(Z|[+-]\d{2}(?::?\d{2})?)?\s*$""",
    re.VERBOSE | re.IGNORECASE,
)


def parse_rdap_date(text: object) -> datetime | None:
    """An RDAP ``eventDate`` as aware UTC; ``None`` when it cannot be read.

    RFC 9083 asks for RFC 3339, but servers also send ``+0000``, any number of fractional
    digits, a space instead of ``T``, or no zone at all (read as UTC: that is what the
    registries doing it mean, and a few hours do not matter for days-left).
    """
    if not isinstance(text, str):
        return None
    match = _DATE.match(text)
    if match is None:
        return None
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    micro = int((fraction or "0")[:6].ljust(6, "0"))
    offset = timedelta(0)
    if zone and zone.upper() != "Z":
        sign = -1 if zone[0] == "-" else 1
        digits = zone[1:].replace(":", "")
        offset = sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:4] or 0))
    try:
        moment = datetime(
            int(year),
            int(month),
            int(day),
            int(hour or 0),
            int(minute or 0),
            int(second or 0),
            micro,
            tzinfo=timezone(offset),
        )
        return moment.astimezone(timezone.utc)
    except (ValueError, OverflowError):  # 9999-12-31T23:59:59-23:59 is past datetime.max in UTC
        return None


def epp_status(rdap_status: str) -> str:
    """The EPP code for an RDAP status (``client hold`` → ``clientHold``)."""
    text = rdap_status.strip()
    # Some servers append the ICANN explainer URL, as WHOIS does ("clientHold https://...").
    text = text.split(" http", 1)[0].strip()
    known = _RDAP_TO_EPP.get(text.lower())
    if known is not None:
        return known
    if " " not in text:
        return text  # already an EPP code, or a registry's own word
    first, *rest = text.lower().split()
    return first + "".join(word.capitalize() for word in rest)


@dataclass
class RdapDomain:
    """What one RDAP domain object says, read leniently."""

    expires: datetime | None = None
    registrar_expires: datetime | None = None  # a "registrar expiration" event
    registrar: str | None = None
    statuses: tuple[str, ...] = ()
    nameservers: tuple[str, ...] = ()
    related: list[str] = field(default_factory=list)  # the registrar's RDAP record, if linked


def parse_domain(doc: dict[str, Any]) -> RdapDomain:
    """Read events, registrar, statuses, name servers and ``related`` links from an answer."""
    out = RdapDomain()
    for event in _dicts(doc.get("events")):
        action = _text(event.get("eventAction")).strip().lower()
        when = parse_rdap_date(event.get("eventDate"))
        if when is None:
            continue
        if action == "expiration" and out.expires is None:
            out.expires = when
        elif action == "registrar expiration" and out.registrar_expires is None:
            out.registrar_expires = when
    out.registrar = _registrar_name(doc)
    out.statuses = tuple(
        dict.fromkeys(epp_status(s) for s in _list(doc.get("status")) if isinstance(s, str))
    )
    names = []
    for ns in _dicts(doc.get("nameservers")):
        name = _text(ns.get("ldhName")) or _text(ns.get("unicodeName"))
        if name.strip():
            names.append(name.strip().rstrip(".").lower())
    out.nameservers = tuple(dict.fromkeys(names))
    self_links = {
        _text(link.get("href")) for link in _dicts(doc.get("links")) if link.get("rel") == "self"
    }
    for link in _dicts(doc.get("links")):
        href = link.get("href")
        if link.get("rel") != "related" or not isinstance(href, str) or href in self_links:
            continue
        kind = _text(link.get("type")).lower()
        # Only links to RDAP data: registries also put web pages and terms under "related".
        if "rdap" in kind or "/domain/" in href:
            out.related.append(href)
    return out


def _registrar_name(doc: dict[str, Any]) -> str | None:
    registrars = [e for e in _entities(doc) if "registrar" in _words(e.get("roles"))]
    # AFNIC lists former registrars too: the "sponsor" (else an active one) is the current one.
    registrars.sort(
        key=lambda e: (
            "sponsor" not in _words(e.get("roles")),
            "inactive" in _words(e.get("status")),
        )
    )
    for entity in registrars:
        name = _vcard_fn(entity.get("vcardArray"))
        if name:
            return name
        for pid in _dicts(entity.get("publicIds")):
            ident = pid.get("identifier")
            if isinstance(ident, str | int) and not isinstance(ident, bool) and str(ident):
                return f"{_text(pid.get('type')) or 'ID'} {ident}"
        handle = entity.get("handle")
        if isinstance(handle, str) and handle.strip():
            return handle.strip()
    return None


def _entities(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """Entities at every depth, outer ones first (a registrar may sit inside another).

    At most :data:`MAX_ENTITIES`, in linear time: an answer listing 250,000 of them costs no
    more than one listing a thousand.
    """
    found: list[dict[str, Any]] = []
    queue: deque[object] = deque([doc.get("entities")])
    while queue and len(found) < MAX_ENTITIES:
        value = queue.popleft()
        if not isinstance(value, list):
            continue
        for entity in itertools.islice(value, MAX_ENTITIES - len(found)):
            if isinstance(entity, dict):
                found.append(entity)
                queue.append(entity.get("entities"))
    return found


def _vcard_fn(vcard: object) -> str | None:
    if not (isinstance(vcard, list) and len(vcard) >= 2 and isinstance(vcard[1], list)):
        return None
    for prop in vcard[1]:
        if isinstance(prop, list) and len(prop) >= 4 and _text(prop[0]).lower() == "fn":
            value = prop[3]
            if isinstance(value, str) and value.strip():
                return value.strip()
    return None


def _list(value: object) -> list[Any]:
    return value if isinstance(value, list) else []


def _text(value: object) -> str:
    """A string field, or "" when the answer put something else there."""
    return value if isinstance(value, str) else ""


def _words(value: object) -> set[str]:
    """The lower-cased strings of a list field (roles, statuses); anything else is ignored."""
    return {v.lower() for v in _list(value) if isinstance(v, str)}


def _dicts(value: object) -> list[dict[str, Any]]:
    return [v for v in _list(value) if isinstance(v, dict)]


def parse_retry_after(value: str | None, now: float) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or an HTTP date)."""
    if value is None:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, when.timestamp() - now)


def domain_url(base: str, domain: str) -> str:
    """``BASE/domain/NAME`` whether or not the base URL ends in a slash."""
    return base.rstrip("/") + "/domain/" + domain


@dataclass
class _Answer:
    """The end of asking one URL: a response, or why there is none."""

    response: HttpResponse | None = None
    outcome: str = ""  # "" when response is set, else "failed" or "rate_limited"
    reason: str = ""


class RdapSource:
    """Looks domains up over RDAP; see the module docstring for the rules."""

    def __init__(
        self,
        settings: Settings,
        bootstrap: Bootstrap | None,
        client: HttpClient,
        *,
        limits: Limits | None = None,
    ) -> None:
        """``bootstrap`` None: load it (:func:`load_bootstrap`) at the first lookup, so that a
        run without registration checks never fetches IANA's file."""
        self.settings = settings
        self._bootstrap = bootstrap
        self.client = client
        self.limits = limits
        self._loading: asyncio.Task[Bootstrap] | None = None

    async def bootstrap(self) -> Bootstrap:
        """The run's bootstrap, loaded once however many lookups ask at the same time."""
        if self._bootstrap is None:
            if self._loading is None:
                self._loading = asyncio.ensure_future(load_bootstrap(self.settings, self.client))
            self._bootstrap = await asyncio.shield(self._loading)
        return self._bootstrap

    async def lookup(self, domain: str) -> Lookup:
        """The registration of ``domain`` (A-label registrable name) as RDAP tells it."""
        domain = domain.lower().rstrip(".")
        tld = domain.rsplit(".", 1)[-1]
        zone = second_level_zone(domain)
        if zone is not None:
            # The TLD's RDAP server holds gb.com, not hotel.gb.com: its 404 would be wrong.
            return Lookup("unsupported", reason=f"no RDAP server known for the {zone} registry")
        bootstrap = await self.bootstrap()
        bases = bootstrap.base_urls(tld)
        if not bases:
            return Lookup("unsupported", reason=f"no RDAP server known for .{tld}")
        result = Lookup("failed")
        # Time queued behind the server's limits is not charged to the budget.
        budget = Budget(BUDGET_FACTOR * self.settings.timeout)
        failures: list[str] = []
        for base in bases:
            answer = await self._ask(domain_url(base, domain), domain, result, budget)
            if answer.response is None:
                failures.append(answer.reason)
                result.outcome = "rate_limited" if answer.outcome == "rate_limited" else "failed"
                continue  # another server of the same registry may do better
            done = await self._conclude(answer.response, base, domain, tld, result, budget)
            if done:
                return result
            failures.append(result.reason)
        result.reason = "; ".join(f for f in failures if f) or "RDAP lookup failed"
        return result

    async def _conclude(
        self,
        response: HttpResponse,
        base: str,
        domain: str,
        tld: str,
        result: Lookup,
        budget: Budget,
    ) -> bool:
        """Set ``result`` from the registry's answer; False to try the next base URL."""
        read = await read_answer(response, domain)
        status = response.status
        if status == 200 and read.error_code is not None:
            status = read.error_code  # some servers wrap an error in a 200
        if status == 404 and (await self.bootstrap()).authoritative(tld, base):
            result.outcome, result.reason = "not_found", f"{response.url}: registry says 404"
            return True
        if status == 404:
            # A guessed server may not hold this TLD at all: its 404 proves nothing alone.
            result.outcome = "failed"
            result.reason = (
                f"{response.url}: 404 from a server IANA's bootstrap does not name for .{tld}"
                " (not believed without the registry's WHOIS)"
            )
            return False
        if status != 200:
            result.outcome, result.reason = "failed", f"{response.url}: HTTP {status}"
            return False
        if read.no_evidence:
            result.outcome, result.reason = "unparsed", f"{response.url}: {read.no_evidence}"
            return False
        if read.domain is None:
            result.outcome, result.reason = "failed", f"{response.url}: {read.problem}"
            return False
        registry = read.domain
        registrar: RdapDomain | None = None
        if registry.related:
            registrar = await self._follow_related(
                response.peer, registry.related[0], domain, result, budget
            )
        return self._finish(registry, registrar, base, tld, response.url, result)

    def _finish(
        self,
        registry: RdapDomain,
        registrar: RdapDomain | None,
        base: str,
        tld: str,
        url: str,
        result: Lookup,
    ) -> bool:
        expires = registry.expires
        theirs = None
        if registrar is not None:
            theirs = registrar.registrar_expires or registrar.expires
        theirs = theirs or registry.registrar_expires
        published = True
        undated = False
        if expires is None:
            if not publishes_expiry(tld):
                published = False
            elif theirs is not None:
                # The registry gave none this time; the registrar's date is the best there is.
                expires, theirs = theirs, None
            else:
                # Registered, and no date: WHOIS is asked for one; if it has none either, this
                # answer stands as "registered, expiry unpublished" (see the registry source).
                published, undated = False, True
        nameservers = registry.nameservers or (registrar.nameservers if registrar else ())
        result.outcome = "unparsed" if undated else "registered"
        result.reason = f"{url}: no expiration event in the registry's answer" if undated else ""
        result.registration = Registration(
            source="rdap",
            server=base,
            registrar=registry.registrar or (registrar.registrar if registrar else None),
            expires=expires,
            registrar_expires=theirs if theirs is not None and theirs != expires else None,
            statuses=registry.statuses,
            nameservers=nameservers,
            expiry_published=published,
            fetched=datetime.now(timezone.utc),
        )
        return True

    async def _follow_related(
        self, referrer: Vetted | None, href: str, domain: str, result: Lookup, budget: Budget
    ) -> RdapDomain | None:
        """The registrar's view, or None: nothing it says or fails to say is fatal."""
        if urlsplit(href).scheme != "https":
            result.trail.append(Exchange(href, domain, "", "skipped: registrar link is not HTTPS"))
            return None
        answer = await self._ask(href, domain, result, budget, retries=False, referrer=referrer)
        if answer.response is None:
            return None  # refused by the address policy, or no answer: noted in the trail
        if answer.response.status != 200:
            return None  # a registrar 404 or error: the registry's answer stands
        read = await read_answer(answer.response)
        if read.domain is None:
            note = f"registrar's answer unusable ({read.problem}); the registry's answer stands"
            result.trail.append(Exchange(href, domain, "", note))
        return read.domain

    async def _ask(
        self,
        url: str,
        domain: str,
        result: Lookup,
        budget: Budget,
        *,
        retries: bool = True,
        referrer: Vetted | None = None,
    ) -> _Answer:
        """GET ``url``, waiting out rate limits and one transport failure within the budget."""
        last = "no attempt made"
        for _attempt in range(MAX_ATTEMPTS):
            if budget.left() <= 0:
                return _Answer(outcome="failed", reason=f"{url}: time budget spent ({last})")
            try:
                response, wait = await self._get(url, budget, _attempt, referrer)
            except RateLimited as exc:  # the server is given up on for this run
                result.trail.append(Exchange(url, domain, "", f"rate limited: {exc}"))
                return _Answer(outcome="rate_limited", reason=f"{url}: {exc}")
            except (HttpError, asyncio.TimeoutError) as exc:
                if isinstance(exc, asyncio.TimeoutError):
                    exc = HttpTimeout(f"{url}: time budget spent")
                last = str(exc)
                result.trail.append(Exchange(url, domain, "", f"error: {exc}"))
                # One more try after a timeout or reset, if a whole timeout still fits; policy
                # refusals and oversized answers would only repeat themselves.
                transient = isinstance(exc, HttpTimeout) or type(exc) is HttpError
                left = budget.left()
                if retries and transient and _attempt == 0 and left > self.settings.timeout:
                    result.retried += 1
                    continue
                return _Answer(outcome="failed", reason=last)
            self._record(response, domain, result)
            if response.status != 429:
                return _Answer(response=response)
            result.throttled += 1
            if not retries or wait >= budget.left():
                return _Answer(
                    outcome="rate_limited",
                    reason=f"{url}: rate limited (Retry-After {wait:g} s exceeds the time budget)",
                )
            await asyncio.sleep(wait)
            result.retried += 1
            last = "rate limited"
        return _Answer(outcome="rate_limited", reason=f"{url}: still rate limited after retries")

    async def _get(
        self, url: str, budget: Budget, attempt: int, referrer: Vetted | None = None
    ) -> tuple[HttpResponse, float]:
        """GET ``url`` in one of its server's slots; for a 429, also how long to wait.

        The wait is ``Retry-After``, else 1, 2, 4 s; a 429 also slows the server's limiter.
        """
        slot: contextlib.AbstractAsyncContextManager[Ticket | None] = (
            self.limits.for_server(rdap_key(url)).slot(budget)
            if self.limits is not None
            else contextlib.nullcontext(None)
        )
        async with slot as ticket:
            response = await asyncio.wait_for(
                self.client.get(url, headers={"Accept": ACCEPT}, referrer=referrer),
                timeout=max(budget.left(), 0),
            )
            if ticket is not None:
                ticket.got_answer()
            wait = 0.0
            if response.status == 429:
                hinted = parse_retry_after(response.header("retry-after"), time.time())
                wait = hinted if hinted is not None else float(2**attempt)
                if ticket is not None:
                    wait = ticket.throttled(wait)
        return response, wait

    @staticmethod
    def _record(response: HttpResponse, domain: str, result: Lookup) -> None:
        for hop in [*response.history, response]:
            note = f"HTTP {hop.status}"
            location = hop.header("location")
            if hop is not response and location:
                note += f" → {location}"
            text = hop.body[:TRAIL_BODY].decode("utf-8", "replace")
            if len(hop.body) > TRAIL_BODY:
                note += f" (answer cut to {TRAIL_BODY} of {len(hop.body)} bytes)"
            result.trail.append(Exchange(hop.url, domain, text, note))


def _no_evidence(doc: dict[str, Any], domain: str) -> str:
    """Why ``doc`` is not evidence that ``domain`` is registered; "" when it is.

    A 200 answer must be the domain object for this name (``objectClassName`` "domain", its
    ``ldhName`` or ``unicodeName`` when given) with some registration data in it: an event, a
    registrar or other entity, name servers or a status. A search result, a help page or an
    empty object is not.
    """
    kind = doc.get("objectClassName")
    if isinstance(kind, str) and kind.strip().lower() != "domain":
        return f"the answer is a {kind[:40]!r} object, not a domain"
    names = [doc.get(key) for key in ("ldhName", "unicodeName")]
    given = [n.strip().rstrip(".").lower() for n in names if isinstance(n, str) and n.strip()]
    if given and not any(_same_name(n, domain) for n in given):
        return f"the answer is about {given[0][:80]!r}, not {domain}"
    if kind is None and not given:
        return "the answer is not a domain object"
    data = ("events", "entities", "nameservers", "status")
    if not any(isinstance(doc.get(key), list) and doc.get(key) for key in data):
        return "the domain object carries no registration data"
    return ""


def _same_name(given: str, domain: str) -> bool:
    if given == domain:
        return True
    try:
        return idna.encode(given, uts46=True).decode("ascii") == domain
    except (idna.IDNAError, UnicodeError, ValueError):
        return False


@dataclass
class AnswerRead:
    """One RDAP answer decoded and read; ``domain`` None says why in ``problem``."""

    domain: RdapDomain | None
    error_code: int | None = None  # the ``errorCode`` of an error wrapped in a 200
    problem: str = ""
    no_evidence: str = ""  # why a well-formed answer is no evidence of the registration


async def read_answer(response: HttpResponse, domain: str | None = None) -> AnswerRead:
    """Decode and read an answer in a worker thread, so a big one never stalls the run.

    The work is bounded (nesting depth, :data:`MAX_ENTITIES`); whatever the server put in it,
    the outcome is a reading or a named problem, never an exception. With ``domain``, the
    answer must also be evidence that this domain is registered.
    """
    return await asyncio.to_thread(
        _read, response.body, response.header("content-type"), domain
    )


def _read(body: bytes, content_type: str | None, domain: str | None = None) -> AnswerRead:
    if not body.strip():
        return AnswerRead(None, problem="empty answer")
    try:
        doc = json_loads(body)
    except NotJson:
        kind = content_type or "unknown type"
        return AnswerRead(None, problem=f"answer is not JSON ({kind})")
    except JsonError as exc:
        return AnswerRead(None, problem=f"malformed answer: {exc}")
    if not isinstance(doc, dict):
        return AnswerRead(None, problem="answer is JSON but not an object")
    code = doc.get("errorCode")
    error_code = code if isinstance(code, int) and not isinstance(code, bool) else None
    missing = _no_evidence(doc, domain) if domain is not None and error_code is None else ""
    if missing:
        return AnswerRead(None, error_code, no_evidence=missing)
    try:
        return AnswerRead(parse_domain(doc), error_code)
    except (TypeError, ValueError, AttributeError, KeyError, OverflowError, RecursionError) as exc:
        # Every field is type-checked; this is the net under the net, named like the rest.
        return AnswerRead(None, error_code, f"malformed answer ({type(exc).__name__})")
