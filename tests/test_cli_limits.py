"""Optional parts say how to get them; nothing a user types can exhaust the machine or start
work it will refuse later: each refusal is one line, exit code 2, nothing written."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from bt_sim import load_scenario
from bt_sim.cli import main
from tests.conftest import ROOT

HUB_K = str(ROOT / "scenarios" / "sweeps" / "hub_k.toml")
TIPPING = str(ROOT / "scenarios" / "sweeps" / "tipping_committed.toml")


@pytest.fixture
def without(monkeypatch):
    """Pretend an optional package is not installed."""
    real = importlib.util.find_spec

    def hide(*names):
        monkeypatch.setattr(
            importlib.util, "find_spec", lambda n, *a: None if n in names else real(n, *a)
        )

    return hide


def refused(capsys, argv, *words):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    for w in words:
        assert w in err, err
    return err


def test_dask_without_the_extra_says_which_extra(without, capsys, tmp_path):
    without("distributed")
    refused(capsys, ["sweep", HUB_K, "--executor", "dask", "--check"],
            'pip install "bt-sim[dask]"', "--executor dask")  # fmt: skip
    refused(capsys, ["sweep", HUB_K, "--scheduler", "tcp://h:8786", "--out", str(tmp_path / "o")],
            'pip install "bt-sim[dask]"')  # fmt: skip
    assert not (tmp_path / "o").exists()


def test_calibration_without_the_extra_says_which_extra(without, capsys):
    without("pyabc")
    cal = next((ROOT / "calibration").rglob("*.toml"))
    refused(capsys, ["calibrate", str(cal)], 'pip install "bt-sim[calibration]"')


def test_a_scheduler_address_is_checked_before_any_work(capsys, tmp_path):
    refused(capsys, ["sweep", HUB_K, "--scheduler", "notaurl", "--check"],
            "--scheduler: expected an address like tcp://HOST:8786")  # fmt: skip


@pytest.mark.slow
def test_a_scheduler_that_does_not_answer_is_one_line(capsys, tmp_path):
    out = tmp_path / "o"
    refused(capsys, ["sweep", HUB_K, "--scheduler", "tcp://127.0.0.1:1", "--out", str(out)],
            "no Dask scheduler answered at tcp://127.0.0.1:1")  # fmt: skip
    assert not out.exists()


def _sweep(tmp_path, body: str):
    p = tmp_path / "s.toml"
    p.write_text('scenario = "default"\nset = ["run.steps=4", "population.households=200"]\n'
                 + body)  # fmt: skip
    return str(p)


def test_a_billion_levels_is_refused_at_once(capsys, tmp_path):
    f = _sweep(tmp_path, '[parameters]\n"network.mean_degree" = { range = [4, 8], '
               "num = 1000000000 }\n")  # fmt: skip
    err = refused(capsys, ["sweep", f, "--check"], "num: expected a positive integer of at most")
    assert "a grid needs" not in err  # no second, misleading line


def test_num_with_a_sampler_that_draws_is_refused(capsys, tmp_path):
    f = _sweep(tmp_path, 'sampler = "latin"\nsamples = 8\n[parameters]\n'
               '"network.mean_degree" = { range = [4, 8], num = 5 }\n'
               '"hub.k" = { range = [5, 20] }\n')  # fmt: skip
    refused(capsys, ["sweep", f, "--check"], "num sets a grid's levels; the latin sampler")


def test_grids_over_text_and_true_false_keys_run(tmp_path, capsys):
    f = _sweep(tmp_path, 'replicates = 1\n[parameters]\n'
               '"social.response" = { levels = ["linear", "sigmoid"] }\n'
               '"hub.enabled" = { levels = [true, false] }\n')  # fmt: skip
    out = tmp_path / "o"
    assert main(["sweep", f, "--out", str(out), "--executor", "inprocess", "-q"]) == 0
    import pandas as pd

    parts = pd.concat(pd.read_parquet(p) for p in sorted(out.glob("part-*.parquet")))
    assert set(parts["social.response"]) == {"linear", "sigmoid"}
    assert (parts["error"] == "").all() and len(parts) == 4


def test_resume_needs_a_folder_and_does_not_go_with_force(capsys, tmp_path):
    out = tmp_path / "o"
    refused(capsys, ["sweep", HUB_K, "--out", str(out), "--resume"], "no results folder")
    refused(capsys, ["sweep", HUB_K, "--out", str(out), "--resume", "--force"],
            "give one")  # fmt: skip
    assert not out.exists()


@pytest.mark.parametrize(
    ("option", "value"),
    [("--refine", "1000000000"), ("--refine", "-1"), ("--continuation", "1000000000")],
)
def test_tipping_limits_are_checked_by_the_parser(capsys, option, value):
    with pytest.raises(SystemExit) as exc:
        main(["tipping", TIPPING, option, value])
    assert exc.value.code == 2
    assert "expected" in capsys.readouterr().err


def test_tipping_checks_its_outcome_and_continuation_before_any_run(capsys, tmp_path):
    out = tmp_path / "o"
    refused(capsys, ["tipping", TIPPING, "--outcome", "nope", "--out", str(out)],
            "'nope' is not an output the sweep keeps")  # fmt: skip
    f = _sweep(tmp_path, 'sampler = "latin"\nsamples = 4\n[parameters]\n'
               '"network.mean_degree" = { range = [4, 8] }\n'
               '[tipping]\ncontrol = "network.mean_degree"\n'
               'outcome = "any_adoption"\n')  # fmt: skip
    refused(capsys, ["tipping", f, "--continuation", "5", "--out", str(out)],
            "--continuation needs a grid sweep")  # fmt: skip
    assert not out.exists()


def test_more_workers_than_the_machine_or_the_sweep_can_use_are_capped(tmp_path, capsys):
    f = _sweep(tmp_path, 'replicates = 2\n[parameters]\n"hub.k" = { levels = [5, 10] }\n')
    assert main(["sweep", f, "--out", str(tmp_path / "o"), "-j", "100000", "-q"]) == 0
    err = capsys.readouterr().err
    assert "-j 100000: using" in err and "the sweep 4 runs" in err


def test_load_scenario_takes_a_bundled_name():
    assert load_scenario("tipping").name == "tipping"


def test_bundled_sweeps_and_comparisons_by_name(capsys):
    assert main(["sweep", "hub_k", "--check"]) == 0
    assert main(["compare", "half_the_town", "--check"]) == 0
    capsys.readouterr()
    refused(capsys, ["sweep", "no_such_sweep", "--check"], "no_such_sweep")


def test_a_users_file_extends_a_bundled_scenario_by_name(tmp_path):
    f = tmp_path / "mine.toml"
    f.write_text('extends = "tipping"\nname = "mine"\n[run]\nsteps = 12\n')
    sc = load_scenario(str(f))
    assert sc.name == "mine" and sc.run.steps == 12
    assert sc.behaviours == load_scenario("tipping").behaviours


def test_a_damaged_part_is_named_and_resume_runs_its_runs_again(tmp_path, capsys):
    f = _sweep(
        tmp_path, 'replicates = 2\nbatch = 1\n[parameters]\n"hub.k" = { levels = [5, 10] }\n'
    )
    out = tmp_path / "o"
    assert main(["sweep", f, "--out", str(out), "--executor", "inprocess", "-q"]) == 0
    part = sorted(out.glob("part-*.parquet"))[1]
    part.write_bytes(part.read_bytes()[:40])  # a truncated file
    refused(capsys, ["tipping", str(out), "--control", "hub.k", "--outcome", "any_adoption"],
            part.name, "damaged results part", "--resume")  # fmt: skip
    assert main(["sweep", f, "--out", str(out), "--executor", "inprocess", "--resume", "-q"]) == 0
    assert f"{part.name} was damaged" in capsys.readouterr().err
    assert (out / f"{part.name}.damaged").exists()  # kept, not deleted
    from bt_sim.experiments.store import SweepStore

    assert sorted(SweepStore(out).results()["run"]) == [0, 1, 2, 3]


def test_an_empty_scenario_file_is_refused(tmp_path, capsys):
    f = tmp_path / "empty.toml"
    f.write_text("# nothing yet\n")
    refused(capsys, ["run", str(f), "--out", str(tmp_path / "o")], "empty: a scenario file")
    assert not (tmp_path / "o").exists()


def test_a_claim_given_up_leaves_no_empty_results_folder(tmp_path, monkeypatch):
    from bt_sim.outdir import claim_output

    monkeypatch.chdir(tmp_path)
    claim = claim_output(None, "default")
    assert (tmp_path / "results").is_dir()
    claim.release()  # interrupted before anything was committed
    assert not (tmp_path / "results").exists()
    (tmp_path / "results").mkdir()
    (tmp_path / "results" / "mine.txt").write_text("a user's file")
    claim_output(None, "default").release()
    assert (tmp_path / "results" / "mine.txt").exists()  # a folder that was there stays


@pytest.mark.slow
def test_workers_die_with_a_sweep_killed_by_sigkill(tmp_path):
    import os
    import signal
    import subprocess
    import sys
    import time

    f = _sweep(tmp_path, 'replicates = 200\n[parameters]\n"hub.k" = { levels = [5, 10] }\n')
    cmd = [sys.executable, "-m", "bt_sim.cli", "sweep", f, "--out", str(tmp_path / "o")]
    proc = subprocess.Popen(
        [*cmd, "-j", "2", "-q"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )

    def children() -> set[int]:
        out = subprocess.run(["pgrep", "-P", str(proc.pid)], capture_output=True, text=True)
        return {int(p) for p in out.stdout.split()}

    deadline = time.monotonic() + 60
    while len(children()) < 2 and time.monotonic() < deadline:
        time.sleep(0.2)
    workers = children()
    assert len(workers) >= 2, "the sweep started its workers"
    time.sleep(1.0)  # the workers are running runs
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    deadline = time.monotonic() + 10
    alive = workers
    while alive and time.monotonic() < deadline:
        time.sleep(0.2)
        alive = {p for p in workers if _running(p)}
    assert not alive, f"workers still running after their parent was killed: {alive}"


def _running(pid: int) -> bool:
    """Whether process ``pid`` exists and is not a zombie."""
    from pathlib import Path

    stat = Path(f"/proc/{pid}/stat")
    try:
        return stat.read_text().split()[2] != "Z"
    except (OSError, IndexError):
        return False


def test_force_replaces_a_tipping_folder(tmp_path, capsys):
    f = _sweep(tmp_path, 'replicates = 2\noutputs = ["any_adoption"]\n[parameters]\n'
               '"social.success_weight" = { levels = [0.5, 1.0] }\n'
               '[tipping]\ncontrol = "social.success_weight"\n'
               'outcome = "any_adoption"\n')  # fmt: skip
    out = tmp_path / "o"
    args = ["tipping", f, "--out", str(out), "--executor", "inprocess", "-q"]
    assert main(args) == 0
    import json

    files = json.loads((out / "manifest.json").read_text())["files"]
    assert {"tipping.csv", "tipping.json", "tipping.png"} <= set(files.values())
    assert {"tipping.csv", "tipping.json"} <= set(files)  # by the whole name, no collision
    assert main([*args, "--force"]) == 0
    (out / "notes.txt").write_text("mine")
    err = refused(capsys, [*args, "--force"], "holds files bt-sim did not write (notes.txt)")
    assert err.startswith(f"bt-sim: error: {out}")  # the folder first, then its files


def test_a_report_for_a_grid_sweep_with_common_seeds(tmp_path, capsys):
    f = _sweep(tmp_path, 'replicates = 3\nseeds = "common"\noutputs = ["any_adoption", '
               '"members"]\n[parameters]\n"hub.k" = { levels = [5, 20] }\n'
               '"social.response" = { levels = ["linear", "sigmoid"] }\n')  # fmt: skip
    out = tmp_path / "o"
    assert main(["sweep", f, "--out", str(out), "--executor", "inprocess", "-q"]) == 0
    capsys.readouterr()
    assert main(["report", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "## any_adoption" in printed and "vs point 0 (paired)" in printed
    import pandas as pd

    t = pd.read_csv(out / "report.csv")
    assert len(t) == 2 * 4 and set(t["output"]) == {"any_adoption", "members"}
    assert (t[t["point"] == 0]["diff"] == 0).all()  # the reference against itself
    runs = pd.concat(pd.read_parquet(p) for p in sorted(out.glob("part-*.parquet")))
    p1 = runs[runs["point"] == 1]["any_adoption"].mean()
    assert t[(t["point"] == 1) & (t["output"] == "any_adoption")]["mean"].item() == (
        pytest.approx(p1)
    )
    for name in ("report.md", "report-any_adoption.png", "report-members.png"):
        assert (out / name).is_file()
    refused(capsys, ["report", str(out), "--output", "nope"], "no output 'nope'")
    refused(capsys, ["report", str(out), "--reference", "9"], "expected a point in 0..3")
    refused(capsys, ["report", str(tmp_path / "none")], "no such results folder")


def test_an_unknown_sampler_is_one_line(capsys, tmp_path):
    f = _sweep(tmp_path, 'sampler = "lattice"\n[parameters]\n"hub.k" = { range = [5, 20] }\n')
    err = refused(capsys, ["sweep", f, "--check"], "sampler: expected one of grid")
    assert "a grid needs" not in err and len(err.strip().splitlines()) == 1


def test_sensitivity_of_one_output_keeps_the_others(tmp_path, capsys):
    import pandas as pd

    f = _sweep(tmp_path, 'sampler = "sobol"\nsamples = 8\noutputs = ["any_adoption", '
               '"members"]\n[parameters]\n"hub.k" = { range = [5, 20] }\n'
               '"collectives.tie_rate" = { range = [0.0, 0.1] }\n')  # fmt: skip
    out = tmp_path / "o"
    assert main(["sweep", f, "--out", str(out), "--executor", "inprocess", "-q"]) == 0
    assert main(["sensitivity", str(out), "--no-plot"]) == 0
    assert main(["sensitivity", str(out), "--output", "members", "--no-plot"]) == 0
    table = pd.read_csv(out / "sensitivity.csv")
    assert set(table["output"]) == {"any_adoption", "members"}
    capsys.readouterr()


@pytest.mark.slow
def test_an_interrupted_sweep_says_incomplete(tmp_path):
    import json
    import signal
    import subprocess
    import sys
    import time

    # 4,000 small runs: seconds of work, so the sweep is still going when the signal comes
    # however fast the engine (the signal follows the first part file within 0.1 s)
    f = _sweep(
        tmp_path, 'replicates = 2000\nbatch = 2\n[parameters]\n"hub.k" = { levels = [5, 10] }\n'
    )
    out = tmp_path / "o"
    log = tmp_path / "stderr.txt"

    def as_from_a_terminal() -> None:
        # Ctrl-C as a user's shell delivers it: SIGINT unblocked and at its default, whatever
        # the test process inherited or a library left (in two full CI runs the child ignored
        # it and finished its sweep; never when this test ran alone)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
        signal.signal(signal.SIGINT, signal.SIG_DFL)

    with open(log, "w") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "bt_sim.cli", "sweep", f, "--out", str(out), "--executor",
             "inprocess", "-q"], stdout=subprocess.DEVNULL, stderr=err,
            preexec_fn=as_from_a_terminal,
        )  # fmt: skip
    deadline = time.monotonic() + 60
    while not list(out.glob("part-*.parquet")) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert proc.poll() is None, f"the sweep ended before the signal: {log.read_text()}"
    proc.send_signal(signal.SIGINT)
    code = proc.wait(timeout=60)
    status = Path("/proc/self/status").read_text().splitlines()
    mine = {k: v.strip() for k, v in (line.split(":", 1) for line in status)}
    assert code == 130, (
        f"exit {code}; this process's SigBlk {mine.get('SigBlk')} SigIgn {mine.get('SigIgn')};"
        f" stderr: {log.read_text()[-2000:]}"
    )
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "incomplete" and manifest["recorded"] >= 2


def test_check_checks_the_results_folder(tmp_path, capsys):
    f = _sweep(tmp_path, 'name = "c"\nreplicates = 1\n[parameters]\n"hub.k" = { levels = [5] }\n')
    taken = tmp_path / "taken"
    taken.mkdir()
    (taken / "mine.txt").write_text("a user's file")
    refused(capsys, ["sweep", f, "--out", str(taken), "--check"], "already exists")
    refused(capsys, ["sweep", f, "--out", str(taken), "--check", "--force"],
            "--force replaces only a results folder that bt-sim wrote")  # fmt: skip
    refused(capsys, ["sweep", f, "--out", str(tmp_path / "none"), "--check", "--resume"],
            "no results folder")  # fmt: skip
    assert (taken / "mine.txt").read_text() == "a user's file"
    assert sorted(p.name for p in taken.iterdir()) == ["mine.txt"]
    assert not (tmp_path / "none").exists()
    assert main(["sweep", f, "--out", str(tmp_path / "new"), "--check"]) == 0
    assert f"writes {tmp_path / 'new'}/" in capsys.readouterr().out
    assert not (tmp_path / "new").exists()  # --check touches nothing


def test_a_sweeps_folder_is_its_name_and_force_replaces_it(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    f = _sweep(tmp_path, 'name = "mine"\nreplicates = 1\n[parameters]\n'
               '"hub.k" = { levels = [5] }\n')  # fmt: skip
    argv = ["sweep", f, "--executor", "inprocess", "-q"]
    assert main(argv) == 0
    assert (tmp_path / "results" / "mine" / "manifest.json").exists()
    refused(capsys, argv, "results/mine: already exists", "--resume")  # never numbered
    assert main([*argv, "--force"]) == 0  # replaces results/mine, no mine-2
    assert sorted(p.name for p in (tmp_path / "results").iterdir()) == ["mine"]


def test_run_force_without_out_replaces_the_default_folder(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    argv = ["run", "default", "--set", "run.steps=2", "--set", "population.households=200",
            "--replicates", "1", "-q", "--no-plot"]  # fmt: skip
    assert main(argv) == 0 and main(argv) == 0
    assert sorted(p.name for p in (tmp_path / "results").iterdir()) == ["default", "default-2"]
    assert main([*argv, "--force"]) == 0
    assert sorted(p.name for p in (tmp_path / "results").iterdir()) == ["default", "default-2"]


def test_a_sweep_files_set_is_blamed_on_the_file(tmp_path, capsys):
    p = tmp_path / "s.toml"
    p.write_text('scenario = "default"\nset = ["run.stepz=4"]\n[parameters]\n'
                 '"hub.k" = { levels = [5] }\n')  # fmt: skip
    err = refused(capsys, ["sweep", str(p), "--check"], f"{p}: set: run.stepz: unknown key")
    assert "--set" not in err
    p.write_text('scenario = "default"\nset = ["run.steps=-4"]\n[parameters]\n'
                 '"hub.k" = { levels = [5] }\n')  # fmt: skip
    err = refused(capsys, ["sweep", str(p), "--check"], f"{p}: set", "run.steps")
    assert "--set" not in err


def test_the_documented_sweep_file_is_valid(tmp_path, capsys):
    text = (ROOT / "docs" / "experiments.md").read_text()
    block = text.split("```toml\n", 1)[1].split("```", 1)[0]
    f = tmp_path / "my_sweep.toml"
    f.write_text(block)
    assert main(["sweep", str(f), "--check", "--out", str(tmp_path / "o")]) == 0
    assert "my_sweep: grid sampler, 15 points x 10 replicate(s)" in capsys.readouterr().out


def test_the_time_left_leaves_out_the_warm_up():
    from bt_sim.experiments.core import _Bar

    bar = _Bar(100, "s", enabled=False, warm=2)
    # the first two runs (one per worker) take 60 s: starting workers, loading kernels
    assert bar.left(1, 100, 60.0) == "estimating"
    assert bar.left(2, 100, 60.0) == "estimating"
    # then a run a second: 90 runs left take 90 s, not 90 x 30 s
    assert bar.left(12, 100, 70.0) == "01:28"


def test_a_sweep_that_would_not_fit_in_memory_is_refused_before_any_work(
    tmp_path, capsys, monkeypatch
):
    import bt_sim.runner
    from bt_sim.experiments.core import prepare
    from bt_sim.experiments.resources import estimate_sweep_memory
    from bt_sim.experiments.spec import read_sweep

    f = _sweep(tmp_path, 'name = "m"\nreplicates = 2\n[parameters]\n'
               '"population.households" = { levels = [200, 400000] }\n')  # fmt: skip
    spec = read_sweep(f)
    func, _design = prepare(spec)
    one = estimate_sweep_memory(spec, func, 4, 1)
    two = estimate_sweep_memory(spec, func, 4, 2)
    # the largest point sets a worker's share: 400,000 households need over 300 MB each
    assert one["per_run"] > 300e6 and two["workers"] == 2 * one["workers"]
    monkeypatch.setattr(bt_sim.runner, "available_memory", lambda: one["total"] + 1.0)
    out = tmp_path / "o"
    refused(capsys, ["sweep", f, "-j", "2", "--out", str(out)],
            "this sweep needs about", "2 worker(s)", "lower -j (2)")  # fmt: skip
    refused(capsys, ["sweep", f, "-j", "2", "--check"], "this sweep needs about")
    assert not out.exists()
    assert main(["sweep", f, "-j", "1", "--check"]) == 0  # one worker fits
    assert "memory: about" in capsys.readouterr().out


def test_a_bad_calibration_file_is_refused_before_a_dask_cluster_starts(tmp_path, capsys,
                                                                      monkeypatch):  # fmt: skip
    import bt_sim.experiments.executors as executors

    started = []
    monkeypatch.setattr(executors, "make_executor", lambda *a, **k: started.append(a))
    bad = tmp_path / "cal.toml"
    bad.write_text('name = "x"\nscenario = "nowhere.toml"\ndata = "hub.csv"\n')
    refused(capsys, ["calibrate", str(bad), "--executor", "dask"], "scenario")
    assert started == []
