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
