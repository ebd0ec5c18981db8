"""The bt-sim command line: outputs, manifests, and exit code 2 with a clear message."""

from __future__ import annotations

import json
import subprocess
import sys

import pandas as pd
import pytest

from bt_sim.cli import main
from tests.conftest import SCENARIOS

DEFAULT = str(SCENARIOS / "default.toml")
SMALL = ["--set", "population.households=300", "--set", "run.steps=12"]


def run(argv, capsys):
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def test_run_writes_tables_manifest_and_plot(tmp_path, capsys):
    out = tmp_path / "res"
    code, stdout, _ = run(
        ["run", DEFAULT, *SMALL, "-r", "2", "--seed", "5", "--out", str(out)], capsys
    )
    assert code == 0
    assert "final_adoption:insulation" in stdout and "results written to" in stdout
    # what the collectives did: the default catalogue's purchase, stalls and foundings
    assert "interventions:purchase:carried_months" in stdout and "capacity:dissolved" in stdout
    names = {p.name for p in out.iterdir()}
    assert names == {
        "timeseries.parquet",
        "summary.parquet",
        "hub_panel.parquet",
        "manifest.json",
        "plot.png",
    }
    summary = pd.read_parquet(out / "summary.parquet")
    assert summary["replicate"].tolist() == [0, 1]
    ts = pd.read_parquet(out / "timeseries.parquet")
    assert set(ts["scope"]) == {"overall", "group", "neighbourhood", "collective_truth"}
    assert ts["step"].max() == 12
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["seed"] == 5 and manifest["replicates"] == 2
    assert manifest["scenario"]["population"]["households"] == 300
    assert manifest["versions"]["mesa"].startswith("3.")
    assert manifest["visibility"]["hub_panel"].startswith("hub-safe")
    assert "researcher-only in scope collective_truth" in manifest["visibility"]["timeseries"]
    assert (out / "plot.png").read_bytes()[:4] == b"\x89PNG"


def test_rerun_from_manifest_is_identical(tmp_path, capsys):
    first, second = tmp_path / "a", tmp_path / "b"
    assert run(["run", DEFAULT, *SMALL, "-q", "--out", str(first)], capsys)[0] == 0
    assert run(["run", str(first / "manifest.json"), "-q", "--out", str(second)], capsys)[0] == 0
    a = pd.read_parquet(first / "timeseries.parquet")
    b = pd.read_parquet(second / "timeseries.parquet")
    pd.testing.assert_frame_equal(a, b)


def test_default_folder_never_overwrites(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for _ in range(2):
        assert run(["run", DEFAULT, *SMALL, "-q", "--no-plot"], capsys)[0] == 0
    assert sorted(p.name for p in (tmp_path / "results").iterdir()) == ["default", "default-2"]


def test_csv_format_and_no_plot(tmp_path, capsys):
    out = tmp_path / "csv"
    assert (
        run(
            ["run", DEFAULT, *SMALL, "-q", "--format", "csv", "--no-plot", "--out", str(out)],
            capsys,
        )[0]
        == 0
    )
    assert {p.suffix for p in out.iterdir()} == {".csv", ".json"}


def test_existing_results_are_kept_without_force(tmp_path, capsys):
    out = tmp_path / "res"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    code, _, err = run(["run", DEFAULT, *SMALL, "-q", "--out", str(out)], capsys)
    assert code == 2 and "already exists" in err and "--force" in err
    assert [p.name for p in out.iterdir()] == ["keep.txt"]
    code, _, err = run(["run", DEFAULT, *SMALL, "-q", "--out", str(out), "--force"], capsys)
    assert code == 2 and "not one" in err, "--force replaces only a folder bt-sim wrote"
    assert [p.name for p in out.iterdir()] == ["keep.txt"]
    (out / "keep.txt").unlink()
    assert run(["run", DEFAULT, *SMALL, "-q", "--out", str(out)], capsys)[0] == 0
    assert run(["run", DEFAULT, *SMALL, "-q", "--out", str(out), "--force"], capsys)[0] == 0
    assert (out / "manifest.json").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")], "no temp folder left"


def test_scenario_commands(capsys):
    code, out, _ = run(["scenario", "validate", DEFAULT], capsys)
    assert code == 0 and "valid" in out
    code, out, _ = run(["scenario", "show", str(SCENARIOS / "bass.toml")], capsys)
    assert code == 0 and 'rule = "bass"' in out
    code, out, _ = run(["scenario", "show", DEFAULT, "--json", "--set", "run.steps=3"], capsys)
    assert json.loads(out)["run"]["steps"] == 3
    code, out, _ = run(["scenario", "keys"], capsys)
    assert "`network.mean_degree`" in out


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["run", "missing.toml"], "missing.toml: file not found"),
        (["run", DEFAULT, "--set", "network.mean_degree=-1"], "network.mean_degree: expected"),
        (["run", DEFAULT, "--set", "run.stepz=3"], "run.stepz: unknown key"),
        (["scenario", "validate", DEFAULT, "--set", "hub.k=0"], "hub.k: expected a value"),
        (
            [
                "run",
                DEFAULT,
                "--set",
                "network.kind=edgelist",
                "--set",
                "network.edgelist=/nonexistent/ties.csv",
            ],
            "ties.csv: edge-list file not found",
        ),
    ],
)
def test_bad_input_exits_2_with_message(argv, expected, capsys, tmp_path):
    code, _, err = run([*argv, "--out", str(tmp_path / "x")] if argv[0] == "run" else argv, capsys)
    assert code == 2
    assert expected in err
    assert "Traceback" not in err
    assert not (tmp_path / "x").exists(), "nothing written"


@pytest.mark.parametrize("value", ["0", "-3", "many"])
def test_bad_command_line_values_exit_2(value, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["run", DEFAULT, "--replicates", value])
    assert exc.value.code == 2
    assert "--replicates" in capsys.readouterr().err


def test_console_script_exit_code_and_debug(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[population]\nhouseholds = -5\n")
    cmd = [sys.executable, "-m", "bt_sim.cli", "scenario", "validate", str(bad)]
    plain = subprocess.run(cmd, capture_output=True, text=True)
    assert plain.returncode == 2
    assert f"{bad}: population.households: expected a value in [2, 5e+07]" in plain.stderr
    assert "Traceback" not in plain.stderr
    debug = subprocess.run([*cmd[:3], "--debug", *cmd[3:]], capture_output=True, text=True)
    assert "Traceback" in debug.stderr
