"""Trust nothing from the disk or the process: local files, secrets, modes, locks, Ctrl-C.

Through the CLI against the lab (:class:`Net` is in ``test_security.py``); the Ctrl-C and
overlapping-run tests start real ``domwatch`` processes.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import signal
import sqlite3
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from domwatch.lab import Lab
from tests.conftest import Run, domwatch
from tests.lab_receivers import HttpReceiver
from tests.test_security import NOW, Net, whois_text

SOON = (NOW + timedelta(days=20)).replace(microsecond=0)  # inside warn_days: worth a message
LATER = (NOW + timedelta(days=200)).replace(microsecond=0)


@pytest.fixture
def net(lab: Lab, tmp_path: Path) -> Iterator[Net]:
    yield Net(lab, tmp_path)


def _check(net: Net, config: Path, *args: str) -> Run:
    return domwatch("check", str(config), "--format", "json", "--no-progress",
                    "--cache-dir", str(net.tmp / "cache"), "--state", str(net.tmp / "st" /
                                                                           "state.json"), *args)


def _warnings(run: Run) -> list[str]:
    """stderr without the summary line every run ends with."""
    return [line for line in run.stderr.splitlines() if not re.search(r" domains? in ", line)]


def _process(*args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    return subprocess.Popen([sys.executable, "-m", "domwatch", *args], env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


# --- 8: local files that are valid JSON but wrong -----------------------------------------------


@pytest.mark.parametrize(
    "content",
    [
        {"schema": "domwatch-state/1", "domains": {"a.lab": {"nameservers": 5}}},
        {"schema": "domwatch-state/1", "domains": {"a.lab": {"expires": "2027-01-01T00:00"}}},
        {"schema": "domwatch-state/1", "domains": {"a.lab": {"registrar": ["x"]}}},
        "nested",
    ],
)
def test_a_wrong_state_file_is_set_aside_with_one_warning(net: Net, content: object) -> None:
    net.registry_whois.answers["a.lab"] = whois_text("a.lab", LATER)
    state = net.tmp / "st" / "state.json"
    state.parent.mkdir()
    text = ('{"schema": "domwatch-state/1", "domains": {"a.lab": ' + "[" * 10_000
            + "]" * 10_000 + "}}") if content == "nested" else json.dumps(content)
    state.write_text(text)
    run = _check(net, net.config("a.lab", rdap=False))
    assert run.exit_code == 0, run.stdout + run.stderr
    assert run.domain("a.lab")["registration"]["source"] == "whois"
    (warning,) = _warnings(run)
    assert "state file" in warning and "corrupt" in warning and "moved to" in warning
    (aside,) = state.parent.glob("state.json.corrupt-*")
    assert aside.read_text() == text  # kept, not deleted
    assert json.loads(state.read_text())["domains"]["a.lab"]["registrar"] == "Lab Registrar Oy"


def test_a_wrong_bootstrap_cache_is_set_aside_with_one_warning(net: Net) -> None:
    net.rdap.add("a.lab", expires=LATER)
    (net.tmp / "cache").mkdir()
    (net.tmp / "cache" / "rdap-dns.json").write_bytes(b"[" * 100_000 + b"]" * 100_000)
    run = _check(net, net.config("a.lab", whois=False), "--no-state")
    assert run.exit_code == 0, run.stdout + run.stderr
    assert run.domain("a.lab")["registration"]["source"] == "rdap"
    (warning,) = _warnings(run)
    assert "ignoring the cached RDAP bootstrap" in warning and "nested" in warning


@pytest.mark.parametrize(
    ("data", "fetched"),
    [
        ('{"source": "whois", "statuses": ' + "[" * 10_000 + "]" * 10_000 + "}", 0.0),
        ('{"source": "whois", "statuses": 5}', 0.0),
        ('{"source": "whois", "expires": "9999-12-31T23:59:59-23:59"}', 0.0),
        ('{"source": "whois"}', "yesterday"),
    ],
)
def test_a_wrong_cache_row_is_set_aside_with_one_warning(
    net: Net, data: str, fetched: object
) -> None:
    net.registry_whois.answers["a.lab"] = whois_text("a.lab", LATER)
    config = net.config("a.lab", rdap=False)
    assert _check(net, config, "--no-state").exit_code == 0  # creates the cache
    db = sqlite3.connect(net.tmp / "cache" / "domwatch.sqlite3")
    with db:
        db.execute("UPDATE registration SET data = ?, fetched = ?, fresh_until = ?",
                   (data, fetched, time.time() + 3600))
    db.close()
    run = _check(net, config, "--no-state")
    assert run.exit_code == 0, run.stdout + run.stderr
    registration = run.domain("a.lab")["registration"]
    assert registration["source"] == "whois" and registration["cached"] is False
    (warning,) = _warnings(run)
    assert "unreadable entries set aside" in warning


# --- 9: a locked cache is not a damaged one ------------------------------------------------------


def test_a_locked_cache_is_left_alone_and_a_damaged_one_is_set_aside(net: Net) -> None:
    net.registry_whois.answers["a.lab"] = whois_text("a.lab", LATER)
    config = net.config("a.lab", rdap=False)
    assert _check(net, config, "--no-state").exit_code == 0
    path = net.tmp / "cache" / "domwatch.sqlite3"
    inode = path.stat().st_ino
    holder = sqlite3.connect(path, isolation_level=None)
    try:
        # Another process in the middle of its work holds the database exclusively.
        holder.execute("PRAGMA locking_mode = EXCLUSIVE")
        holder.execute("BEGIN EXCLUSIVE")
        holder.execute("DELETE FROM referral")
        run = _check(net, config, "--no-state")  # waits out SQLite's 5 s busy timeout
        assert run.exit_code == 0, run.stdout + run.stderr
        assert run.domain("a.lab")["registration"]["source"] == "whois"
        (warning,) = _warnings(run)
        assert "database is locked" in warning and "running without it" in warning
        holder.execute("COMMIT")
    finally:
        holder.close()
    assert path.stat().st_ino == inode  # neither deleted nor replaced
    db = sqlite3.connect(path)
    assert db.execute("SELECT domain FROM registration").fetchall() == [("a.lab",)]
    db.close()

    path.write_bytes(b"this is no database, " * 1000)  # real damage
    for suffix in ("-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    run = _check(net, config, "--no-state")
    assert run.exit_code == 0
    (warning,) = _warnings(run)
    assert "is damaged" in warning and "moved to domwatch.sqlite3.corrupt-" in warning
    (aside,) = path.parent.glob("domwatch.sqlite3.corrupt-*[0-9]")
    assert aside.read_bytes().startswith(b"this is no database")
    assert _check(net, config, "--no-state").domain("a.lab")["registration"]["cached"]


# --- 10: secrets in configuration errors ---------------------------------------------------------


@pytest.mark.parametrize(
    "toml",
    [
        '[settings.notify]\nurls = "json://user:S3CR3T@hooks.example/x?token=T0K3N"\n',
        '[settings.notify]\nurls_env = "json://user:S3CR3T@hooks.example/T0K3N"\n',
        '[[domain]]\nname = "b.lab"\nnotify = "mailtos://user:S3CR3T@mail.example?to=T0K3N"\n',
        '[[domain]]\nname = "b.lab"\nnotify = ["json://u:S3CR3T@host.example/T0K3N", 5]\n',
    ],
)
def test_configuration_errors_redact_urls_like_reports(tmp_path: Path, toml: str) -> None:
    path = tmp_path / "d.toml"
    path.write_text('domains = ["a.lab"]\n' + toml)
    run = domwatch("check", str(path))
    assert run.exit_code == 64
    assert "S3CR3T" not in run.stderr and "T0K3N" not in run.stderr
    assert len(run.stderr.splitlines()) == 1 and "d.toml:" in run.stderr
    if "5]" not in toml:
        assert "://***@" in run.stderr  # the redacted form, as reports show it


# --- 11: file modes and the state file's keys ----------------------------------------------------


@pytest.fixture
def umask() -> Iterator[None]:
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_file_modes_follow_the_umask_for_reports_and_are_private_otherwise(
    net: Net, umask: None
) -> None:
    net.registry_whois.answers["a.lab"] = whois_text("a.lab", LATER)
    config = net.config("a.lab", rdap=False)
    report = net.tmp / "report.json"
    os.umask(0o077)
    assert _check(net, config, "-o", str(report)).exit_code == 0
    state = net.tmp / "st" / "state.json"
    cache = net.tmp / "cache" / "domwatch.sqlite3"
    assert _mode(report) == 0o600  # 0666 less umask 077
    assert _mode(state) == 0o600 and _mode(state.parent) == 0o700
    assert _mode(cache) == 0o600 and _mode(cache.parent) == 0o700
    assert all(_mode(p) == 0o600 for p in cache.parent.glob("domwatch.sqlite3*"))

    os.umask(0o022)
    other = net.tmp / "other.json"
    assert _check(net, config, "-o", str(other)).exit_code == 0
    assert _mode(other) == 0o644  # a new report: what the umask allows
    assert _check(net, config, "-o", str(report)).exit_code == 0
    assert _mode(report) == 0o600  # a replaced report keeps its mode
    assert _mode(state) == 0o600  # the state is private whatever the umask


def test_state_keys_targets_by_a_salted_hash_and_migrates_old_keys(net: Net, lab: Lab) -> None:
    receiver = lab.add(HttpReceiver())
    url = receiver.target("json", userinfo="user:hunter2")
    net.registry_whois.answers["a.lab"] = whois_text("a.lab", SOON)
    config = net.config("a.lab", rdap=False)
    assert _check(net, config, "--notify", url).exit_code == 1
    assert len(receiver.received) == 1
    state = net.tmp / "st" / "state.json"
    document = json.loads(state.read_text())
    section = document["notify"]
    legacy = hashlib.sha256(url.encode()).hexdigest()[:24]
    assert len(section["salt"]) == 32 and legacy not in state.read_text()
    assert "hunter2" not in state.read_text()
    (record,) = section["targets"].values()

    # A state file from before salted keys: the record under the unsalted hash, no salt.
    document["notify"] = {"targets": {legacy: record}}
    state.write_text(json.dumps(document))
    assert _check(net, config, "--notify", url).exit_code == 1
    assert len(receiver.received) == 1  # what was told is remembered: no second digest
    migrated = json.loads(state.read_text())["notify"]
    assert legacy not in migrated["targets"] and len(migrated["salt"]) == 32
    assert next(iter(migrated["targets"].values()))["told"] == record["told"]


# --- 12: overlapping runs notify once ------------------------------------------------------------


def test_overlapping_runs_send_one_notification(net: Net, lab: Lab) -> None:
    receiver = lab.add(HttpReceiver(latency=1.5))  # both runs reach notifying together
    net.registry_whois.answers["a.lab"] = whois_text("a.lab", SOON)
    config = net.config("a.lab", rdap=False)
    args = ("check", str(config), "--no-progress", "--timeout", "5", "--no-cache",
            "--state", str(net.tmp / "st" / "state.json"), "--notify", receiver.target("json"))
    runs = [_process(*args) for _ in range(2)]
    outs = [p.communicate(timeout=120) for p in runs]
    assert [p.returncode for p in runs] == [1, 1], outs
    assert len(receiver.received) == 1


def test_a_run_that_cannot_get_the_state_lock_says_so_and_does_not_notify(
    net: Net, lab: Lab
) -> None:
    receiver = lab.add(HttpReceiver())
    net.registry_whois.answers["a.lab"] = whois_text("a.lab", SOON)
    config = net.config("a.lab", rdap=False)
    state = net.tmp / "st" / "state.json"
    state.parent.mkdir()
    with open(net.tmp / "st" / "state.json.lock", "wb") as held:
        fcntl.flock(held.fileno(), fcntl.LOCK_EX)  # another run, mid-save
        run = _check(net, config, "--notify", receiver.target("json"), "--timeout", "1")
    assert run.exit_code == 1
    assert "another domwatch run is using the state file" in run.stderr
    assert receiver.received == [] and not state.exists()

    # A hold released while the run waits: it goes on and notifies.
    with open(net.tmp / "st" / "state.json.lock", "wb") as held:
        fcntl.flock(held.fileno(), fcntl.LOCK_EX)
        threading.Timer(0.5, held.close).start()
        run = _check(net, config, "--notify", receiver.target("json"), "--timeout", "1")
    assert "another domwatch run" not in run.stderr
    assert len(receiver.received) == 1 and state.exists()


# --- 13: deeply nested TOML ----------------------------------------------------------------------


def test_deeply_nested_toml_is_a_usage_error(tmp_path: Path) -> None:
    path = tmp_path / "deep.toml"
    path.write_text('domains = ["a.lab"]\nx = ' + "[" * 100_000 + "]" * 100_000 + "\n")
    run = domwatch("check", str(path))
    assert run.exit_code == 64
    assert run.stderr.splitlines() == [
        f"domwatch: error: {path}:2: TOML syntax error: arrays or inline tables nested "
        "too deeply"
    ]


# --- 14: Ctrl-C, and what killed runs leave behind ------------------------------------------------


def test_ctrl_c_ends_the_run_at_once_with_one_line(net: Net, lab: Lab) -> None:
    net.registry_whois.latency = 30.0  # every lookup is in flight when the signal comes
    names = [f"d{i}.lab" for i in range(200)]
    config = net.config(*names, rdap=False)
    state_dir = net.tmp / "st"
    proc = _process("check", str(config), "--no-progress", "--timeout", "20",
                    "--cache-dir", str(net.tmp / "cache"), "--state", str(state_dir / "s.json"))
    deadline = time.monotonic() + 60
    while not net.registry_whois.queries and time.monotonic() < deadline:
        time.sleep(0.05)
    assert net.registry_whois.queries, "the run never reached the WHOIS server"
    proc.send_signal(signal.SIGINT)
    # A hang guard only (a loaded machine): a run that ignored the signal would finish its
    # lookups (their 20 s timeout) and exit with another status, or print tracebacks.
    stdout, stderr = proc.communicate(timeout=90)
    assert proc.returncode == 130
    assert stderr == "domwatch: interrupted\n" and stdout == ""
    assert not list(state_dir.glob(".s.json.*"))


def test_temporary_state_files_of_killed_runs_are_removed_at_the_next_save(net: Net) -> None:
    net.registry_whois.answers["a.lab"] = whois_text("a.lab", LATER)
    state_dir = net.tmp / "st"
    state_dir.mkdir()
    for leftover in (".state.json.k1ll3d", ".state.json.x_y"):  # what mkstemp leaves
        (state_dir / leftover).write_text('{"half": ')
    (state_dir / "unrelated.json").write_text("{}")
    assert _check(net, net.config("a.lab", rdap=False)).exit_code == 0
    assert sorted(p.name for p in state_dir.iterdir()) == [
        "state.json", "state.json.lock", "unrelated.json"
    ]
