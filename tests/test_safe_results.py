"""Results are never lost or overwritten, and every check that can fail does so before the run.

The data-loss cases run in a temporary folder holding the user's own files, which must survive.
Concurrent runs, SIGTERM and SIGKILL are real subprocesses; ``BT_SIM_TEST_PAUSE`` makes the
writer pause in the write phase so that a signal lands there deterministically.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from bt_sim import runner
from bt_sim.cli import main
from bt_sim.errors import NetworkFileError
from bt_sim.network import read_edgelist
from bt_sim.outdir import PAUSE_ENV
from bt_sim.scenario import load_scenario
from tests.conftest import ROOT, SCENARIOS

DEFAULT = str(SCENARIOS / "default.toml")
SMALL = ["--set", "population.households=300", "--set", "run.steps=12"]
FAST = [*SMALL, "-q", "--no-plot"]


def run(argv, capsys):
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def user_files(folder: Path) -> dict[str, str]:
    """Plant a user's files in ``folder``; returns them for comparing afterwards."""
    files = {"thesis.txt": "years of work", "data.csv": "a,b\n1,2\n"}
    for name, text in files.items():
        (folder / name).write_text(text)
    return files


def assert_survive(folder: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        assert (folder / name).read_text() == text, f"{name} was lost"


def hidden(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def assert_complete(folder: Path) -> dict:
    """A results folder holds exactly the files its manifest lists."""
    manifest = json.loads((folder / "manifest.json").read_text())
    assert {p.name for p in folder.iterdir()} == {"manifest.json", *manifest["files"].values()}
    summary = pd.read_parquet(folder / manifest["files"]["summary"])
    assert len(summary) == manifest["replicates"]
    return manifest


def cli(*args: str, cwd: Path, pause: str = "") -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    env.pop(PAUSE_ENV, None)
    if pause:
        env[PAUSE_ENV] = pause
    return subprocess.Popen(
        [sys.executable, "-m", "bt_sim.cli", *args],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for_staging(parent: Path, proc: subprocess.Popen, timeout: float = 60) -> Path:
    """The staging folder of ``proc`` once it is complete (its manifest written)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        for p in parent.glob(f".*.bt-sim-tmp-{proc.pid}"):
            if (p / "manifest.json").exists():
                return p
        if proc.poll() is not None:
            raise AssertionError(f"exited early: {proc.communicate()}")
        time.sleep(0.02)
    raise AssertionError("the writer never reached its write phase")


# ---- --force and existing folders --------------------------------------------------------


def test_force_on_the_current_folder_deletes_nothing(tmp_path, capsys, monkeypatch):
    files = user_files(tmp_path)
    monkeypatch.chdir(tmp_path)
    code, _, err = run(["run", DEFAULT, *FAST, "--out", ".", "--force"], capsys)
    assert code == 2 and "current folder" in err
    assert_survive(tmp_path, files)
    sub = tmp_path / "sub"
    sub.mkdir()
    monkeypatch.chdir(sub)
    code, _, err = run(["run", DEFAULT, *FAST, "--out", "..", "--force"], capsys)
    assert code == 2 and "one above it" in err
    assert_survive(tmp_path, files)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data.csv", "sub", "thesis.txt"]


def test_force_never_replaces_a_folder_bt_sim_did_not_write(tmp_path, capsys):
    out = tmp_path / "mine"
    out.mkdir()
    files = user_files(out)
    code, _, err = run(["run", DEFAULT, *FAST, "--out", str(out), "--force"], capsys)
    assert code == 2 and "not one" in err and str(out) in err
    assert_survive(out, files)
    assert hidden(tmp_path) == []


def test_force_keeps_earlier_runs_under_results(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert run(["run", DEFAULT, *FAST], capsys)[0] == 0
    assert run(["run", DEFAULT, *FAST], capsys)[0] == 0
    before = {p: (p / "manifest.json").read_bytes() for p in (tmp_path / "results").iterdir()}
    code, _, err = run(["run", DEFAULT, *FAST, "--out", "results", "--force"], capsys)
    assert code == 2 and "results: --force replaces only" in err
    after = {p: (p / "manifest.json").read_bytes() for p in (tmp_path / "results").iterdir()}
    assert after == before


def test_force_refuses_a_results_folder_holding_user_files(tmp_path, capsys):
    out = tmp_path / "res"
    assert run(["run", DEFAULT, *FAST, "--out", str(out)], capsys)[0] == 0
    (out / "notes.txt").write_text("my notes")
    code, _, err = run(["run", DEFAULT, *FAST, "--out", str(out), "--force"], capsys)
    assert code == 2 and "notes.txt" in err and "did not write" in err
    assert (out / "notes.txt").read_text() == "my notes"


def test_force_replaces_a_bt_sim_folder(tmp_path, capsys):
    out = tmp_path / "res"
    assert run(["run", DEFAULT, *FAST, "--seed", "1", "--out", str(out)], capsys)[0] == 0
    assert run(["run", DEFAULT, *FAST, "--seed", "2", "--out", str(out), "--force"], capsys)[0] == 0
    assert assert_complete(out)["seed"] == 2
    assert hidden(tmp_path) == []


# ---- every check before the work ---------------------------------------------------------


def test_existing_folder_is_refused_before_the_run(tmp_path, capsys):
    out = tmp_path / "res"
    argv = ["run", DEFAULT, "--set", "population.households=3000", "-q", "--no-plot"]
    t0 = time.perf_counter()
    assert run([*argv, "--out", str(out)], capsys)[0] == 0
    t_run = time.perf_counter() - t0
    t0 = time.perf_counter()
    code, _, err = run([*argv, "--out", str(out)], capsys)
    t_refuse = time.perf_counter() - t0
    assert code == 2 and "already exists" in err
    assert t_refuse < t_run / 5, f"refused after {t_refuse:.3f} s; the run takes {t_run:.3f} s"


def test_output_problems_stop_the_run_before_it_starts(tmp_path, capsys, monkeypatch):
    def no_run(*args, **kwargs):
        raise AssertionError("the simulation started")

    monkeypatch.setattr(runner, "run_scenario", no_run)
    blocker = tmp_path / "file"
    blocker.write_text("x")
    code, _, err = run(["run", DEFAULT, *FAST, "--out", str(blocker / "res")], capsys)
    assert code == 2 and "cannot create its parent folder" in err
    code, _, err = run(["run", DEFAULT, *FAST, "--out", str(blocker)], capsys)
    assert code == 2 and "not a folder" in err
    assert blocker.read_text() == "x"

    real_mkdir = Path.mkdir

    def read_only(self, *args, **kwargs):
        if ".bt-sim-tmp-" in self.name:
            raise PermissionError(13, "Permission denied")
        return real_mkdir(self, *args, **kwargs)

    monkeypatch.setattr(Path, "mkdir", read_only)
    code, _, err = run(["run", DEFAULT, *FAST, "--out", str(tmp_path / "ro")], capsys)
    assert code == 2 and "Permission denied" in err
    assert hidden(tmp_path) == []


def test_a_run_that_cannot_fit_in_memory_is_refused_at_once(tmp_path, capsys):
    t0 = time.perf_counter()
    code, _, err = run(
        [
            "run",
            DEFAULT,
            "--set",
            "population.households=50000000",
            "--set",
            "network.mean_degree=10000",
            "--out",
            str(tmp_path / "x"),
        ],
        capsys,
    )
    assert time.perf_counter() - t0 < 2
    assert code == 2 and "TB of memory" in err and "lower network.mean_degree" in err
    code, _, err = run(
        ["run", DEFAULT, "--set", "run.steps=100000", "-r", "100000", "--out", str(tmp_path / "x")],
        capsys,
    )
    assert code == 2 and "lower --replicates (100000) or run.steps (100000)" in err
    assert not (tmp_path / "x").exists()


def test_memory_estimate_grows_with_what_the_run_holds():
    s = load_scenario(DEFAULT)
    small = runner.estimate_memory(s, 1)
    assert runner.estimate_memory(s, 10)["results"] == pytest.approx(10 * small["results"])
    big = load_scenario(DEFAULT, ["population.households=200000", "network.mean_degree=20"])
    assert runner.estimate_memory(big, 1)["network"] == pytest.approx(200000 * 20 * 64)
    assert 0 < runner.available_memory() < float("inf")


@pytest.mark.parametrize("value", ["100001", "1000000000"])
def test_replicates_bound_on_the_command_line_matches_the_file(value, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["run", DEFAULT, "--replicates", value])
    assert exc.value.code == 2
    assert "expected at most 100,000" in capsys.readouterr().err


# ---- scenario names are names ------------------------------------------------------------


@pytest.mark.parametrize("name", ["../../escaped", "/tmp/abs", "a/b/c", "", ".hidden", "x" * 65])
def test_scenario_name_is_never_a_path(name, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, _, err = run(["run", DEFAULT, *FAST, "--set", f"name={json.dumps(name)}"], capsys)
    assert code == 2 and "name: expected a plain name" in err
    assert list(tmp_path.iterdir()) == []


# ---- bad input: a message and exit 2 -----------------------------------------------------


def test_non_utf8_and_bom_scenario_files(tmp_path, capsys):
    bad = tmp_path / "latin1.toml"
    bad.write_bytes('name = "café"\n'.encode("latin-1"))
    code, _, err = run(["scenario", "validate", str(bad)], capsys)
    assert code == 2 and f"{bad}: not UTF-8 text (byte 0xe9" in err
    bom = tmp_path / "bom.toml"
    bom.write_bytes(b'\xef\xbb\xbfname = "x"\n')
    code, _, err = run(["scenario", "validate", str(bom)], capsys)
    assert code == 2 and "byte-order mark (BOM)" in err


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("seed", "abc"),
        ("seed", -5),
        ("seed", 1.5),
        ("replicates", 0),
        ("replicates", "3"),
        ("replicates", -2),
    ],
)
def test_tampered_manifest(key, value, tmp_path, capsys):
    manifest = {"bt_sim_manifest": 1, "scenario": {"name": "x"}, key: value}
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps(manifest))
    code, _, err = run(["run", str(path), "--out", str(tmp_path / "o")], capsys)
    assert code == 2 and f"{path}: {key}: expected an integer in" in err
    assert "Traceback" not in err


def test_truncated_manifest(tmp_path, capsys):
    first = tmp_path / "a"
    assert run(["run", DEFAULT, *FAST, "--out", str(first)], capsys)[0] == 0
    path = first / "manifest.json"
    path.write_text(path.read_text()[:200])
    code, _, err = run(["run", str(path), "--out", str(tmp_path / "b")], capsys)
    assert code == 2 and "not valid JSON" in err and "truncated" in err


def test_relative_edgelist_in_a_manifest_is_read_beside_it(tmp_path, capsys, monkeypatch):
    (tmp_path / "ties.csv").write_text("".join(f"{i} {i + 1}\n" for i in range(9)))
    manifest = {
        "bt_sim_manifest": 1,
        "scenario": {
            "name": "el",
            "run": {"steps": 3},
            "population": {"households": 10, "neighbourhoods": 2},
            "collectives": {"count": 1, "founders": 1},
            "network": {"kind": "edgelist", "edgelist": "ties.csv"},
        },
    }
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    code, _, err = run(["run", "../manifest.json", "-q", "--no-plot", "--out", "o"], capsys)
    assert code == 0, err
    saved = json.loads((elsewhere / "o" / "manifest.json").read_text())
    assert saved["scenario"]["network"]["edgelist"] == str(tmp_path / "ties.csv")


def test_broken_pipe_is_quiet(tmp_path):
    r, w = os.pipe()
    os.close(r)  # the reader is gone before anything is written
    proc = subprocess.run(
        [sys.executable, "-m", "bt_sim.cli", "scenario", "show", DEFAULT, "--json"],
        stdout=w,
        stderr=subprocess.PIPE,
        text=True,
        env=dict(os.environ, PYTHONPATH=str(ROOT / "src")),
    )
    os.close(w)
    assert proc.returncode == 141
    assert proc.stderr == ""


# ---- edge lists --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0.0 1.0\n1 2\n", "row 1: expected 'source target [weight]' with integer ids"),
        ("0 1\n2 2\n", "row 2: self-loop 2 2"),
        ("0 1 0.5\n1 0 0.9\n", "row 2: the tie 1 0 is listed twice (first on row 1)"),
        ("0 1 0.5 extra\n", "row 1: expected 'source target [weight]' (2 or 3 fields)"),
        ("", "holds no ties"),
        ("source,target\n# only a header\n", "holds no ties"),
        (b"0 1\n1 2 \xff\n", "row 2: not UTF-8 text (byte 0xff at offset 8)"),
    ],
)
def test_edgelist_surprises_are_errors(text, expected, tmp_path):
    path = tmp_path / "ties.txt"
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    with pytest.raises(NetworkFileError) as err:
        read_edgelist(path, 4)
    assert str(err.value).startswith(f"{path}: ")
    assert expected in str(err.value)


def test_validate_reads_the_edgelist(tmp_path, capsys):
    scen = tmp_path / "net.toml"
    scen.write_text('name = "net"\n[network]\nkind = "edgelist"\nedgelist = "ties.csv"\n')
    code, _, err = run(["scenario", "validate", str(scen)], capsys)
    assert code == 2 and f"{tmp_path / 'ties.csv'}: edge-list file not found" in err
    (tmp_path / "ties.csv").write_text("0 1\n0 0\n")
    code, _, err = run(["scenario", "validate", str(scen)], capsys)
    assert code == 2 and "row 2: self-loop" in err


# ---- overrides and extends ---------------------------------------------------------------


def test_set_refuses_a_whole_table(capsys):
    code, _, err = run(["scenario", "show", DEFAULT, "--set", "population={}"], capsys)
    assert code == 2 and "--set: population: expected a value, not a table" in err


def test_errors_name_the_file_of_an_extends_chain(tmp_path, capsys):
    (tmp_path / "base.toml").write_text("[network]\nmean_degre = 4\n")
    child = tmp_path / "child.toml"
    child.write_text('extends = "base.toml"\nname = "child"\n[run]\nsteps = 0\n')
    code, _, err = run(["scenario", "validate", str(child)], capsys)
    assert code == 2
    assert f"{tmp_path / 'base.toml'}: network.mean_degre: unknown key" in err
    assert f"{child}: run.steps: expected a value" in err
    orphan = tmp_path / "orphan.toml"
    orphan.write_text('extends = "gone.toml"\n')
    code, _, err = run(["scenario", "validate", str(orphan)], capsys)
    assert code == 2 and f"{orphan}: extends: {tmp_path / 'gone.toml'}: file not found" in err


# ---- smaller things ----------------------------------------------------------------------


def test_summary_table_is_byte_reproducible(tmp_path, capsys):
    for name in ("a", "b"):
        argv = ["run", DEFAULT, *FAST, "--format", "csv", "--out", str(tmp_path / name)]
        assert run(argv, capsys)[0] == 0
    a, b = (tmp_path / n / "summary.csv" for n in ("a", "b"))
    assert a.read_bytes() == b.read_bytes()
    assert "seconds" not in a.read_text().splitlines()[0]
    timings = json.loads((tmp_path / "a" / "manifest.json").read_text())["timings"]
    assert timings["total_s"] > 0 and timings["replicates"][0]["run_s"] > 0


def test_progress_clock_starts_after_construction():
    events = []
    s = load_scenario(DEFAULT, ["population.households=300", "run.steps=3"])
    runner.run_scenario(
        s, 2, 1, progress=lambda n: events.append("step"), ready=lambda: events.append("ready")
    )
    assert events == ["ready"] + ["step"] * 6


def test_printed_summary_has_units(tmp_path, capsys):
    code, out, _ = run(["run", DEFAULT, *SMALL, "--no-plot", "--out", str(tmp_path / "a")], capsys)
    assert code == 0
    assert "unit" in out.splitlines()[1]
    assert any(
        line.startswith("time_to_50pct:any") and "months" in line for line in out.splitlines()
    )


def test_key_table_cells_are_not_split():
    from bt_sim.scenario.reference import key_reference

    for line in key_reference().splitlines():
        assert line.count("|") == 7, line
    doc = (ROOT / "docs" / "scenario-reference.md").read_text()
    assert doc.count("| key | default | unit | allowed | meaning | raising it |") == 1


def test_debug_works_after_the_subcommand(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[population]\nhouseholds = -5\n")
    with pytest.raises(Exception, match=r"population\.households"):
        main(["scenario", "validate", str(bad), "--debug"])
    with pytest.raises(Exception, match=r"population\.households"):
        main(["run", str(bad), "--debug"])


def test_scenario_list_and_bare_names(tmp_path, capsys, monkeypatch):
    code, out, _ = run(["scenario", "list"], capsys)
    assert code == 0
    blocks = out.split("\n\n")
    assert blocks[0].startswith("scenarios (bt-sim run NAME):")
    names = [line.split()[0] for line in blocks[0].splitlines()[1:]]
    assert names == sorted(p.stem for p in SCENARIOS.glob("*.toml"))
    sweeps = [line.split()[0] for line in blocks[1].splitlines()[1:]]
    assert sweeps == sorted(p.stem for p in (SCENARIOS / "sweeps").glob("*.toml"))
    assert blocks[2].splitlines()[1].split()[0] == "half_the_town"
    monkeypatch.chdir(tmp_path)
    assert run(["run", "default", *FAST], capsys)[0] == 0
    assert_complete(tmp_path / "results" / "default")
    code, _, err = run(["run", "nosuch", *FAST], capsys)
    assert code == 2 and "nosuch: no such file, nor a bundled scenario" in err


# ---- concurrent runs and signals (real processes) ----------------------------------------


@pytest.mark.parametrize("count", [2, 3])
def test_concurrent_runs_never_overwrite_each_other(count, tmp_path):
    procs = [cli("run", DEFAULT, *FAST, cwd=tmp_path, pause="write:1") for _ in range(count)]
    outs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0] * count, outs
    expect = ["default"] + [f"default-{i}" for i in range(2, count + 1)]
    assert sorted(p.name for p in (tmp_path / "results").iterdir()) == expect
    for name in expect:
        assert_complete(tmp_path / "results" / name)


def test_concurrent_runs_to_the_same_folder(tmp_path):
    out = str(tmp_path / "res")
    procs = [cli("run", DEFAULT, *FAST, "--out", out, cwd=tmp_path, pause="write:1") for _ in "ab"]
    outs = [p.communicate(timeout=120) for p in procs]
    assert sorted(p.returncode for p in procs) == [0, 2], outs
    loser = next(err for p, (_, err) in zip(procs, outs, strict=True) if p.returncode == 2)
    assert "another bt-sim run is writing" in loser or "already exists" in loser
    assert_complete(tmp_path / "res")
    assert hidden(tmp_path) == []


def test_sigterm_in_the_write_phase_keeps_the_old_results(tmp_path, capsys):
    out = tmp_path / "res"
    assert run(["run", DEFAULT, *FAST, "--out", str(out)], capsys)[0] == 0
    old = (out / "manifest.json").read_bytes()
    proc = cli("run", DEFAULT, *FAST, "--out", str(out), "--force", cwd=tmp_path, pause="write:60")
    wait_for_staging(tmp_path, proc)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 143
    assert "terminated; nothing was written" in err and "Traceback" not in err
    assert (out / "manifest.json").read_bytes() == old
    assert_complete(out)
    assert hidden(tmp_path) == []


def test_sigkill_in_the_write_phase_is_cleaned_by_the_next_run(tmp_path, capsys):
    out = tmp_path / "res"
    assert run(["run", DEFAULT, *FAST, "--out", str(out)], capsys)[0] == 0
    old = (out / "manifest.json").read_bytes()
    proc = cli("run", DEFAULT, *FAST, "--out", str(out), "--force", cwd=tmp_path, pause="write:60")
    staging = wait_for_staging(tmp_path, proc)
    proc.kill()
    proc.communicate(timeout=30)
    assert staging.exists(), "SIGKILL cannot clean up"
    assert (out / "manifest.json").read_bytes() == old
    assert run(["run", DEFAULT, *FAST, "--out", str(tmp_path / "next")], capsys)[0] == 0
    assert hidden(tmp_path) == []


def test_sigkill_between_the_renames_of_a_replace_restores_the_old_folder(tmp_path, capsys):
    out = tmp_path / "res"
    assert run(["run", DEFAULT, *FAST, "--out", str(out)], capsys)[0] == 0
    old = (out / "manifest.json").read_bytes()
    proc = cli("run", DEFAULT, *FAST, "--out", str(out), "--force", cwd=tmp_path, pause="swap:60")
    aside = tmp_path / f".res.bt-sim-old-{proc.pid}"
    end = time.monotonic() + 60
    while not aside.exists() and time.monotonic() < end and proc.poll() is None:
        time.sleep(0.02)
    assert aside.exists() and not out.exists()
    proc.kill()
    proc.communicate(timeout=30)
    assert run(["run", DEFAULT, *FAST, "--out", str(tmp_path / "next")], capsys)[0] == 0
    assert (out / "manifest.json").read_bytes() == old
    assert hidden(tmp_path) == []


def test_sigterm_during_a_replace_finishes_it(tmp_path, capsys):
    out = tmp_path / "res"
    assert run(["run", DEFAULT, *FAST, "--seed", "1", "--out", str(out)], capsys)[0] == 0
    args = ("run", DEFAULT, *FAST, "--seed", "2", "--out", str(out), "--force")
    proc = cli(*args, cwd=tmp_path, pause="swap:1")
    aside = tmp_path / f".res.bt-sim-old-{proc.pid}"
    while not aside.exists() and proc.poll() is None:
        time.sleep(0.01)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 143
    assert f"terminated; the results were already written to {out}/" in err
    assert assert_complete(out)["seed"] == 2
    assert hidden(tmp_path) == []


def test_progress_bar_first_estimate_ignores_the_warm_up():
    from bt_sim.cli import _Progress

    bar = _Progress(100, "x")
    bar.bar.start_t -= 400  # as if building the model and the first step took 400 s
    bar.update(1)
    assert bar.bar.n == 1
    assert bar.bar.format_dict["elapsed"] < 5, "the clock restarted after the first step"
    for _ in range(9):
        bar.update(1)
    assert bar.bar.n == 10
    bar.bar.close()
