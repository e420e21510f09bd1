"""The files in examples/ and the starter domain file parse, and run commands that exist."""

from __future__ import annotations

import ipaddress
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path, PurePosixPath
from typing import Any

import click
import pytest
import yaml

from domwatch.cli import cli
from domwatch.config import FORMATS, load_config, parse_checks, parse_duration
from domwatch.names import normalise
from domwatch.serve.main import parse_listen
from domwatch.starter import STARTER, write_starter

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib  # type: ignore[import-not-found, unused-ignore]

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def check_options(command: str | list[str]) -> dict[str, Any]:
    """Parse a ``domwatch check ...`` command line with the real click command."""
    argv = shlex.split(command) if isinstance(command, str) else command
    start = next(i for i, word in enumerate(argv) if PurePosixPath(word).name == "domwatch")
    assert argv[start + 1] == "check", argv
    check = cli.commands["check"]
    # make_context parses without running: an unknown option or a bad type raises here.
    ctx = check.make_context("check", argv[start + 2 :])
    params: dict[str, Any] = ctx.params
    if params.get("format") is not None:
        assert params["format"] in FORMATS
    if params.get("fail_on") is not None:
        assert params["fail_on"] in ("warning", "critical", "never")
    return params


def test_check_options_rejects_a_typo() -> None:
    with pytest.raises(click.NoSuchOption):
        check_options("domwatch check --quite x.toml")


# --------------------------------------------------------------------------- cron

_CRON_FIELDS = ((0, 59), (0, 23), (1, 31), (1, 12), (0, 7))
_CRON_NAMES = ("jan feb mar apr may jun jul aug sep oct nov dec", "sun mon tue wed thu fri sat")


def valid_cron_field(text: str, low: int, high: int) -> bool:
    """One field of a (Vixie/POSIX) cron time: lists of *, N, N-M, with optional /STEP."""
    for part in text.split(","):
        match = re.fullmatch(r"(\*|(\d+)(?:-(\d+))?)(?:/(\d+))?", part)
        if match is None:
            return False
        numbers = [int(n) for n in match.groups()[1:3] if n is not None]
        if any(not low <= n <= high for n in numbers) or numbers != sorted(numbers):
            return False
        if match[4] is not None and int(match[4]) == 0:
            return False
    return True


def cron_entries(text: str) -> list[tuple[list[str], str]]:
    """(five time fields, command) per job line; comments and VAR=value lines skipped."""
    entries = []
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if re.match(r"\s*[A-Za-z_][A-Za-z0-9_]*\s*=", line):
            continue
        fields = line.split(None, 5)
        assert len(fields) == 6, f"not 5 time fields and a command: {line!r}"
        entries.append((fields[:5], fields[5]))
    return entries


def test_cron_field_validator_can_fail() -> None:
    assert valid_cron_field("*/15", 0, 59) and valid_cron_field("1-5,7", 0, 7)
    assert not valid_cron_field("60", 0, 59) and not valid_cron_field("5-1", 0, 23)
    assert not valid_cron_field("*/0", 0, 59) and not valid_cron_field("mon", 0, 7)


def test_crontab() -> None:
    entries = cron_entries((EXAMPLES / "crontab").read_text(encoding="utf-8"))
    assert len(entries) == 1
    fields, command = entries[0]
    for field, (low, high) in zip(fields, _CRON_FIELDS, strict=True):
        assert valid_cron_field(field, low, high), field
    # cron turns an unescaped % into a newline: the command would be cut there.
    assert re.search(r"(?<!\\)%", command) is None
    params = check_options(command)
    assert params["quiet"] is True
    assert params["progress"] is False


# --------------------------------------------------------------------------- systemd


def parse_unit(text: str) -> dict[str, dict[str, list[str]]]:
    """A systemd unit file: [Section], Key=Value (repeatable), #/; comments, \\ continuation."""
    sections: dict[str, dict[str, list[str]]] = {}
    current: dict[str, list[str]] | None = None
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not pending and (not line or line[0] in "#;"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        line, pending = pending + line, ""
        if line.startswith("["):
            assert line.endswith("]"), line
            current = sections.setdefault(line[1:-1], {})
            continue
        assert current is not None, f"key outside a section: {line!r}"
        key, sep, value = line.partition("=")
        assert sep and re.fullmatch(r"[A-Za-z][A-Za-z0-9]*", key.strip()), line
        current.setdefault(key.strip(), []).append(value.strip())
    return sections


def test_systemd_service() -> None:
    unit = parse_unit((EXAMPLES / "domwatch.service").read_text(encoding="utf-8"))
    assert set(unit) == {"Unit", "Service"}
    service = unit["Service"]
    assert service["Type"] == ["oneshot"]
    (exec_start,) = service["ExecStart"]
    assert PurePosixPath(shlex.split(exec_start)[0]).is_absolute()  # systemd wants a path
    params = check_options(exec_start)
    assert params["format"] == "prometheus"
    # The hardened unit may write the textfile: its directory is in ReadWritePaths.
    output = PurePosixPath(params["output"])
    writable = [PurePosixPath(p) for v in service["ReadWritePaths"] for p in v.split()]
    assert any(output.is_relative_to(p) for p in writable)
    assert service["SuccessExitStatus"] == ["1 2 3"]
    assert "network-online.target" in unit["Unit"]["After"][0]


def test_systemd_timer() -> None:
    unit = parse_unit((EXAMPLES / "domwatch.timer").read_text(encoding="utf-8"))
    assert set(unit) == {"Unit", "Timer", "Install"}
    (calendar,) = unit["Timer"]["OnCalendar"]
    assert unit["Install"]["WantedBy"] == ["timers.target"]
    assert unit["Timer"]["Persistent"] == ["true"]
    analyze = shutil.which("systemd-analyze")
    if analyze is not None:  # the real parser of OnCalendar, where there is one
        # A hang guard only: systemd-analyze answers at once.
        done = subprocess.run([analyze, "calendar", calendar], capture_output=True, timeout=60)
        assert done.returncode == 0, done.stderr


def serve_options(command: str) -> dict[str, Any]:
    """Parse a ``domwatch serve ...`` command line with the real click command."""
    argv = shlex.split(command)
    assert PurePosixPath(argv[0]).name == "domwatch" and argv[1] == "serve", argv
    params: dict[str, Any] = cli.commands["serve"].make_context("serve", argv[2:]).params
    parse_listen(params["listen"])
    parse_duration(params["interval"])
    return params


def test_systemd_serve_service() -> None:
    unit = parse_unit((EXAMPLES / "domwatch-serve.service").read_text(encoding="utf-8"))
    assert set(unit) == {"Unit", "Service", "Install"}
    service = unit["Service"]
    (exec_start,) = service["ExecStart"]
    assert PurePosixPath(shlex.split(exec_start)[0]).is_absolute()
    params = serve_options(exec_start)
    host, _port = parse_listen(params["listen"])
    assert host is not None and ipaddress.ip_address(host).is_loopback  # /probe is not public
    # A long-running process: systemd must not wait for it to exit, and stops it by SIGTERM.
    assert service["Type"] in (["exec"], ["simple"])
    assert service.get("KillSignal", ["SIGTERM"]) == ["SIGTERM"]
    assert float(service["TimeoutStopSec"][0]) >= 5  # serve's own bound
    (reload,) = service["ExecReload"]
    assert shlex.split(reload) == ["/bin/kill", "-HUP", "$MAINPID"]
    assert "64" in service["RestartPreventExitStatus"][0].split()
    assert unit["Install"]["WantedBy"] == ["multi-user.target"]


def _relabel(labels: dict[str, str], rules: list[dict[str, Any]]) -> dict[str, str]:
    """Prometheus's ``replace`` relabelling (the only action the example uses)."""
    out = dict(labels)
    for rule in rules:
        assert rule.get("action", "replace") == "replace", rule
        joined = rule.get("separator", ";").join(
            out.get(name, "") for name in rule.get("source_labels", [])
        )
        match = re.fullmatch(rule.get("regex", "(.*)"), joined)
        if match is None:
            continue
        replacement = re.sub(r"\$(\d+)", r"\\\1", rule.get("replacement", "$1"))
        out[rule["target_label"]] = match.expand(replacement)
    return out


def test_relabel_helper_can_fail() -> None:
    rules = [{"source_labels": ["a"], "regex": "x(.*)", "target_label": "b"}]
    assert _relabel({"a": "xyz"}, rules) == {"a": "xyz", "b": "yz"}
    assert _relabel({"a": "nope"}, rules) == {"a": "nope"}


_DURATION = re.compile(r"(\d+(ms|s|m|h|d|w|y))+")
_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "y": 31536000}


def _seconds(text: str) -> float:
    assert _DURATION.fullmatch(text), text
    return sum(int(n) * _SECONDS[u] for n, u in re.findall(r"(\d+)(ms|s|m|h|d|w|y)", text))


def test_prometheus_scrape_config() -> None:
    unit = parse_unit((EXAMPLES / "domwatch-serve.service").read_text(encoding="utf-8"))
    listen = serve_options(unit["Service"]["ExecStart"][0])["listen"]
    config = _load_yaml("prometheus.yml")
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    assert set(jobs) == {"domwatch", "domwatch_probe"}
    for job in jobs.values():
        assert set(job) <= {"job_name", "metrics_path", "params", "scrape_interval",
                            "scrape_timeout", "static_configs", "relabel_configs"}, job
        timeout = _seconds(job.get("scrape_timeout", "10s"))
        assert timeout <= _seconds(job.get("scrape_interval", "1m"))  # Prometheus insists

    metrics = jobs["domwatch"]
    assert metrics.get("metrics_path", "/metrics") == "/metrics"
    assert [t for c in metrics["static_configs"] for t in c["targets"]] == [listen]

    probe = jobs["domwatch_probe"]
    assert probe["metrics_path"] == "/probe"
    for checks in probe.get("params", {}).get("checks", []):
        parse_checks(checks)
    for target in (t for c in probe["static_configs"] for t in c["targets"]):
        normalise(target)
        labels = _relabel({"__address__": target}, probe["relabel_configs"])
        # Scraped at serve's address, with the domain as ?target= and as the instance label.
        assert labels == {"__address__": listen, "__param_target": target, "instance": target}
    promtool = shutil.which("promtool")
    if promtool is not None:  # the real parser, where there is one
        done = subprocess.run([promtool, "check", "config", str(EXAMPLES / "prometheus.yml")],
                              capture_output=True, timeout=30)
        assert done.returncode == 0, done.stdout + done.stderr


def test_unit_parser_can_fail() -> None:
    with pytest.raises(AssertionError):
        parse_unit("ExecStart=/bin/true\n")
    assert parse_unit("[A]\nX=1 \\\n  2\nX=3\n") == {"A": {"X": ["1  2", "3"]}}


# --------------------------------------------------------------------------- CI


def _load_yaml(name: str) -> dict[Any, Any]:
    data = yaml.safe_load((EXAMPLES / name).read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def test_github_workflow() -> None:
    workflow = _load_yaml("github-workflow.yml")
    # YAML 1.1 (PyYAML) reads the key `on` as True; GitHub reads it as "on".
    triggers = workflow.get("on", workflow.get(True))
    assert isinstance(triggers, dict)
    for entry in triggers["schedule"]:
        fields = entry["cron"].split()
        assert len(fields) == 5
        for field, (low, high) in zip(fields, _CRON_FIELDS, strict=True):
            assert valid_cron_field(field, low, high)
    (job,) = workflow["jobs"].values()
    assert "runs-on" in job
    steps = job["steps"]
    for step in steps:
        assert ("uses" in step) != ("run" in step), step
        if "uses" in step:
            assert re.fullmatch(r"[\w.-]+/[\w.-]+@\S+", step["uses"])
    (command,) = [s["run"] for s in steps if "domwatch check" in s.get("run", "")]
    params = check_options(command)
    assert params["format"] == "github"
    # State and cache live where actions/cache saves and restores them.
    (cache,) = [s for s in steps if s.get("uses", "").startswith("actions/cache@")]
    saved = PurePosixPath(cache["with"]["path"])
    assert PurePosixPath(params["state_path"]).is_relative_to(saved)
    assert PurePosixPath(params["cache_dir"]).is_relative_to(saved)


def test_gitlab_job() -> None:
    config = _load_yaml("gitlab-ci.yml")
    (job,) = config.values()
    (command,) = [line for line in job["script"] if "domwatch check" in line]
    params = check_options(command)
    assert params["format"] == "junit"
    # GitLab reads the JUnit file the command writes.
    assert job["artifacts"]["reports"]["junit"] == params["output"]
    assert job["artifacts"]["when"] == "always"  # a failing job still uploads its report
    assert set(job["allow_failure"]["exit_codes"]) == {1, 3}
    cached = [PurePosixPath(p) for p in job["cache"]["paths"]]
    assert any(PurePosixPath(params["state_path"]).is_relative_to(p) for p in cached)


# --------------------------------------------------------------------------- starter


def test_starter_parses_and_loads(tmp_path: Path) -> None:
    data = tomllib.loads(STARTER)
    assert data["domains"] and all(name.endswith(".fi") for name in data["domains"])
    path = tmp_path / "domwatch.toml"
    path.write_text(STARTER, encoding="utf-8")
    config = load_config([str(path)], {}, cwd=tmp_path)  # the real schema: no unknown keys
    assert [d.name for d in config.domains] == ["example.fi", "esimerkki.fi", "kauppa.fi"]
    assert config.domains[2].thresholds.warn_days == 60


def test_starter_commented_examples_are_valid_too(tmp_path: Path) -> None:
    # Uncommenting any example line must give a valid file, not a puzzle.
    example = re.compile(r"^# (\[|[a-z_]+ = )")
    lines = STARTER.splitlines()
    uncommented = [line[2:] if example.match(line) else line for line in lines]
    assert uncommented != lines
    path = tmp_path / "domwatch.toml"
    path.write_text("\n".join(uncommented) + "\n", encoding="utf-8")
    config = load_config([str(path)], {}, cwd=tmp_path)
    assert "example.de" in [d.name for d in config.domains]


def test_write_starter_never_clobbers(tmp_path: Path) -> None:
    path = tmp_path / "domwatch.toml"
    write_starter(path, force=False)
    assert path.read_text(encoding="utf-8") == STARTER
    path.write_text("domains = ['mine.fi']\n", encoding="utf-8")
    with pytest.raises(FileExistsError):
        write_starter(path, force=False)
    assert path.read_text(encoding="utf-8") == "domains = ['mine.fi']\n"
    write_starter(path, force=True)
    assert path.read_text(encoding="utf-8") == STARTER
    assert [p.name for p in tmp_path.iterdir()] == ["domwatch.toml"]  # no temp files left
