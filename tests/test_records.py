"""Experiment records: one per round carried out, outcomes only from the hub's panel, files
checked against the schema, and the researcher-only true effect with common random numbers."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from bt_sim import TransitionModel, load_scenario
from bt_sim.cli import main
from bt_sim.errors import RecordError
from bt_sim.record_file import (
    COLUMNS,
    SCHEMA_PATH,
    empty_records,
    load_schema,
    read_records,
    validate,
    write_records,
)
from bt_sim.records import from_model, true_effects
from tests.conftest import ROOT

TOWN = str(ROOT / "scenarios" / "strategies" / "town.toml")


@pytest.fixture(scope="module")
def model():
    m = TransitionModel(load_scenario(TOWN, ["run.steps=60", "organisation.strategy=out"]),
                        seed=2)  # fmt: skip
    m.run()
    return m


@pytest.fixture(scope="module")
def records(model):
    return from_model(model)


def test_records_follow_the_schema(records):
    assert list(records.columns) == list(COLUMNS)
    assert len(records) > 20
    assert validate(records, "run") == []
    assert records["record_id"].is_unique


def test_one_record_per_round_a_collective_carried_out(model, records):
    iv, colls = model.interventions, model.collectives
    for kind in iv.kinds:
        mine = records[records["intervention"] == kind.x.name]
        carried = iv.log_months[:, kind.index, :].sum(axis=0)  # months per collective slot
        by_nbhd = mine.groupby("collective")["months"].sum()
        for c in np.flatnonzero(carried > 0):
            assert by_nbhd[colls.nbhd[c]] == pytest.approx(carried[c])
        hours = iv.log_hours[:, kind.index, :].sum()
        assert mine["volunteer_hours"].sum() == pytest.approx(hours, rel=1e-5)


def test_outcomes_are_what_the_hub_published_and_nothing_else(model, records):
    panel = model.hub_panel()
    rows = panel[panel["size_class"] == -1].set_index(["collective", "month"])
    published = set(zip(rows.index, rows["n_households"], strict=True))
    for when, members in (("before", "members_before"), ("after", "members_after")):
        seen = records.dropna(subset=[f"month_{when}"])
        for _, r in seen.iterrows():
            key = (r["collective"], r[f"month_{when}"])
            assert (key, r[members]) in published
            assert rows.loc[key, "saving_mean"] == pytest.approx(r[f"saving_{when}"])
    # the last release at or before the start, the first at or after the end
    r = records.dropna(subset=["month_before", "month_after"]).iloc[0]
    months = rows.loc[r["collective"]].index.to_numpy()
    assert r["month_before"] == months[months <= r["start_month"]].max()
    end = r["start_month"] + model.config.interventions[0].months
    if r["intervention"] == model.config.interventions[0].name and (months >= end).any():
        assert r["month_after"] == months[months >= end].min()


def test_no_household_appears_in_a_record(model, records):
    schema = load_schema()
    assert schema["visibility"] == "hub-safe"
    household_columns = {"income", "saving", "kpi", "consent", "member", "household"}
    assert not household_columns & set(records.columns)
    # every number in a record is a neighbourhood statistic, a setting, or published
    assert (records["households"] >= model.population.n // 10 - 1).all()


@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_files_round_trip_with_their_schema(tmp_path, records, suffix):
    path = write_records(records, tmp_path / f"recs{suffix}")
    back = read_records(path)
    pd.testing.assert_frame_equal(back, records, check_exact=suffix == ".parquet",
                                  rtol=1e-12)  # fmt: skip
    schema = json.loads((tmp_path / "recs.schema.json").read_text())
    assert schema == json.loads(SCHEMA_PATH.read_text())
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["recs.schema.json", f"recs{suffix}"]
    )


def test_every_field_has_a_unit_and_description():
    for f in load_schema()["fields"]:
        assert "unit" in f and f["description"], f["name"]


def _csv(tmp_path, records, edit):
    df = records.head(5).copy().astype(object)
    edit(df)
    p = tmp_path / "bad.csv"
    df.to_csv(p, index=False)
    return p


@pytest.mark.parametrize(
    ("edit", "where", "what"),
    [
        (lambda d: d.pop("share_owners"), "column share_owners", "missing"),
        (lambda d: d.insert(0, "name", "x"), "column name", "unknown column"),
        (
            lambda d: d.__setitem__("households", ["200", "abc", "200", "200", "200"]),
            "row 2 (line 3), column households",
            "expected an integer, got 'abc'",
        ),
        (
            lambda d: d.__setitem__("share_owners", [0.5, 0.5, 1.7, 0.5, 0.5]),
            "row 3 (line 4), column share_owners",
            "expected a number in [0, 1]",
        ),
        (
            lambda d: d.__setitem__("kind", ["energy_coach"] * 4 + ["juggling"]),
            "row 5 (line 6), column kind",
            "expected one of collective_purchase",
        ),
        (
            lambda d: d.__setitem__("run", ["r", "", "r", "r", "r"]),
            "row 2 (line 3), column run",
            "missing value",
        ),
        (
            lambda d: d.__setitem__("record_id", ["a", "b", "a", "c", "d"]),
            "row 3 (line 4), column record_id",
            "duplicate id 'a' (first in row 1)",
        ),
    ],
)
def test_bad_rows_name_file_row_column_and_expectation(tmp_path, records, edit, where, what):
    p = _csv(tmp_path, records, edit)
    with pytest.raises(RecordError) as exc:
        read_records(p)
    msg = str(exc.value)
    assert str(p) in msg and where in msg and what in msg, msg


def test_missing_unreadable_and_unknown_files(tmp_path):
    with pytest.raises(RecordError, match="file not found"):
        read_records(tmp_path / "none.parquet")
    bad = tmp_path / "bad.parquet"
    bad.write_text("not parquet")
    with pytest.raises(RecordError, match="cannot be read as parquet"):
        read_records(bad)
    with pytest.raises(RecordError, match=r"expected a \.parquet or \.csv file"):
        read_records(tmp_path / "recs.xlsx")


def test_a_write_that_fails_leaves_nothing(tmp_path, records):
    bad = records.copy()
    bad.loc[0, "share_owners"] = 3.0
    with pytest.raises(RecordError, match="share_owners"):
        write_records(bad, tmp_path / "recs.parquet")
    assert list(tmp_path.iterdir()) == []


def test_empty_records_have_the_schema_types():
    e = empty_records()
    assert list(e.columns) == list(COLUMNS)
    assert e["collective"].dtype == np.int64 and e["months"].dtype == np.float64


def test_the_records_command(tmp_path, capsys):
    out = tmp_path / "recs.parquet"
    args = ["records", TOWN, "--set", "run.steps=24", "--replicates", "2", "--out", str(out)]
    assert main(args) == 0
    recs = read_records(out)
    assert recs["run"].nunique() == 2
    assert main(args) == 2  # exists: refused without --force, the file kept
    assert "exists" in capsys.readouterr().err
    assert read_records(out).equals(recs)
    assert main(["records", str(out), "--check"]) == 0
    bad = tmp_path / "bad.csv"
    bad.write_text("record_id\nx\n")
    assert main(["records", str(bad), "--check"]) == 2
    assert "column source: missing" in capsys.readouterr().err
    assert main(["records", TOWN, "--out", str(tmp_path / "r.xlsx")]) == 2
    assert main(["records", TOWN, "--set", "run.steps=-1", "--out", str(tmp_path / "x.csv")]) == 2
    assert not (tmp_path / "x.csv").exists()


def test_true_effects_use_the_same_world_and_draws():
    # a purchase that neither pulls nor discounts, in a town where hours are not scarce: it
    # changes nothing, so its true effect is exactly 0; the coach's efficacy raises adoption
    sc = load_scenario(
        str(ROOT / "scenarios" / "interventions.toml"),
        ["run.steps=36", "population.households=600", "collectives.count=2",
         "interventions.purchase.pull_rate=0", "interventions.purchase.discount=0",
         "interventions.dashboard.enabled=false", "interventions.event.enabled=false",
         "interventions.gatekeepers.enabled=false", "interventions.coach.efficacy_gain=1",
         "interventions.coach.visits_per_month=10", "interventions.coach.hours_per_visit=0.1"],
    )  # fmt: skip
    eff = true_effects(sc, seed=3)
    recs = from_model(_run(sc, 3))
    eff = eff.merge(recs[["record_id", "intervention"]], on="record_id")
    purchase = eff[eff["intervention"] == "purchase"]
    assert len(purchase) and (purchase["true_behaviours"] == 0).all()
    assert (purchase["true_impact"] == 0).all()
    coach = eff[eff["intervention"] == "coach"]
    assert len(coach) and coach["true_behaviours"].mean() > 0


def _run(sc, seed):
    m = TransitionModel(sc, seed=seed)
    m.run()
    return m


def test_the_documented_schema_is_the_shipped_one():
    from bt_sim.record_file import schema_table

    doc = (ROOT / "docs" / "records.md").read_text()
    assert schema_table() in doc, "regenerate the table: bt_sim.record_file.schema_table()"
