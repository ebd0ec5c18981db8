"""What a comparison of strategies costs beyond its runs: bt-sim compare against the same
runs alone, in turn in one process.

The comparison file (default ``scenarios/strategies/half_the_town.toml``: 6 strategies x 20
replicates of the town) is timed three ways, each by CPU time (``time.process_time``) and
wall time, in this process, after a warm-up run that loads the compiled kernels:

* ``alone``: its runs as plain model runs (each strategy's scenario, replicate r's seed), the
  recommender of a warm start included;
* ``cold``: the same runs with every warm start replaced by a cold one (no records read, no
  recommender): the runs without anything the network organisation's knowledge adds;
* ``compare``: the comparison as ``bt-sim compare`` does it (the sweep machinery in this
  process, the outcomes of every run, the paired statistics, the tables and the picture
  written to a temporary folder).

``alone`` and ``compare`` alternate ``--rounds`` times (default 2), and the best of each is
taken; ``cold`` runs once per round too. Prints the three and the overheads of ``compare``
against ``alone`` and against ``cold``:

    python benchmarks/compare_overhead.py
    python benchmarks/compare_overhead.py --replicates 5 --rounds 1
"""

from __future__ import annotations

import argparse
import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import dataclasses  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
FILE = ROOT / "scenarios" / "strategies" / "half_the_town.toml"


def timed(fn) -> tuple[float, float]:
    c0, w0 = time.process_time(), time.perf_counter()
    fn()
    return time.process_time() - c0, time.perf_counter() - w0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("file", nargs="?", default=str(FILE))
    ap.add_argument("--replicates", type=int, help="replicates (default: the file's)")
    ap.add_argument("--rounds", type=int, default=2)
    args = ap.parse_args()

    from bt_sim import TransitionModel
    from bt_sim.cli import main as cli
    from bt_sim.experiments.compare import prepare, read_comparison
    from bt_sim.experiments.core import run_seed

    comp = read_comparison(args.file)
    if args.replicates:
        comp = dataclasses.replace(comp, replicates=args.replicates)
    func, _ = prepare(comp)
    cold_comp = dataclasses.replace(
        comp,
        strategies=tuple(
            dataclasses.replace(s, settings={**s.settings, "organisation.warm_start": False})
            for s in comp.strategies
        ),
    )
    cold_func, _ = prepare(cold_comp)
    n = len(comp.strategies)
    print(f"{comp.name}: {n} strategies x {comp.replicates} replicates = "
          f"{n * comp.replicates} runs of {comp.scenario}")  # fmt: skip
    TransitionModel(func.scenario(0), seed=0).run(12)  # load the compiled kernels

    def runs(f):
        def go():
            for i in range(n):
                sc = f.scenario(i)
                for r in range(comp.replicates):
                    TransitionModel(sc, seed=run_seed(comp.seed, i, r, "common")).run()

        return go

    def compare():
        text = Path(args.file).read_text()
        if args.replicates:
            text = text.replace(f"replicates = {read_comparison(args.file).replicates}",
                                f"replicates = {args.replicates}")  # fmt: skip
        with tempfile.TemporaryDirectory() as tmp:
            f = Path(args.file).parent / f".overhead-{os.getpid()}.toml"
            f.write_text(text)
            try:
                code = cli(["compare", str(f), "--out", str(Path(tmp) / "out"),
                            "--executor", "inprocess", "-q"])  # fmt: skip
            finally:
                f.unlink()
            if code:
                raise SystemExit(f"bt-sim compare exited with {code}")

    best = {"alone": (1e9, 1e9), "cold": (1e9, 1e9), "compare": (1e9, 1e9)}
    for _ in range(args.rounds):
        for name, fn in (("alone", runs(func)), ("compare", compare), ("cold", runs(cold_func))):
            cpu, wall = timed(fn)
            print(f"  {name:8s} CPU {cpu:7.2f} s  wall {wall:7.2f} s")
            best[name] = min(best[name], (cpu, wall))
    a, c, x = best["alone"][0], best["cold"][0], best["compare"][0]
    print(f"best CPU: runs alone {a:.2f} s, runs cold {c:.2f} s, comparison {x:.2f} s")
    print(f"comparison over its runs alone: {100 * (x / a - 1):+.1f} % CPU")
    print(f"comparison over the same runs cold (no records, no recommender): "
          f"{100 * (x / c - 1):+.1f} % CPU")  # fmt: skip
    print(f"load average: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
