"""Hub data: the tidy export of what a collective's data hub published, read and checked.

One row per published aggregate: the release month, the collective (the id of the
neighbourhood hosting it), the peer group (``size_class``, -1 for the collective as a whole),
the indicator, its value and the group size it was computed over. Every problem is reported
with the file, the row (the line of the file, the header being line 1) and the column.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np
import pandas as pd

from bt_sim.errors import BtSimError

COLUMNS = ("month", "collective", "size_class", "indicator", "value", "n_households")
#: Indicators the hub publishes: the noisy mean saving of a group, and the group's (rounded)
#: count of consenting households (its value is the count itself).
INDICATORS = {
    "saving_mean": "mean relative KPI saving of the group's consenting households (fraction)",
    "households": "consenting households in the group, as published (rounded down)",
}


class HubDataError(BtSimError):
    """A hub data file is unreadable or holds bad rows."""


def _fail(path, row: int | None, column: str | None, msg: str):
    where = str(path)
    if row is not None:
        where += f": row {row}"
    if column:
        where += f", column {column!r}"
    raise HubDataError(f"{where}: {msg}")


def _number(path, row, col, text: str, integer: bool = False) -> float:
    try:
        value = float(text)
    except ValueError:
        _fail(path, row, col, f"expected a number, got {text!r}")
    if not math.isfinite(value):
        _fail(path, row, col, f"expected a finite number, got {text!r}")
    if integer and value != int(value):
        _fail(path, row, col, f"expected a whole number, got {text!r}")
    return value


def load_hub_data(path: str | Path, scenario=None) -> pd.DataFrame:
    """Read and check a tidy hub export (CSV).

    Parameters
    ----------
    path : str or Path
        The CSV file, with the columns of :data:`COLUMNS`.
    scenario : Scenario, optional
        The scenario the data is matched to: then groups smaller than ``hub.k``, collectives
        the scenario does not host and months that are not release months are errors too.

    Returns
    -------
    pandas.DataFrame
        The rows, typed, in file order.

    Raises
    ------
    HubDataError
        Naming the file, row and column of the first problem.
    """
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        _fail(path, None, None, "file not found")
    except OSError as exc:
        _fail(path, None, None, f"cannot be read: {exc.strerror}")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        from bt_sim.errors import utf8_problem

        line, msg = utf8_problem(raw, exc)
        _fail(path, line, None, msg)
    reader = csv.reader(text.splitlines())
    header = next(reader, None)
    if not header:
        _fail(path, 1, None, f"empty file; expected a header with columns {', '.join(COLUMNS)}")
    header = [h.strip() for h in header]
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        _fail(path, 1, missing[0], f"missing column(s) {', '.join(missing)}; expected {COLUMNS}")
    idx = {c: header.index(c) for c in COLUMNS}
    k = scenario.hub.k if scenario is not None else 1
    hosts = _hosts(scenario) if scenario is not None else None
    releases = _release_months(scenario) if scenario is not None else None
    rows = []
    seen: dict[tuple, int] = {}
    last_month = -math.inf
    for line, fields in enumerate(reader, start=2):
        if not fields or all(not f.strip() for f in fields):
            continue
        if len(fields) != len(header):
            _fail(path, line, None, f"expected {len(header)} fields, got {len(fields)}")
        f = {c: fields[idx[c]].strip() for c in COLUMNS}
        month = _number(path, line, "month", f["month"])
        if month < 0:
            _fail(path, line, "month", f"expected a month >= 0, got {f['month']}")
        if month < last_month:
            _fail(
                path,
                line,
                "month",
                f"periods out of order: month {f['month']} after month {last_month:g}; "
                "rows must be sorted by month",
            )
        last_month = month
        collective = int(_number(path, line, "collective", f["collective"], integer=True))
        size_class = int(_number(path, line, "size_class", f["size_class"], integer=True))
        if not -1 <= size_class <= 3:
            _fail(
                path, line, "size_class", f"expected -1 (whole collective) to 3, got {size_class}"
            )
        indicator = f["indicator"]
        if indicator not in INDICATORS:
            _fail(
                path,
                line,
                "indicator",
                f"unknown indicator {indicator!r}; expected one of {', '.join(INDICATORS)}",
            )
        value = _number(path, line, "value", f["value"])
        n = _number(path, line, "n_households", f["n_households"], integer=True)
        if n < 0:
            _fail(path, line, "n_households", f"expected a count >= 0, got {f['n_households']}")
        if indicator == "households" and (value < 0 or value != int(value)):
            _fail(
                path,
                line,
                "value",
                f"a count of households must be a whole number >= 0, got {f['value']}",
            )
        if n < k:
            _fail(
                path,
                line,
                "n_households",
                f"aggregate over {int(n)} households, below the hub's minimum group of {k} "
                "(hub.k); a hub never publishes such a group",
            )
        if hosts is not None and collective not in hosts:
            _fail(
                path,
                line,
                "collective",
                f"collective {collective} is not hosted in the scenario (collectives.placement = "
                f"'first' puts them in neighbourhoods {sorted(hosts)})",
            )
        if releases is not None and not any(abs(month - r) < 1e-6 for r in releases):
            _fail(
                path,
                line,
                "month",
                f"month {f['month']} is not a release month of the scenario (every "
                f"{scenario.hub.report_months:g} months up to month {max(releases, default=0):g})",
            )
        key = (month, collective, size_class, indicator)
        if key in seen:
            _fail(
                path,
                line,
                None,
                "duplicated row: same month, collective, size_class and indicator as "
                f"row {seen[key]}",
            )
        seen[key] = line
        rows.append((month, collective, size_class, indicator, value, int(n)))
    if not rows:
        _fail(path, None, None, "no data rows")
    df = pd.DataFrame(rows, columns=list(COLUMNS))
    return df.astype({"collective": "int64", "size_class": "int64", "n_households": "int64"})


def _hosts(scenario) -> set[int]:
    """Neighbourhoods hosting a collective, where placement makes that explicit."""
    check_placement(scenario)
    return set(range(scenario.collectives.count))


def check_placement(scenario, source: str = "scenario") -> None:
    """Hub data can only be matched to collectives whose hosts are fixed by the scenario."""
    if scenario.collectives.count == 0 or not scenario.hub.enabled:
        raise HubDataError(
            f"{source}: hub data needs collectives with a hub (collectives.count > 0 and "
            "hub.enabled = true)"
        )
    if scenario.collectives.placement != "first":
        raise HubDataError(
            f"{source}: collectives.placement is {scenario.collectives.placement!r}; matching "
            'hub data needs an explicit placement: set collectives.placement = "first" so that '
            "collective i is hosted by neighbourhood i, and number the data's collectives so"
        )


def _release_months(scenario) -> list[float]:
    dt, every = scenario.run.dt, scenario.hub.report_months
    months = []
    for step in range(1, scenario.run.steps + 1):
        m = step * dt
        if math.floor(m / every + 1e-9) > math.floor((m - dt) / every + 1e-9):
            months.append(m)
    return months


def panel_to_tidy(panel: pd.DataFrame) -> pd.DataFrame:
    """A model's hub panel (one replicate) as tidy hub data: two indicators per row."""
    base = panel[["month", "collective", "size_class", "n_households"]]
    saving = base.assign(indicator="saving_mean", value=panel["saving_mean"].to_numpy())
    count = base.assign(indicator="households", value=panel["n_households"].astype(float))
    out = pd.concat([saving, count], ignore_index=True)
    order = np.lexsort((out["indicator"], out["size_class"], out["collective"], out["month"]))
    return out.iloc[order][list(COLUMNS)].reset_index(drop=True)
