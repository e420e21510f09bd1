"""The commented starter domain file that ``domwatch init`` writes.

Its ``[settings]`` come from the settings' declarations (:mod:`domwatch.settings`): a setting
declared with a :class:`~domwatch.settings.Starter` appears there.
"""

from __future__ import annotations

import errno
import json
from pathlib import Path

from domwatch.files import write_atomically
from domwatch.settings import SETTINGS, Starter, default

_HEAD = """\
# domwatch domain file. Check it with:  domwatch check domwatch.toml
# Every key is optional except a domain list. A mistyped key is an error that names the line.

# Short form: just the names. Top-level keys must come before the first [table].
# Host names are fine (www.example.fi is checked as example.fi; the web check probes the host).
# Unicode names are fine too: "ääkkönen.fi" is looked up as xn--kknen-fraa0m.fi.
domains = [
    "example.fi",
    "www.esimerkki.fi",
]

"""

_TAIL = """\
# Long form: one [[domain]] table per domain that needs its own settings.
[[domain]]
name = "kauppa.fi"
warn_days = 60           # this one renews through a slow purchase process
mail = true              # it must receive mail: a missing MX is reported
tags = ["team:web"]
# web = ["https://kauppa.fi/", "https://www.kauppa.fi/"]   # default: the apex and www
# ignore = ["mail.dmarc.missing"]                          # finding codes not to report

# A registry that publishes no expiry date (.de, .eu, ...): say when your contract renews.
# [[domain]]
# name = "example.de"
# expires = "2027-06-30"
"""


def _toml(value: object) -> str:
    """``value`` as TOML writes it (the kinds a starter line shows)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)  # a TOML basic string is JSON's
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {_toml(v)}" for k, v in value.items()) + " }"
    raise TypeError(f"no TOML for {type(value).__name__}")


def _line(key: str, value: object, starter: Starter, commented: bool) -> list[str]:
    text = ("# " if commented else "") + f"{key} = {_toml(value)}"
    if starter.comment:
        # At the declared column; a longer line keeps two spaces before its comment.
        text = f"{text:<{max(starter.column, len(text) + 2)}}# {starter.comment}"
    return [f"# {note}" for note in starter.note] + [text]


def _settings_part() -> str:
    """``[settings]``: the settings declared with a :class:`Starter`, live with their default
    or commented out with an example, sub-tables (``[settings.whois]``) after the plain keys."""
    plain: list[str] = []
    sub: dict[str, list[str]] = {}
    for name, spec in SETTINGS.items():
        starter = spec.starter
        if starter is None or spec.toml is None:
            continue
        example = starter.example is not None
        value = starter.example if example else default(name)
        *table, key = spec.toml
        lines = _line(key, value, starter, commented=example)
        if table:
            sub.setdefault(".".join(table), []).extend(lines)
        else:
            plain.extend(lines)
    out = ["[settings]", *plain]
    for header, block in sub.items():
        out += ["", f"# [settings.{header}]", *block]
    return "\n".join(out) + "\n\n"


#: The file ``domwatch init`` writes.
STARTER = _HEAD + _settings_part() + _TAIL


def write_starter(path: Path, *, force: bool) -> None:
    """Write :data:`STARTER` to ``path``; an existing file is replaced only with ``force``.

    Raises FileExistsError (the CLI turns it into a usage error) rather than clobber a file
    someone has filled in.
    """
    if not force and (path.exists() or path.is_symlink()):
        raise FileExistsError(errno.EEXIST, "file exists (use --force to replace it)", str(path))
    write_atomically(path, STARTER)
