"""Record files: experiment records written and read against their Table Schema.

The schema (``bt_sim/data/records.schema.json``, a Frictionless Table Schema with a unit and
a description per column) is written beside every records file as ``<stem>.schema.json``.
A file from elsewhere (another run, a real collective's export) is checked against it when
read: every problem names the file, the row and the column, and what was expected.

Examples
--------
>>> COLUMNS[:3]
('record_id', 'source', 'run')
>>> empty_records().shape
(0, 32)
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from bt_sim.errors import RecordError
from bt_sim.experiments.store import write_atomic

SCHEMA_PATH = resources.files("bt_sim") / "data" / "records.schema.json"
MAX_PROBLEMS = 20
_DTYPES = {"string": "str", "integer": np.int64, "number": np.float64}
_WHAT = {"string": "a string", "integer": "an integer", "number": "a number"}
_SUFFIXES = {".parquet": "parquet", ".csv": "csv"}


@functools.cache
def load_schema() -> dict:
    """The records' Table Schema.

    Returns
    -------
    dict
        The parsed ``records.schema.json`` (read once, then cached; do not modify it).
    """
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


COLUMNS: tuple[str, ...] = tuple(f["name"] for f in load_schema()["fields"])


def _fields() -> dict[str, dict]:
    return {f["name"]: f for f in load_schema()["fields"]}


def empty_records() -> pd.DataFrame:
    """No records, with the schema's columns and types.

    Returns
    -------
    pandas.DataFrame
        Zero rows; string columns as ``str``, integers as ``int64``, numbers as ``float64``.
    """
    return pd.DataFrame({n: pd.Series([], dtype=_DTYPES[f["type"]]) for n, f in _fields().items()})


def _blank(col: pd.Series) -> np.ndarray:
    """Where ``col`` holds no value: NaN/None, or a string of only spaces."""
    empty = col.isna().to_numpy().copy()
    if not pd.api.types.is_numeric_dtype(col):
        text = col.astype(str)
        empty |= ((text == "") | text.str.isspace()).to_numpy()
    return empty


def conform(df: pd.DataFrame) -> pd.DataFrame:
    """Records with the schema's columns, in its order, and its types.

    Parameters
    ----------
    df : pandas.DataFrame
        Records holding every schema column (others are dropped); numbers may be given as text
        (as read from a CSV file), blank meaning missing.

    Returns
    -------
    pandas.DataFrame
        A new frame indexed 0..n-1; missing strings become ``''``, missing numbers NaN.
    """
    out = {}
    for name, f in _fields().items():
        col = df[name]
        if f["type"] == "string":
            col = col.fillna("").astype(str)
        else:
            if not pd.api.types.is_numeric_dtype(col):
                col = pd.to_numeric(col.where(~_blank(col)))
            col = col.astype(_DTYPES[f["type"]])
        out[name] = col.to_numpy()
    return pd.DataFrame(out, index=range(len(df)))


def _shown(value: object) -> str:
    """A value as a problem quotes it: text in quotes (as in the file), numbers plain."""
    return repr(value) if isinstance(value, str) else str(value)


def validate(df: pd.DataFrame, source: str, csv: bool = False) -> list[tuple[str, str, str]]:
    """Every problem of records against the schema.

    Parameters
    ----------
    df : pandas.DataFrame
        Records, typed or all text (as read from a CSV file with ``dtype=str``).
    source : str
        What the problems name as their source (usually the file).
    csv : bool, optional
        Also give each row's line in the file (the data row + 1, for the header).

    Returns
    -------
    list of (source, where, message)
        ``where`` is ``"row R, column C"`` (R counted from 1 over the data rows) or
        ``"column C"`` for a missing or unknown column. Empty when the records are valid.
        At most :data:`MAX_PROBLEMS`, then one ``"... and N more problems"``.
    """
    fields = _fields()
    problems: list[tuple[str, str, str]] = []
    for c in fields:
        if c not in df.columns:
            problems.append((source, f"column {c}", "missing (expected every column of the "
                             "records schema, bt_sim/data/records.schema.json)"))  # fmt: skip
    for c in df.columns:
        if c not in fields:
            problems.append((source, f"column {c}", "unknown column (expected only: "
                             f"{', '.join(fields)})"))  # fmt: skip
    if problems:
        extra = len(problems) - MAX_PROBLEMS
        if extra > 0:
            problems = [*problems[:MAX_PROBLEMS], (source, "", f"... and {extra} more problems")]
        return problems
    extra = 0

    def add(bad: np.ndarray, column: str, message: Callable[[int], str]) -> None:
        nonlocal extra
        rows = np.flatnonzero(bad)
        room = max(MAX_PROBLEMS - len(problems), 0)
        extra += max(len(rows) - room, 0)
        for r in rows[:room]:
            line = f" (line {r + 2})" if csv else ""
            problems.append((source, f"row {r + 1}{line}, column {column}", message(int(r))))

    for name, f in fields.items():
        raw = df[name]
        cons = f.get("constraints", {})
        empty = _blank(raw)
        if cons.get("required"):
            add(empty, name, lambda r: "missing value (the column is required)")
        if f["type"] == "string":
            values = raw.astype(str)
            if "enum" in cons:
                allowed = ", ".join(cons["enum"])
                bad = ~empty & ~values.isin(cons["enum"]).to_numpy()
                add(
                    bad,
                    name,
                    lambda r, v=values, a=allowed: f"expected one of {a}, got {v.iloc[r]!r}",
                )
            if cons.get("unique"):
                dup = values.duplicated(keep="first").to_numpy() & ~empty
                if dup.any():
                    first = pd.Series(np.arange(len(values)), index=values.to_numpy())
                    first = first[~first.index.duplicated(keep="first")]
                    add(dup, name, lambda r, v=values, at=first: f"duplicate id {v.iloc[r]!r} "
                        f"(first in row {at[v.iloc[r]] + 1})")  # fmt: skip
            continue
        num = pd.to_numeric(raw.where(~empty), errors="coerce")
        num = num.to_numpy(np.float64, na_value=np.nan)
        unreadable = ~empty & np.isnan(num)
        if f["type"] == "integer":
            with np.errstate(invalid="ignore"):
                whole = (num == np.round(num)) & (np.abs(num) < 2.0**63)
            unreadable |= ~empty & ~np.isnan(num) & ~whole
        what = _WHAT[f["type"]]
        add(unreadable, name, lambda r, w=what, v=raw: f"expected {w}, got {_shown(v.iloc[r])}")
        lo, hi = cons.get("minimum"), cons.get("maximum")
        if lo is None and hi is None:
            continue
        ok = ~empty & ~unreadable
        out = np.zeros(len(num), bool)
        if lo is not None:
            out |= ok & (num < lo)
        if hi is not None:
            out |= ok & (num > hi)
        if lo is not None and hi is not None:
            expected = f"a number in [{lo:g}, {hi:g}]"
        elif lo is not None:
            expected = f"a number of at least {lo:g}"
        else:
            expected = f"a number of at most {hi:g}"
        expected += f" {f['unit']}" if f.get("unit") else ""
        add(out, name, lambda r, e=expected, v=raw: f"expected {e}, got {_shown(v.iloc[r])}")
    if extra:
        problems.append((source, "", f"... and {extra} more problems"))
    return problems


def _format(path: Path, fmt: str | None) -> str:
    if fmt is None:
        fmt = _SUFFIXES.get(path.suffix.lower())
        if fmt is None:
            raise ValueError(f"{path}: expected a .parquet or .csv file, got {path.suffix!r}")
    if fmt not in ("parquet", "csv"):
        raise ValueError(f"format must be parquet or csv, got {fmt!r}")
    return fmt


def write_records(df: pd.DataFrame, path: str | Path, fmt: str | None = None) -> Path:
    """Write records and their schema beside them.

    Parameters
    ----------
    df : pandas.DataFrame
        Records with every schema column.
    path : str or pathlib.Path
        The file; ``<stem>.schema.json`` is written in the same folder.
    fmt : {"parquet", "csv"}, optional
        The format; by default from the suffix (``.parquet`` or ``.csv``).

    Returns
    -------
    pathlib.Path
        ``path``.

    Raises
    ------
    ValueError
        ``fmt`` is not parquet or csv, or (without ``fmt``) the suffix is neither.
    RecordError
        The records break the schema; nothing is written.
    """
    path = Path(path)
    fmt = _format(path, fmt)
    problems = validate(df, str(path))
    if problems:
        raise RecordError(problems)
    data = conform(df)
    if fmt == "parquet":
        write_atomic(path, lambda p: data.to_parquet(p, index=False))
    else:
        write_atomic(path, lambda p: data.to_csv(p, index=False))
    schema = path.with_name(f"{path.stem}.schema.json")
    text = json.dumps(load_schema(), indent=2) + "\n"
    write_atomic(schema, lambda p: p.write_text(text, encoding="utf-8"))
    return path


def read_records(path: str | Path) -> pd.DataFrame:
    """Read a records file (Parquet or CSV) and check it against the schema.

    Parameters
    ----------
    path : str or pathlib.Path
        A ``.parquet`` or ``.csv`` file.

    Returns
    -------
    pandas.DataFrame
        The records, conformed to the schema (:func:`conform`).

    Raises
    ------
    RecordError
        The file is missing, unreadable or not Parquet or CSV, or rows break the schema
        (each problem names the file, row and column, and what was expected).
    """
    path = Path(path)
    src = str(path)
    fmt = _SUFFIXES.get(path.suffix.lower())
    if fmt is None:
        raise RecordError([(src, "", f"expected a .parquet or .csv file, got {path.suffix!r}")])
    if not path.is_file():
        raise RecordError([(src, "", "file not found")])
    try:
        if fmt == "parquet":
            df = pd.read_parquet(path)
        else:
            df = pd.read_csv(path, dtype=str, keep_default_na=False)
    except Exception as exc:  # any parser's error: the file is not what its suffix says
        raise RecordError([(src, "", f"cannot be read as {fmt}: {exc}")]) from None
    problems = validate(df, src, csv=fmt == "csv")
    if problems:
        raise RecordError(problems)
    return conform(df)


def schema_table() -> str:
    """The schema's columns as a Markdown table (docs/records.md holds it)."""
    lines = ["| column | type | unit | required | allowed | meaning |",
             "| --- | --- | --- | --- | --- | --- |"]  # fmt: skip
    for f in load_schema()["fields"]:
        c = f.get("constraints", {})
        allowed = []
        if "enum" in c:
            allowed.append(", ".join(c["enum"]))
        if "minimum" in c or "maximum" in c:
            allowed.append(f"{c.get('minimum', '')} .. {c.get('maximum', '')}".strip())
        if c.get("unique"):
            allowed.append("unique")
        lines.append(
            f"| `{f['name']}` | {f['type']} | {f['unit']} | {'yes' if c.get('required') else ''} "
            f"| {'; '.join(allowed)} | {f['description']} |"
        )
    return "\n".join(lines) + "\n"
