"""The settings schema: every declared setting is read from a file and from its option, and
what is derived from the declarations (docs/settings.md, --help, the starter file) agrees.

The tests iterate the declarations, so a new setting is covered by being declared; a new kind of
value needs a sample in :func:`sample` (the test says so).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
import pytest

from domwatch.cli import _given, cli
from domwatch.config import load_config
from domwatch.model import Domain, Thresholds
from domwatch.net.limits import ServerLimit, rdap_key, whois_key
from domwatch.settings import SETTINGS, THRESHOLDS, Setting, Settings, default, shown_default
from domwatch.starter import STARTER
from domwatch.values import (
    Bootstrap,
    Checks,
    Choice,
    Count,
    Duration,
    Endpoint,
    EnvName,
    FilePath,
    Flag,
    HostPort,
    Nameservers,
    NotifyUrls,
    RdapServers,
    Seconds,
    ServerLimits,
    WhoisServers,
)
from tests import settings_page

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "settings.md"


@dataclass(frozen=True)
class Sample:
    """A value other than the default: as written in TOML, on the command line, and as read."""

    toml: object
    argv: tuple[str, ...] | None  # None: this kind has no command-line form
    read: object


def sample(name: str, spec: Setting[Any], keys: tuple[str, ...], base: Path) -> Sample:
    """A non-default value of setting ``name`` (``base``: where relative paths start)."""
    kind = next((k for ks, k in spec.keys if ks == keys), spec.kind)
    now = default(name)
    flag = spec.option.flags[0] if spec.option is not None else ""
    if isinstance(kind, Flag):
        value = now is not True  # None (progress: "on a terminal") becomes True
        on, _, off = flag.partition("/")
        word = on if value else (off or on)
        if spec.option is not None and spec.option.sets is not None:
            assert spec.option.sets == value, f"{name}: the flag sets the default"
        return Sample(value, (word,), value)
    if isinstance(kind, Count):
        number = int(str(now)) + 1
        return Sample(number, (flag, str(number)), number)
    if isinstance(kind, Seconds):
        return Sample(2.5, (flag, "2.5"), 2.5)
    if isinstance(kind, Choice):
        other = next(c for c in kind.choices if c != now)
        return Sample(other, (flag, other), other)
    if isinstance(kind, Checks):
        return Sample(["dns", "web"], (flag, "web,dns"), ("dns", "web"))
    if isinstance(kind, FilePath):
        (base / "given.pem").write_text("x", encoding="utf-8")
        return Sample("given.pem", (flag, "given.pem"), base / "given.pem")
    if isinstance(kind, Nameservers):
        return Sample(["192.0.2.1:5353"], (flag, "192.0.2.1:5353"), (Endpoint("192.0.2.1", 5353),))
    if isinstance(kind, HostPort):
        return Sample("whois.example.net:4343", None, Endpoint("whois.example.net", 4343))
    if isinstance(kind, WhoisServers):
        return Sample({"fi": "whois.example.fi"}, None, {"fi": Endpoint("whois.example.fi")})
    if isinstance(kind, RdapServers):
        return Sample({"fi": "https://rdap.example.fi"}, None, {"fi": "https://rdap.example.fi/"})
    if isinstance(kind, ServerLimits):
        key = {"whois": whois_key("whois.example.net", 43), "rdap": rdap_key(
            "https://whois.example.net")}[keys[0]]
        limit = ServerLimit(2, None)
        return Sample({"whois.example.net": {"concurrency": 2}}, None, {key: limit})
    if isinstance(kind, Bootstrap):
        url = "https://data.example.net/rdap/dns.json"
        return Sample(url, None, url)
    if isinstance(kind, NotifyUrls):
        return Sample(["ntfy://topic"], (flag, "ntfy://topic"), ("ntfy://topic",))
    if isinstance(kind, EnvName):
        return Sample("DOMWATCH_TEST_URLS", None, "DOMWATCH_TEST_URLS")
    if isinstance(kind, Duration):
        return Sample("2h", None, 7200.0)
    pytest.fail(f"setting {name}: no sample for {type(kind).__name__}; add one to sample()")


def _value(settings: Settings, name: str) -> object:
    return getattr(settings.thresholds if name in THRESHOLDS else settings, name)


def _domain_value(domain: Domain, name: str) -> object:
    return getattr(domain.thresholds if name in THRESHOLDS else domain, name)


def _toml(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "{ " + ", ".join(f'"{k}" = {_toml(v)}' for k, v in value.items()) + " }"
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return json.dumps(value)


FILE_KEYS = [
    pytest.param(name, keys, id=".".join(keys))
    for name, spec in SETTINGS.items()
    for keys, _kind in spec.keys
]


def test_the_schema_declares_settings() -> None:
    # The tests below iterate it: an empty schema would make them pass vacuously.
    assert len(FILE_KEYS) >= 30 and set(THRESHOLDS) <= set(SETTINGS)
    assert all(spec.help.strip() for spec in SETTINGS.values())


@pytest.mark.parametrize(("name", "keys"), FILE_KEYS)
def test_every_key_is_read_from_a_domain_file(tmp_path: Path, name: str, keys: tuple[str, ...]
                                              ) -> None:
    spec = SETTINGS[name]
    given = sample(name, spec, keys, tmp_path)
    assert given.read != _value(Settings(), name), f"{name}: the sample is the default"
    *table, key = keys
    header = "[settings]" if not table else f"[settings.{'.'.join(table)}]"
    path = tmp_path / "d.toml"
    path.write_text(f'domains = ["example.fi"]\n{header}\n{key} = {_toml(given.toml)}\n',
                    encoding="utf-8")
    config = load_config([str(path)], {}, cwd=tmp_path)
    assert _value(config.settings, name) == given.read
    if spec.per_domain:
        assert _domain_value(config.domains[0], name) == given.read
        path.write_text(f'[[domain]]\nname = "example.fi"\n{key} = {_toml(given.toml)}\n',
                        encoding="utf-8")
        (domain,) = load_config([str(path)], {}, cwd=tmp_path).domains
        assert _domain_value(domain, name) == given.read


OPTIONS = [name for name, spec in SETTINGS.items() if spec.option is not None]


@pytest.mark.parametrize("name", OPTIONS)
def test_every_option_is_read_from_the_command_line(tmp_path: Path, name: str) -> None:
    spec = SETTINGS[name]
    keys = next((ks for ks, _ in spec.keys), ())
    given = sample(name, spec, keys, tmp_path)
    assert given.argv is not None, f"{name} has an option but its kind reads no command line"
    # The real click command parses it, as `domwatch check` would.
    params = cli.commands["check"].make_context("check", [*given.argv, "example.fi"]).params
    options = _given(**{k: v for k, v in params.items() if k != "targets"})
    assert set(options) == {name}, options
    config = load_config(["example.fi"], options, cwd=tmp_path)
    assert _value(config.settings, name) == given.read != _value(Settings(), name)
    if spec.per_domain:
        assert _domain_value(config.domains[0], name) == given.read


def test_help_shows_each_option_with_its_declared_help_and_default() -> None:
    command = cli.commands["check"]
    text = " ".join(command.get_help(click.Context(command, info_name="check")).split())
    for name in OPTIONS:
        spec = SETTINGS[name]
        assert spec.option is not None
        assert " ".join(f"{spec.help} [default: {shown_default(name)}]".split()) in text, name


def test_thresholds_are_the_model_fields() -> None:
    assert list(THRESHOLDS) == list(vars(Thresholds()))


def test_the_starter_file_holds_each_setting_declared_for_it() -> None:
    for spec in SETTINGS.values():
        if spec.starter is not None and spec.toml is not None:
            line = ("# " if spec.starter.example is not None else "") + spec.toml[-1] + " = "
            assert f"\n{line}" in STARTER, spec.name


def test_docs_settings_is_up_to_date() -> None:
    assert DOC.read_text(encoding="utf-8") == settings_page.render(), (
        f"docs/settings.md is stale: run `{settings_page.COMMAND}`"
    )


def test_docs_settings_names_every_key_and_option() -> None:
    text = DOC.read_text(encoding="utf-8")
    for spec in SETTINGS.values():
        for keys, _kind in spec.keys:
            assert f"`{'.'.join(keys)}`" in text
        if spec.option is not None:
            assert ", ".join(spec.option.flags) in text


LOWER_LAYERS = ("net", "sources", "checks", "settings.py", "values.py", "notify.py")


def test_lower_layers_take_settings_from_the_schema_not_config() -> None:
    # config.py reads files and options; what uses a setting needs only its declaration.
    package = ROOT / "src" / "domwatch"
    paths = [p for layer in LOWER_LAYERS for p in sorted((package / layer).glob("**/*.py"))
             or [package / layer]]
    assert len(paths) > 10
    for path in paths:
        text = path.read_text(encoding="utf-8")
        assert "from domwatch.config import" not in text, path.relative_to(ROOT)
        assert "import domwatch.config" not in text, path.relative_to(ROOT)


def test_the_readme_options_table_names_every_option() -> None:
    # The README's table groups options by hand; this keeps it from missing a declared one.
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    table = readme.split("Main options", 1)[1].split("\n\n", 2)[1]
    assert table.startswith("| option |"), table[:40]
    for name in OPTIONS:
        spec = SETTINGS[name]
        assert spec.option is not None
        flags = [f for flag in spec.option.flags for f in flag.split("/")]
        assert any(re.search(rf"(?<![\w-]){re.escape(f)}(?![\w-])", table) for f in flags), name
