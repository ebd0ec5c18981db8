"""Calibration throughput: simulations a second on 1 and N processes, and the calibration's
cost beyond its bare simulations.

Usage::

    python benchmarks/calibration_throughput.py [--procs 1 2] [--generations 3] [--repeat 2]
                                                [--src PATH]

The synthetic calibration (``calibration/synthetic``: 600 households, 120 steps, two
parameters, population 60), ``--generations`` generations:

* ``bt-sim calibrate --procs N`` in a fresh process, as a user runs it, each N in turn,
  ``--repeat`` rounds, the fastest kept: wall time of the whole command (start-up, workers,
  the predictive check, the report), CPU time of it and its children, the simulations of the
  ABC and their rate (``fit.json``'s ``simulations_per_second``: the ABC's own seconds);
* the overhead, in this process with one process: the ABC's wall time over the time spent
  inside the simulations themselves (``simulate_panel``, timed around each call), less one:
  sampling, statistics, distances, the pyabc history.

``--src`` runs another checkout's ``src`` (``PYTHONPATH``), for before/after figures.
Targets (issue 27): 2 processes at least 1.8 x one; the overhead under 25 %.
"""

from __future__ import annotations

import argparse
import os
import resource
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _cpu() -> float:
    me = resource.getrusage(resource.RUSAGE_SELF)
    ch = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + ch.ru_utime + ch.ru_stime


def calibrate(cal, observed, procs: int, generations: int) -> dict:
    import dataclasses

    import bt_sim.calibration.abc as abc

    cal = dataclasses.replace(cal, generations=generations)
    inside = [0.0]
    real = abc.simulate_panel

    def timed(*a, **k):  # counts in this process only: procs = 1
        t = time.perf_counter()
        try:
            return real(*a, **k)
        finally:
            inside[0] += time.perf_counter() - t

    abc.simulate_panel = timed
    try:
        with tempfile.TemporaryDirectory() as tmp:
            c0, t0 = _cpu(), time.perf_counter()
            history, _, _ = abc.run_abc(cal, observed, Path(tmp) / "h.db", False, procs)
            wall, cpu = time.perf_counter() - t0, _cpu() - c0
            sims = int(history.total_nr_simulations)
    finally:
        abc.simulate_panel = real
    return {"wall": wall, "cpu": cpu, "sims": sims, "inside": inside[0]}


def command(cal_file: Path, procs: int, out: Path, src: str | None) -> dict:
    """``bt-sim calibrate`` in a fresh process."""
    import json
    import subprocess
    import sys

    env = dict(os.environ)
    if src:
        env["PYTHONPATH"] = src
    ch = resource.getrusage(resource.RUSAGE_CHILDREN)
    c0 = ch.ru_utime + ch.ru_stime
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "bt_sim.cli", "calibrate", str(cal_file), "--procs",
                    str(procs), "--out", str(out), "-q"], env=env, check=True)  # fmt: skip
    wall = time.perf_counter() - t0
    ch = resource.getrusage(resource.RUSAGE_CHILDREN)
    fit = json.loads((out / "manifest.json").read_text())["fit"]
    return {"wall": wall, "cpu": ch.ru_utime + ch.ru_stime - c0,
            "sims": fit["simulations_this_run"], "rate": fit["simulations_per_second"],
            "abc_s": fit["seconds_this_run"]}  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    p.add_argument("--procs", type=int, nargs="+", default=[1, 2])
    p.add_argument("--generations", type=int, default=3)
    p.add_argument("--repeat", type=int, default=2)
    p.add_argument("--src", help="a checkout's src folder to run instead of this one")
    args = p.parse_args(argv)
    from bt_sim.calibration.config import load_calibration
    from bt_sim.calibration.hubdata import load_hub_data

    here = ROOT / "calibration" / "synthetic"
    text = (here / "calibration.toml").read_text()
    text = text.replace('scenario = "scenario.toml"', f'scenario = "{here / "scenario.toml"}"')
    text = text.replace('data = "hub.csv"', f'data = "{here / "hub.csv"}"')
    text = text.replace("generations = 4", f"generations = {args.generations}")
    best: dict[int, dict] = {}
    with tempfile.TemporaryDirectory() as tmp:
        cal_file = Path(tmp) / "calibration.toml"
        cal_file.write_text(text)
        for r in range(args.repeat):
            for n in args.procs:
                got = command(cal_file, n, Path(tmp) / f"out-{r}-{n}", args.src)
                if n not in best or got["wall"] < best[n]["wall"]:
                    best[n] = got
        cal = load_calibration(cal_file)
        observed = load_hub_data(cal.data_path, cal.scenario())
        inproc = min((calibrate(cal, observed, 1, args.generations) for _ in range(args.repeat)),
                     key=lambda g: g["wall"])  # fmt: skip
    load = os.getloadavg()
    print(f"synthetic calibration, {args.generations} generations of {cal.population_size}; "
          f"{os.cpu_count()} CPUs, load average {load[0]:.2f}; best of {args.repeat}"
          + (f"; src {args.src}" if args.src else ""))  # fmt: skip
    print(f"{'procs':>5} {'wall s':>8} {'CPU s':>8} {'ABC sims':>9} {'ABC s':>7} {'sims/s':>8} "
          f"{'x 1 proc':>9} {'wall x 1':>9}")  # fmt: skip
    first = best[min(best)]
    for n, r in sorted(best.items()):
        print(f"{n:>5} {r['wall']:>8.2f} {r['cpu']:>8.2f} {r['sims']:>9} {r['abc_s']:>7.2f} "
              f"{r['rate']:>8.1f} {r['rate'] / first['rate']:>8.2f}x "
              f"{first['wall'] / r['wall']:>8.2f}x")  # fmt: skip
    over = inproc["wall"] / inproc["inside"] - 1
    print(f"overhead on one process (run_abc in this process): {inproc['wall']:.2f} s, of which "
          f"{inproc['inside']:.2f} s inside {inproc['sims']} simulations: {over:+.0%}")  # fmt: skip


if __name__ == "__main__":
    main()
