"""The run's results, kept out of memory as they come and read back in input order.

Domains finish in any order (the run takes them round robin by registry), and a report lists
them in input order, after a summary of all of them. Holding every result until the end cost
about 2 KB a domain; here each is pickled into an anonymous temporary file the moment it is
done (the first few MiB stay in memory, so small runs never touch the disk), and the report
writers read them back one at a time. What stays in memory is an offset and a state per domain.

The file is created by this process, unlinked, and read back only by it; pickle is safe here.
Should the disk refuse (full, read-only), the results are kept in memory instead: slower to
nothing, and no result is lost.
"""

from __future__ import annotations

import logging
import pickle
import tempfile
from array import array
from collections.abc import Iterator, Sequence
from dataclasses import fields
from typing import overload

from domwatch.model import Domain, DomainResult, Status

log = logging.getLogger("domwatch")

IN_MEMORY = 4 * 1024 * 1024  # bytes kept in memory before the spool moves to a file
_STATES = (Status.OK, Status.UNKNOWN, Status.WARNING, Status.CRITICAL)
_MISSING = 255
# Every field of a result but its domain (kept once, in the domain list): a field added to
# DomainResult is spooled without a change here.
_FIELDS = tuple(f.name for f in fields(DomainResult) if f.name != "domain")


class ResultSpool(Sequence[DomainResult]):
    """Each domain's :class:`DomainResult`, by its position in ``domains`` (input order).

    A sequence of the results that have been put, in input order; :meth:`statuses` gives the
    states without reading the results back.
    """

    def __init__(self, domains: Sequence[Domain], in_memory: int = IN_MEMORY) -> None:
        self._domains = domains
        self._file = tempfile.SpooledTemporaryFile(max_size=in_memory)  # noqa: SIM115
        self._offset = array("q", [-1]) * len(domains)
        self._length = array("q", [0]) * len(domains)
        self._state = bytearray([_MISSING]) * len(domains)
        self._kept: dict[int, bytes] = {}  # results put after the disk refused
        self._disk_refused = False
        self._count = 0
        self._positions: list[int] | None = None  # input positions when some are missing

    def put(self, index: int, result: DomainResult) -> None:
        """Keep the result of ``domains[index]`` (its domain is not stored again)."""
        data = pickle.dumps(
            tuple(getattr(result, name) for name in _FIELDS), protocol=pickle.HIGHEST_PROTOCOL
        )
        if self._state[index] == _MISSING:
            self._count += 1
            self._positions = None
        self._state[index] = _STATES.index(result.status)
        if not self._disk_refused:
            try:
                self._file.seek(0, 2)
                self._offset[index] = self._file.tell()
                self._file.write(data)
                self._length[index] = len(data)
                return
            except OSError as exc:
                log.warning("cannot keep results in a temporary file (%s); keeping them in "
                            "memory", exc.strerror or exc)
                self._disk_refused = True
        self._kept[index] = data

    def statuses(self) -> Iterator[Status]:
        """The state of each result, in input order, without reading the results back."""
        for code in self._state:
            if code != _MISSING:
                yield _STATES[code]

    def close(self) -> None:
        """Drop the temporary file."""
        self._file.close()
        self._kept.clear()

    def __len__(self) -> int:
        return self._count

    @overload
    def __getitem__(self, position: int) -> DomainResult: ...

    @overload
    def __getitem__(self, position: slice) -> list[DomainResult]: ...

    def __getitem__(self, position: int | slice) -> DomainResult | list[DomainResult]:
        if isinstance(position, slice):
            return [self[i] for i in range(*position.indices(len(self)))]
        if position < 0:
            position += len(self)
        if not 0 <= position < len(self):
            raise IndexError("result index out of range")
        return self._read(self._indexes()[position])

    def __iter__(self) -> Iterator[DomainResult]:
        for index in self._indexes():
            yield self._read(index)

    def _indexes(self) -> Sequence[int]:
        if self._count == len(self._domains):
            return range(self._count)
        if self._positions is None:
            self._positions = [i for i, s in enumerate(self._state) if s != _MISSING]
        return self._positions

    def _read(self, index: int) -> DomainResult:
        data = self._kept.get(index)
        if data is None:
            self._file.seek(self._offset[index])
            data = self._file.read(self._length[index])
        values = pickle.loads(data)
        return DomainResult(self._domains[index], **dict(zip(_FIELDS, values, strict=True)))
