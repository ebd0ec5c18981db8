"""Landscape drivers: exogenous named series of levels by month.

The landscape of the multi-level perspective (Geels 2002) is a set of named drivers (the
relative energy price, a behaviour's price, incomes, trust, attention, ...), each a series of
levels by month that the households cannot change. Time advances in steps of ``dt`` months;
step ``t`` is month ``m_t = t * dt`` (:func:`step_months`) and a run of ``steps`` steps needs
the series at the months of steps ``0 .. steps``. Every function here is pure: it takes the
months (a float array, one per step) and returns the levels at those months as float64.

Kinds (:data:`KINDS`), with ``m`` a month:

``constant`` (:func:`constant_series`)
    ``level(m) = start``.
``values`` (:func:`values_series`)
    ``values[i]`` is the level during month ``i`` (``i = 0, 1, ...``):
    ``level(m) = values[min(floor(m + 1e-9), len(values) - 1)]``; the last value is held
    beyond the end (a month before 0 takes ``values[0]``).
``file`` (:func:`read_series_csv` then :func:`table_series`)
    A table of (month, value) rows, piecewise constant: ``level(m)`` is the value of the last
    row whose month is ``<= m + 1e-9``. The months are strictly increasing and the first is 0.
``trend`` (:func:`trend_series`)
    Linear: ``level(m) = start + slope * m / 12``, ``slope`` in level per year.
``step`` (:func:`step_series`)
    ``level(m) = start`` for ``m < at`` and ``start + size * exp(-decay * (m - at))`` from
    month ``at`` on (``m + 1e-9 >= at``); ``decay`` per month, 0 for a lasting step.
``walk`` (:func:`walk_series`)
    Geometric random walk: ``level(m_0) = start`` and, between consecutive months,
    ``log level(m_t) - log level(m_{t-1}) = sd * sqrt(m_t - m_{t-1}) * z_t`` with ``z_t``
    standard normal (``normals[t - 1]``, drawn by the caller from its own stream); ``sd`` per
    square root of a month, so the log level's variance after ``m`` months is ``sd**2 * m``
    whatever ``dt``. The level is ``start * exp(cumulative sum)``: multiplicative, so it keeps
    the sign of ``start`` (and a start of 0 stays 0).

Any kind's levels may then be bounded with :func:`clip_series`. The ``1e-9`` month tolerance
keeps months such as ``3 * 0.1 = 0.30000000000000004`` on the intended side of a boundary.

Series file (CSV) format, read by :func:`read_series_csv`:

- UTF-8 text without a byte-order mark (BOM), comma separated, quoted as by the ``csv`` module;
- a header row naming the columns, among them ``month`` and the requested column (other
  columns are allowed and ignored; names are stripped of surrounding spaces and must be
  unique);
- then one row per change of level, each with as many fields as the header: ``month`` a number
  ``>= 0``, the first row's 0 and strictly increasing down the file, and the value a finite
  number; at least one data row;
- empty lines are skipped (they are not counted as rows, but lines are).

For example::

    month,price
    0,1.0
    12,1.2
    30,0.9

Every problem is reported at once (at most :data:`MAX_PROBLEMS` row problems, then how many
more) in a :class:`bt_sim.errors.ScenarioError` naming the file, the row (counted from 1 over
the data rows) with its line in the file, the column and what was expected.

Examples
--------
>>> months = step_months(4, 3.0)
>>> months
array([ 0.,  3.,  6.,  9., 12.])
>>> trend_series(1.0, 0.12, months)
array([1.  , 1.03, 1.06, 1.09, 1.12])
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from bt_sim.errors import ScenarioError
from bt_sim.scenario.schema import SERIES_KINDS

#: The kinds of landscape series (the scenario's ``kind`` key takes these).
KINDS = SERIES_KINDS

#: Months within this of a boundary count as on it.
MONTH_TOLERANCE = 1e-9

#: At most this many row problems are reported, then how many more there were.
MAX_PROBLEMS = 20

_BOM = b"\xef\xbb\xbf"
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


def _months(months: np.ndarray) -> np.ndarray:
    return np.asarray(months, dtype=np.float64)


def step_months(steps: int, dt: float) -> np.ndarray:
    """The month of each step ``0 .. steps`` of a run with steps of ``dt`` months.

    Parameters
    ----------
    steps : int
        The number of steps of the run (``>= 0``).
    dt : float
        Months per step, in (0, 12].

    Returns
    -------
    numpy.ndarray
        ``t * dt`` for ``t = 0 .. steps`` (length ``steps + 1``), float64.

    Examples
    --------
    >>> step_months(3, 0.25)
    array([0.  , 0.25, 0.5 , 0.75])
    """
    if steps < 0:
        raise ValueError(f"steps must be >= 0, got {steps}")
    if not 0 < dt <= 12:
        raise ValueError(f"dt must be in (0, 12] months, got {dt}")
    return np.arange(steps + 1, dtype=np.float64) * float(dt)


def constant_series(start: float, months: np.ndarray) -> np.ndarray:
    """A level that never changes: ``level(m) = start``.

    Parameters
    ----------
    start : float
        The level.
    months : numpy.ndarray
        The months at which the level is wanted.

    Returns
    -------
    numpy.ndarray
        ``start`` at every month, float64.

    Examples
    --------
    >>> constant_series(2.5, np.array([0.0, 1.0, 2.0]))
    array([2.5, 2.5, 2.5])
    """
    return np.full(_months(months).shape, float(start), dtype=np.float64)


def values_series(values: Sequence[float], months: np.ndarray) -> np.ndarray:
    """Levels given month by month: ``values[i]`` is the level during month ``i``.

    ``level(m) = values[min(floor(m + 1e-9), len(values) - 1)]``: the last value is held
    beyond the end of the list (and a month before 0 takes ``values[0]``).

    Parameters
    ----------
    values : sequence of float
        The level during months 0, 1, ... (at least one).
    months : numpy.ndarray
        The months at which the level is wanted.

    Returns
    -------
    numpy.ndarray
        The levels, float64.

    Raises
    ------
    ValueError
        ``values`` is empty.

    Examples
    --------
    >>> values_series([1.0, 2.0, 3.0], np.array([0.0, 0.5, 1.0, 2.75, 7.0]))
    array([1., 1., 2., 3., 3.])
    """
    vals = np.asarray(values, dtype=np.float64).reshape(-1)
    if vals.size == 0:
        raise ValueError("values must hold at least one level (the level during month 0)")
    m = _months(months)
    idx = np.clip(np.floor(m + MONTH_TOLERANCE), 0, vals.size - 1).astype(np.int64)
    return vals[idx]


def table_series(
    table_months: np.ndarray, table_values: np.ndarray, months: np.ndarray
) -> np.ndarray:
    """Levels from a table of (month, value) rows, piecewise constant.

    ``level(m)`` is the value of the last row whose month is ``<= m + 1e-9``; the last row's
    value is held beyond the end (a month before 0 takes the first row's value).

    Parameters
    ----------
    table_months : numpy.ndarray
        The rows' months: strictly increasing, the first 0.
    table_values : numpy.ndarray
        The rows' values (as many as ``table_months``).
    months : numpy.ndarray
        The months at which the level is wanted.

    Returns
    -------
    numpy.ndarray
        The levels, float64.

    Raises
    ------
    ValueError
        The table is empty, its columns differ in length, its months are not strictly
        increasing or do not start at 0.

    Examples
    --------
    >>> table_series(np.array([0.0, 6.0, 18.0]), np.array([1.0, 1.5, 0.8]),
    ...              np.array([0.0, 5.9, 6.0, 17.0, 18.0, 40.0]))
    array([1. , 1. , 1.5, 1.5, 0.8, 0.8])
    """
    tm = np.asarray(table_months, dtype=np.float64).reshape(-1)
    tv = np.asarray(table_values, dtype=np.float64).reshape(-1)
    if tm.size == 0:
        raise ValueError("the table must hold at least one row (month 0)")
    if tm.size != tv.size:
        raise ValueError(f"the table has {tm.size} months but {tv.size} values")
    if tm[0] != 0:
        raise ValueError(f"the table's first month must be 0, got {tm[0]:g}")
    if np.any(np.diff(tm) <= 0):
        raise ValueError("the table's months must be strictly increasing")
    m = _months(months)
    idx = np.searchsorted(tm, m + MONTH_TOLERANCE, side="right") - 1
    return tv[np.clip(idx, 0, tm.size - 1)]


def trend_series(start: float, slope: float, months: np.ndarray) -> np.ndarray:
    """A linear trend: ``level(m) = start + slope * m / 12``.

    Parameters
    ----------
    start : float
        The level at month 0.
    slope : float
        The change of level per year (12 months).
    months : numpy.ndarray
        The months at which the level is wanted.

    Returns
    -------
    numpy.ndarray
        The levels, float64.

    Examples
    --------
    >>> trend_series(1.0, -0.6, np.array([0.0, 6.0, 24.0]))
    array([ 1. ,  0.7, -0.2])
    """
    return float(start) + float(slope) * _months(months) / 12.0


def step_series(
    start: float, size: float, at: float, decay: float, months: np.ndarray
) -> np.ndarray:
    """A step at month ``at``, lasting or fading away.

    ``level(m) = start`` before month ``at`` and ``start + size * exp(-decay * (m - at))``
    from month ``at`` on (``m + 1e-9 >= at``).

    Parameters
    ----------
    start : float
        The level before the step.
    size : float
        The jump of level at month ``at``.
    at : float
        The month of the step.
    decay : float
        The rate (per month, ``>= 0``) at which the jump fades; 0 for a lasting step.
    months : numpy.ndarray
        The months at which the level is wanted.

    Returns
    -------
    numpy.ndarray
        The levels, float64.

    Raises
    ------
    ValueError
        ``decay`` is negative.

    Examples
    --------
    >>> step_series(1.0, 0.5, 2.0, 0.0, np.array([0.0, 1.0, 2.0, 3.0]))
    array([1. , 1. , 1.5, 1.5])
    >>> step_series(1.0, 0.5, 2.0, math.log(2), np.array([1.0, 2.0, 3.0, 4.0]))
    array([1.   , 1.5  , 1.25 , 1.125])
    """
    if decay < 0:
        raise ValueError(f"decay must be >= 0 (per month), got {decay}")
    m = _months(months)
    after = m + MONTH_TOLERANCE >= at
    since = np.maximum(m - float(at), 0.0)
    jump = float(size) * np.exp(-float(decay) * since)
    return np.where(after, float(start) + jump, float(start))


def walk_series(start: float, sd: float, months: np.ndarray, normals: np.ndarray) -> np.ndarray:
    """A geometric random walk from ``start``.

    ``level(m_0) = start``; between consecutive months the log level moves by
    ``sd * sqrt(m_t - m_{t-1}) * normals[t - 1]``, so ``level(m_t) = start * exp(sum of the
    moves so far)``. With ``sd`` per square root of a month, the log level's variance after
    ``m`` months is ``sd**2 * m`` whatever the step length.

    Parameters
    ----------
    start : float
        The level at the first month (positive for a walk of positive levels).
    sd : float
        The standard deviation of the log level's move over one month (``>= 0``).
    months : numpy.ndarray
        The months at which the level is wanted, non-decreasing.
    normals : numpy.ndarray
        ``len(months) - 1`` standard normal draws, from the caller's own stream.

    Returns
    -------
    numpy.ndarray
        The levels, float64.

    Raises
    ------
    ValueError
        ``sd`` is negative, ``normals`` has the wrong length or the months decrease.

    Examples
    --------
    >>> walk_series(2.0, 0.0, np.array([0.0, 1.0, 2.0]), np.array([0.3, -1.2]))
    array([2., 2., 2.])
    >>> walk_series(1.0, 0.5, np.array([0.0, 4.0]), np.array([1.0]))  # exp(0.5 * 2 * 1)
    array([1.        , 2.71828183])
    """
    if sd < 0:
        raise ValueError(f"sd must be >= 0 (per square root of a month), got {sd}")
    m = _months(months).reshape(-1)
    z = np.asarray(normals, dtype=np.float64).reshape(-1)
    if z.size != max(m.size - 1, 0):
        raise ValueError(
            f"expected {max(m.size - 1, 0)} normals (one per move between months), got {z.size}"
        )
    if m.size == 0:
        return np.empty(0, dtype=np.float64)
    dm = np.diff(m)
    if np.any(dm < 0):
        raise ValueError("the months of a walk must not decrease")
    log_moves = np.concatenate(([0.0], np.cumsum(float(sd) * np.sqrt(dm) * z)))
    return float(start) * np.exp(log_moves)


def clip_series(levels: np.ndarray, lo: float | None, hi: float | None) -> np.ndarray:
    """Levels bounded to ``[lo, hi]``.

    Parameters
    ----------
    levels : numpy.ndarray
        The levels.
    lo, hi : float or None
        The bounds; ``None`` leaves that side unbounded.

    Returns
    -------
    numpy.ndarray
        A new float64 array, each level clipped to ``[lo, hi]``.

    Raises
    ------
    ValueError
        ``lo > hi``.

    Examples
    --------
    >>> clip_series(np.array([-1.0, 0.5, 3.0]), 0.0, 1.0)
    array([0. , 0.5, 1. ])
    >>> clip_series(np.array([-1.0, 3.0]), None, 2.0)
    array([-1.,  2.])
    """
    out = np.array(levels, dtype=np.float64, copy=True)
    if lo is not None and hi is not None and lo > hi:
        raise ValueError(f"expected lo <= hi, got lo = {lo}, hi = {hi}")
    if lo is None and hi is None:
        return out
    return np.clip(out, lo, hi, out=out)


# --- series files -------------------------------------------------------------------------


def _number(text: str) -> tuple[float | None, str | None]:
    """A field's number, or why it is not one (``expected ..., got ...``)."""
    stripped = text.strip()
    if not stripped:
        return None, "expected a number, got an empty field"
    try:
        if "_" in stripped:
            raise ValueError
        x = float(stripped)
    except ValueError:
        return None, f"expected a number, got {text!r}"
    if not math.isfinite(x):
        return None, f"expected a finite number, got {text!r}"
    return x, None


def _read_text(path: Path, shown: str) -> str:
    def fail(message: str) -> ScenarioError:
        return ScenarioError([(shown, "", message)])

    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise fail("file not found; expected a CSV series file") from None
    except IsADirectoryError:
        raise fail("is a folder; expected a CSV series file") from None
    except OSError as exc:
        raise fail(f"cannot be read: {exc.strerror or exc}") from None
    if raw.startswith(_BOM):
        raise fail(
            "starts with a UTF-8 byte-order mark (BOM); expected UTF-8 text without one "
            "(save the file as UTF-8 without BOM)"
        )
    if raw.startswith(_UTF16_BOMS):
        raise fail("is UTF-16 text; expected UTF-8 (save the file as UTF-8 without BOM)")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise fail(
            f"not UTF-8 text: byte 0x{raw[exc.start]:02x} at byte offset {exc.start} "
            f"(line {line}); expected UTF-8 (save the file as UTF-8 without BOM)"
        ) from None


def read_series_csv(
    path: str | Path, column: str, shown: str | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Read a series file: the months and the values of one column.

    The file is UTF-8 CSV without a byte-order mark, with a header row naming a ``month``
    column and ``column`` (other columns are ignored), then rows of month (a number ``>= 0``,
    strictly increasing, the first 0) and value (a finite number); at least one row. Empty
    lines are skipped. See the module's documentation for the format.

    Parameters
    ----------
    path : str or pathlib.Path
        The file.
    column : str
        The column of values to read.
    shown : str, optional
        How problems name the file (by default ``path`` as given).

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        The months and the values, float64, one per data row.

    Raises
    ------
    bt_sim.errors.ScenarioError
        For every problem: the file is missing, a folder, unreadable, not UTF-8, starts with a
        BOM, is empty or not CSV; the header lacks ``month`` or ``column`` or repeats a name;
        a row has the wrong number of fields, a field is not a finite number, a month is
        negative, out of order or the first is not 0; there are no data rows. Each problem is
        ``(shown, where, message)`` with ``where`` ``"row R (line L): COLUMN"`` (R counted
        from 1 over the data rows, L the line in the file), ``"row R (line L)"``,
        ``"header (line L)"`` or ``""`` for the whole file; at most :data:`MAX_PROBLEMS` row
        problems, then one saying how many more.

    Examples
    --------
    >>> import tempfile, os
    >>> with tempfile.TemporaryDirectory() as d:
    ...     p = os.path.join(d, "price.csv")
    ...     with open(p, "w", encoding="utf-8") as f:
    ...         _ = f.write("month,price\\n0,1.0\\n12,1.25\\n")
    ...     read_series_csv(p, "price")
    (array([ 0., 12.]), array([1.  , 1.25]))
    >>> with tempfile.TemporaryDirectory() as d:
    ...     p = os.path.join(d, "price.csv")
    ...     with open(p, "w", encoding="utf-8") as f:
    ...         _ = f.write("month,price\\n0,1.0\\nabc,1.25\\n")
    ...     read_series_csv(p, "price", shown="price.csv")
    Traceback (most recent call last):
    ...
    bt_sim.errors.ScenarioError: price.csv: row 2 (line 3): month: expected a number, got 'abc'
    """
    path = Path(path)
    shown = str(path) if shown is None else shown
    text = _read_text(path, shown)
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    rows: list[tuple[int, list[str]]] = []  # (first line, fields) of each non-empty row
    previous_line = 0
    try:
        for fields in reader:
            first_line = previous_line + 1
            previous_line = reader.line_num
            if not fields or (len(fields) == 1 and not fields[0].strip()):
                continue
            rows.append((first_line, fields))
    except csv.Error as exc:
        raise ScenarioError(
            [
                (
                    shown,
                    f"line {reader.line_num}",
                    f"not valid CSV ({exc}); expected comma-"
                    'separated fields, quoted with " where needed',
                )
            ]
        ) from None

    if not rows:
        raise ScenarioError(
            [(shown, "", f"is empty; expected a header row (month,{column}) and data rows")]
        )
    header_line, header = rows[0]
    names = [name.strip() for name in header]
    where_header = f"header (line {header_line})"
    has = ", ".join(repr(n) for n in names)
    if all(_number(n)[0] is not None for n in names):
        raise ScenarioError(
            [
                (
                    shown,
                    where_header,
                    f"no header row: the first row holds only numbers ({has}); "
                    f"expected a header row naming the columns 'month' and {column!r}",
                )
            ]
        )
    problems: list[tuple[str, str, str]] = []
    for dup in dict.fromkeys(n for i, n in enumerate(names) if n in names[:i]):
        problems.append(
            (shown, where_header, f"column {dup!r} appears more than once; expected unique names")
        )
    for wanted in dict.fromkeys(("month", column)):
        if wanted not in names:
            hint = ""
            if len(names) == 1 and (";" in names[0] or "\t" in names[0]):
                hint = " (are the fields separated by ';' or tabs? expected commas)"
            problems.append(
                (
                    shown,
                    where_header,
                    f"no column {wanted!r}: expected the columns 'month' and "
                    f"{column!r}, the file has {has}{hint}",
                )
            )
    if problems:
        raise ScenarioError(problems)
    i_month, i_value = names.index("month"), names.index(column)

    data = rows[1:]
    if not data:
        raise ScenarioError(
            [
                (
                    shown,
                    "",
                    f"holds no data rows; expected at least one row after the header "
                    f"(month 0 and its {column})",
                )
            ]
        )

    problems = []
    extra = 0

    def add(where: str, message: str) -> None:
        nonlocal extra
        if len(problems) < MAX_PROBLEMS:
            problems.append((shown, where, message))
        else:
            extra += 1

    months: list[float] = []
    values: list[float] = []
    last: tuple[float, str] | None = None  # the last good month and its row's name
    for r, (line, fields) in enumerate(data, start=1):
        at = f"row {r} (line {line})"
        if len(fields) != len(names):
            few = "few" if len(fields) < len(names) else "many"
            add(
                at,
                f"too {few} fields: expected {len(names)} (as the header: "
                f"{', '.join(names)}), got {len(fields)}",
            )
            continue
        month, why = _number(fields[i_month])
        if why is not None:
            add(f"{at}: month", why)
        elif month is not None and month < 0:
            add(f"{at}: month", f"expected a number >= 0, got {fields[i_month]!r}")
            month = None
        value, why = _number(fields[i_value])
        if why is not None:
            add(f"{at}: {column}", why)
        if month is not None:
            if r == 1 and month != 0:
                add(
                    f"{at}: month",
                    f"expected the first month to be 0 (the series starts at "
                    f"month 0), got {fields[i_month]!r}",
                )
            if last is not None and month <= last[0]:
                add(
                    f"{at}: month",
                    f"expected months strictly increasing: {month:g} is not "
                    f"after {last[0]:g} in {last[1]}",
                )
            last = (month, at)
        if month is not None and value is not None:
            months.append(month)
            values.append(value)
    if problems or extra:
        if extra:
            problems.append((shown, "", f"... and {extra} more problems"))
        raise ScenarioError(problems)
    return np.array(months, dtype=np.float64), np.array(values, dtype=np.float64)
