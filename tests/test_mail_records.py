"""SPF and DMARC: the parsers, table-driven; the mail check against a real lab DNS server."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, cast

import pytest

from domwatch.checks import Context
from domwatch.checks import dmarc as dmarc_mod
from domwatch.checks import spf as spf_mod
from domwatch.checks.mail import check_mail
from domwatch.config import Settings
from domwatch.lab import DnsServer, Lab
from domwatch.model import CheckResult, Domain
from domwatch.net.resolver import Nameserver, Resolver
from tests.conftest import domwatch

# ------------------------------------------------------------------------------ SPF syntax

VALID_SPF = [
    "v=spf1",
    "v=spf1 -all",
    "V=SPF1 MX -ALL",
    "v=spf1  mx   ~all",  # several spaces between terms
    "v=spf1 a mx ptr ?all",
    "v=spf1 a:mail.example.com mx:example.org/24 a/24//64 mx//64 -all",
    "v=spf1 ip4:192.0.2.0/24 ip4:198.51.100.7 ip6:2001:db8::/32 ip6:::1 -all",
    "v=spf1 include:_spf.example.com ~all",
    "v=spf1 exists:%{ir}.%{l1r+-}._spf.%{d} -all",
    "v=spf1 include:%{d}.spf.example.com -all",
    "v=spf1 redirect=_spf.example.com",
    "v=spf1 mx exp=explain._spf.%{d} -all",
    "v=spf1 mx foo=bar -all",  # unknown modifiers are allowed
    "v=spf1 mx x-custom=%{d}%%%_%- -all",
    "v=spf1 ptr:example.com.",  # trailing dot
    "v=spf1 include:example.com",
]

INVALID_SPF = [
    ("v=spf10 -all", "v=spf1"),
    ("spf1 -all", "v=spf1"),
    ("v=spf1 mx -al", "unknown mechanism"),
    ("v=spf1 +-all", "not a mechanism"),
    ("v=spf1 all:example.com", "no argument"),
    ("v=spf1 include", "needs ':domain'"),
    ("v=spf1 include:", "needs ':domain'"),
    ("v=spf1 exists", "needs ':domain'"),
    ("v=spf1 include:localhost", "not a domain name"),
    ("v=spf1 include:example..com", "not a domain name"),
    ("v=spf1 include:example.123", "top label"),
    ("v=spf1 ip4:192.0.2.300", "not an ip4 address"),
    ("v=spf1 ip4:192.0.2.0/33", "prefix length"),
    ("v=spf1 ip4:192.0.2.0/024", "prefix length"),
    ("v=spf1 ip4", "needs ':address'"),
    ("v=spf1 ip6:2001:db8::/129", "prefix length"),
    ("v=spf1 ip6:192.0.2.1", "not an ip6 address"),
    ("v=spf1 a/33", "prefix length"),
    ("v=spf1 mx:example.com//129", "prefix length"),
    ("v=spf1 a:", "empty domain"),
    ("v=spf1 ptrx", "unknown mechanism"),
    ("v=spf1 redirect=a.example redirect=b.example", "more than once"),
    ("v=spf1 exp=a.example exp=b.example", "more than once"),
    ("v=spf1 redirect=", "empty domain"),
    ("v=spf1 exists:%{x}.example.com", "macro"),
    ("v=spf1 exists:%{d.example.com", "macro"),
    ("v=spf1 foo=100%", "macro"),
    ("v=spf1 include:%{d}", ""),  # a macro as the domain-end is fine ...
    ("v=spf1 mx ip4:192.0.2.1\t-all", "visible ASCII"),
]


@pytest.mark.parametrize("record", VALID_SPF)
def test_valid_spf_parses(record: str) -> None:
    spf_mod.parse(record)


@pytest.mark.parametrize(("record", "why"), [c for c in INVALID_SPF if c[1]])
def test_invalid_spf_is_rejected_with_a_reason(record: str, why: str) -> None:
    with pytest.raises(spf_mod.SpfSyntaxError, match=why):
        spf_mod.parse(record)


def test_macro_domain_end_is_accepted() -> None:
    assert spf_mod.parse("v=spf1 include:%{d}").terms[0].value == "%{d}"


@pytest.mark.parametrize(
    ("record", "counted"),
    [
        ("v=spf1 -all", []),
        ("v=spf1 ip4:192.0.2.1 ip6:::1 -all", []),
        (
            "v=spf1 a mx ptr exists:x.example include:y.example -all",
            ["a", "mx", "ptr", "exists", "include"],
        ),
        ("v=spf1 mx redirect=z.example", ["mx", "redirect"]),
        ("v=spf1 mx -all redirect=z.example", ["mx"]),  # redirect is ignored beside all
        ("v=spf1 mx -all a include:late.example", ["mx"]),  # never reached after all
        ("v=spf1 mx exp=e.example -all", ["mx"]),  # exp is not a lookup of evaluation
    ],
)
def test_lookup_terms(record: str, counted: list[str]) -> None:
    assert [t.name for t in spf_mod.parse(record).lookup_terms()] == counted


def test_terms_keep_qualifier_and_value() -> None:
    record = spf_mod.parse("v=spf1 ~include:Example.COM -ip4:192.0.2.0/24 redirect=r.example")
    assert [(t.qualifier, t.name, t.value) for t in record.terms] == [
        ("~", "include", "Example.COM"),
        ("-", "ip4", "192.0.2.0/24"),
        ("", "redirect", "r.example"),
    ]
    assert record.modifier("redirect") == "r.example"
    assert str(record.terms[0]) == "~include:Example.COM"


# ------------------------------------------------------------------------------ DMARC syntax

VALID_DMARC = [
    ("v=DMARC1; p=none", "none"),
    ("v=DMARC1;p=reject", "reject"),
    ("v=DMARC1; p=Quarantine; sp=reject; pct=50;", "quarantine"),
    ("v = DMARC1 ; p = reject ; ", "reject"),
    ("v=DMARC1; p=reject; rua=mailto:d@example.com,mailto:x@example.net!10m", "reject"),
    ("v=DMARC1; p=reject; ruf=mailto:f@example.com; fo=0:1:d:s; rf=afrf; ri=86400", "reject"),
    ("v=DMARC1; p=reject; adkim=s; aspf=r; pct=0", "reject"),
    ("v=DMARC1; p=reject; pct=100; np=reject; future=tag", "reject"),  # unknown tags ignored
]

INVALID_DMARC = [
    ("v=DMARC1", "no p= tag"),
    ("v=DMARC1; rua=mailto:d@example.com", "no p= tag"),
    ("p=reject; v=DMARC1", "must start with v=DMARC1"),
    ("v=DMARC2; p=reject", "must start with v=DMARC1"),
    ("v=DMARC1; p=block", "p=block"),
    ("v=DMARC1; p=reject; sp=all", "sp=all"),
    ("v=DMARC1; p=reject; pct=101", "pct=101"),
    ("v=DMARC1; p=reject; pct=-1", "pct=-1"),
    ("v=DMARC1; p=reject; pct=half", "pct=half"),
    ("v=DMARC1; p=reject; rua=d@example.com", "not a mailto"),
    ("v=DMARC1; p=reject; rua=mailto:nobody", "not a mailto"),
    ("v=DMARC1; p=reject; rua=mailto:a@example.com;; ruf=https://example.com/r", "ruf"),
    ("v=DMARC1; p=reject; adkim=x", "adkim=x"),
    ("v=DMARC1; p=reject; aspf=strict", "aspf=strict"),
    ("v=DMARC1; p=reject; p=none", "more than once"),
    ("v=DMARC1; p=reject; garbage", "not a tag=value"),
    ("v=DMARC1; p=reject; fo=2", "fo=2"),
    ("v=DMARC1; p=reject; ri=soon", "ri=soon"),
]


@pytest.mark.parametrize(("record", "policy"), VALID_DMARC)
def test_valid_dmarc_parses(record: str, policy: str) -> None:
    assert dmarc_mod.parse(record).policy == policy


@pytest.mark.parametrize(("record", "why"), INVALID_DMARC)
def test_invalid_dmarc_is_rejected_with_a_reason(record: str, why: str) -> None:
    with pytest.raises(dmarc_mod.DmarcSyntaxError, match=why):
        dmarc_mod.parse(record)


def test_dmarc_fields() -> None:
    record = dmarc_mod.parse(
        "v=DMARC1; p=quarantine; sp=none; pct=25; rua=mailto:a@example.com, mailto:b@x.example"
    )
    assert (record.policy, record.subdomain_policy, record.pct) == ("quarantine", "none", 25)
    assert record.rua == ("mailto:a@example.com", "mailto:b@x.example")
    assert (record.adkim, record.aspf) == ("r", "r")


@pytest.mark.parametrize(
    ("text", "claims"),
    [
        ("v=DMARC1; p=none", True),
        ("p=none; v=DMARC1", True),  # meant as DMARC, judged invalid by the parser
        ("v=spf1 -all", False),
        ("google-site-verification=abc", False),
        ("v=DMARC10; p=none", False),
    ],
)
def test_which_txt_records_are_dmarc(text: str, claims: bool) -> None:
    assert dmarc_mod.claims_dmarc(text) is claims


# ------------------------------------------------------------------------------ lab

TLD = "$ORIGIN test.\n@ SOA ns.test. h.test. 1 3600 600 86400 300\n"


def mail_zone(name: str, body: str, *, mx: str = "@ MX 10 mail\nmail A 127.0.0.1") -> str:
    head = f"$ORIGIN {name}.\n$TTL 300\n@ SOA ns1 h 1 3600 600 86400 300\n@ A 127.0.0.1\n"
    return head + mx + "\n" + body + "\n"


GOOD_DMARC = '_dmarc TXT "v=DMARC1; p=reject; rua=mailto:dmarc@example.com"'
ZONES = {
    "test.": TLD,
    "healthy.test.": mail_zone("healthy.test", f'@ TXT "v=spf1 mx -all"\n{GOOD_DMARC}'),
    # 11 lookups: include:a (1) include:b (1) + a: include:c a mx (3) + b: mx a ptr exists (4)
    # + c: a mx (2) = 11
    "many.test.": mail_zone(
        "many.test",
        '@ TXT "v=spf1 include:a.spf.many.test include:b.spf.many.test -all"\n'
        'a.spf TXT "v=spf1 include:c.spf.many.test a mx -all"\n'
        'b.spf TXT "v=spf1 mx a ptr exists:%{i}.x.many.test -all"\n'
        'c.spf TXT "v=spf1 a mx -all"\n' + GOOD_DMARC,
    ),
    # Exactly 10 lookups: the limit itself is allowed.
    "ten.test.": mail_zone(
        "ten.test",
        '@ TXT "v=spf1 include:a.spf.ten.test include:b.spf.ten.test -all"\n'
        'a.spf TXT "v=spf1 include:c.spf.ten.test a mx -all"\n'
        'b.spf TXT "v=spf1 mx a exists:%{i}.x.ten.test -all"\n'
        'c.spf TXT "v=spf1 a mx -all"\n' + GOOD_DMARC,
    ),
    "twospf.test.": mail_zone(
        "twospf.test", f'@ TXT "v=spf1 mx -all"\n@ TXT "v=spf1 a -all"\n{GOOD_DMARC}'
    ),
    "nop.test.": mail_zone(
        "nop.test", '@ TXT "v=spf1 mx -all"\n_dmarc TXT "v=DMARC1; rua=mailto:d@nop.test"'
    ),
    "nullmx.test.": mail_zone("nullmx.test", "", mx="@ MX 0 ."),
    "mixedmx.test.": mail_zone(
        "mixedmx.test", f'@ TXT "v=spf1 mx -all"\n{GOOD_DMARC}',
        mx="@ MX 0 .\n@ MX 10 mail\nmail A 127.0.0.1",
    ),
    "bare.test.": mail_zone("bare.test", '@ TXT "google-site-verification=x"'),
    # One record in two character-strings must be read as one (RFC 7208 §3.3).
    "split.test.": mail_zone(
        "split.test",
        f'@ TXT "v=spf1 ip4:192.0.2.1 " "include:_spf.split.test -all"\n'
        f'_spf TXT "v=spf1 mx -all"\n{GOOD_DMARC}',
    ),
    "dangling.test.": mail_zone(
        "dangling.test", f'@ TXT "v=spf1 include:gone.dangling.test -all"\n{GOOD_DMARC}'
    ),
    "loop.test.": mail_zone(
        "loop.test",
        f'@ TXT "v=spf1 include:a.loop.test -all"\na TXT "v=spf1 redirect=loop.test"\n{GOOD_DMARC}',
    ),
    "badspf.test.": mail_zone("badspf.test", f'@ TXT "v=spf1 mx ip4:300.1.1.1 -all"\n{GOOD_DMARC}'),
    "twodmarc.test.": mail_zone(
        "twodmarc.test",
        '@ TXT "v=spf1 mx -all"\n_dmarc TXT "v=DMARC1; p=none"\n_dmarc TXT "v=DMARC1; p=reject"',
    ),
    "flaky.test.": mail_zone(
        "flaky.test", f'@ TXT "v=spf1 include:_spf.flaky.test -all"\n{GOOD_DMARC}'
    ),
    "dmarcfail.test.": mail_zone("dmarcfail.test", '@ TXT "v=spf1 mx -all"'),
}
BEHAVIOURS: dict[str, Any] = {
    "_spf.flaky.test": "servfail",
    "_dmarc.dmarcfail.test": "servfail",
    "broken.test": "servfail",
    "*.broken.test": "servfail",
}


@pytest.fixture(scope="module")
def resolver() -> Iterator[DnsServer]:
    with Lab() as lab:
        yield lab.add(DnsServer(ZONES, behaviours=BEHAVIOURS))


def mail(server: DnsServer, name: str) -> CheckResult:
    ctx = Context(
        settings=Settings(timeout=1.0),
        now=datetime.now(timezone.utc),
        resolver=Resolver([Nameserver(server.host, server.port)], timeout=1.0),
        registry=cast(Any, None),  # the mail check never asks the registries
        tls=ssl.create_default_context(),
    )
    return asyncio.run(check_mail(Domain(name, name), ctx))


def codes(result: CheckResult) -> list[str]:
    return [f.code for f in result.findings]


def test_healthy_domain_has_no_findings(resolver: DnsServer) -> None:
    result = mail(resolver, "healthy.test")
    assert codes(result) == []
    assert result.data == {
        "mx": [
            {
                "host": "mail.healthy.test",
                "addresses": ["127.0.0.1"],
                "cname": None,
                "preference": 10,
            }
        ],
        "null_mx": False,
        "spf": {"record": "v=spf1 mx -all", "lookups": 1, "verdict": "ok", "error": None},
        "dmarc": {
            "record": "v=DMARC1; p=reject; rua=mailto:dmarc@example.com",
            "policy": "reject",
            "subdomain_policy": None,
            "pct": 100,
            "rua": ["mailto:dmarc@example.com"],
            "ruf": [],
            "adkim": "r",
            "aspf": "r",
            "verdict": "ok",
            "error": None,
        },
    }


def test_eleven_lookups_through_nested_includes(resolver: DnsServer) -> None:
    result = mail(resolver, "many.test")
    assert codes(result) == ["mail.spf.too_many_lookups"]
    assert result.findings[0].severity.value == "warning"
    assert "11 DNS lookups" in result.findings[0].message
    assert result.data is not None and result.data["spf"]["lookups"] == 11
    assert result.data["spf"]["verdict"] == "too_many_lookups"


def test_ten_lookups_are_allowed(resolver: DnsServer) -> None:
    result = mail(resolver, "ten.test")
    assert codes(result) == []
    assert result.data is not None and result.data["spf"]["lookups"] == 10


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("twospf.test", "2 SPF records"),
        ("badspf.test", "300.1.1.1"),
        ("dangling.test", "gone.dangling.test does not exist"),
        ("loop.test", "loops back to loop.test"),
    ],
)
def test_invalid_spf(resolver: DnsServer, name: str, why: str) -> None:
    result = mail(resolver, name)
    assert codes(result) == ["mail.spf.invalid"]
    assert why in result.findings[0].message
    assert result.data is not None and result.data["spf"]["verdict"] == "invalid"


def test_spf_in_several_strings_is_one_record(resolver: DnsServer) -> None:
    result = mail(resolver, "split.test")
    assert codes(result) == []
    assert result.data is not None
    assert result.data["spf"]["record"] == "v=spf1 ip4:192.0.2.1 include:_spf.split.test -all"
    assert result.data["spf"]["lookups"] == 2


def test_dmarc_without_p_is_invalid(resolver: DnsServer) -> None:
    result = mail(resolver, "nop.test")
    assert codes(result) == ["mail.dmarc.invalid"]
    assert "p=" in result.findings[0].message
    assert result.data is not None and result.data["dmarc"]["policy"] is None


def test_two_dmarc_records_are_invalid(resolver: DnsServer) -> None:
    result = mail(resolver, "twodmarc.test")
    assert codes(result) == ["mail.dmarc.invalid"]
    assert "2 DMARC records" in result.findings[0].message


def test_missing_spf_and_dmarc_are_info(resolver: DnsServer) -> None:
    result = mail(resolver, "bare.test")
    assert [(f.code, f.severity.value) for f in result.findings] == [
        ("mail.spf.missing", "info"),
        ("mail.dmarc.missing", "info"),
    ]


def test_null_mx_needs_no_spf_or_dmarc(resolver: DnsServer) -> None:
    result = mail(resolver, "nullmx.test")
    assert codes(result) == ["mail.null_mx"]
    assert result.data is not None and result.data["null_mx"] is True
    assert result.data["spf"]["verdict"] == "missing"


def test_null_mx_beside_other_mx_records_is_a_warning(resolver: DnsServer) -> None:
    result = mail(resolver, "mixedmx.test")
    assert [(f.code, f.severity.value) for f in result.findings] == [
        ("mail.null_mx_mixed", "warning")]
    assert "RFC 7505" in result.findings[0].message
    assert result.data is not None and result.data["null_mx"] is True
    assert [mx["host"] for mx in result.data["mx"]] == ["mail.mixedmx.test"]


def test_failed_include_lookup_is_a_dns_failure_not_invalid(resolver: DnsServer) -> None:
    result = mail(resolver, "flaky.test")
    assert codes(result) == ["dns.servfail"]
    assert "_spf.flaky.test" in result.findings[0].message
    assert result.data is not None and result.data["spf"]["verdict"] == "unknown"


def test_failed_dmarc_lookup_is_a_dns_failure_not_missing(resolver: DnsServer) -> None:
    result = mail(resolver, "dmarcfail.test")
    assert codes(result) == ["dns.servfail"]
    assert "DMARC" in result.findings[0].message


def test_resolver_failure_is_reported_once(resolver: DnsServer) -> None:
    result = mail(resolver, "broken.test")
    assert codes(result) == ["dns.servfail"]
    assert result.data is not None and result.data["spf"] is None


# ------------------------------------------------------------------------------ via the CLI


def test_cli_judges_each_mail_case(resolver: DnsServer, tmp_path: Path) -> None:
    names = ["healthy.test", "many.test", "twospf.test", "nop.test", "nullmx.test"]
    listed = ", ".join(f'"{n}"' for n in names)
    config = tmp_path / "domains.toml"
    config.write_text(
        f'domains = [{listed}]\n\n[settings]\ntimeout = 1\nchecks = ["mail"]\n\n'
        f'[settings.resolver]\nnameservers = ["{resolver.address}"]\n',
        encoding="utf-8",
    )
    run = domwatch(
        "check", str(config), "--format", "json", "--no-cache", "--no-state", "--no-progress"
    )
    assert run.codes("healthy.test") == []
    assert run.codes("many.test") == ["mail.spf.too_many_lookups"]
    assert run.codes("twospf.test") == ["mail.spf.invalid"]
    assert run.codes("nop.test") == ["mail.dmarc.invalid"]
    assert run.codes("nullmx.test") == ["mail.null_mx"]
    assert run.domain("healthy.test")["mail"]["dmarc"]["policy"] == "reject"
    assert run.domain("many.test")["mail"]["spf"]["lookups"] == 11
    assert run.domain("nullmx.test")["status"] == "ok"
    assert run.exit_code == 1, run.stderr
