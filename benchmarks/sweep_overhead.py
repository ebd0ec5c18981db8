"""What a sweep costs beyond its runs: ``bt-sim sweep`` on one worker against a plain loop.

Usage::

    python benchmarks/sweep_overhead.py [--runs 100] [--repeat 2] [--households 2000]

Both run the same ``--runs`` runs of ``scenarios/default.toml`` (seeds of a sweep's point 0
.. runs - 1), each in fresh processes started from here, in turn, ``--repeat`` rounds, the best
round of each kept:

* ``plain loop``: one Python process that imports bt-sim and calls the sweep's function in a
  ``for`` loop (the floor: imports, kernel loading and the runs, nothing else);
* ``bt-sim sweep -j 1``: the command line on a one-parameter grid of ``--runs`` points, with
  everything it does: reading and checking the sweep file, the scenario's corner points and
  outputs, the memory estimate, the results folder, the worker, the Parquet parts, the summary.

CPU time is user + system of the process and all its children (``RUSAGE_CHILDREN``), so the
worker processes count. The target (issue 26) is a sweep within 10 % of the plain loop's CPU.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ONE_THREAD = {
    v: "1"
    for v in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS")
}

_LOOP = """
import sys
from bt_sim.experiments.core import run_seed
from bt_sim.experiments.scenario_run import ScenarioRun
from bt_sim.scenario import load_scenario, scenario_to_dict
over = [f"population.households={sys.argv[2]}"]
f = ScenarioRun(scenario_to_dict(load_scenario("default", over)), ["any_adoption"])
for i in range(int(sys.argv[1])):
    f({"run.seed": 1}, run_seed(1, i, 0))
"""


def _children_cpu() -> float:
    ch = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ch.ru_utime + ch.ru_stime


def measure(cmd: list[str]) -> dict[str, float]:
    env = dict(os.environ, **ONE_THREAD)
    c0, t0 = _children_cpu(), time.perf_counter()
    subprocess.run(cmd, env=env, check=True, stdout=subprocess.DEVNULL)
    return {"wall": time.perf_counter() - t0, "cpu": _children_cpu() - c0}


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    p.add_argument("--runs", type=int, default=100)
    p.add_argument("--repeat", type=int, default=2)
    p.add_argument("--households", type=int, default=2000)
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        sweep = Path(tmp) / "overhead.toml"
        sweep.write_text(
            'name = "overhead"\nscenario = "default"\nsampler = "grid"\nreplicates = 1\n'
            f'seed = 1\nset = ["population.households={args.households}"]\n'
            'outputs = ["any_adoption"]\n[parameters]\n'
            f'"run.seed" = {{ levels = [1] }}\n'
        )
        # one point and --runs replicates: the same work as the loop's runs
        sweep.write_text(sweep.read_text().replace("replicates = 1", f"replicates = {args.runs}"))
        bt = [sys.executable, "-m", "bt_sim.cli", "sweep", str(sweep), "-j", "1", "-q"]
        loop = [sys.executable, "-c", _LOOP, str(args.runs), str(args.households)]
        best: dict[str, dict[str, float]] = {}
        for r in range(args.repeat):
            for name, cmd in (("plain loop", loop), ("bt-sim sweep -j 1", bt)):
                extra = ["--out", str(Path(tmp) / f"out-{r}")] if cmd is bt else []
                m = measure(cmd + extra)
                if name not in best or m["cpu"] < best[name]["cpu"]:
                    best[name] = m
    load = os.getloadavg()
    print(f"{args.runs} runs of default.toml ({args.households} households), best of "
          f"{args.repeat}; {os.cpu_count()} CPUs, load average {load[0]:.2f}")  # fmt: skip
    base = best["plain loop"]["cpu"]
    print(f"{'how':<20} {'wall s':>8} {'CPU s':>8} {'CPU over the loop':>18}")
    for name, m in best.items():
        over = m["cpu"] - base
        print(f"{name:<20} {m['wall']:>8.2f} {m['cpu']:>8.2f} {over:>+10.2f} s "
              f"{over / base:>+6.1%}")  # fmt: skip


if __name__ == "__main__":
    main()
