"""bt-sim compare: strategies on the same towns, the same results on any executor, tables
and a picture, bad files refused before any run with nothing written."""

from __future__ import annotations

import pandas as pd
import pytest

from bt_sim.cli import main
from bt_sim.errors import SweepError
from bt_sim.experiments.compare import comparison_from_dict, read_comparison
from tests.conftest import ROOT

TOWN = ROOT / "scenarios" / "strategies" / "town.toml"

SMALL = f"""
name = "small"
scenario = "{TOWN}"
set = ["run.steps=36", "population.households=600"]
replicates = 3
seed = 5
target = 0.2
reference = "none"

[[strategies]]
name = "none"
set = {{ "organisation.strategy" = "none" }}

[[strategies]]
name = "also_none"
description = "the same settings under another name: every difference must be 0"
set = {{ "organisation.strategy" = "none", "organisation.staff_hours" = 10 }}

[[strategies]]
name = "out"
set = {{ "organisation.strategy" = "out", "organisation.found_hours" = 120 }}
"""


def write(tmp_path, text=SMALL, name="small.toml"):
    p = tmp_path / name
    p.write_text(text)
    return p


def test_a_comparison_runs_and_writes_its_tables_and_picture(tmp_path, capsys):
    f = write(tmp_path)
    out = tmp_path / "out"
    assert main(["compare", str(f), "--out", str(out), "--executor", "inprocess", "-q"]) == 0
    for name in ("comparison.csv", "comparison.md", "comparison.png", "manifest.json"):
        assert (out / name).is_file(), name
    assert (out / "comparison.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    table = pd.read_csv(out / "comparison.csv")
    assert set(table["strategy"]) == {"none", "also_none", "out"}
    same = table[(table["strategy"] == "also_none") & (table["metric"] == "any_adoption")]
    # the same settings on the same towns: the paired difference is exactly 0
    assert same["diff"].item() == 0.0 and same["verdict"].item() == "indistinguishable"
    out_hours = table[(table["strategy"] == "out") & (table["metric"] == "staff_hours")]
    # 40 staff hours and 1,000 EUR a month, a founding takes 120 hours and 6,000 EUR: the
    # money binds, one every 6 months, 6 in 36 months
    assert out_hours["mean"].item() == 6 * 120
    md = (out / "comparison.md").read_text()
    assert "## Every outcome" in md and "| out |" in md


def test_the_results_do_not_depend_on_the_executor(tmp_path):
    f = write(tmp_path)
    a, b = tmp_path / "a", tmp_path / "b"
    assert main(["compare", str(f), "--out", str(a), "--executor", "inprocess", "-q"]) == 0
    assert main(["compare", str(f), "--out", str(b), "--workers", "2", "-q"]) == 0
    ta = pd.read_csv(a / "comparison.csv")
    tb = pd.read_csv(b / "comparison.csv")
    pd.testing.assert_frame_equal(ta, tb)


def test_dask_gives_the_same_comparison(tmp_path):
    f = write(tmp_path)
    a, b = tmp_path / "a", tmp_path / "b"
    assert main(["compare", str(f), "--out", str(a), "--executor", "inprocess", "-q"]) == 0
    assert main(["compare", str(f), "--out", str(b), "--executor", "dask", "-j", "1", "-q"]) == 0
    pd.testing.assert_frame_equal(
        pd.read_csv(a / "comparison.csv"), pd.read_csv(b / "comparison.csv")
    )


def test_resume_refuses_a_changed_comparison(tmp_path, capsys):
    f = write(tmp_path)
    out = tmp_path / "out"
    assert main(["compare", str(f), "--out", str(out), "--executor", "inprocess", "-q"]) == 0
    f.write_text(
        SMALL.replace('"organisation.found_hours" = 120', '"organisation.found_hours" = 60')
    )
    code = main(["compare", str(f), "--out", str(out), "--resume", "--executor", "inprocess"])
    assert code == 2 and "another sweep" in capsys.readouterr().err


def test_check_prints_the_plan_and_runs_nothing(tmp_path, capsys):
    f = write(tmp_path)
    assert main(["compare", str(f), "--check", "--out", str(tmp_path / "o")]) == 0
    assert "3 strategies x 3 towns = 9 runs" in capsys.readouterr().out
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize(
    ("change", "where"),
    [
        (("replicates = 3", "replicates = 1"), "replicates"),
        (('reference = "none"', 'reference = "nothing"'), "reference"),
        (('name = "out"', 'name = "none"'), "strategies[2].name"),
        (
            ('"organisation.found_hours" = 120', '"organisation.found_hours" = -1'),
            "strategies[2].set.organisation.found_hours",
        ),
        (
            ('"organisation.strategy" = "out"', '"organisation.strategy" = "up"'),
            "strategies[2].set.organisation.strategy",
        ),
        (
            ('"organisation.strategy" = "out"', '"organisation.stratgy" = "out"'),
            "strategies[2].set",
        ),
        (("target = 0.2", "target = 2"), "target"),
        (("seed = 5", "seed = 5\nsamples = 3"), "samples"),
    ],
)
def test_bad_files_are_refused_before_any_run(tmp_path, capsys, change, where):
    f = write(tmp_path, SMALL.replace(*change))
    out = tmp_path / "out"
    assert main(["compare", str(f), "--out", str(out), "--executor", "inprocess", "-q"]) == 2
    err = capsys.readouterr().err
    assert str(f) in err and where in err, err
    assert not out.exists()


def test_no_strategies_and_unreadable_files():
    with pytest.raises(SweepError, match="strategies"):
        comparison_from_dict({"scenario": "default"}, "x.toml")
    with pytest.raises(SweepError, match=r"not found|No such file"):
        read_comparison("/no/such/comparison.toml")


def test_the_bundled_comparison_reads_and_checks(capsys):
    path = ROOT / "scenarios" / "strategies" / "half_the_town.toml"
    assert main(["compare", str(path), "--check"]) == 0
    assert "6 strategies x 20 towns = 120 runs" in capsys.readouterr().out
