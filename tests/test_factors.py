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


GATEKEEPERS = str(SCENARIOS / "factors" / "gatekeepers.toml")
SMALL = ["--set", "population.households=1500", "--set", "run.steps=40", "--towns", "4"]
FEW = ["--covariate", "share_non_native", "--covariate", "median_income", "--boot", "30"]


def test_from_a_scenario_the_truth_stands_beside_each_estimate(capsys):
    argv = ["factors", GATEKEEPERS, "--kind", "gatekeeper_programme", *SMALL, *FEW]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "true effect on the treated: " in out
    for method in ("naive", "ipw", "matching"):
        assert f"  {method}" in out and "the truth" in out


def test_scores_over_archives(capsys):
    argv = ["factors", GATEKEEPERS, "--kind", "gatekeeper_programme", *SMALL, *FEW,
            "--archives", "2", "--workers", "2"]  # fmt: skip
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "over 2 archives of 4 towns" in out
    assert "coverage" in out and "rmse" in out


def test_qca_from_the_command_line_with_the_truth_model(capsys):
    argv = ["factors", PILOT, "--kind", "gatekeeper_programme", "--boot", "0", "--qca",
            "--condition", "gatekeeper_programme", "--condition", "median_income",
            "--incl-cut", "0.6", "--truth-model", "GATEKEEPER_PROGRAMME*MEDIAN_INCOME"]  # fmt: skip
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "parsimonious: SUCCESS <- " in out and "conservative: SUCCESS <- " in out
    assert "submodel of GATEKEEPER_PROGRAMME*MEDIAN_INCOME" in out


@pytest.mark.parametrize(
    "argv, words",
    [
        (["--qca"], "--qca needs its conditions"),
        (["--condition", "median_income"], "--condition is for --qca"),
        (["--qca", "--condition", "volunteers"], "no condition 'volunteers'"),
        (
            ["--qca", "--condition", "median_income", "--truth-model", "A*+B"],
            "--truth-model: cannot parse",
        ),
        (["--qca", "--condition", "median_income", "--incl-cut", "1.5"], "--incl-cut"),
        (["--confound", "income=2"], "--confound: no context column 'income'"),
        (["--confound", "median_income=strong"], "expected COLUMN=STRENGTH"),
        (["--archives", "3"], "need a scenario"),
        (["--qca", "--condition", "median_income", "--success", "5"], "one side of 5"),
    ],
)
def test_bad_values_exit_2_before_any_work(capsys, argv, words):
    assert main(["factors", PILOT, "--kind", "energy_coach", "--boot", "0", *argv]) == 2
    err = capsys.readouterr().err
    assert words in err and "Traceback" not in err


def test_a_scenario_without_the_kind_exits_2(capsys):
    assert main(["factors", GATEKEEPERS, "--kind", "solar"]) == 2
    err = capsys.readouterr().err
    assert "no building block of kind 'solar' (it has: collective_purchase" in err


def test_qca_finds_a_planted_combination():
    # success exactly where the building block met a high share: the parsimonious solution
    # must be a submodel of that (Baumgartner & Thiem's correctness), and the command says so
    import numpy as np
    import pandas as pd

    from bt_sim.factors import qca_of
    from bt_sim.qca import is_submodel

    rng = np.random.default_rng(2)
    n = 400
    # shares either low or high, so that their fuzzy memberships are clearly in or out
    high = rng.uniform(size=n) < 0.5
    table = pd.DataFrame(
        {
            "share_non_native": np.where(high, rng.uniform(0.6, 0.8, n), rng.uniform(0, 0.2, n)),
            "median_income": rng.uniform(1000, 5000, n),
        }
    )
    treated = rng.uniform(size=n) < 0.5
    table["mix"] = np.where(treated, "gatekeeper_programme", "energy_coach")
    table["case"] = [f"c{i}" for i in range(n)]
    table["outcome"] = (treated & (table["share_non_native"] > 0.5)).astype(float)
    _, _, pars, _ = qca_of(
        table, ["gatekeeper_programme", "share_non_native", "median_income"], success=0.5
    )
    truth = "GATEKEEPER_PROGRAMME*SHARE_NON_NATIVE"
    assert pars.solutions and all(is_submodel(s, truth) for s in pars.solutions)
    assert not is_submodel(pars.solutions[0], "GATEKEEPER_PROGRAMME*~SHARE_NON_NATIVE")


def test_screen_gives_every_kind_a_verdict(pilot):
    from bt_sim.factors import screen

    table = screen(pilot, boot=50)
    assert set(table["kind"]) == set(pilot["kind"])
    ok = table[table["method"] != ""]
    assert set(ok["method"]) == {"ipw", "matching"}
    helps = ok["verdict"] == "helps"
    assert (ok.loc[helps, "lo"] > 0).all()
    unclear = ok["verdict"] == "unclear"
    assert ((ok.loc[unclear, "lo"] <= 0) & (ok.loc[unclear, "hi"] >= 0)).all()
    only = pilot[pilot["kind"] == "energy_coach"]
    verdict = screen(only, boot=0)["verdict"].iloc[0]
    assert verdict.startswith("not estimated: column 'treated': no untreated")


def test_archives_that_cannot_be_estimated_exit_2(capsys):
    # one small town per archive: its ten-odd collectives separate perfectly on the context
    argv = ["factors", GATEKEEPERS, "--kind", "gatekeeper_programme", "--set",
            "population.households=1500", "--set", "run.steps=40", "--towns", "1",
            "--archives", "2", "--boot", "10"]  # fmt: skip
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "no archive could be estimated (archive 0: no overlap" in err
