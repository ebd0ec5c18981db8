"""Record files: the records' Table Schema, files written whole or not at all, and every
problem of a bad file named by its file, row and column."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from bt_sim.errors import RecordError
from bt_sim.record_file import (
    COLUMNS,
    MAX_PROBLEMS,
    SCHEMA_PATH,
    conform,
    empty_records,
    load_schema,
    read_records,
    validate,
    write_records,
)

ROW = {
    "record_id": "town@1:0/3/coach/0",
    "source": "bt-sim 0.1.0 simulation",
    "run": "town@1:0",
    "collective": 3,
    "founded_month": 0.0,
    "intervention": "coach",
    "kind": "energy_coach",
    "target": "disadvantaged",
    "hours_per_month": 12.5,
    "euros_per_month": 40.0,
    "round": 0,
    "start_month": 2.0,
    "months": 6.0,
    "volunteer_hours": 75.0,
    "euros": 240.0,
    "mix": "energy_coach+feedback_dashboard",
    "households": 212,
    "median_income": 2310.0,
    "share_disadvantaged": 0.21,
    "share_owners": 0.55,
    "share_seniors": 0.18,
    "share_non_native": 0.07,
    "network_density": 0.031,
    "prior_adoption": 0.12,
    "month_before": np.nan,
    "members_before": np.nan,
    "saving_before": np.nan,
    "month_after": 12.0,
    "members_after": 14.0,
    "saving_after": 0.0831,
    "impact_before": 0.0,
    "impact_after": 14 * 0.0831 / 212,
}


@pytest.fixture
def records() -> pd.DataFrame:
    """Three valid records: one with nothing published before, one with no target."""
    second = ROW | {"record_id": "town@1:0/3/coach/1", "round": 1, "start_month": 8.0,
                    "month_before": 6.0, "members_before": 10.0, "saving_before": -0.02,
                    "impact_before": 10 * -0.02 / 212}  # fmt: skip
    third = ROW | {"record_id": "town@1:0/5/dashboard/0", "collective": 5,
                   "intervention": "dashboard", "kind": "feedback_dashboard", "target": "",
                   "mix": "feedback_dashboard", "households": 1}  # fmt: skip
    return pd.DataFrame([ROW, second, third])


def _csv(tmp_path: Path, records: pd.DataFrame, edit) -> Path:
    """A CSV file of ``records`` after ``edit`` changed its all-text frame in place."""
    df = conform(records).astype(object)
    edit(df)
    path = tmp_path / "bad.csv"
    df.to_csv(path, index=False)
    return path


def _problems(path: Path) -> list[tuple[str, str, str]]:
    with pytest.raises(RecordError) as exc:
        read_records(path)
    text = str(exc.value)
    for src, where, msg in exc.value.problems:
        assert src == str(path)
        assert (f"{src}: {where}: {msg}" if where else f"{src}: {msg}") in text
    return exc.value.problems


# --- the schema ---------------------------------------------------------------------------


def test_the_schema_is_a_table_schema_with_a_unit_and_description_per_field():
    schema = json.loads(Path(str(SCHEMA_PATH)).read_text(encoding="utf-8"))
    assert schema == load_schema()
    assert schema["primaryKey"] == "record_id"
    assert schema["missingValues"] == [""]
    assert schema["visibility"] == "hub-safe"
    assert schema["title"]
    assert "never a household's data" in schema["description"]
    assert tuple(f["name"] for f in schema["fields"]) == COLUMNS
    assert len(COLUMNS) == len(set(COLUMNS)) == 32
    for f in schema["fields"]:
        assert f["type"] in ("string", "integer", "number"), f["name"]
        assert isinstance(f["unit"], str), f["name"]
        assert f["title"] and f["description"], f["name"]
        assert isinstance(f["constraints"]["required"], bool), f["name"]
    fields = {f["name"]: f for f in schema["fields"]}
    assert fields["record_id"]["constraints"]["unique"] is True
    assert fields["share_owners"]["unit"] == "fraction"
    assert (
        fields["saving_after"]["constraints"].items() >= {"minimum": -0.25, "maximum": 0.75}.items()
    )
    assert len(fields["kind"]["constraints"]["enum"]) == 5


def test_empty_records_have_the_schema_types():
    e = empty_records()
    assert list(e.columns) == list(COLUMNS) and len(e) == 0
    dtypes = {"integer": np.int64, "number": np.float64}
    for f in load_schema()["fields"]:
        if f["type"] == "string":
            assert pd.api.types.is_string_dtype(e[f["name"]]), f["name"]
        else:
            assert e[f["name"]].dtype == dtypes[f["type"]], f["name"]
    assert validate(e, "empty") == []


# --- writing and reading --------------------------------------------------------------------


@pytest.mark.parametrize("name", ["recs.parquet", "recs.csv"])
def test_files_round_trip_exactly_with_the_schema_beside_them(tmp_path, records, name):
    shuffled = records[list(reversed(COLUMNS))]
    assert write_records(shuffled, tmp_path / name) == tmp_path / name
    back = read_records(tmp_path / name)
    pd.testing.assert_frame_equal(back, conform(records), check_exact=True)
    assert back["target"].tolist() == ["disadvantaged", "disadvantaged", ""]
    assert back["month_before"].isna().tolist() == [True, False, True]
    schema = json.loads((tmp_path / "recs.schema.json").read_text(encoding="utf-8"))
    assert schema == load_schema()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([name, "recs.schema.json"])


def test_the_format_can_be_given_apart_from_the_suffix(tmp_path, records):
    write_records(records, tmp_path / "recs.txt", fmt="csv")
    assert pd.read_csv(tmp_path / "recs.txt").columns.tolist() == list(COLUMNS)
    assert (tmp_path / "recs.schema.json").is_file()


def test_blank_cells_of_a_csv_are_missing_values(tmp_path, records):
    path = _csv(tmp_path, records, lambda d: d.__setitem__("members_before", [" ", "3", ""]))
    back = read_records(path)
    assert back["members_before"].isna().tolist() == [True, False, True]
    assert back["collective"].dtype == np.int64


def test_a_write_that_fails_leaves_no_file_behind(tmp_path, records, monkeypatch):
    bad = records.copy()
    bad.loc[1, "share_owners"] = 1.7
    with pytest.raises(RecordError) as exc:
        write_records(bad, tmp_path / "recs.parquet")
    assert exc.value.problems == [
        (str(tmp_path / "recs.parquet"), "row 2, column share_owners",
         "expected a number in [0, 1] fraction, got 1.7")
    ]  # fmt: skip
    assert list(tmp_path.iterdir()) == []

    def broken(self, path, **kwargs):
        Path(path).write_bytes(b"half a file")
        raise OSError("disk full")

    monkeypatch.setattr(pd.DataFrame, "to_parquet", broken)
    with pytest.raises(OSError, match="disk full"):
        write_records(records, tmp_path / "recs.parquet")
    assert list(tmp_path.iterdir()) == []


def test_a_write_to_an_unknown_format_is_refused(tmp_path, records):
    with pytest.raises(ValueError, match=r"'\.xlsx'"):
        write_records(records, tmp_path / "recs.xlsx")
    with pytest.raises(ValueError, match="'feather'"):
        write_records(records, tmp_path / "recs.parquet", fmt="feather")
    assert list(tmp_path.iterdir()) == []


# --- one test per kind of problem -----------------------------------------------------------


def test_a_missing_column(tmp_path, records):
    def drop(df: pd.DataFrame) -> None:
        del df["share_owners"], df["mix"]

    path = _csv(tmp_path, records, drop)
    problems = _problems(path)
    assert [where for _, where, _ in problems] == ["column mix", "column share_owners"]
    assert problems[0][2].startswith("missing")


def test_an_unknown_column(tmp_path, records):
    path = _csv(tmp_path, records, lambda d: d.insert(3, "household_income", "2000"))
    [(_, where, msg)] = _problems(path)
    assert where == "column household_income"
    assert msg.startswith("unknown column (expected only: record_id, source, run, ")


def test_a_value_of_the_wrong_type_names_its_row_and_line(tmp_path, records):
    path = _csv(tmp_path, records, lambda d: d.__setitem__("households", ["200", "abc", "2.5"]))
    assert _problems(path) == [
        (str(path), "row 2 (line 3), column households", "expected an integer, got 'abc'"),
        (str(path), "row 3 (line 4), column households", "expected an integer, got '2.5'"),
    ]


def test_a_value_out_of_range(tmp_path, records):
    path = _csv(tmp_path, records, lambda d: d.__setitem__("share_owners", ["0.5", "0.5", "1.7"]))
    assert _problems(path) == [
        (str(path), "row 3 (line 4), column share_owners",
         "expected a number in [0, 1] fraction, got '1.7'"),
    ]  # fmt: skip


def test_a_value_below_its_minimum(tmp_path, records):
    path = _csv(tmp_path, records, lambda d: d.__setitem__("households", ["0", "1", "2"]))
    assert _problems(path) == [
        (str(path), "row 1 (line 2), column households",
         "expected a number of at least 1 households, got '0'"),
    ]  # fmt: skip


def test_a_value_outside_its_enum(tmp_path, records):
    path = _csv(tmp_path, records, lambda d: d.__setitem__("kind", ["energy_coach", "x", "x"]))
    problems = _problems(path)
    assert [where for _, where, _ in problems] == [
        "row 2 (line 3), column kind",
        "row 3 (line 4), column kind",
    ]
    assert problems[0][2] == (
        "expected one of collective_purchase, energy_coach, feedback_dashboard, "
        "gatekeeper_programme, neighbourhood_event, got 'x'"
    )


def test_a_missing_required_value(tmp_path, records):
    path = _csv(tmp_path, records, lambda d: d.__setitem__("run", ["r", "", "r"]))
    assert _problems(path) == [
        (str(path), "row 2 (line 3), column run", "missing value (the column is required)"),
    ]


def test_a_duplicate_record_id_names_the_first_row_with_it(tmp_path, records):
    path = _csv(tmp_path, records, lambda d: d.__setitem__("record_id", ["a", "b", "b"]))
    assert _problems(path) == [
        (str(path), "row 3 (line 4), column record_id", "duplicate id 'b' (first in row 2)"),
    ]


def test_a_typed_frame_is_checked_without_lines(records):
    bad = records.copy()
    bad.loc[0, "impact_after"] = -1.5
    assert validate(bad, "mine") == [
        ("mine", "row 1, column impact_after", "expected a number in [-1, 1] fraction, got -1.5")
    ]


def test_problems_stop_after_the_first_ones(records):
    many = pd.concat([records] * 10, ignore_index=True)
    many["record_id"] = [f"id{i}" for i in range(len(many))]
    many["share_seniors"] = 2.0
    many["kind"] = "juggling"
    problems = validate(many, "many")
    assert len(problems) == MAX_PROBLEMS + 1
    assert problems[-1] == ("many", "", f"... and {2 * len(many) - MAX_PROBLEMS} more problems")
    assert problems[0][1] == "row 1, column kind"


def test_a_missing_file(tmp_path):
    path = tmp_path / "none.csv"
    assert _problems(path) == [(str(path), "", "file not found")]


def test_an_unreadable_file(tmp_path):
    path = tmp_path / "recs.parquet"
    path.write_text("not parquet", encoding="utf-8")
    [(_, where, msg)] = _problems(path)
    assert where == "" and msg.startswith("cannot be read as parquet")


def test_a_file_of_an_unknown_kind(tmp_path):
    path = tmp_path / "recs.xlsx"
    path.write_text("", encoding="utf-8")
    assert _problems(path) == [(str(path), "", "expected a .parquet or .csv file, got '.xlsx'")]


def test_column_problems_stop_after_the_first_ones(records):
    wide = records.assign(**{f"extra_{i}": 0 for i in range(MAX_PROBLEMS + 5)})
    problems = validate(wide, "wide")
    assert len(problems) == MAX_PROBLEMS + 1
    assert problems[0][:2] == ("wide", "column extra_0")
    assert problems[-1] == ("wide", "", "... and 5 more problems")
