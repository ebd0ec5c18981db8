"""bt-sim factors: cases from a records file, the three estimates, and bad input refused
with exit 2 and the file, kind or column named."""

from __future__ import annotations

import pytest

from bt_sim.cli import main
from bt_sim.factors import cases, estimate_all
from bt_sim.record_file import read_records
from tests.conftest import SCENARIOS

PILOT = str(SCENARIOS / "strategies" / "pilot_records.parquet")


@pytest.fixture(scope="module")
def pilot():
    return read_records(PILOT)


def test_cases_are_collectives_with_their_first_year_and_treatment(pilot):
    table = cases(pilot, "energy_coach")
    assert table["case"].is_unique and len(table) > 300
    coached = table["mix"].str.contains("energy_coach")
    assert (table["treated"] == coached.astype(int)).all()
    assert 0 < table["treated"].mean() < 1 and table["outcome"].notna().all()


def test_three_estimates_with_intervals_balance_and_overlap(pilot):
    table, found = estimate_all(pilot, "energy_coach", boot=50)
    assert list(table["method"]) == ["naive", "ipw", "matching"]
    assert (table["lo"] <= table["effect"]).all() and (table["effect"] <= table["hi"]).all()
    # the pilot towns chose their coach where their context differed: adjustment must reduce
    # the largest standardised difference of a covariate
    adjusted = table[table["method"] != "naive"]
    assert (adjusted["max_smd_after"] < adjusted["max_smd_before"]).all()
    assert found["matching"].used + len(found["matching"].unmatched) <= found["matching"].treated


def test_the_command_prints_the_table(capsys):
    assert main(["factors", PILOT, "--kind", "energy_coach", "--boot", "20"]) == 0
    out = capsys.readouterr().out
    assert "matching" in out and "ipw" in out and "adjusting for: median_income" in out


@pytest.mark.parametrize(
    "argv, words",
    [
        (["--kind", "coach"], "no records of kind 'coach' (the records hold: collective_purchase"),
        (["--kind", "energy_coach", "--covariate", "income"], "no context column 'income'"),
    ],
)
def test_bad_kind_and_column_exit_2(capsys, argv, words):
    assert main(["factors", PILOT, *argv]) == 2
    err = capsys.readouterr().err
    assert words in err and "Traceback" not in err


def test_a_missing_or_broken_file_exits_2(tmp_path, capsys):
    assert main(["factors", str(tmp_path / "none.csv"), "--kind", "energy_coach"]) == 2
    assert "none.csv: file not found" in capsys.readouterr().err
    bad = tmp_path / "bad.csv"
    bad.write_text("record_id,collective\nx,1\n")
    assert main(["factors", str(bad), "--kind", "energy_coach"]) == 2
    assert "bad.csv" in capsys.readouterr().err


def test_a_building_block_every_collective_carried_out_has_nothing_to_compare(pilot):
    only = pilot[pilot["kind"] == "energy_coach"]  # every collective left carried it out
    with pytest.raises(ValueError, match="no untreated case"):
        estimate_all(only, "energy_coach", boot=0)
