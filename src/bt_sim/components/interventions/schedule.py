"""Dated schedules: rounds that start at a month, last some months and come back.

A round covers the months ``(a, a + months]`` for ``a = start, start + every, ...`` (one round
only with ``every = 0``). A step ``(t0, t1]`` counts the months of it inside a round, so what a
round does does not depend on the step length.
"""

from __future__ import annotations

import math


def overlap(t0: float, t1: float, start: float, months: float, every: float) -> float:
    """Months of the step ``(t0, t1]`` that fall inside a round.

    >>> [overlap(m - 1, m, 6.0, 3.0, 12.0) for m in (6, 7, 9, 10, 19, 22)]
    [0.0, 1.0, 1.0, 0.0, 1.0, 0.0]
    >>> overlap(5.5, 6.5, 6.0, 3.0, 0.0)
    0.5
    """
    if t1 <= start:
        return 0.0
    if every <= 0:
        return max(0.0, min(t1, start + months) - max(t0, start))
    total = 0.0
    first = max(math.floor((t0 - start) / every), 0)
    last = math.floor((t1 - start) / every)
    for k in range(first, last + 1):
        a = start + k * every
        total += max(0.0, min(t1, a + months) - max(t0, a))
    return total


def round_of(month: float, start: float, every: float) -> int:
    """The number of the round that ``month`` falls in (0 for the first).

    >>> round_of(20.0, 6.0, 12.0), round_of(20.0, 6.0, 0.0)
    (1, 0)
    """
    if every <= 0:
        return 0
    return max(math.floor((month - start) / every + 1e-9), 0)


def started(month: float, start: float, every: float) -> int:
    """How many rounds have started by ``month`` (a start at ``month`` counts).

    >>> [started(m, 6.0, 6.0) for m in (0, 5, 6, 11, 12)]
    [0, 0, 1, 1, 2]
    >>> started(100.0, 6.0, 0.0)
    1
    """
    if month < start - 1e-9:
        return 0
    if every <= 0:
        return 1
    return math.floor((month - start) / every + 1e-9) + 1
