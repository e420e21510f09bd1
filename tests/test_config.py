"""load_config: targets, the TOML schema, option precedence, and one-line located errors."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest

from domwatch.config import (
    ConfigError,
    Endpoint,
    Settings,
    load_config,
    parse_duration,
    parse_endpoint,
)
from domwatch.model import CHECKS, Thresholds

# --------------------------------------------------------------------------- helpers


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def config_error(
    tmp_path: Path,
    targets: list[str],
    options: dict[str, object] | None = None,
    stdin: str | None = None,
) -> str:
    with pytest.raises(ConfigError) as info:
        load_config(
            targets,
            options or {},
            stdin=io.StringIO(stdin) if stdin is not None else None,
            cwd=tmp_path,
        )
    message = str(info.value)
    assert message and "\n" not in message, message
    return message


@dataclass
class Bad:
    """A malformed domain file: the error must name this file, this line and this key."""

    id: str
    text: str
    key: str
    fragment: str
    line: int | None = None  # default: the line marked "# <-"

    def expected_line(self) -> int:
        if self.line is not None:
            return self.line
        return next(i for i, t in enumerate(self.text.splitlines(), 1) if "# <-" in t)


D = 'domains = ["example.com"]\n'  # a valid first line, so errors are not all on line 1

BAD_FILES = [
    # unknown keys, with the closest valid one suggested
    Bad(
        "top-typo",
        'domians = ["example.com"] # <-\n',
        "domians",
        "unknown key (did you mean 'domains'?)",
    ),
    Bad(
        "settings-typo",
        D + "[settings]\ncrit_days = 7\nwarn_dayz = 30 # <-\n",
        "settings.warn_dayz",
        "unknown key (did you mean 'warn_days'?)",
    ),
    Bad(
        "dotted-typo",
        D + "settings.timout = 3 # <-\n",
        "settings.timout",
        "did you mean 'timeout'?",
    ),
    Bad(
        "subtable-typo",
        D + "[settings]\n[settings.resolvers] # <-\nnameservers = []\n",
        "settings.resolvers",
        "unknown key (did you mean 'resolver'?)",
    ),
    Bad(
        "whois-typo",
        D + "[settings.whois]\nserver = {} # <-\n",
        "settings.whois.server",
        "did you mean 'servers'?",
    ),
    Bad(
        "notify-typo",
        D + "[settings.notify]\nurl = [] # <-\n",
        "settings.notify.url",
        "did you mean 'urls'?",
    ),
    Bad(
        "domain-typo",
        D + '[[domain]]\nname = "a.fi"\n\n[[domain]]\nname = "b.fi"\nexpiry = "2027-01-01" # <-\n',
        "domain[1].expiry",
        "did you mean 'expires'?",
    ),
    Bad("unknown-no-suggestion", D + "[settings]\nzzz = 1 # <-\n", "settings.zzz", "unknown key"),
    # wrong types
    Bad(
        "int-as-string",
        D + '[settings]\nwarn_days = "30" # <-\n',
        "settings.warn_days",
        "expected a whole number, got a string ('30')",
    ),
    Bad(
        "int-as-bool",
        D + "[settings]\nwarn_days = true # <-\n",
        "settings.warn_days",
        "got a boolean (true)",
    ),
    Bad(
        "int-as-float",
        D + "[settings]\ncrit_days = 7.5 # <-\n",
        "settings.crit_days",
        "expected a whole number",
    ),
    Bad(
        "bool-as-string",
        D + '[settings]\nquiet = "yes" # <-\n',
        "settings.quiet",
        "expected true or false",
    ),
    Bad(
        "checks-as-string",
        D + '[settings]\nchecks = "dns" # <-\n',
        "settings.checks",
        "expected an array of strings",
    ),
    Bad("settings-not-table", D + "settings = 5 # <-\n", "settings", "expected a table"),
    Bad(
        "timeout-as-string",
        D + '[settings]\ntimeout = "10s" # <-\n',
        "settings.timeout",
        "expected a number of seconds",
    ),
    Bad(
        "output-as-int",
        D + "[settings]\noutput = 5 # <-\n",
        "settings.output",
        "expected a file path",
    ),
    Bad(
        "nameservers-as-string",
        D + '[settings.resolver]\nnameservers = "192.0.2.1" # <-\n',
        "settings.resolver.nameservers",
        "expected an array",
    ),
    Bad(
        "whois-server-as-int",
        D + "[settings.whois]\nservers = { fi = 43 } # <-\n",
        "settings.whois.servers.fi",
        "expected a HOST[:PORT] string",
    ),
    Bad(
        "allow-private-as-string",
        D + '[settings.network]\nallow_private = "no" # <-\n',
        "settings.network.allow_private",
        "expected true or false",
    ),
    Bad(
        "domains-as-string",
        'domains = "example.com" # <-\n',
        "domains",
        "expected an array of domain names",
    ),
    Bad(
        "domains-long-form-confusion",
        '[[domains]] # <-\nname = "example.com"\n',
        "domains[0]",
        "write [[domain]] tables",
    ),
    Bad(
        "domain-single-brackets",
        D + '[domain] # <-\nname = "example.fi"\n',
        "domain",
        "[[domain]] tables (two brackets)",
    ),
    Bad(
        "domain-name-int",
        D + "[[domain]]\nname = 42 # <-\n",
        "domain[0].name",
        "expected a domain name, got a number (42)",
    ),
    Bad(
        "domain-mail-string",
        D + '[[domain]]\nname = "a.fi"\nmail = "yes" # <-\n',
        "domain[0].mail",
        "expected true or false",
    ),
    # bad values
    Bad(
        "negative-days",
        D + "[settings]\nwarn_days = -1 # <-\n",
        "settings.warn_days",
        "must be at least 0",
    ),
    Bad(
        "crit-above-warn",
        D + "[settings]\nwarn_days = 10\ncrit_days = 14 # <-\n",
        "settings.crit_days",
        "crit_days (14) is more than warn_days (10, set at d.toml:3",
    ),
    Bad(
        "cert-crit-above-default-warn",
        D + "[settings]\ncert_crit_days = 30 # <-\n",
        "settings.cert_crit_days",
        "more than cert_warn_days (21, the default)",
    ),
    Bad(
        "domain-crit-above-settings-warn",
        D + '[settings]\nwarn_days = 10\n[[domain]]\nname = "a.fi"\ncrit_days = 12 # <-\n',
        "domain[0].crit_days",
        "crit_days (12) is more than warn_days (10",
    ),
    Bad(
        "unknown-check",
        D + '[settings]\nchecks = ["registration", "dnss"] # <-\n',
        "settings.checks",
        "unknown check 'dnss' (valid: registration, dns, web, mail) (did you mean 'dns'?)",
    ),
    Bad("tls-check", D + '[settings]\nchecks = ["tls"] # <-\n', "settings.checks", "part of 'web'"),
    Bad(
        "empty-checks",
        D + "[settings]\nchecks = [] # <-\n",
        "settings.checks",
        "empty list of checks",
    ),
    Bad(
        "domain-unknown-check",
        D + '[[domain]]\nname = "a.fi"\nchecks = ["web", "mial"] # <-\n',
        "domain[0].checks",
        "did you mean 'mail'?",
    ),
    Bad(
        "concurrency-zero",
        D + "[settings]\nconcurrency = 0 # <-\n",
        "settings.concurrency",
        "must be at least 1",
    ),
    Bad("timeout-zero", D + "[settings]\ntimeout = 0 # <-\n", "settings.timeout", "above zero"),
    Bad("timeout-nan", D + "[settings]\ntimeout = nan # <-\n", "settings.timeout", "finite"),
    Bad(
        "fail-on-typo",
        D + '[settings]\nfail_on = "warn" # <-\n',
        "settings.fail_on",
        "unknown state 'warn' (valid: warning, critical, never) (did you mean 'warning'?)",
    ),
    Bad(
        "format-typo",
        D + '[settings]\nformat = "jsn" # <-\n',
        "settings.format",
        "did you mean 'json'?",
    ),
    Bad(
        "resolver-by-name",
        D + '[settings.resolver]\nnameservers = [\n  "192.0.2.53",\n  "dns.google", # <-\n]\n',
        "settings.resolver.nameservers[1]",
        "'dns.google' is not an IP address",
    ),
    Bad(
        "resolver-bad-port",
        D + '[settings.resolver]\nnameservers = ["192.0.2.1:99999"] # <-\n',
        "settings.resolver.nameservers[0]",
        "port must be a number from 1 to 65535",
    ),
    Bad(
        "resolver-unclosed-v6",
        D + '[settings.resolver]\nnameservers = ["[2001:db8::1"] # <-\n',
        "settings.resolver.nameservers[0]",
        "missing ']'",
    ),
    Bad(
        "resolver-v4-in-brackets",
        D + '[settings.resolver]\nnameservers = ["[192.0.2.1]:53"] # <-\n',
        "settings.resolver.nameservers[0]",
        "only an IPv6 address goes inside [...]",
    ),
    Bad(
        "whois-iana-space",
        D + '[settings.whois]\niana = "whois iana.org" # <-\n',
        "settings.whois.iana",
        "space not allowed",
    ),
    Bad(
        "whois-port-zero",
        D + '[settings.whois]\nservers = { fi = "whois.fi:0" } # <-\n',
        "settings.whois.servers.fi",
        "port must be",
    ),
    Bad(
        "whois-bad-zone",
        D + '[settings.whois]\nservers = { "gb..com" = "whois.centralnic.com" } # <-\n',
        'settings.whois.servers."gb..com"',
        "empty label",
    ),
    Bad(
        "rdap-http",
        D + '[settings.rdap]\nservers = { de = "http://rdap.denic.de/" } # <-\n',
        "settings.rdap.servers.de",
        "is not an https:// URL",
    ),
    Bad(
        "rdap-no-host",
        D + '[settings.rdap]\nservers = { de = "https://" } # <-\n',
        "settings.rdap.servers.de",
        "is not an https:// URL",
    ),
    Bad(
        "rdap-bootstrap-missing",
        D + '[settings.rdap]\nbootstrap = "dns.json" # <-\n',
        "settings.rdap.bootstrap",
        "no such file",
    ),
    Bad(
        "ca-bundle-missing",
        D + '[settings.tls]\nca_bundle = "nope.pem" # <-\n',
        "settings.tls.ca_bundle",
        "no such file",
    ),
    Bad(
        "ca-bundle-directory",
        D + '[settings.tls]\nca_bundle = "." # <-\n',
        "settings.tls.ca_bundle",
        "is a directory",
    ),
    Bad(
        "notify-url",
        D + '[settings.notify]\nurls = ["ops@example.fi"] # <-\n',
        "settings.notify.urls[0]",
        "not an Apprise URL",
    ),
    Bad(
        "notify-remind-word",
        D + '[settings.notify]\nremind = "soon" # <-\n',
        "settings.notify.remind",
        "is not a duration",
    ),
    Bad(
        "notify-remind-zero",
        D + '[settings.notify]\nremind = "0h" # <-\n',
        "settings.notify.remind",
        "more than zero",
    ),
    Bad(
        "notify-min",
        D + '[settings.notify]\nmin = "info" # <-\n',
        "settings.notify.min",
        "unknown state 'info' (valid: warning, critical)",
    ),
    Bad(
        "notify-env-name",
        D + '[settings.notify]\nurls_env = "1-BAD" # <-\n',
        "settings.notify.urls_env",
        "not an environment variable name",
    ),
    Bad(
        "bad-domain-in-list",
        'domains = [\n  "example.com",\n  "exa mple.com", # <-\n]\n',
        "domains[1]",
        "not a domain name: 'exa mple.com' (space not allowed)",
    ),
    Bad(
        "public-suffix-in-list",
        'domains = ["example.com", "co.uk"] # <-\n',
        "domains[1]",
        "'co.uk' is a public suffix",
    ),
    Bad(
        "domain-name-missing",
        D + '[[domain]]\nname = "a.fi"\n[[domain]] # <-\nwarn_days = 3\n',
        "domain[1]",
        "missing key 'name'",
    ),
    Bad(
        "domain-name-bad", D + '[[domain]]\nname = "a_b.fi" # <-\n', "domain[0].name", "underscore"
    ),
    Bad(
        "web-http",
        D + '[[domain]]\nname = "a.fi"\nweb = ["http://a.fi/"] # <-\n',
        "domain[0].web[0]",
        "is not an https:// URL",
    ),
    Bad(
        "expires-impossible",
        D + '[[domain]]\nname = "a.fi"\nexpires = "2027-02-30" # <-\n',
        "domain[0].expires",
        "not a real date",
    ),
    Bad(
        "expires-words",
        D + '[[domain]]\nname = "a.fi"\nexpires = "next year" # <-\n',
        "domain[0].expires",
        "expected a date like 2027-03-01",
    ),
    Bad(
        "ignore-not-code",
        D + '[[domain]]\nname = "a.fi"\nignore = ["mail.dmarc.missing", "DMARC"] # <-\n',
        "domain[0].ignore[1]",
        "'DMARC' is not a finding code",
    ),
    Bad(
        "empty-tag",
        D + '[[domain]]\nname = "a.fi"\ntags = [""] # <-\n',
        "domain[0].tags[0]",
        "empty tag",
    ),
    Bad(
        "domain-notify-url",
        D + '[[domain]]\nname = "a.fi"\nnotify = ["slack"] # <-\n',
        "domain[0].notify[0]",
        "not an Apprise URL",
    ),
    # the locator must not be fooled by strings that look like keys, or by nested tables
    Bad(
        "after-multiline-string",
        D + '[[domain]]\nname = "a.fi"\ntags = ["""\n'
        'warn_days = 1\n[settings]\n"""]\nwarn_days = "x" # <-\n',
        "domain[0].warn_days",
        "expected a whole number",
    ),
    Bad(
        "quoted-key-inline",
        D + '[settings.rdap]\nservers = { "fi" = "ftp://rdap.fi/" } # <-\n',
        "settings.rdap.servers.fi",
        "https://",
    ),
    Bad(
        "third-domain-entry",
        D + '[[domain]]\nname = "a.fi"\n[[domain]]\nname = "b.fi"\n'
        '[[domain]]\nname = "c.fi"\nmail_tls = 1 # <-\n',
        "domain[2].mail_tls",
        "expected true or false",
    ),
]


@pytest.mark.parametrize("case", BAD_FILES, ids=[c.id for c in BAD_FILES])
def test_bad_domain_file_names_file_line_and_key(tmp_path: Path, case: Bad) -> None:
    write(tmp_path, "d.toml", case.text)
    message = config_error(tmp_path, ["d.toml"])
    assert message.startswith(f"d.toml:{case.expected_line()}: {case.key}: "), message
    assert case.fragment in message, message


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        (D + "[settings]\nwarn_days = \n", 3, "TOML syntax error: invalid value (column 13)"),
        (
            D + "[settings]\nwarn_days = 1\nwarn_days = 2\n",
            4,
            "TOML syntax error: cannot overwrite",
        ),
        (D + "[settings]\n[settings]\n", 3, "TOML syntax error: cannot declare"),
        (D + 'x = "unterminated\n', 2, "TOML syntax error: illegal character"),
        (D + 'x = """never closed\n\n', 3, "TOML syntax error: unterminated string"),
        ("domains = [\n", 1, "TOML syntax error"),
    ],
)
def test_toml_syntax_errors_are_reformatted(
    tmp_path: Path, text: str, line: int, fragment: str
) -> None:
    write(tmp_path, "d.toml", text)
    message = config_error(tmp_path, ["d.toml"])
    assert message.startswith(f"d.toml:{line}: "), message
    assert fragment in message, message
    assert "(at line" not in message


# --------------------------------------------------------------------------- unreadable files


def test_missing_toml_file(tmp_path: Path) -> None:
    assert config_error(tmp_path, ["nope.toml"]) == "nope.toml: no such file"


def test_missing_list_file_that_looks_like_a_path(tmp_path: Path) -> None:
    assert config_error(tmp_path, ["lists/customers"]) == "lists/customers: no such file"
    assert config_error(tmp_path, ["customers.txt"]) == "customers.txt: no such file"


def test_toml_target_that_is_a_directory(tmp_path: Path) -> None:
    (tmp_path / "conf.toml").mkdir()
    assert config_error(tmp_path, ["conf.toml"]) == "conf.toml: is a directory, not a file"


def test_bare_word_that_is_a_directory(tmp_path: Path) -> None:
    (tmp_path / "lists").mkdir()
    assert config_error(tmp_path, ["lists"]) == "lists: is a directory, not a domain file"


def test_binary_file(tmp_path: Path) -> None:
    (tmp_path / "d.toml").write_bytes(b'domains = ["a.fi"]\n\x00\x01\x02')
    assert config_error(tmp_path, ["d.toml"]).startswith("d.toml:2: binary data")


def test_not_utf8(tmp_path: Path) -> None:
    (tmp_path / "list.txt").write_bytes(b"example.com\n\nk\xe4\xe4kk\xf6nen.fi\n")
    message = config_error(tmp_path, ["list.txt"])
    assert message.startswith("list.txt:3: not UTF-8 text (byte 0xe4)"), message


def test_utf16(tmp_path: Path) -> None:
    (tmp_path / "d.toml").write_bytes('domains = ["a.fi"]\n'.encode("utf-16"))
    assert "UTF-16 text; save the file as UTF-8" in config_error(tmp_path, ["d.toml"])


def test_unreadable_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path, "d.toml", D)

    def refuse(self: Path) -> bytes:
        raise PermissionError(13, "Permission denied", str(self))

    # chmod 0 does not stop root (CI containers), so the refusal is simulated.
    monkeypatch.setattr(Path, "read_bytes", refuse)
    assert config_error(tmp_path, ["d.toml"]) == "d.toml: permission denied"


# --------------------------------------------------------------------------- names elsewhere


def test_bad_name_in_plain_list(tmp_path: Path) -> None:
    write(tmp_path, "list.txt", "# customers\nexample.com\n\nexample.org  # ok\nexa mple.com\n")
    message = config_error(tmp_path, ["list.txt"])
    assert message == "list.txt:5: not a domain name: 'exa mple.com' (space not allowed)"


def test_bad_name_on_stdin(tmp_path: Path) -> None:
    message = config_error(tmp_path, ["-"], stdin="example.com\nco.uk\n")
    assert message == "stdin:2: 'co.uk' is a public suffix, not a registrable domain"


@pytest.mark.parametrize(
    ("target", "fragment"),
    [
        ("exa mple.com", "argument 'exa mple.com': not a domain name: 'exa mple.com' (space"),
        ("co.uk", "argument 'co.uk': 'co.uk' is a public suffix"),
        ("192.0.2.1", "argument '192.0.2.1': not a domain name: '192.0.2.1' (an IP address"),
        ("example.com:443", "argument 'example.com:443': not a domain name"),
    ],
)
def test_bad_name_argument(tmp_path: Path, target: str, fragment: str) -> None:
    assert config_error(tmp_path, [target]).startswith(fragment)


# --------------------------------------------------------------------------- options


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({"checks": "foo"}, "--checks: unknown check 'foo' (valid: registration, dns, web, mail)"),
        (
            {"checks": "registration,webb"},
            "--checks: unknown check 'webb' (valid: registration,"
            " dns, web, mail) (did you mean 'web'?)",
        ),
        ({"checks": " , "}, "--checks: empty list of checks"),
        ({"warn_days": 3}, "--warn-days: warn_days (3) is less than crit_days (7, the default)"),
        ({"crit_days": 40}, "--crit-days: crit_days (40) is more than warn_days (30, the default)"),
        ({"cert_crit_days": -2}, "--cert-crit-days: must be at least 0, got -2"),
        ({"warn_days": "many"}, "--warn-days: expected a whole number, got a string ('many')"),
        ({"concurrency": 0}, "--concurrency: must be at least 1, got 0"),
        ({"timeout": 0.0}, "--timeout: must be a finite number above zero"),
        ({"timeout": "soon"}, "--timeout: expected a number of seconds"),
        ({"format": "xml"}, "--format: unknown format 'xml' (valid: table, json, csv"),
        ({"fail_on": "sometimes"}, "--fail-on: unknown state 'sometimes'"),
        ({"notify_min": "info"}, "--notify-min: unknown state 'info'"),
        ({"resolvers": ("dns.google",)}, "--resolver: 'dns.google' is not an IP address"),
        ({"resolvers": ("192.0.2.1:70000",)}, "--resolver: '192.0.2.1:70000': port must be"),
        ({"notify_urls": ("nope",)}, "--notify: not an Apprise URL"),
        ({"quiet": "yes"}, "--quiet: expected on or off"),
        ({"output": ""}, "--output: expected a path"),
        ({"bogus": 1}, "--bogus: unknown option"),
    ],
)
def test_bad_options(tmp_path: Path, options: dict[str, object], expected: str) -> None:
    assert config_error(tmp_path, ["example.com"], options).startswith(expected)


def test_option_clash_with_file_blames_the_option(tmp_path: Path) -> None:
    write(tmp_path, "d.toml", D + "[settings]\ncrit_days = 14\n")
    message = config_error(tmp_path, ["d.toml"], {"warn_days": 10})
    assert message == (
        "--warn-days: warn_days (10) is less than crit_days (14, set at d.toml:3: "
        "settings.crit_days)"
    )


def test_no_targets_and_no_default_file(tmp_path: Path) -> None:
    assert config_error(tmp_path, []) == (
        "no domains given: name a domain, a .toml domain file, a list file or '-' "
        "(or create ./domwatch.toml with 'domwatch init')"
    )


def test_file_without_domains(tmp_path: Path) -> None:
    write(tmp_path, "d.toml", "[settings]\nwarn_days = 40\n")
    write(tmp_path, "empty.txt", "# nothing yet\n")
    assert config_error(tmp_path, ["d.toml", "empty.txt"]) == "d.toml, empty.txt: no domains found"


# --------------------------------------------------------------------------- good input

FULL = """\
domains = ["example.com", "example.org"]         # short form

[settings]
warn_days = 45
crit_days = 10
cert_warn_days = 20
cert_crit_days = 5
checks = ["registration", "dns", "web"]
concurrency = 8
timeout = 2.5
fail_on = "critical"
format = "json"
quiet = true
mail_tls = true
output = "out/report.json"

[settings.resolver]
nameservers = ["192.0.2.53", "127.0.0.1:5353", "[2001:db8::53]:5300", "2001:db8::1"]

[settings.whois]
iana = "127.0.0.1:4343"
servers = { fi = "whois.fi", example = "127.0.0.1:4344", "テスト" = "whois.test" }

[settings.rdap]
bootstrap = "boot/dns.json"
servers = { de = "https://rdap.denic.de" }

[settings.tls]
ca_bundle = "ca.pem"

[settings.network]
allow_private = true

[settings.notify]
urls = ["mailto://ops@example.fi"]
urls_env = "DOMWATCH_NOTIFY"
remind = "30m"
min = "critical"

[[domain]]
name = "ääkkönen.fi"
warn_days = 60
checks = ["web", "registration"]
web = ["https://ääkkönen.fi/", "https://www.xn--kknen-fraa0m.fi/"]
mail = true
mail_tls = false
expires = 2027-03-01
ignore = ["mail.dmarc.missing", "mail.tls.*"]
tags = ["customer:acme"]
notify = ["mailto://it@acme.example"]

[[domain]]
name = "example.de"
expires = "2026-12-31"
"""


def full(tmp_path: Path) -> Path:
    (tmp_path / "conf").mkdir()
    (tmp_path / "conf" / "ca.pem").write_text("not really a certificate\n")
    (tmp_path / "conf" / "boot").mkdir()
    (tmp_path / "conf" / "boot" / "dns.json").write_text("{}\n")
    return write(tmp_path, "conf/domains.toml", FULL)


def test_full_file(tmp_path: Path) -> None:
    full(tmp_path)
    config = load_config(["conf/domains.toml"], {}, cwd=tmp_path)
    conf = tmp_path / "conf"
    assert config.settings == Settings(
        format="json",
        output=conf / "out/report.json",  # relative to the file, not to the cwd
        checks=("registration", "dns", "web"),
        thresholds=Thresholds(45, 10, 20, 5),
        fail_on="critical",
        quiet=True,
        concurrency=8,
        timeout=2.5,
        resolvers=(
            Endpoint("192.0.2.53"),
            Endpoint("127.0.0.1", 5353),
            Endpoint("2001:db8::53", 5300),
            Endpoint("2001:db8::1"),
        ),
        mail_tls=True,
        whois_iana=Endpoint("127.0.0.1", 4343),
        whois_servers={
            "fi": Endpoint("whois.fi"),
            "example": Endpoint("127.0.0.1", 4344),
            "xn--zckzah": Endpoint("whois.test"),
        },
        rdap_bootstrap=str(conf / "boot/dns.json"),
        rdap_servers={"de": "https://rdap.denic.de/"},
        ca_bundle=conf / "ca.pem",
        allow_private=True,
        notify_urls=("mailto://ops@example.fi",),
        notify_urls_env="DOMWATCH_NOTIFY",
        notify_remind=1800.0,
        notify_min="critical",
    )
    com, org, fi, de = config.domains
    assert (com.name, com.source, com.checks, com.mail_tls) == (
        "example.com",
        "conf/domains.toml:1",
        ("registration", "dns", "web"),
        True,
    )
    assert com.thresholds == Thresholds(45, 10, 20, 5)
    assert org.name == "example.org"
    assert fi.name == "xn--kknen-fraa0m.fi"
    assert fi.display_name == "ääkkönen.fi"
    assert fi.source == "conf/domains.toml:41"
    assert fi.thresholds == Thresholds(60, 10, 20, 5)  # only warn_days overridden
    assert fi.checks == ("registration", "web")
    assert fi.web == ("https://ääkkönen.fi/", "https://www.xn--kknen-fraa0m.fi/")
    assert (fi.mail, fi.mail_tls, fi.expires) == (True, False, date(2027, 3, 1))
    assert fi.ignore == frozenset({"mail.dmarc.missing", "mail.tls.*"})
    assert (fi.tags, fi.notify) == (("customer:acme",), ("mailto://it@acme.example",))
    assert de.expires == date(2026, 12, 31)
    assert de.mail is None


def test_defaults_for_a_bare_name(tmp_path: Path) -> None:
    config = load_config(["Example.COM."], {}, cwd=tmp_path)
    assert config.settings == Settings()
    (domain,) = config.domains
    assert (domain.name, domain.source, domain.checks) == ("example.com", "argv", CHECKS)


def test_command_line_wins(tmp_path: Path) -> None:
    full(tmp_path)
    options: dict[str, object] = {
        "format": "csv",
        "warn_days": 90,
        "timeout": "4",
        "resolvers": ("192.0.2.1", "[::1]:53"),
        "notify_urls": ("json://hooks.example/x",),
        "quiet": False,
        "mail_tls": False,
        "output": "report.csv",
        "concurrency": None,  # not given: the file's value stays
        "dry_run_notify": True,
    }
    config = load_config(["conf/domains.toml"], options, cwd=tmp_path)
    s = config.settings
    assert (s.format, s.timeout, s.quiet, s.concurrency, s.dry_run_notify) == (
        "csv",
        4.0,
        False,
        8,
        True,
    )
    assert s.thresholds == Thresholds(90, 10, 20, 5)
    assert s.resolvers == (Endpoint("192.0.2.1"), Endpoint("::1", 53))
    assert s.notify_urls == ("json://hooks.example/x",)
    assert s.output == tmp_path / "report.csv"
    # ... over the per-domain values too: the person at the terminal asked for this run.
    assert all(d.thresholds.warn_days == 90 for d in config.domains)
    assert not any(d.mail_tls for d in config.domains)


def test_checks_option_narrows_per_domain_checks(tmp_path: Path) -> None:
    full(tmp_path)
    config = load_config(["conf/domains.toml"], {"checks": "dns,registration"}, cwd=tmp_path)
    assert config.settings.checks == ("registration", "dns")
    by_name = {d.name: d for d in config.domains}
    assert by_name["example.com"].checks == ("registration", "dns")
    assert by_name["xn--kknen-fraa0m.fi"].checks == ("registration",)  # its own: web, registration


def test_two_files_later_settings_win_and_server_tables_add_up(tmp_path: Path) -> None:
    write(
        tmp_path,
        "a.toml",
        D + "[settings]\nwarn_days = 40\ntimeout = 3\n"
        '[settings.whois]\nservers = { fi = "whois.fi", se = "whois.iis.se" }\n',
    )
    write(
        tmp_path,
        "b.toml",
        'domains = ["example.net"]\n[settings]\ntimeout = 5\n'
        '[settings.whois]\nservers = { fi = "127.0.0.1:4343" }\n',
    )
    config = load_config(["a.toml", "b.toml"], {}, cwd=tmp_path)
    assert config.settings.timeout == 5.0
    assert config.settings.thresholds.warn_days == 40
    assert config.settings.whois_servers == {
        "fi": Endpoint("127.0.0.1", 4343),
        "se": Endpoint("whois.iis.se"),
    }
    assert [d.name for d in config.domains] == ["example.com", "example.net"]


def test_plain_list_with_comments(tmp_path: Path) -> None:
    write(
        tmp_path,
        "domains.list",
        "# our domains\n\nexample.com\n  ääkkönen.fi   # Finnish\n"
        "EXAMPLE.ORG.\n   \n#example.net\n",
    )
    config = load_config(["domains.list"], {}, cwd=tmp_path)
    assert [(d.name, d.source) for d in config.domains] == [
        ("example.com", "domains.list:3"),
        ("xn--kknen-fraa0m.fi", "domains.list:4"),
        ("example.org", "domains.list:5"),
    ]


def test_stdin(tmp_path: Path) -> None:
    config = load_config(
        ["-"], {}, stdin=io.StringIO("example.com\n# x\nexample.org\n"), cwd=tmp_path
    )
    assert [(d.name, d.source) for d in config.domains] == [
        ("example.com", "stdin:1"),
        ("example.org", "stdin:3"),
    ]


def test_duplicates_checked_once_first_wins_hosts_merge(tmp_path: Path) -> None:
    write(tmp_path, "list.txt", "www.example.com\nexample.org\n")
    write(
        tmp_path,
        "d.toml",
        '[[domain]]\nname = "shop.example.com"\nwarn_days = 99\n[[domain]]\nname = "example.net"\n',
    )
    config = load_config(
        [
            "list.txt",
            "https://WWW.example.com/",
            "d.toml",
            "example.com",
            "xn--kknen-fraa0m.fi",
            "ääkkönen.fi",
        ],
        {},
        cwd=tmp_path,
    )
    assert [d.name for d in config.domains] == [
        "example.com",
        "example.org",
        "example.net",
        "xn--kknen-fraa0m.fi",
    ]
    first = config.domains[0]
    assert first.hosts == ("www.example.com", "shop.example.com")
    assert first.source == "list.txt:1"
    assert first.thresholds.warn_days == 30  # the later long-form entry lost


def test_default_domwatch_toml_in_cwd(tmp_path: Path) -> None:
    write(tmp_path, "domwatch.toml", 'domains = ["example.com"]\n[settings]\nwarn_days = 50\n')
    config = load_config([], {}, cwd=tmp_path)
    assert [d.source for d in config.domains] == ["domwatch.toml:1"]
    assert config.settings.thresholds.warn_days == 50


def test_existing_file_named_like_a_domain_is_the_domain(tmp_path: Path) -> None:
    # nginx keeps one file per site, named after it; the domain is meant.
    write(tmp_path, "example.com", "server { listen 443; }\n")
    write(tmp_path, "customers", "example.org\n")
    config = load_config(["example.com", "customers"], {}, cwd=tmp_path)
    assert [(d.name, d.source) for d in config.domains] == [
        ("example.com", "argv"),
        ("example.org", "customers:1"),
    ]


def test_utf8_bom_and_toml_datetime(tmp_path: Path) -> None:
    (tmp_path / "d.toml").write_bytes(
        '\ufeff[[domain]]\nname = "a.fi"\nexpires = 2027-03-01T12:00:00Z\n'.encode()
    )
    (domain,) = load_config(["d.toml"], {}, cwd=tmp_path).domains
    assert domain.expires == date(2027, 3, 1)


# --------------------------------------------------------------------------- small parsers


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("192.0.2.1", Endpoint("192.0.2.1")),
        ("192.0.2.1:53", Endpoint("192.0.2.1", 53)),
        ("[2001:DB8::1]:5353", Endpoint("2001:db8::1", 5353)),
        ("[2001:db8::1]", Endpoint("2001:db8::1")),
        ("2001:db8::1", Endpoint("2001:db8::1")),
        ("Whois.FI:4343", Endpoint("whois.fi", 4343)),
    ],
)
def test_parse_endpoint(text: str, expected: Endpoint) -> None:
    assert parse_endpoint(text) == expected
    assert parse_endpoint(str(expected)) == expected


@pytest.mark.parametrize("text", ["", "host:", "host:abc", "host:0", "[::1]x", "1.2.3.4:65536"])
def test_parse_endpoint_rejects(text: str) -> None:
    with pytest.raises(ValueError):
        parse_endpoint(text)


def test_parse_endpoint_require_ip() -> None:
    with pytest.raises(ValueError, match="not an IP address"):
        parse_endpoint("dns.google:53", require_ip=True)


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("24h", 86400.0),
        ("30m", 1800.0),
        ("1d", 86400.0),
        ("3600s", 3600.0),
        ("90", 90.0),
        (600, 600.0),
        (" 2 h ", 7200.0),
    ],
)
def test_parse_duration(value: object, seconds: float) -> None:
    assert parse_duration(value) == seconds


@pytest.mark.parametrize("value", ["", "h", "1y", "-1h", True, 0, [1]])
def test_parse_duration_rejects(value: object) -> None:
    with pytest.raises(ValueError):
        parse_duration(value)
