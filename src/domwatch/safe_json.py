"""JSON from places domwatch does not control (servers, files on disk), decoded within bounds.

``json.loads`` recurses once per level of nesting: ``[[[[...]]]]`` 100,000 deep raises
``RecursionError`` (or, on some builds, exhausts the C stack). No RDAP answer, state file or
cache row needs more than a dozen levels, so the nesting is measured first, with a linear pass
that runs at C speed, and anything deeper than the limit is refused with a named error.
"""

from __future__ import annotations

import itertools
import json
from typing import Any

from domwatch.errors import JsonError, NotJson

MAX_DEPTH = 64  # real answers use about 10 levels (entities within entities, vCards)

_BRACKETS = b"[]{}"
_NOT_BRACKETS = bytes(b for b in range(256) if b not in _BRACKETS)
_STEPS = bytes.maketrans(b"[{]}", b"\x01\x01\xff\xff")  # +1 for an opener, -1 for a closer


def nesting_depth(data: bytes) -> int:
    """How deep arrays and objects nest in ``data`` (exact for valid JSON, linear time).

    Inside strings brackets do not count. Escaped backslashes are removed first, then escaped
    quotes, so every quote left opens or closes a string; what lies between every other pair is
    string content and is dropped.
    """
    cleaned = data.replace(b"\\\\", b"").replace(b'\\"', b"")
    outside = b"".join(cleaned.split(b'"')[0::2])
    brackets = outside.translate(None, _NOT_BRACKETS)
    if not brackets:
        return 0
    steps = memoryview(brackets.translate(_STEPS)).cast("b")
    return max(itertools.accumulate(steps))


def loads(data: bytes | str, *, max_depth: int = MAX_DEPTH) -> Any:
    """``json.loads`` that raises :class:`JsonError` for bad JSON or nesting past ``max_depth``."""
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
    depth = nesting_depth(raw)
    if depth > max_depth:
        raise JsonError(f"JSON nested {depth} levels deep (at most {max_depth} accepted)")
    try:
        return json.loads(raw)
    except RecursionError:  # cannot happen after the check above; kept as the last line
        raise JsonError("JSON nested too deeply") from None
    except (ValueError, UnicodeDecodeError) as exc:
        text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise NotJson(f"not JSON: {text[:120]}") from None
