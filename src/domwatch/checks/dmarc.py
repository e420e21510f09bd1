"""DMARC (RFC 7489): the one ``v=DMARC1`` record at ``_dmarc.NAME``, parsed and judged."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from domwatch.checks.spf import txt_text
from domwatch.errors import RecordSyntaxError
from domwatch.net.resolver import Answer, Resolver

POLICIES = ("none", "quarantine", "reject")

_TAG_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
# Any tag list with a v=DMARC1 tag is meant as DMARC; receivers then require it first (§6.3).
_CLAIMS_DMARC = re.compile(r"(?:^|;)\s*v\s*=\s*DMARC1\s*(?:;|$)", re.IGNORECASE)
_MAILTO = re.compile(
    r"mailto:(?P<local>[^@\s!,]+)@(?P<domain>[^@\s!,]+\.[^@\s!,]+)"
    r"(?:!(?P<size>[0-9]+[kmgt]?))?",
    re.IGNORECASE,
)


class DmarcSyntaxError(RecordSyntaxError):
    """The record does not parse."""


@dataclass(frozen=True)
class DmarcRecord:
    """A parsed DMARC record; ``tags`` keeps every tag (unknown ones too) in lower case keys."""

    tags: dict[str, str]
    policy: str
    subdomain_policy: str | None = None
    pct: int = 100
    rua: tuple[str, ...] = ()
    ruf: tuple[str, ...] = ()
    adkim: str = "r"
    aspf: str = "r"


def claims_dmarc(text: str) -> bool:
    """True for a TXT string that holds a ``v=DMARC1`` tag (first or, wrongly, later)."""
    return _CLAIMS_DMARC.search(text) is not None


def parse(text: str) -> DmarcRecord:
    """Parse a DMARC record; raise :class:`DmarcSyntaxError` naming the first fault."""
    tags: dict[str, str] = {}
    for part in text.split(";"):
        part = part.strip(" \t")
        if not part:
            continue  # a trailing or doubled ";" is allowed
        name, eq, value = part.partition("=")
        name, value = name.strip(" \t"), value.strip(" \t")
        if not eq or _TAG_NAME.fullmatch(name) is None:
            raise DmarcSyntaxError(f"'{part}' is not a tag=value pair")
        key = name.lower()
        if key in tags:
            raise DmarcSyntaxError(f"tag {key}= appears more than once")
        if not tags and (key != "v" or value.upper() != "DMARC1"):
            raise DmarcSyntaxError("the record must start with v=DMARC1")
        tags[key] = value
    if not tags:
        raise DmarcSyntaxError("the record must start with v=DMARC1")
    if "p" not in tags:
        raise DmarcSyntaxError("no p= tag (the policy is required)")
    policy = _policy(tags, "p")
    subdomain = _policy(tags, "sp") if "sp" in tags else None
    pct = 100
    if "pct" in tags:
        if not re.fullmatch(r"[0-9]{1,3}", tags["pct"]) or int(tags["pct"]) > 100:
            raise DmarcSyntaxError(f"pct={tags['pct']} is not 0-100")
        pct = int(tags["pct"])
    alignment = {}
    for key in ("adkim", "aspf"):
        value = tags.get(key, "r").lower()
        if value not in ("r", "s"):
            raise DmarcSyntaxError(f"{key}={tags[key]} is not r or s")
        alignment[key] = value
    if "fo" in tags and not re.fullmatch(r"[01ds](?:\s*:\s*[01ds])*", tags["fo"], re.I):
        raise DmarcSyntaxError(f"fo={tags['fo']} is not a ':' list of 0, 1, d, s")
    if "ri" in tags and not re.fullmatch(r"[0-9]{1,10}", tags["ri"]):
        raise DmarcSyntaxError(f"ri={tags['ri']} is not a number of seconds")
    if "rf" in tags and not re.fullmatch(r"[A-Za-z0-9]+(?:\s*:\s*[A-Za-z0-9]+)*", tags["rf"]):
        raise DmarcSyntaxError(f"rf={tags['rf']} is not a ':' list of report formats")
    return DmarcRecord(
        tags=tags,
        policy=policy,
        subdomain_policy=subdomain,
        pct=pct,
        rua=_uris(tags, "rua"),
        ruf=_uris(tags, "ruf"),
        adkim=alignment["adkim"],
        aspf=alignment["aspf"],
    )


def _policy(tags: dict[str, str], key: str) -> str:
    value = tags[key].lower()
    if value not in POLICIES:
        raise DmarcSyntaxError(f"{key}={tags[key]} is not none, quarantine or reject")
    return value


def _uris(tags: dict[str, str], key: str) -> tuple[str, ...]:
    if key not in tags:
        return ()
    uris = tuple(u.strip(" \t") for u in tags[key].split(","))
    for uri in uris:
        # RFC 7489 allows any URI scheme, but receivers send reports only to mailto: ones.
        if _MAILTO.fullmatch(uri) is None:
            raise DmarcSyntaxError(f"{key}: '{uri}' is not a mailto: address")
    return uris


# ------------------------------------------------------------------------------ evaluation


@dataclass
class DmarcResult:
    """The judged DMARC of one domain."""

    record: str | None = None
    parsed: DmarcRecord | None = None
    verdict: str = "missing"  # ok | missing | invalid | unknown
    error: str | None = None
    failure: Answer | None = None  # the DNS answer that was no answer

    def to_json(self) -> dict[str, Any]:
        """The report's ``dmarc`` object."""
        parsed = self.parsed
        return {
            "record": self.record,
            "policy": parsed.policy if parsed else None,
            "subdomain_policy": parsed.subdomain_policy if parsed else None,
            "pct": parsed.pct if parsed else None,
            "rua": list(parsed.rua) if parsed else [],
            "ruf": list(parsed.ruf) if parsed else [],
            "adkim": parsed.adkim if parsed else None,
            "aspf": parsed.aspf if parsed else None,
            "verdict": self.verdict,
            "error": self.error,
        }


async def evaluate(resolver: Resolver, name: str) -> DmarcResult:
    """Find and judge the DMARC record of ``name`` (at ``_dmarc.NAME``)."""
    answer = await resolver.resolve(f"_dmarc.{name}", "TXT")
    if answer.outcome.failed:
        return DmarcResult(
            verdict="unknown", error=f"TXT lookup {answer.outcome.value}", failure=answer
        )
    # NXDOMAIN for _dmarc.NAME is the usual way of having no record: an absence.
    records = [t for t in map(txt_text, answer.rdatas) if claims_dmarc(t)]
    if not records:
        return DmarcResult()
    result = DmarcResult(record=records[0])
    if len(records) > 1:
        result.verdict = "invalid"
        result.error = f"{len(records)} DMARC records published (there must be exactly one)"
        return result
    try:
        result.parsed = parse(records[0])
    except DmarcSyntaxError as exc:
        result.verdict, result.error = "invalid", str(exc)
    else:
        result.verdict = "ok"
    return result
