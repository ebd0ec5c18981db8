"""Exceptions raised by bt_sim.

Every error that bad input can cause is a :class:`BtSimError`; the command line prints its
message (no traceback unless ``--debug``) and exits with code 2.
"""

from __future__ import annotations


class BtSimError(Exception):
    """Base class of all errors caused by the user's input."""


class ScenarioError(BtSimError):
    """A scenario file or override is invalid.

    Parameters
    ----------
    problems : list of (source, key, message)
        Each problem names the file (or ``--set``), the dotted key path and what was expected.
    """

    def __init__(self, problems: list[tuple[str, str, str]]):
        self.problems = list(problems)
        lines = [f"{src}: {key}: {msg}" if key else f"{src}: {msg}" for src, key, msg in problems]
        super().__init__("\n".join(lines))


class NetworkFileError(BtSimError):
    """An edge-list file is unreadable or holds bad rows."""


class OutputError(BtSimError):
    """The results folder cannot be written."""


class ResourceError(BtSimError):
    """A run would need more memory than the machine has."""


class SweepError(ScenarioError):
    """A sweep file, one of its parameters, or a sweep's results folder is invalid.

    Like :class:`ScenarioError`, each problem names the file, the key and what was expected.
    """


class RecordError(ScenarioError):
    """A records file (experiment records of interventions) is missing, unreadable or holds
    bad rows; each problem names the file, the row and column, and what was expected."""


def utf8_problem(raw: bytes, exc: UnicodeDecodeError) -> tuple[int, str]:
    """Where a file that is not UTF-8 breaks: its line number (1 is the first) and a message
    with the column and the byte.

    >>> utf8_problem(b"a,b\\n1,\\xe9t\\xe9\\n", UnicodeDecodeError("utf-8", b"", 6, 7, "x"))
    (2, 'not UTF-8 text: byte 0xe9 at column 3 (save the file as UTF-8)')
    """
    line = raw.count(b"\n", 0, exc.start) + 1
    column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
    byte = raw[exc.start] if exc.start < len(raw) else 0
    return line, f"not UTF-8 text: byte 0x{byte:02x} at column {column} (save the file as UTF-8)"
