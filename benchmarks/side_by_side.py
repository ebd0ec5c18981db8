"""The engine and the per-agent Mesa baseline stepped in turn, in one process, on the same steps.

For each size, one ``TransitionModel`` and one ``BaselineModel`` (which copies the engine's world
for the same scenario and seed) are built, then stepped alternately: engine step t, baseline
step t, engine step t + 1, ... over a whole run. Each step is timed by CPU time
(``time.process_time``) and by wall time, so both models see the same machine at the same
moments; the machine's load is printed before and after. The table gives the ratio of the
baseline's time to the engine's over the whole run and over windows early, in the middle and
late in the run (where adoption and membership, and so the baseline's work per step, differ).

    python benchmarks/side_by_side.py --sizes 10000 100000 --steps 120

At 100,000 households the baseline takes about a second a step, so a whole run takes minutes.
Every process should run with one BLAS/OpenMP thread (the script sets it before importing numpy).
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import platform  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.mesa_baseline import BaselineModel  # noqa: E402
from benchmarks.run_benchmarks import bench_overrides  # noqa: E402
from bt_sim import TransitionModel, load_scenario  # noqa: E402


def timed(fn) -> tuple[float, float]:
    c0, w0 = time.process_time(), time.perf_counter()
    fn()
    return time.process_time() - c0, time.perf_counter() - w0


def windows(steps: int) -> dict[str, slice]:
    w = max(1, steps // 12)
    mid = steps // 2
    return {
        "early": slice(0, w),
        "middle": slice(mid - w // 2, mid - w // 2 + w),
        "late": slice(steps - w, steps),
        "whole run": slice(0, steps),
    }


def measure(households: int, steps: int, seed: int) -> dict:
    scenario = load_scenario(None, bench_overrides(households, steps))
    TransitionModel(load_scenario(None, bench_overrides(400, 12)), seed=0).run()  # load kernels
    b_build = timed(lambda: None)
    holder = {}
    e_build = timed(lambda: holder.__setitem__("e", TransitionModel(scenario, seed=seed)))
    b_build = timed(lambda: holder.__setitem__("b", BaselineModel(scenario, seed=seed)))
    engine, baseline = holder["e"], holder["b"]
    e = np.zeros((steps, 2))
    b = np.zeros((steps, 2))
    for t in range(steps):
        e[t] = timed(engine.step)
        b[t] = timed(baseline.step)
    return {"e": e, "b": b, "e_build": e_build, "b_build": b_build}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000])
    ap.add_argument("--steps", type=int, default=120)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args(argv)
    print(
        f"# side by side, {time.strftime('%Y-%m-%d %H:%M')}; {platform.processor() or ''} "
        f"{platform.machine()}, {os.cpu_count()} CPUs; load {os.getloadavg()}"
    )
    print(f"# command: python benchmarks/side_by_side.py {' '.join(argv or sys.argv[1:])}")
    print()
    print(
        "| households | window (steps) | engine CPU ms/step | baseline CPU ms/step | "
        "ratio (CPU) | engine wall ms/step | baseline wall ms/step | ratio (wall) |"
    )
    print("| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for n in args.sizes:
        r = measure(n, args.steps, args.seed)
        for name, sl in windows(args.steps).items():
            e = r["e"][sl].mean(axis=0) * 1000
            b = r["b"][sl].mean(axis=0) * 1000
            rng = f"{name} ({sl.start + 1}-{sl.stop})"
            print(
                f"| {n:,} | {rng} | {e[0]:.2f} | {b[0]:.1f} | {b[0] / e[0]:.0f}x | "
                f"{e[1]:.2f} | {b[1]:.1f} | {b[1] / e[1]:.0f}x |"
            )
        eb, bb = r["e_build"], r["b_build"]
        print(f"| {n:,} | construction (s, CPU) | {eb[0]:.2f} | {bb[0]:.2f} | | | | |")
        sys.stdout.flush()
    print()
    print(f"# load after: {os.getloadavg()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
