"""The registry coverage table: for each TLD where domwatch asks, what it can read, and the proof.

One row per TLD: the RDAP base URL (bundled IANA bootstrap plus our overlay) and the WHOIS server
(built-in table), whether the registry publishes an expiry, the WHOIS query line, and the test
samples that show the answer is read right. ``python -m tests.coverage_page > docs/coverage.md``
(from the repository root) writes the page; ``tests/test_coverage.py`` fails when the page is stale
or a TLD of the required lists has no sample. It lives beside the samples it reads, not in the
package: an installed domwatch has no tests directory.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from domwatch.sources.rdap_bootstrap import Bootstrap, load_bundled
from domwatch.sources.unpublished import publishes_expiry
from domwatch.sources.whois_servers import builtin_server, builtin_tlds, query_for


def _tlds(words: str) -> tuple[str, ...]:
    return tuple(words.split())


# The 80 largest TLDs by registrations, largest first. See TOP80_SOURCE for where the order
# comes from and how far it can be trusted.
TOP80 = _tlds(
    "com cn de net org uk ru nl br xyz top info au fr it eu ca pl in ch "
    "online shop es se co icu site jp be dk at cz store io us vip ir me club tk "
    "kr biz tw vn live pro app ua hu mx ar gr ro tr za pt no fi sk nz "
    "cfd sbs fun tech space website cc tv ai dev id kz cl hk by lt ie sg xn--p1ai life"
)
TOP80_SOURCE = (
    "Ranks 1-40 follow the DomainNameStat (domainnamestat.com) TLD ranking of 2025, whose top of "
    'the table agrees with the 2026 figures in dnslab.dev\'s "TLD landscape" (.com 159M, .cn '
    "~21M, .de ~17M, .net 12.5M, .org ~10.5M, then .uk) and with Verisign's Domain Name "
    "Industry Brief. Ranks 41-80 were assembled from the same sources' ccTLD and new-gTLD "
    "counts; we could not fetch one complete current ranking offline, so places past about "
    "40 are approximate (a TLD may be a few places off, or just outside the 80)."
)
EU = _tlds("at be bg cy cz de dk ee es fi fr gr hr hu ie it lt lu lv mt nl pl pt ro se si sk eu")
NORDICS = _tlds("dk fi is no se ax fo gl")
NEW_GTLDS = _tlds(
    "xyz top online shop site store club vip app dev icu live fun space tech website sbs cfd life"
)
LISTS: dict[str, tuple[str, ...]] = {
    "top-80": TOP80,
    "EU": EU,
    "Nordics": NORDICS,
    "new gTLDs": NEW_GTLDS,
}

# Registries no program can ask: the expiry has to go into the domain file (``expires = ...``).
# Their sample is IANA's record for the TLD, which is all a lookup meets.
NO_PUBLIC_SERVICE: dict[str, str] = {
    "cy": "web only (nic.cy); no port-43 or RDAP service",
    "es": "whois.nic.es answers only source addresses registered with Red.es; no RDAP",
    "gr": "web form only (grweb.ics.forth.gr); no port-43 or RDAP service",
    "mt": "web only (nic.org.mt); its port-43 server answers registered addresses only",
    "vn": "web only (vnnic.vn); no port-43 or RDAP service",
}
# TLDs reachable only partly, and why.
NOTES: dict[str, str] = {
    "za": "no registry-wide WHOIS: co.za, org.za, net.za and web.za each have their own ZACR "
    "server, asked by the domain's public suffix; the sample shows co.za's layout",
    "au": "auDA keeps the expiry out of public lookups (RDAP and WHOIS)",
    "tk": "dates are month-first (Dot TK's US format)",
    "hr": "only the registrar's expiration date is published; it is taken as the expiry",
}

_WHOIS_NAME = re.compile(r"^(xn--[a-z0-9]+|[a-z]{2,63})-")


@dataclass(frozen=True)
class Row:
    """One TLD of the table."""

    tld: str
    lists: str  # "top-80 #3, EU"
    rdap: str  # base URLs, or ""
    whois: str  # host, or ""
    query: str  # the WHOIS query line for a domain NAME
    expiry: str  # "yes", "no", "-" (nothing to ask) or the two sources' disagreement
    samples: tuple[str, ...]  # paths relative to the tests directory


def default_tests_dir() -> Path:
    """The tests directory this module sits in (the samples are beside it)."""
    return Path(__file__).resolve().parent


def samples_by_tld(tests_dir: Path, known: Iterable[str]) -> dict[str, list[str]]:
    """TLD -> sample files proving it: WHOIS samples by name, RDAP samples by ``ldhName``."""
    known_set = set(known)
    found: dict[str, list[str]] = {}
    for path in sorted((tests_dir / "whois_samples").glob("*.txt")):
        match = _WHOIS_NAME.match(path.name)
        if match is not None:
            found.setdefault(match.group(1), []).append(path.relative_to(tests_dir).as_posix())
    for path in sorted((tests_dir / "rdap_samples").rglob("*.json")):
        tld = _rdap_tld(path, known_set)
        if tld is not None:
            found.setdefault(tld, []).append(path.relative_to(tests_dir).as_posix())
    return found


def _rdap_tld(path: Path, known: set[str]) -> str | None:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    name = doc.get("ldhName") if isinstance(doc, dict) else None
    if isinstance(name, str) and "." in name:
        return name.rstrip(".").rsplit(".", 1)[-1].lower()
    # an error object names no domain: "ai-identitydigital-not-found.json" says it by its name
    match = _WHOIS_NAME.match(path.name)
    return match.group(1) if match is not None and match.group(1) in known else None


def build_rows(tests_dir: Path | None = None, bootstrap: Bootstrap | None = None) -> list[Row]:
    """The table's rows, one per TLD of the required lists, the server tables or the samples."""
    boot = bootstrap or load_bundled()
    tests = tests_dir or default_tests_dir()
    rdap_tlds = set(boot.services) | set(boot.overlay)
    listed = {tld for members in LISTS.values() for tld in members}
    known = listed | set(builtin_tlds()) | rdap_tlds
    samples = samples_by_tld(tests, known)
    interesting = listed | set(builtin_tlds()) | set(boot.overlay) | set(samples)
    return [_row(tld, boot, samples.get(tld, [])) for tld in sorted(interesting)]


def _row(tld: str, boot: Bootstrap, samples: Sequence[str]) -> Row:
    bases = boot.base_urls(tld)
    host = builtin_server(tld) or ""
    memberships = []
    for name, members in LISTS.items():
        if tld in members:
            memberships.append(f"{name} #{members.index(tld) + 1}" if name == "top-80" else name)
    return Row(
        tld=tld,
        lists=", ".join(memberships),
        rdap=" ".join(bases),
        whois=host,
        query=query_for(host, "NAME") if host else "",
        expiry=_expiry(tld, boot, bool(bases), bool(host)),
        samples=tuple(samples),
    )


def _expiry(tld: str, boot: Bootstrap, rdap: bool, whois: bool) -> str:
    if tld in NO_PUBLIC_SERVICE or not (rdap or whois):
        return "-"
    return _yes(publishes_expiry(tld))


def _yes(value: bool) -> str:
    return "yes" if value else "no"


def missing_samples(rows: Iterable[Row]) -> dict[str, list[str]]:
    """List name -> TLDs of that list without any sample (empty lists when all are covered)."""
    covered = {row.tld for row in rows if row.samples}
    return {name: [t for t in members if t not in covered] for name, members in LISTS.items()}


def render(rows: Sequence[Row]) -> str:
    """The Markdown page."""
    by_tld = {row.tld: row for row in rows}
    out = [
        "# Registry coverage",
        "",
        "<!-- Generated by `python -m tests.coverage_page > docs/coverage.md`; do not edit. -->",
        "",
        "Where domwatch reads each TLD's registration from, whether that registry publishes an "
        "expiry date at all, what is sent on a WHOIS query line, and which test samples prove "
        "the answer is read right (every sample is asserted for its exact date, or for "
        '"not registered", "rate-limited" or "no expiry published"). RDAP is asked '
        "first when the TLD has a base URL; WHOIS is the fallback. Samples are written for the "
        "tests in each registry's field layout; names and values are invented.",
        "",
        "## Required lists",
        "",
    ]
    for name, members in LISTS.items():
        covered = sum(1 for t in members if by_tld.get(t) and by_tld[t].samples)
        out.append(
            f"- **{name}** ({len(members)} TLDs, {covered} with samples): " + " ".join(members)
        )
    out += [
        "",
        f"Source of the top-80 order: {TOP80_SOURCE}",
        "",
        "## Registries without a public lookup",
        "",
        'Set `expires = "YYYY-MM-DD"` for these domains in the domain file; their sample is '
        "IANA's record for the TLD, which is what a lookup meets.",
        "",
    ]
    out += [f"- `.{tld}`: {why}" for tld, why in sorted(NO_PUBLIC_SERVICE.items())]
    out += ["", "## Notes", ""]
    out += [f"- `.{tld}`: {note}" for tld, note in sorted(NOTES.items())]
    out += [
        "",
        "## Table",
        "",
        "Expiry: *yes* the registry publishes one; *no* it publishes none (reported as "
        "`expiry.unpublished`, never guessed); *-* nothing can be asked. Query: the WHOIS query "
        "line for a domain NAME.",
        "",
        "| TLD | lists | RDAP base URL | WHOIS server | query | expiry | tested by |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for row in rows:
        tested = ", ".join(f"`{s}`" for s in row.samples) or "-"
        rdap = " ".join(f"<{u}>" for u in row.rdap.split()) or "-"
        whois = f"`{row.whois}`" if row.whois else "-"
        query = f"`{row.query}`" if row.query else "-"
        out.append(
            f"| `{row.tld}` | {row.lists or '-'} | {rdap} | {whois} | {query} | {row.expiry} "
            f"| {tested} |"
        )
    return "\n".join(out) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    """Print the coverage page (``--tests DIR`` names the tests directory holding the samples)."""
    parser = argparse.ArgumentParser(prog="python -m tests.coverage_page", description=__doc__)
    parser.add_argument("--tests", type=Path, default=None, help="tests directory with samples")
    args = parser.parse_args(argv)
    sys.stdout.write(render(build_rows(args.tests)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
