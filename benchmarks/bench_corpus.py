"""How often is domwatch right about real registry answers?

    python benchmarks/bench_corpus.py --corpus DIR [--only NAME ...] [--json OUT]

DIR is an extracted corpus (``../shared/corpus-dev/extract.py`` writes one): ``whois/<domain>.txt``,
``rdap/<domain>.json`` and ``truth.tsv`` (kind, domain, expected, source), where expected is an ISO
date (registered, expires that day), ``NONE`` (registered, the registry publishes no expiry),
``NOTFOUND`` (the registry says it is not registered), ``RATELIMIT`` (a throttle reply) or
``REGISTERED`` (registered, the source asserts no date: other corpora).

The corpus is served through the lab the way the corpus README describes:

* every WHOIS capture, byte for byte, by a WHOIS server for its TLD (one server per TLD, on
  127.0.0.1) that answers whatever query form is sent (``domain x.com``, ``-T dn,ace x.de``,
  ``x.jp/e``): the capture is chosen by the name in the query line;
* every RDAP capture from an RDAP base that a served IANA bootstrap names, over HTTPS with the
  lab's throwaway CA; the bootstrap names that base for every TLD in IANA's file (the copy in the
  package) and for the RDAP captures' TLDs;
* RDAP answering 503 for the WHOIS captures' domains in TLDs that have RDAP, so that the WHOIS
  fallback is exercised.

Then the real CLI runs once as a subprocess, ``domwatch check FILE --format json --no-cache``
with ``checks = ["registration"]`` and the lab's servers in the file's ``[settings]``, and each
domain is judged:

* date: ``registration.expires`` within one day of it (UTC date);
* ``NONE``: ``expires`` null, an ``expiry.unpublished`` finding, no ``registration.not_found``;
* ``NOTFOUND``: a ``registration.not_found`` finding;
* ``RATELIMIT``: ``lookup.rate_limited`` or ``lookup.failed``, no date, no
  ``registration.not_found``;
* ``REGISTERED``: a registration with a date or ``expiry.unpublished``, no
  ``registration.not_found``.

A domain missing from the report (looked for under the name given) is wrong. It prints the score
by class and overall, and every miss with what was expected, what came out and the first line of
the answer.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any

import idna

from domwatch.lab import Lab, WhoisServer
from domwatch.lab.ca import LabCA
from domwatch.lab.rdap_server import RdapDomain, RdapServer
from domwatch.lab.whois_server import domain_of

CLASSES = ("date", "NONE", "NOTFOUND", "rate-limit", "REGISTERED")


@dataclass
class Case:
    """One capture and its truth."""

    kind: str  # "whois" or "rdap"
    domain: str  # as the corpus names it
    expected: str  # ISO date, NONE, NOTFOUND, RATELIMIT or REGISTERED
    answer: bytes

    @property
    def a_label(self) -> str:
        return _a_label(self.domain)

    @property
    def tld(self) -> str:
        return self.a_label.rsplit(".", 1)[-1]

    @property
    def klass(self) -> str:
        if self.expected in ("NONE", "NOTFOUND", "REGISTERED"):
            return self.expected
        if self.expected.upper().replace("_", "").replace("-", "") in ("RATELIMIT", "RATELIMITED"):
            return "rate-limit"
        return "date"

    def first_line(self) -> str:
        text = self.answer.decode("utf-8", "replace")
        if self.kind == "rdap":
            return " ".join(text.split())[:100]
        for line in text.splitlines():
            if line.strip():
                return line.strip()[:100]
        return "(empty answer)"


def _a_label(name: str) -> str:
    name = name.strip().lower().rstrip(".")
    if name.isascii():
        return name
    try:
        return idna.encode(name, uts46=True).decode("ascii")
    except idna.IDNAError:
        return name


def load_corpus(root: Path) -> list[Case]:
    """The cases of an extracted corpus, in truth.tsv order."""
    cases = []
    with open(root / "truth.tsv", encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle, delimiter="\t"):
            kind, domain = row["kind"], row["domain"]
            path = root / kind / f"{domain}.{'txt' if kind == 'whois' else 'json'}"
            cases.append(Case(kind, domain, row["expected"].strip(), path.read_bytes()))
    return cases


def _iana_rdap_tlds() -> set[str]:
    raw = resources.files("domwatch").joinpath("data").joinpath("rdap-dns.json").read_bytes()
    return {
        tld.lower()
        for service in json.loads(raw)["services"]
        for tld in service[0]
    }


def _whois_answerer(answers: dict[str, bytes]) -> Any:
    """An answer callable: the capture named in the query line, whatever its form."""

    def answer(query: str) -> bytes:
        wanted = domain_of(query)
        if wanted in answers:
            return answers[wanted]
        for token in query.lower().split():
            token = token.removesuffix("/e").rstrip(".")
            if token in answers:
                return answers[token]
        return b""  # a name this registry has no capture for: the connection closes empty

    return answer


def serve(cases: list[Case], lab: Lab, ca: LabCA, tmp: Path) -> Path:
    """Start the servers and write the domain file that points domwatch at them."""
    by_tld: dict[str, dict[str, bytes]] = defaultdict(dict)
    for case in cases:
        if case.kind == "whois":
            by_tld[case.tld][case.a_label] = case.answer
            by_tld[case.tld][case.domain.lower()] = case.answer
    whois: dict[str, str] = {}
    for tld, answers in sorted(by_tld.items()):
        server = lab.add(WhoisServer({}, default=_whois_answerer(answers)))
        whois[tld] = server.address
    iana = lab.add(WhoisServer({}, default="% This query returned 0 objects.\n"))

    rdap_tlds = _iana_rdap_tlds() | {c.tld for c in cases if c.kind == "rdap"}
    domains = {}
    for case in cases:
        if case.kind == "rdap":
            domains[case.a_label] = RdapDomain(body=case.answer, status=200)
        elif case.tld in rdap_tlds:
            domains[case.a_label] = RdapDomain(status=503)
    rdap = lab.add(RdapServer(ssl_context=ca.server_context("127.0.0.1"), domains=domains))
    lab.call(lambda: rdap.serve_bootstrap({tld: rdap.url for tld in sorted(rdap_tlds)}))

    ca_file = ca.write_ca(tmp / "lab-ca.pem")
    names = ",\n".join(f"  {json.dumps(c.domain)}" for c in cases)
    servers = ", ".join(f"{json.dumps(t)} = {json.dumps(a)}" for t, a in whois.items())
    text = (
        f"domains = [\n{names}\n]\n\n"
        "[settings]\n"
        'checks = ["registration"]\n\n'
        "[settings.whois]\n"
        f"iana = {json.dumps(iana.address)}\n"
        f"servers = {{ {servers} }}\n\n"
        "[settings.rdap]\n"
        f"bootstrap = {json.dumps(rdap.bootstrap_url)}\n\n"
        "[settings.tls]\n"
        f"ca_bundle = {json.dumps(str(ca_file))}\n\n"
        "[settings.network]\n"
        "allow_private = true\n"
    )
    config = tmp / "corpus.toml"
    config.write_text(text, encoding="utf-8")
    return config


def run_domwatch(config: Path, out: Path) -> tuple[int, str, float]:
    """``domwatch check`` as a child process: (exit status, stderr, seconds)."""
    command = [sys.executable, "-m", "domwatch", "check", str(config), "--format", "json",
               "-o", str(out), "--no-cache", "--no-state", "--no-progress"]
    began = time.monotonic()
    child = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                           env={**os.environ, "NO_COLOR": "1"}, check=False)
    return child.returncode, child.stderr.decode("utf-8", "replace"), time.monotonic() - began


@dataclass
class Verdict:
    """How one case came out."""

    case: Case
    right: bool
    got: str


def judge(case: Case, entry: dict[str, Any] | None) -> Verdict:
    """One case against its entry in the report (the corpus README's rules)."""
    if entry is None:
        return Verdict(case, False, "missing from the report")
    findings = entry.get("findings") or []
    codes = [f.get("code", "") for f in findings]
    registration = entry.get("registration") or {}
    expires = registration.get("expires")
    day = expires[:10] if isinstance(expires, str) else None
    got = f"expires {day or 'null'}; " + (", ".join(codes) or "no findings")
    for finding in findings:
        if finding.get("code", "").startswith(("lookup.", "registration.not_found")):
            got += f" | {finding.get('message', '')[:160]}"
            break
    klass = case.klass
    if klass == "date":
        right = day is not None and abs(
            (date.fromisoformat(day) - date.fromisoformat(case.expected)).days
        ) <= 1
    elif klass == "NONE":
        right = (expires is None and "expiry.unpublished" in codes
                 and "registration.not_found" not in codes)
    elif klass == "NOTFOUND":
        right = "registration.not_found" in codes
    elif klass == "REGISTERED":  # a capture whose date its source does not assert
        right = (bool(registration) and "registration.not_found" not in codes
                 and (day is not None or "expiry.unpublished" in codes))
    else:
        right = (expires is None and "registration.not_found" not in codes
                 and bool({"lookup.rate_limited", "lookup.failed"} & set(codes)))
    return Verdict(case, right, got)


def benchmark(root: Path, only: list[str] | None = None, echo: bool = True) -> dict[str, Any]:
    """Serve the corpus, run domwatch once, judge every case; returns the figures."""
    say = print if echo else (lambda *_a, **_k: None)
    cases = load_corpus(root)
    if only:
        wanted = {_a_label(n) for n in only}
        cases = [c for c in cases if c.a_label in wanted]
    if not cases:
        raise SystemExit("bench_corpus: no cases selected")
    with Lab() as lab, tempfile.TemporaryDirectory(prefix="domwatch-corpus-") as name:
        tmp = Path(name)
        config = serve(cases, lab, LabCA(), tmp)
        out = tmp / "report.json"
        status, stderr, seconds = run_domwatch(config, out)
        report = json.loads(out.read_text(encoding="utf-8")) if out.exists() else {}
    if not report:
        say(f"domwatch wrote no report (exit {status}): {stderr.strip()[-500:]}")
    entries: dict[str, dict[str, Any]] = {}
    for entry in report.get("domains", []):
        for key in (entry.get("name"), entry.get("display_name")):
            if isinstance(key, str):
                entries.setdefault(_a_label(key), entry)
    verdicts = [judge(c, entries.get(c.a_label)) for c in cases]

    by_class: dict[str, list[Verdict]] = {k: [] for k in CLASSES}
    for verdict in verdicts:
        by_class[verdict.case.klass].append(verdict)
    right = sum(v.right for v in verdicts)
    say(f"corpus {root}: {len(cases)} captures "
        f"({sum(c.kind == 'whois' for c in cases)} WHOIS, "
        f"{sum(c.kind == 'rdap' for c in cases)} RDAP); domwatch exit {status}, {seconds:.1f} s")
    for klass in CLASSES:
        group = by_class[klass]
        if group:
            ok = sum(v.right for v in group)
            say(f"  {klass:10} {ok:4d}/{len(group):<4d} {100 * ok / len(group):6.2f} %")
    say(f"  {'overall':10} {right:4d}/{len(cases):<4d} {100 * right / len(cases):6.2f} %")
    misses = [v for v in verdicts if not v.right]
    if misses:
        say(f"\nmisses ({len(misses)}):")
    for verdict in misses:
        case = verdict.case
        say(f"  {case.domain}  expected {case.expected}; got {verdict.got}")
        say(f"      answer: {case.first_line()}")
    return {
        "captures": len(cases),
        "right": right,
        "percent": 100 * right / len(cases),
        "by_class": {
            k: [sum(v.right for v in g), len(g)] for k, g in by_class.items() if g
        },
        "misses": [
            {"domain": v.case.domain, "expected": v.case.expected, "got": v.got}
            for v in misses
        ],
        "seconds": seconds,
        "exit_status": status,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, required=True, help="an extracted corpus")
    parser.add_argument("--only", nargs="*", help="judge only these domains")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    result = benchmark(args.corpus, args.only)
    if args.json:
        args.json.write_text(json.dumps(result, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
