"""CPU time of whole runs of the engine alone: 2,000 and 100,000 households x 120 steps.

Best and median CPU time (``time.process_time``) of complete runs, construction included, after
one warm-up run that loads the compiled kernels. Point ``PYTHONPATH`` at another checkout's
``src`` to time an earlier version of the engine on the same machine, for before/after figures:

    python benchmarks/whole_runs.py
    PYTHONPATH=/path/to/old/checkout/src python benchmarks/whole_runs.py
    python benchmarks/whole_runs.py --set "interventions=[]"   # the default less its purchase
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import statistics  # noqa: E402
import time  # noqa: E402

from bt_sim import TransitionModel, load_scenario  # noqa: E402

SIZES = ((2_000, 15), (100_000, 3))  # households, runs


def main() -> int:
    import argparse

    import bt_sim

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    args = ap.parse_args()
    print(
        f"# whole runs, {time.strftime('%Y-%m-%d %H:%M')}, engine from {bt_sim.__file__}, "
        f"load {os.getloadavg()[0]:.2f}, set {args.set}"
    )
    for n, runs in SIZES:
        sc = load_scenario(None, [f"population.households={n}", "run.steps=120", *args.set])
        TransitionModel(sc, seed=0).run(3)
        cpu = []
        for r in range(runs):
            t0 = time.process_time()
            TransitionModel(sc, seed=r + 1).run()
            cpu.append(time.process_time() - t0)
        print(
            f"{n:>9,} households x 120 steps: CPU best {min(cpu) * 1000:.0f} ms, "
            f"median {statistics.median(cpu) * 1000:.0f} ms ({runs} runs)"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
