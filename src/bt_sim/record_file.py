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

import contextlib
import functools
import json
import os
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from bt_sim.errors import RecordError

SCHEMA_PATH = resources.files("bt_sim") / "data" / "records.schema.json"
MAX_PROBLEMS = 20
_DTYPES = {"string": "str", "integer": np.int64, "number": np.float64}
_WHAT = {"string": "a string", "integer": "an integer", "number": "a number"}


@functools.cache
def load_schema() -> dict:
    """The records' Table Schema (a dict)."""
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


COLUMNS: tuple[str, ...] = tuple(f["name"] for f in load_schema()["fields"])


def _fields() -> dict[str, dict]:
    return {f["name"]: f for f in load_schema()["fields"]}


def empty_records() -> pd.DataFrame:
    """No records, with the schema's columns and types."""
    return pd.DataFrame({n: pd.Series([], dtype=_DTYPES[f["type"]]) for n, f in _fields().items()})


def conform(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` with the schema's columns in order and their types (missing strings as '')."""
    out = {}
    for name, f in _fields().items():
        col = df[name]
        if f["type"] == "string":
            col = col.fillna("").astype(str)
        else:
            col = col.astype(_DTYPES[f["type"]])
        out[name] = col.to_numpy()
    return pd.DataFrame(out, index=range(len(df)))


def validate(df: pd.DataFrame, source: str, csv: bool = False) -> list[tuple[str, str, str]]:
    """Every problem of ``df`` against the schema, as (source, where, message); ``where`` is
    ``row R, column C`` (R counted from 1 over the data rows; in a CSV file its line is
    R + 1) or ``column C``. At most :data:`MAX_PROBLEMS`, then a count of the rest."""
    fields = _fields()
    problems: list[tuple[str, str, str]] = []
    missing = [c for c in fields if c not in df.columns]
    unknown = [c for c in df.columns if c not in fields]
    for c in missing:
        problems.append((source, f"column {c}", "missing (expected every column of the records "
                         "schema, bt_sim/data/records.schema.json)"))  # fmt: skip
    for c in unknown:
        problems.append((source, f"column {c}", "unknown column (expected only: "
                         f"{', '.join(fields)})"))  # fmt: skip
    if problems:
        return problems
    extra = 0

    def add(rows: np.ndarray, column: str, message) -> None:
        nonlocal extra
        for r in rows:
            if len(problems) >= MAX_PROBLEMS:
                extra += 1
                continue
            line = f" (line {r + 2})" if csv else ""
            problems.append((source, f"row {r + 1}{line}, column {column}", message(r)))

    for name, f in fields.items():
        raw = df[name]
        cons = f.get("constraints", {})
        empty = raw.isna().to_numpy().copy()
        if not pd.api.types.is_numeric_dtype(raw):
            empty |= (raw.astype(str).str.strip() == "").to_numpy()
        if cons.get("required"):
            add(np.flatnonzero(empty), name, lambda r: "missing value (the column is required)")
        if f["type"] == "string":
            values = raw.astype(str)
            if "enum" in cons:
                bad = ~empty & ~values.isin(cons["enum"]).to_numpy()
                allowed = ", ".join(cons["enum"])
                add(np.flatnonzero(bad), name, lambda r, v=values, a=allowed: f"expected one "
                    f"of {a}, got {v.iloc[r]!r}")  # fmt: skip
            if cons.get("unique"):
                dup = values.duplicated(keep="first").to_numpy() & ~empty
                first = {v: i for i, v in reversed(list(enumerate(values)))}
                add(np.flatnonzero(dup), name, lambda r, v=values, at=first: f"duplicate id "
                    f"{v.iloc[r]!r} (first in row {at[v.iloc[r]] + 1})")  # fmt: skip
            continue
        num = pd.to_numeric(raw.where(~empty, np.nan), errors="coerce").to_numpy(np.float64)
        unreadable = ~empty & np.isnan(num)
        if f["type"] == "integer":
            unreadable |= ~empty & ~np.isnan(num) & (num != np.round(num))
        add(np.flatnonzero(unreadable), name,
            lambda r, w=_WHAT[f["type"]], v=raw: f"expected {w}, got {v.iloc[r]!r}")  # fmt: skip
        lo, hi = cons.get("minimum"), cons.get("maximum")
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
        unit = f" {f['unit']}" if f.get("unit") else ""
        add(np.flatnonzero(out), name, lambda r, e=expected + unit, v=raw: f"expected {e}, "
            f"got {v.iloc[r]!r}")  # fmt: skip
    if extra:
        problems.append((source, "", f"... and {extra} more problems"))
    return problems


def _format(path: Path, fmt: str | None) -> str:
    if fmt is None:
        fmt = {".parquet": "parquet", ".csv": "csv"}.get(path.suffix.lower())
        if fmt is None:
            raise ValueError(f"{path}: expected a .parquet or .csv file, got {path.suffix!r}")
    if fmt not in ("parquet", "csv"):
        raise ValueError(f"format must be parquet or csv, got {fmt!r}")
    return fmt


def _atomic(path: Path, write) -> None:
    tmp = path.parent / f".{path.name}.tmp-{os.getpid()}"
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def write_records(df: pd.DataFrame, path: str | Path, fmt: str | None = None) -> Path:
    """Write records to ``path`` (Parquet or CSV, from ``fmt`` or the suffix) and the schema
    beside it as ``<stem>.schema.json``; checked first (RecordError, nothing written), each
    file written whole or not at all."""
    path = Path(path)
    fmt = _format(path, fmt)
    problems = validate(df, str(path))
    if problems:
        raise RecordError(problems)
    data = conform(df)
    if fmt == "parquet":
        _atomic(path, lambda p: data.to_parquet(p, index=False))
    else:
        _atomic(path, lambda p: data.to_csv(p, index=False))
    schema = path.with_name(f"{path.stem}.schema.json")
    text = json.dumps(load_schema(), indent=2) + "\n"
    _atomic(schema, lambda p: p.write_text(text, encoding="utf-8"))
    return path


def read_records(path: str | Path) -> pd.DataFrame:
    """Read a records file (Parquet or CSV) and check it against the schema.

    Raises
    ------
    RecordError
        The file is missing, unreadable or not Parquet or CSV, or rows break the schema
        (each problem names the file, row and column, and what was expected).
    """
    path = Path(path)
    src = str(path)
    try:
        fmt = _format(path, None)
    except ValueError as exc:
        raise RecordError([(src, "", str(exc).split(": ", 1)[1])]) from None
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
    if fmt == "csv":
        df = df.replace("", np.nan)
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
