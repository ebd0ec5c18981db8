"""The experiments layer: sweeps, executors, resume, failures, sensitivity, tipping, bad input."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from bt_sim.cli import main
from bt_sim.errors import OutputError
from bt_sim.experiments.core import run_sweep, run_sweep_file
from bt_sim.experiments.executors import DaskExecutor, InProcessExecutor, ProcessExecutor
from bt_sim.experiments.samplers import make_design
from bt_sim.experiments.sensitivity import analyse
from bt_sim.experiments.spec import read_sweep, sweep_from_dict
from bt_sim.experiments.store import SweepStore
from bt_sim.experiments.tipping import find_critical, sarle
from bt_sim.outdir import FolderLock

from .conftest import ROOT, SCENARIOS

BT_SIM = str(Path(sys.executable).with_name("bt-sim"))
SMALL = """
scenario = "{scenario}"
set = ["population.households=300", "run.steps=12"]
sampler = "grid"
replicates = 2
seed = 5
outputs = ["any_adoption", "kpi_saving"]
batch = 3
[parameters]
"network.mean_degree" = {{ levels = [4, 8] }}
"behaviours.insulation.cost" = {{ levels = [2000, 8000] }}
"""


def write_sweep(tmp_path: Path, text: str, name: str = "sweep.toml") -> Path:
    path = tmp_path / name
    path.write_text(text.format(scenario=SCENARIOS / "default.toml"), encoding="utf-8")
    return path


def _outcomes(df: pd.DataFrame) -> pd.DataFrame:
    return df.drop(columns="seconds").reset_index(drop=True)


def worker_threads(params, seed):
    """A sweep function reporting the worker's BLAS/OpenMP thread settings."""
    return {
        "openblas": float(os.environ.get("OPENBLAS_NUM_THREADS", "0")),
        "omp": float(os.environ.get("OMP_NUM_THREADS", "0")),
        "x": float(params["x"]),
    }


def noisy_step(params, seed):
    """Known jump: 1 when x plus a small seeded noise passes 0.37, else 0."""
    noise = np.random.default_rng(seed).normal(0, 0.02)
    return {"y": float(params["x"] + noise > 0.37)}


def fails_at_two(params, seed):
    if params["x"] == 2:
        raise ValueError("no good at two")
    return {"y": params["x"] * 10}


# ---- executors and seeds ------------------------------------------------------------------


def test_same_results_in_process_local_processes_and_dask(tmp_path):
    """8 runs (4 points x 2 replicates, 300 households x 12 steps): identical outcomes on every
    executor, whatever the number of workers; each worker limited to one BLAS thread."""
    spec = read_sweep(write_sweep(tmp_path, SMALL))
    ref = run_sweep_file(spec, tmp_path / "inprocess", InProcessExecutor()).results
    assert len(ref) == 8 and (ref["error"] == "").all()
    with ProcessExecutor(2) as ex:
        local = run_sweep_file(spec, tmp_path / "processes", ex).results
        threads = run_sweep(worker_threads, {"x": [1, 2, 3]}, executor=ex)
    assert (threads[["openblas", "omp"]] == 1).all().all()
    with DaskExecutor(workers=2) as ex:
        dask = run_sweep_file(spec, tmp_path / "dask", ex).results
        dthreads = run_sweep(worker_threads, {"x": [1, 2]}, executor=ex)
        # --scheduler tcp://HOST:PORT: a client of a running cluster gives the same again.
        with DaskExecutor(address=ex._cluster.scheduler_address) as remote:
            again = run_sweep_file(spec, tmp_path / "scheduler", remote).results
    pd.testing.assert_frame_equal(_outcomes(ref), _outcomes(again))
    assert (dthreads[["openblas", "omp"]] == 1).all().all()
    pd.testing.assert_frame_equal(_outcomes(ref), _outcomes(local))
    pd.testing.assert_frame_equal(_outcomes(ref), _outcomes(dask))
    # Different points and replicates do differ: each run has its own seed.
    assert ref["kpi_saving"].nunique() == 8


def test_seed_of_a_run_depends_only_on_its_point_and_replicate():
    design = {"x": [0.1, 0.2, 0.3]}
    all_runs = run_sweep(noisy_step, design, replicates=3, seed=9)
    one_point = run_sweep(noisy_step, {"x": [0.3]}, replicates=3, seed=9)
    # Point 0 of the second sweep has the seeds of point 0 of the first, not point 2.
    from bt_sim.experiments.core import run_seed

    assert run_seed(9, 2, 1).spawn_key == (2, 1)
    assert len(one_point) == 3 and list(all_runs["run"]) == list(range(9))


# ---- resume, failures, locks ----------------------------------------------------------------


def test_killed_sweep_resumes_with_no_missing_or_duplicated_run(tmp_path):
    text = (
        SMALL.replace("run.steps=12", "run.steps=120")
        .replace("replicates = 2", "replicates = 12")
        .replace("batch = 3", "batch = 4")
        .replace("population.households=300", "population.households=800")
    )
    sweep = write_sweep(tmp_path, text)
    out = tmp_path / "res"
    cmd = [BT_SIM, "sweep", str(sweep), "--out", str(out), "--executor", "inprocess", "-q"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and len(list(out.glob("part-*.parquet"))) < 2:
            time.sleep(0.02)
            assert proc.poll() is None, "the sweep finished before it could be killed"
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait()
    store = SweepStore(out)
    killed_with = store.done_runs()
    assert 0 < len(killed_with) < 48
    rc = subprocess.run([*cmd, "--resume"], capture_output=True, text=True, check=False)
    assert rc.returncode == 0, rc.stderr
    raw = pd.concat([pd.read_parquet(p) for p in store.parts()], ignore_index=True)
    assert sorted(raw["run"]) == list(range(48)), "every run once, none twice, on disk"
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "complete" and manifest["recorded"] == 48
    assert not [p for p in out.iterdir() if p.name.startswith(".")]
    # Resuming a complete sweep runs nothing more.
    rc = subprocess.run([*cmd, "--resume"], capture_output=True, text=True, check=False)
    assert rc.returncode == 0 and len(store.parts()) == len(list(out.glob("part-*.parquet")))
    assert sorted(store.results()["run"]) == list(range(48))


def test_resume_refuses_another_sweep(tmp_path, capsys):
    sweep = write_sweep(tmp_path, SMALL)
    assert main(["sweep", str(sweep), "--out", str(tmp_path / "r"), "-q", "--executor",
                 "inprocess"]) == 0  # fmt: skip
    changed = write_sweep(tmp_path, SMALL.replace("seed = 5", "seed = 6"), "other.toml")
    rc = main(["sweep", str(changed), "--out", str(tmp_path / "r"), "--resume", "-q"])
    assert rc == 2 and "another sweep" in capsys.readouterr().err


def test_failing_run_is_recorded_and_the_sweep_goes_on(tmp_path):
    store = SweepStore(tmp_path)
    design = pd.DataFrame({"x": [1, 2, 3]})
    store.create({"kind": "sweep", "runs": 6}, design)
    res = run_sweep(fails_at_two, design, replicates=2, store=store, batch=4)
    assert len(res) == 6
    bad = res[res["error"] != ""]
    assert list(bad["point"]) == [1, 1] and (bad["x"] == 2).all()
    assert bad["error"].str.contains("ValueError: no good at two").all()
    assert list(res.loc[res["error"] == "", "y"]) == [10, 10, 30, 30]
    assert len(store.parts()) == 2


def test_two_sweeps_never_write_one_folder(tmp_path):
    spec = read_sweep(write_sweep(tmp_path, SMALL))
    out = tmp_path / "r"
    run_sweep_file(spec, out)
    lock = FolderLock(out)
    try:
        with pytest.raises(OutputError, match="another bt-sim process"):
            run_sweep_file(spec, out, resume=True)
    finally:
        lock.release()


# ---- sensitivity --------------------------------------------------------------------------


def ishigami(params, seed):
    from SALib.test_functions import Ishigami

    x = np.array([[params["x1"], params["x2"], params["x3"]]])
    return {"y": float(Ishigami.evaluate(x)[0])}


def test_sobol_indices_of_the_ishigami_function():
    """Known indices (a = 7, b = 0.1): S1 = 0.314, 0.442, 0; ST = 0.558, 0.442, 0.244."""
    pi = float(np.pi)
    spec = sweep_from_dict(
        {
            "scenario": "default",
            "sampler": "sobol",
            "samples": 1024,
            "second_order": False,
            "seed": 3,
            "parameters": {f"x{i}": {"range": [-pi, pi]} for i in (1, 2, 3)},
        }
    )
    design = make_design(spec)
    res = run_sweep(ishigami, design)
    from bt_sim.experiments.samplers import salib_problem

    sens = analyse("sobol", salib_problem(spec.parameters), design, res, ["y"], False, seed=3)
    t = sens.table.set_index("parameter")
    s1 = {"x1": 0.3139, "x2": 0.4424, "x3": 0.0}
    st = {"x1": 0.5576, "x2": 0.4424, "x3": 0.2437}
    for p in s1:
        assert abs(t.loc[p, "S1"] - s1[p]) <= max(t.loc[p, "S1_conf"], 0.02), p
        assert abs(t.loc[p, "ST"] - st[p]) <= max(t.loc[p, "ST_conf"], 0.02), p
    assert list(t.index) == ["x1", "x2", "x3"]  # ranked by ST


MORRIS = """
scenario = "{scenario}"
set = ["population.households=300", "run.steps=12"]
sampler = "morris"
samples = 4
seed = 2
outputs = ["any_adoption", "member_share"]
[parameters]
"network.mean_degree" = {{ range = [4, 12] }}
"collectives.count" = {{ range = [1, 5] }}
"""


def test_sensitivity_command_on_morris_and_refusal_of_a_grid(tmp_path, capsys):
    sweep = write_sweep(tmp_path, MORRIS)
    out = tmp_path / "m"
    assert main(["sweep", str(sweep), "--out", str(out), "-q", "--executor", "inprocess"]) == 0
    design = pd.read_parquet(out / "design.parquet")
    assert design["collectives.count"].dtype.kind == "i", "integer keys are rounded"
    capsys.readouterr()
    assert main(["sensitivity", str(out)]) == 0
    text = capsys.readouterr().out
    assert "mu*" in text and "collectives.count" in text
    table = pd.read_csv(out / "sensitivity.csv")
    assert set(table["output"]) == {"any_adoption", "member_share"}
    assert (out / "sensitivity-member_share.png").stat().st_size > 1000
    manifest = json.loads((out / "manifest.json").read_text())
    assert "sensitivity.csv" in manifest["files"].values()

    grid = tmp_path / "g"
    assert main(["sweep", str(write_sweep(tmp_path, SMALL, "g.toml")), "--out", str(grid),
                 "-q", "--executor", "inprocess"]) == 0  # fmt: skip
    capsys.readouterr()
    assert main(["sensitivity", str(grid)]) == 2
    err = capsys.readouterr().err
    assert "'grid' sampler" in err and "sobol" in err and "morris" in err


# ---- tipping ------------------------------------------------------------------------------


def test_tipping_finder_locates_a_known_jump():
    levels = np.round(np.linspace(0.1, 0.7, 13), 3)
    res = run_sweep(noisy_step, {"x": levels}, replicates=20, seed=4)
    tip = find_critical(res["x"], res["y"])
    assert tip.bracket == (0.35, 0.4)
    assert tip.critical == pytest.approx(0.37, abs=0.015)
    x, b = tip.most_bimodal
    assert x in (0.35, 0.4) or b != b
    assert sarle(np.r_[np.zeros(20), np.ones(20)]) > 5 / 9 > sarle(np.linspace(0, 1, 40)) - 1e-9


def test_tipping_command_on_the_tipping_scenario(tmp_path, capsys):
    """scenarios/tipping.toml, 5 levels x 4 replicates with common seeds: the jump lies between
    0.05 and 0.07 (critical about 0.06, tests/test_mechanisms.py)."""
    sweep = tmp_path / "tip.toml"
    sweep.write_text(
        f'scenario = "{SCENARIOS / "tipping.toml"}"\n'
        'replicates = 4\nseed = 1\nseeds = "common"\n'
        'timeseries = ["adoption:plant_based_meals"]\n'
        'outputs = ["final_adoption:plant_based_meals"]\n'
        '[parameters]\n"behaviours.plant_based_meals.committed_share" = '
        "{ levels = [0.04, 0.05, 0.06, 0.07, 0.08] }\n"
        '[tipping]\ncontrol = "behaviours.plant_based_meals.committed_share"\n'
        'outcome = "final_adoption:plant_based_meals"\n',
        encoding="utf-8",
    )
    out = tmp_path / "t"
    assert main(["tipping", str(sweep), "--out", str(out), "-q", "-j", "2"]) == 0
    info = json.loads((out / "tipping.json").read_text())
    assert 0.05 <= info["critical"] <= 0.07
    assert info["jump"] > 0.3
    assert (out / "tipping.png").stat().st_size > 1000
    ew = pd.read_csv(out / "early_warning.csv")
    assert len(ew) == 5 and ew["tau_var"].notna().all()
    assert "critical value" in capsys.readouterr().out
    # The folder can be analysed again on its own.
    assert main(["tipping", str(out), "-q"]) == 0


def test_early_warning_indicators_rise_before_a_transition_and_not_in_null_runs():
    from bt_sim.experiments.tipping import early_warning_runs

    rng = np.random.default_rng(3)
    rows = []
    for run in range(10):
        slowing = run < 5  # memory grows towards 1 (critical slowing down), else constant
        x = np.zeros(300)
        for t in range(1, 300):
            phi = 0.1 + 0.85 * t / 300 if slowing else 0.3
            x[t] = phi * x[t - 1] + rng.normal(0, 0.05)
        rows += [{"run": run, "step": t, "variable": "v", "value": v} for t, v in enumerate(x)]
    ind = early_warning_runs(pd.DataFrame(rows), "v")
    assert ind["tau_ac1"][:5].mean() > 0.5
    assert ind["tau_ac1"][:5].min() > ind["tau_ac1"][5:].mean()


def test_threshold_cascade_window_closes_between_degree_4_and_8():
    """Watts (2002), phi = 0.18: global cascades at moderate degree vanish above about 6.5."""
    from bt_sim.experiments.scenario_run import ScenarioRun
    from bt_sim.scenario import load_scenario, scenario_to_dict

    f = ScenarioRun(
        scenario_to_dict(load_scenario(SCENARIOS / "threshold.toml")),
        outputs=["final_adoption:new_practice"],
    )
    res = run_sweep(f, {"network.mean_degree": [3, 5, 6, 7, 9]}, replicates=10, seed=1)
    tip = find_critical(res["network.mean_degree"], res["final_adoption:new_practice"])
    # From one random seed a global cascade happens in about 60-80 % of runs at z = 3-5 (a
    # mean over 10 replicates has a standard error of about 0.15) and in none above z = 6.5:
    # the largest fall of the mean is about -0.6, so -0.3 leaves two standard errors.
    assert tip.jump < -0.3
    assert 4.5 <= tip.critical <= 7.5
    high = res[res["network.mean_degree"] >= 7]["final_adoption:new_practice"]
    assert (high < 0.01).all()


# ---- bad sweep files ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "key", "expect"),
    [
        (("seed = 5", "seed = 5\ncolour = 1"), "colour", "unknown key"),
        (("levels = [4, 8] }", "range = [8, 4], num = 2 }"), "parameters.network.mean_degree.range",
         "lo < hi"),
        (('sampler = "grid"', 'sampler = "halton"'), "sampler", "one of grid"),
        (("{scenario}", "nowhere.toml"), "scenario", "file not found"),
        (('"network.mean_degree"', '"network.mean_dgree"'), "parameters.network.mean_dgree",
         "unknown key"),
        (("levels = [2000, 8000]", "levels = [2000, -5]"), "parameters.behaviours.insulation"
         ".cost", "expected a value in"),
        (('"behaviours.insulation', '"behaviours.solar_roof'), "parameters.behaviours"
         ".solar_roof.cost", "no behaviour 'solar_roof'"),
        (('outputs = ["any_adoption", "kpi_saving"]', 'outputs = ["happiness"]'), "outputs",
         "no outcome 'happiness'"),
        (("replicates = 2", "replicates = 0"), "replicates", "an integer in [1, 100000]"),
    ],
)  # fmt: skip
def test_bad_sweep_file_gets_a_message_naming_file_and_key(tmp_path, capsys, change, key, expect):
    text = SMALL.replace(*change)
    path = tmp_path / "bad.toml"
    path.write_text(text.format(scenario=SCENARIOS / "default.toml"), encoding="utf-8")
    out = tmp_path / "never"
    assert main(["sweep", str(path), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("bt-sim: error: ") and "Traceback" not in err
    assert f"{path}: {key}" in err and expect in err, err
    assert not out.exists(), "nothing runs before the sweep file is checked"


def test_sweep_check_prints_the_plan(tmp_path, capsys):
    assert main(["sweep", str(write_sweep(tmp_path, SMALL)), "--check"]) == 0
    assert "4 points x 2 replicate(s) = 8 runs" in capsys.readouterr().out


def test_bundled_sweep_files_are_valid():
    files = sorted((ROOT / "scenarios" / "sweeps").glob("*.toml"))
    assert files
    for f in files:
        assert main(["sweep", str(f), "--check"]) == 0, f


def test_a_small_steady_rise_is_not_called_a_tipping_point():
    """Means moving from 0.04 to 0.09 over the range, the largest step 0.014: no critical
    value, the largest change reported with its interval; a jump of 0.8 is one."""
    from bt_sim.experiments.tipping import find_critical

    rng = np.random.default_rng(3)
    c = np.repeat(np.linspace(0.1, 1.3, 7), 10)
    small = find_critical(c, 0.04 + 0.05 * (c - 0.1) / 1.2 + rng.normal(0, 0.01, c.size))
    assert not small.tips and "nothing tips in this range" in small.summary()
    noisy = find_critical(c, rng.normal(0.5, 0.2, c.size), min_jump=0.0)
    assert not noisy.tips and "within the noise" in noisy.summary()
    big = find_critical(c, (c > 0.7) * 0.8 + rng.normal(0, 0.02, c.size))
    assert big.tips and "critical value: control = 0.79" in big.summary()
    lo, hi = big.jump_interval
    assert 0.7 < lo < hi < 0.9


def test_the_tipping_command_says_none_when_nothing_tips(tmp_path, capsys):
    sweep = tmp_path / "flat.toml"
    sweep.write_text(
        'scenario = "default"\nset = ["run.steps=12", "population.households=300"]\n'
        'replicates = 3\nseeds = "common"\noutputs = ["any_adoption"]\n'
        '[parameters]\n"social.success_weight" = { levels = [0.8, 0.9, 1.0] }\n'
        '[tipping]\ncontrol = "social.success_weight"\noutcome = "any_adoption"\n',
        encoding="utf-8",
    )
    out = tmp_path / "t"
    assert main(["tipping", str(sweep), "--out", str(out), "-q", "--executor", "inprocess"]) == 0
    info = json.loads((out / "tipping.json").read_text())
    assert info["tips"] is False and info["critical"] is None
    assert "critical value: none" in capsys.readouterr().out


def test_a_design_without_parameters_runs_its_replicates():
    """Replicates of one point: a design with rows and no columns (some pandas versions give
    no records for it)."""
    import pandas as pd

    from bt_sim.experiments.core import tasks_of

    tasks = list(tasks_of(pd.DataFrame(index=range(3)), 2, 1, "independent"))
    assert [(t.point, t.replicate) for t in tasks] == [(p, r) for p in range(3) for r in range(2)]
    assert all(t.params == {} for t in tasks)
