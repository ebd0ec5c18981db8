"""Every table bt-sim writes carries the unit of each column (issue: units in every table)."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from bt_sim.cli import main
from bt_sim.experiments.store import open_store
from bt_sim.units import outcome_unit, summary_units

from .conftest import SCENARIOS


@pytest.fixture(scope="module")
def run_folder(tmp_path_factory):
    out = tmp_path_factory.mktemp("units") / "run"
    rc = main(["run", str(SCENARIOS / "interventions.toml"), "--set", "run.steps=12",
               "--set", "population.households=400", "--replicates", "2", "--out", str(out),
               "-q", "--no-plot"])  # fmt: skip
    assert rc == 0
    return out


def test_every_summary_column_has_a_unit(run_folder):
    s = pd.read_parquet(run_folder / "summary.parquet")
    units = s.attrs["units"]
    assert set(units) == set(s.columns)
    assert [c for c, u in units.items() if u == "?"] == []
    assert units["steps"] == "steps" and units["households"] == "households"
    assert units["time_to_50pct:any"] == "months"
    assert units["capacity:stalled"] == "collectives"
    # the integer counts are integers, not floats
    assert s["steps"].dtype.kind == "i" and s["households"].dtype.kind == "i"
    manifest = json.loads((run_folder / "manifest.json").read_text())
    assert manifest["units"]["summary"] == units


def test_timeseries_names_its_entities_and_units(run_folder):
    ts = pd.read_parquet(run_folder / "timeseries.parquet")
    assert "entity" in ts.columns and "unit" not in ts.columns
    units = ts.attrs["units"]
    for scope, g in ts.groupby("scope", observed=True):
        assert set(g["variable"]) == set(units[scope]), scope
    # members: a share of households overall, a count per collective
    assert units["overall"]["members"] == "fraction"
    assert units["collective_truth"]["members"] == "households"
    assert units["overall"]["interventions:euros"] == "EUR"


def test_hub_panel_units_in_the_manifest_for_csv(tmp_path):
    out = tmp_path / "csv"
    rc = main(["run", str(SCENARIOS / "default.toml"), "--set", "run.steps=6", "--set",
               "population.households=300", "--replicates", "1", "--out", str(out), "-q",
               "--no-plot", "--format", "csv"])  # fmt: skip
    assert rc == 0
    manifest = json.loads((out / "manifest.json").read_text())
    panel = pd.read_csv(out / "hub_panel.csv")
    assert set(panel.columns) <= set(manifest["units"]["hub_panel"])
    assert manifest["units"]["hub_panel"]["saving_mean"] == "fraction"


def test_component_and_entry_outcomes():
    assert outcome_unit("final_adoption:heat_pump") == "fraction"
    got = summary_units(["interventions:coach:visits", "interventions:carried:purchase",
                         "organisation:euros", "nobody:knows"])  # fmt: skip
    assert got == {
        "interventions:coach:visits": "visits",
        "interventions:carried:purchase": "collective-months",
        "organisation:euros": "EUR",
        "nobody:knows": "?",  # said, never left blank
    }


def test_sweep_results_and_report_carry_units(tmp_path, capsys):
    sweep = tmp_path / "u.toml"
    sweep.write_text(
        'name = "u"\nscenario = "default"\nsampler = "grid"\nreplicates = 2\nseed = 1\n'
        'seeds = "common"\nset = ["run.steps=4", "population.households=300"]\n'
        'outputs = ["kpi_saving", "members"]\n'
        '[parameters]\n"hub.k" = { levels = [5, 10] }\n'
    )
    out = tmp_path / "res"
    assert main(["sweep", str(sweep), "--out", str(out), "-q"]) == 0
    units = json.loads((out / "manifest.json").read_text())["units"]
    assert units["hub.k"] == "households" and units["members"] == "households"
    assert open_store(out).results().attrs["units"] == units
    capsys.readouterr()
    assert main(["report", str(out)]) == 0
    report = pd.read_csv(out / "report.csv")
    assert dict(zip(report["output"], report["unit"], strict=False)) == {
        "kpi_saving": "fraction",
        "members": "households",
    }
    assert "## members (households)" in (out / "report.md").read_text()
