"""A newcomer's first five minutes (issue 17), through the real CLI: exit status, offline runs,
silence under -q, validation before the first query, plurals, encodings, tags."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from domwatch.cache import FILE_NAME
from domwatch.lab import DnsServer, Lab
from domwatch.lab.world import Site, World
from domwatch.model import FINDING_CODES
from tests.conftest import domwatch

PLAIN = ("--no-cache", "--no-state", "--no-progress")


# --------------------------------------------------------------------------- exit status


@pytest.fixture
def exit_world(lab: Lab) -> World:
    return World(
        [Site("fine.com"), Site("warn.com", expires_in=10), Site("crit.com", expires_in=3),
         Site("odd.lab", whois_text="?\n")]
    ).start(lab)


@pytest.mark.parametrize(
    ("names", "fail_on", "expected"),
    [
        (["fine.com", "odd.lab"], "warning", 3),
        (["fine.com", "odd.lab"], "critical", 3),  # CI cannot pass blind
        (["fine.com", "odd.lab"], "never", 0),
        (["warn.com", "odd.lab"], "warning", 1),  # WARNING outranks UNKNOWN
        (["warn.com", "odd.lab"], "critical", 3),  # WARNING does not count; UNKNOWN does
        (["warn.com"], "critical", 0),
        (["crit.com", "odd.lab"], "critical", 2),
        (["crit.com", "odd.lab"], "warning", 2),
        (["fine.com"], "critical", 0),
    ],
)
def test_unknown_fails_at_every_level_but_never(
    exit_world: World, tmp_path: Path, names: list[str], fail_on: str, expected: int
) -> None:
    config = exit_world.config(tmp_path / "d.toml", domains=names)
    run = domwatch("check", str(config), "--fail-on", fail_on, "--format", "json", *PLAIN)
    assert run.exit_code == expected, run.stdout + run.stderr


def test_a_stale_cached_answer_is_not_unknown(lab: Lab, tmp_path: Path) -> None:
    world = World([Site("one.lab")]).start(lab)
    config = world.config(tmp_path / "d.toml")
    cache = ("--cache-dir", str(tmp_path / "c"), "--no-state", "--no-progress", "--format", "json")
    assert domwatch("check", str(config), *cache).exit_code == 0
    db = sqlite3.connect(tmp_path / "c" / FILE_NAME)
    with db:
        db.execute("UPDATE registration SET fresh_until = 0, fetched = fetched - 7200")
    db.close()
    lab.call(lambda: world.registries["lab"].set_behaviour("one.lab", "close"))
    run = domwatch("check", str(config), "--fail-on", "critical", *cache)
    assert "lookup.stale" in run.codes("one.lab")
    assert run.exit_code == 0, run.stdout


# --------------------------------------------------------------------------- offline

ROOT_ZONE = "$ORIGIN .\n$TTL 300\n@ SOA a.root.lab. hostmaster.root.lab. 1 3600 600 86400 300\n"


def _refusing_port() -> socket.socket:
    """A TCP port on loopback that refuses every connection (bound, never listening)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    return sock


def _no_raw_errors(text: str) -> None:
    assert "Errno" not in text and "Name or service not known" not in text, text
    assert "Traceback" not in text and "proxy" not in text.lower(), text


def test_a_resolver_that_denies_every_name_makes_domains_unknown_not_critical(
    lab: Lab, tmp_path: Path
) -> None:
    world = World([Site("fine.com"), Site("also.fi")]).start(lab)
    config = world.config(tmp_path / "d.toml")
    # A resolver that says no name exists, not even the root's (a captive or filtering one).
    denier = lab.add(DnsServer({".": ROOT_ZONE}, behaviours={".": "nxdomain", "*": "nxdomain"}))
    args = ("check", str(config), "--resolver", denier.address, "--fail-on", "critical", *PLAIN)
    run = domwatch(*args, "--format", "json")
    assert run.exit_code == 3, run.stdout + run.stderr
    report = run.json()
    assert report["summary"] == {"ok": 0, "warning": 0, "critical": 0, "unknown": 2}
    assert "NXDOMAIN" in report["network_problem"]
    for name in ("fine.com", "also.fi"):
        # Registration still answered (the registries are addressed by IP); the rest was not
        # checked, and says so once instead of a cascade of NXDOMAINs.
        assert run.domain(name)["registration"]["days_left"] == 300
        assert run.codes(name) == ["dns.check_failed"]
    told = [line for line in run.stderr.splitlines() if "not usable" in line]
    assert len(told) == 1 and denier.address in told[0]
    table = domwatch(*args)
    assert table.stdout.startswith("! the network or DNS resolver is not usable: ")
    assert "CRITICAL" not in table.stdout and table.exit_code == 3
    _no_raw_errors(run.stdout + run.stderr + table.stdout + table.stderr)


@pytest.mark.parametrize("checks", ["web,mail", "mail"])
def test_the_first_network_check_a_domain_runs_tells_it_was_not_done(
    lab: Lab, tmp_path: Path, checks: str
) -> None:
    world = World([Site("fine.com")]).start(lab)
    config = world.config(tmp_path / "d.toml")
    denier = lab.add(DnsServer({".": ROOT_ZONE}, behaviours={".": "nxdomain", "*": "nxdomain"}))
    run = domwatch("check", str(config), "--resolver", denier.address, "--checks",
                   f"registration,{checks}", "--format", "json", *PLAIN)
    assert run.exit_code == 3, run.stdout + run.stderr
    first = checks.split(",")[0]
    (finding,) = run.domain("fine.com")["findings"]
    assert (finding["code"], finding["check"]) == (f"{first}.check_failed", first)
    listed = checks.replace(",", " and ")
    assert finding["message"] == f"{listed} not checked: the network or DNS resolver is not usable"


def test_nothing_reachable_at_all_is_unknown_with_failures_in_words(
    lab: Lab, tmp_path: Path
) -> None:
    silent = lab.add(DnsServer({}, behaviours={".": "silent", "*": "silent"}))
    refusing = _refusing_port()
    try:
        port = refusing.getsockname()[1]
        config = tmp_path / "d.toml"
        config.write_text(
            'domains = ["yle.fi", "example.com"]\n'
            "[settings.whois]\n"
            f'iana = "127.0.0.1:{port}"\n'
            f'servers = {{ fi = "127.0.0.1:{port}", com = "127.0.0.1:{port}" }}\n'
            "[settings.rdap]\n"
            f'bootstrap = "https://127.0.0.1:{port}/dns.json"\n'
            f'servers = {{ fi = "https://127.0.0.1:{port}/", com = "https://127.0.0.1:{port}/" }}\n'
            "[settings.network]\nallow_private = true\n",
            encoding="utf-8",
        )
        env = {"HTTPS_PROXY": "http://someone:proxysecret@127.0.0.1:9/"}  # never used
        run = domwatch("check", str(config), "--resolver", silent.address, "--timeout", "0.5",
                       "--fail-on", "critical", "--format", "json", *PLAIN, env=env)
    finally:
        refusing.close()
    assert run.exit_code == 3, run.stdout + run.stderr
    report = run.json()
    assert report["summary"]["unknown"] == 2
    assert report["network_problem"].startswith(f"no answer from the DNS resolver {silent.address}")
    for name in ("yle.fi", "example.com"):
        codes = run.codes(name)
        assert codes == ["lookup.failed", "dns.check_failed"], codes
        failed = run.domain(name)["findings"][0]["message"]
        assert "connection refused" in failed, failed
    _no_raw_errors(run.stdout + run.stderr)
    assert "proxysecret" not in run.stdout + run.stderr


# --------------------------------------------------------------------------- -q is silent


def _with_bootstrap(config: Path, url: str) -> Path:
    text = config.read_text(encoding="utf-8")
    text = "\n".join(
        f'bootstrap = "{url}"' if line.startswith("bootstrap = ") else line
        for line in text.splitlines()
    )
    config.write_text(text + "\n", encoding="utf-8")
    return config


def test_quiet_run_with_everything_ok_prints_nothing_even_when_the_bootstrap_fails(
    lab: Lab, tmp_path: Path
) -> None:
    world = World([Site("fine.com"), Site("also.fi")]).start(lab)
    refusing = _refusing_port()
    try:
        port = refusing.getsockname()[1]
        config = _with_bootstrap(world.config(tmp_path / "d.toml"),
                                 f"https://127.0.0.1:{port}/dns.json")
        cache = ("--cache-dir", str(tmp_path / "c"), "--no-state", "--no-progress")
        quiet = domwatch("check", str(config), "-q", *cache)
        assert (quiet.exit_code, quiet.stdout, quiet.stderr) == (0, "", "")
        # Without -q, the stale bootstrap (the bundled copy is months old) is worth one line.
        shutil.rmtree(tmp_path / "c")
        loud = domwatch("check", str(config), *cache)
    finally:
        refusing.close()
    told = [line for line in loud.stderr.splitlines() if "bootstrap" in line]
    assert len(told) == 1 and "days old" in told[0] and "connection refused" in told[0], told
    assert loud.exit_code == 0


def test_quiet_tells_the_held_warnings_when_a_domain_needs_attention(
    lab: Lab, tmp_path: Path
) -> None:
    world = World([Site("fine.com"), Site("soon.fi", expires_in=3)]).start(lab)
    config = _with_bootstrap(world.config(tmp_path / "d.toml"), "https://127.0.0.1:9/dns.json")
    run = domwatch("check", str(config), "-q", "--no-cache", "--no-state", "--no-progress")
    assert run.exit_code == 2
    assert "soon.fi" in run.stdout and "fine.com" not in run.stdout
    assert "bootstrap" in run.stderr  # the news comes with what may explain it


# --------------------------------------------------------------------------- --help


def test_every_option_has_help_with_its_default_and_summaries_are_whole() -> None:
    top = domwatch("--help").stdout
    assert "..." not in top.split("Commands:")[1]  # click cuts long summaries with "..."
    for command in ("check", "demo", "lookup", "serve", "init"):
        assert f"  {command} " in top
    for command in ("check", "demo", "serve"):
        text = domwatch(command, "--help").stdout
        options = [line for line in text.splitlines() if line.startswith("  -")]
        assert len(options) >= (24 if command == "check" else 7)
        blocks = re.split(r"\n(?=  -)", text.split("Options:", 1)[1])
        for block in filter(str.strip, blocks):
            flag = block.split()[0]
            if flag in ("-h,", "--help", "--listen"):  # help; a required option has no default
                continue
            assert "[default: " in " ".join(block.split()), f"{command} {flag}: no default"


def test_help_defaults_are_the_real_defaults() -> None:
    from domwatch.config import Settings
    from domwatch.settings import SETTINGS, shown_default

    settings = Settings()
    shown = {name: shown_default(name) for name in SETTINGS}
    for name in ("format", "sort", "fail_on", "notify_min", "concurrency"):
        assert shown[name] == str(getattr(settings, name)), name
    assert shown["timeout"] == f"{settings.timeout:g}"
    for name in ("warn_days", "crit_days", "cert_warn_days", "cert_crit_days"):
        assert shown[name] == str(getattr(settings.thresholds, name)), name


def test_demo_takes_the_report_options(tmp_path: Path) -> None:
    out = tmp_path / "demo.json"
    run = domwatch("demo", "-q", "--fail-on", "never", "--format", "json", "-o", str(out))
    assert run.exit_code == 0 and run.stdout == ""
    assert len(json.loads(out.read_text(encoding="utf-8"))["domains"]) == 17


# --------------------------------------------------------------------------- validation first


@pytest.mark.parametrize(
    ("extra", "toml", "said"),
    [
        (("-o", "{tmp}/missing/report.json"), "", "no such directory"),
        (("-o", "{tmp}"), "", "directory"),
        ((), '[[domain]]\nname = "fine.com"\nignore = ["mail.dmarc.mising"]\n',
         "'mail.dmarc.mising' is no finding code domwatch reports (did you mean "
         "'mail.dmarc.missing'?)"),
        ((), '[[domain]]\nname = "fine.com"\nignore = ["nosuch.*"]\n', "no finding code"),
        (("a" * 260 + ".com",), "", "not a domain name"),
        ((("a" * 60 + ".") * 4 + "example.com",), "", "not a domain name"),
    ],
)
def test_bad_input_is_found_before_the_first_query(
    lab: Lab, tmp_path: Path, extra: tuple[str, ...], toml: str, said: str
) -> None:
    world = World([Site("fine.com")]).start(lab)
    config = world.config(tmp_path / "d.toml", extra="")
    if toml:
        config.write_text(config.read_text(encoding="utf-8") + "\n" + toml, encoding="utf-8")
    args = [a.format(tmp=tmp_path) for a in extra]
    run = domwatch("check", str(config), *args, *PLAIN)
    assert run.exit_code == 64, run.stdout + run.stderr
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("domwatch: error: ") and said in lines[0]
    assert world.dns is not None and world.dns.queries == []  # nobody was asked anything
    assert world.rdap is not None and world.rdap.requests == []


def test_ignore_accepts_real_codes_and_patterns(lab: Lab, tmp_path: Path) -> None:
    world = World([Site("fine.com")]).start(lab)
    config = world.config(tmp_path / "d.toml")
    text = '[[domain]]\nname = "fine.com"\nignore = ["mail.spf.*", "tls.warning"]\n'
    config.write_text(config.read_text(encoding="utf-8") + "\n" + text, encoding="utf-8")
    assert domwatch("check", str(config), "--format", "json", *PLAIN).exit_code == 0


def test_readme_lists_exactly_the_finding_codes() -> None:
    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    table = readme.split("## Findings", 1)[1].split("\n## ", 1)[0]
    listed: set[str] = set()
    for line in table.splitlines():
        if line.startswith("| `"):
            listed.update(re.findall(r"`([a-z_<>]+(?:\.[a-z_*]+)+)`", line.split(" | ")[0]))
    expanded = {c for c in listed if "<" not in c}
    expanded |= {f"{c}.check_failed" for c in ("dns", "web", "mail")} if any(
        "<check>" in c for c in listed) else set()
    assert expanded == FINDING_CODES


# --------------------------------------------------------------------------- nagios


def test_nagios_first_line_is_bounded_whatever_the_domain_count(
    lab: Lab, tmp_path: Path
) -> None:
    sites = [Site(f"d{i:03d}.lab", expires_in=10 + i % 7) for i in range(60)]
    world = World(sites).start(lab)
    firsts = []
    for count in (4, 60):
        config = world.config(tmp_path / f"{count}.toml", domains=[s.name for s in sites[:count]])
        run = domwatch("check", str(config), "--format", "nagios", "--checks", "registration",
                       *PLAIN)
        assert run.exit_code == 1
        lines = run.stdout.splitlines()
        firsts.append(lines[0])
        assert lines[0].startswith(f"DOMWATCH WARNING - {count} warning: ")
        # Every domain's days are perfdata after the long output, plain numbers (no "d").
        perf = "\n".join(lines[1:]).split(" | ", 1)[1]
        assert len(re.findall(r"'d\d{3}\.lab'=\d+;30:;7:", perf)) == count
        assert len(lines) == 1 + count + count - 1  # findings, then the other perfdata lines
    assert len(firsts[1]) <= 400 and len(firsts[1]) - len(firsts[0]) <= 20, firsts
    assert "+57 more" in firsts[1]


# --------------------------------------------------------------------------- -v, proxies


def test_verbose_logs_every_kind_of_exchange_one_line_each_without_secrets(
    lab: Lab, tmp_path: Path
) -> None:
    world = World([Site("site.com", web="ok"), Site("post.com", smtp="ok"),
                   Site("plain.lab")]).start(lab)
    config = world.config(tmp_path / "d.toml")
    text = config.read_text(encoding="utf-8")
    # A web URL with a token in its query: the log shows the page, never the token.
    url = world.web_url(world.sites[0])
    text = text.replace(f'web = ["{url}"]', f'web = ["{url}?token=sekrit-token"]')
    config.write_text(text, encoding="utf-8")
    run = domwatch("check", str(config), "-v", "--format", "json", *PLAIN)
    assert run.exit_code == 0, run.stdout + run.stderr
    kinds = {
        "dns": r"^domwatch: dns \S+ \S+\? -> ",
        "rdap": r"^domwatch: https GET https://127\.0\.0\.1:\d+/rdap/domain/site\.com on "
                r"127\.0\.0\.1 -> HTTP 200, \d+ bytes$",
        "whois": r"^domwatch: whois 'plain\.lab' to 127\.0\.0\.1:\d+ on 127\.0\.0\.1 -> \d+ bytes$",
        "web": r"^domwatch: web GET https://site\.com:\d+/\?\*\*\* on 127\.0\.0\.1 -> HTTP 200$",
        "smtp": r"^domwatch: smtp STARTTLS mail\.post\.com:\d+ on 127\.0\.0\.\d+ -> certificate",
    }
    lines = run.stderr.splitlines()
    for kind, pattern in kinds.items():
        assert any(re.search(pattern, line) for line in lines), (kind, run.stderr)
    assert "sekrit" not in run.stderr


def test_proxies_in_the_environment_are_not_used(lab: Lab, tmp_path: Path) -> None:
    world = World([Site("fine.com")]).start(lab)
    config = world.config(tmp_path / "d.toml")
    # A proxy that refuses everything: were it used, RDAP could not answer.
    refusing = _refusing_port()
    try:
        proxy = f"http://someone:proxysecret@127.0.0.1:{refusing.getsockname()[1]}/"
        env = {"HTTPS_PROXY": proxy, "https_proxy": proxy, "ALL_PROXY": proxy}
        run = domwatch("check", str(config), "--format", "json", *PLAIN, env=env)
    finally:
        refusing.close()
    assert run.exit_code == 0, run.stdout + run.stderr
    assert run.domain("fine.com")["registration"]["source"] == "rdap"
    _no_raw_errors(run.stdout + run.stderr)


# --------------------------------------------------------------------------- polish


def test_plurals_in_the_summaries(lab: Lab, tmp_path: Path) -> None:
    world = World([Site("fine.com")]).start(lab)
    config = world.config(tmp_path / "d.toml")
    run = domwatch("check", str(config), *PLAIN)
    assert run.stdout.splitlines()[-1].startswith("# domwatch: 1 domain, 1 ok, ")
    assert re.match(r"domwatch: 1 domain in [\d.]+ s; 0 lookups retried, 0 throttled$",
                    run.stderr.splitlines()[-1]), run.stderr


@pytest.mark.parametrize("target", ["", "   "])
def test_an_empty_argument_gets_one_sensible_line(target: str) -> None:
    run = domwatch("check", target)
    assert run.exit_code == 64
    assert run.stderr == (
        "domwatch: error: an empty argument: name a domain, a .toml domain file, a list file "
        "or '-'\n"
    )


@pytest.mark.parametrize("encoding", ["ascii", "latin-1"])
def test_a_stdout_that_cannot_take_unicode_gets_ascii_not_a_traceback(
    tmp_path: Path, encoding: str
) -> None:
    env = {**os.environ, "PYTHONIOENCODING": encoding, "HOME": str(tmp_path)}
    env.pop("COLUMNS", None)
    table = subprocess.run([sys.executable, "-m", "domwatch", "demo"], capture_output=True,
                           env=env, cwd=tmp_path, timeout=120)
    assert table.returncode == 2 and b"Traceback" not in table.stderr, table.stderr
    text = table.stdout.decode(encoding)
    assert "xn--kknen-fraa0m.fi" in text and "----" in text
    if encoding == "ascii":
        assert "?" not in text  # names as A-labels: nothing had to be replaced
    if encoding == "ascii":
        return  # the JSON below takes the same path for any stream that is not UTF-8
    doc = subprocess.run([sys.executable, "-m", "domwatch", "demo", "--format", "json"],
                         capture_output=True, env=env, cwd=tmp_path, timeout=120)
    # Escaped to ASCII (JSON is UTF-8 to its readers), and still the same document.
    report = json.loads(doc.stdout.decode("ascii"))
    names = {d["name"]: d["display_name"] for d in report["domains"]}
    assert names["xn--kknen-fraa0m.fi"] == "\u00e4\u00e4kk\u00f6nen.fi"


def test_tags_select_domains_and_show_in_json_and_csv(lab: Lab, tmp_path: Path) -> None:
    world = World([Site("one.com"), Site("two.com"), Site("three.com")]).start(lab)
    config = world.config(tmp_path / "d.toml", domains=["three.com"])
    config.write_text(
        config.read_text(encoding="utf-8")
        + '\n[[domain]]\nname = "one.com"\ntags = ["customer:acme", "prod"]\n'
        + '\n[[domain]]\nname = "two.com"\ntags = ["customer:other"]\n',
        encoding="utf-8",
    )
    run = domwatch("check", str(config), "--tag", "customer:acme", "--tag", "customer:other",
                   "--format", "json", *PLAIN)
    assert [d["name"] for d in run.json()["domains"]] == ["one.com", "two.com"]
    assert run.domain("one.com")["tags"] == ["customer:acme", "prod"]
    everything = domwatch("check", str(config), "--format", "json", *PLAIN)
    assert everything.domain("three.com")["tags"] == []
    rows = list(csv.DictReader(io.StringIO(
        domwatch("check", str(config), "--tag", "prod", "--format", "csv", *PLAIN).stdout)))
    assert [(r["domain"], r["tags"]) for r in rows] == [("one.com", "customer:acme,prod")]
    none = domwatch("check", str(config), "--tag", "nobody", *PLAIN)
    assert none.exit_code == 64
    assert none.stderr == (
        "domwatch: error: --tag: no domain has the tag nobody (tags in use: customer:acme, "
        "customer:other, prod)\n"
    )
