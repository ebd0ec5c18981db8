"""What the landscape, the regime and the municipality cost: CPU time with and without them,
the arms run in turn in one process.

Two measurements, each printing CPU and wall time:

* **A default run** (``scenarios/default.toml``: 2,000 households, 120 steps, the three
  components present but without effect) against the same run of a model built without the
  three components (the six components before them), whole runs (construction included)
  alternating, ``--repeats`` times each; the median.
* **A 100,000-household step** of the pathway town (``scenarios/pathways/town.toml`` scaled to
  ``--households``, 500 neighbourhoods, a collective in every fifth) with every loop acting
  (a landscape energy-price walk, lock-in, increasing returns, cost learning, a municipality
  that supports from its first review with every instrument) against the same town with the
  three switched off (no driver, no resistance, no learning, no municipality), the two models
  stepped in turn over the same steps after a warm-up run; CPU ms a step and the three
  phases' own share.

    python benchmarks/multilevel.py
    python benchmarks/multilevel.py --households 20000 --steps 60 --repeats 10
"""

from __future__ import annotations

import argparse
import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import statistics  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import bt_sim.model as model_module  # noqa: E402
from bt_sim import TransitionModel, load_scenario  # noqa: E402
from bt_sim.components import DEFAULT_COMPONENTS  # noqa: E402

ROOT = Path(__file__).resolve().parents[1] / "scenarios"
MLP = ("landscape", "municipality", "regime")
WITHOUT = tuple(c for c in DEFAULT_COMPONENTS if c.name not in MLP)
OFF = [
    "municipality.enabled=false",
    "behaviours.heat_pump.resistance=0",
    "behaviours.heat_pump.learning_rate=0",
    "landscape.energy.enabled=false",
]
WALK = ["landscape.energy.kind=walk", "landscape.energy.sd=0.03"]
#: the municipality supports from its first review (month 12), so that every instrument acts
SUPPORT = ["municipality.threshold=0", "municipality.precision=0", "municipality.delay_months=0"]


def build(scenario, seed: int, without: bool) -> TransitionModel:
    """A model of ``scenario``; ``without``: built from the components before the three."""
    if not without:
        return TransitionModel(scenario, seed=seed)
    saved = model_module.DEFAULT_COMPONENTS
    model_module.DEFAULT_COMPONENTS = WITHOUT
    try:
        return TransitionModel(scenario, seed=seed)
    finally:
        model_module.DEFAULT_COMPONENTS = saved


def whole_runs(repeats: int) -> None:
    sc = load_scenario(ROOT / "default.toml")
    build(sc, 1, True).run()  # warm-up: the compiled kernels
    build(sc, 1, False).run()
    cpu = {"without": [], "with (off)": []}
    wall = {"without": [], "with (off)": []}
    for r in range(repeats):
        for arm in cpu:
            c0, w0 = time.process_time(), time.perf_counter()
            m = build(sc, 1 + r, arm == "without")
            m.run()
            cpu[arm].append(time.process_time() - c0)
            wall[arm].append(time.perf_counter() - w0)
    base = statistics.median(cpu["without"])
    print(f"default run (2,000 households, 120 steps), median of {repeats}, in turn:")
    for arm in cpu:
        c, w = statistics.median(cpu[arm]), statistics.median(wall[arm])
        print(f"  {arm:12s} CPU {1000 * c:7.1f} ms  wall {1000 * w:7.1f} ms  ({c / base:.3f}x)")


def steps(n: int, count: int) -> None:
    town = [
        f"population.households={n}",
        f"population.neighbourhoods={max(n // 200, 1)}",
        f"collectives.count={max(n // 1000, 1)}",
        f"run.steps={count}",
    ]
    path = ROOT / "pathways" / "town.toml"
    warm = load_scenario(path, ["population.households=600", "collectives.count=2", *WALK])
    TransitionModel(warm, seed=1).run()
    models = {
        "off": TransitionModel(load_scenario(path, [*town, *OFF]), seed=1),
        "on": TransitionModel(load_scenario(path, [*town, *WALK, *SUPPORT]), seed=1),
    }
    cpu = dict.fromkeys(models, 0.0)
    wall = dict.fromkeys(models, 0.0)
    for _ in range(count):
        for name, m in models.items():
            m._profile = True
            c0, w0 = time.process_time(), time.perf_counter()
            m.step()
            cpu[name] += time.process_time() - c0
            wall[name] += time.perf_counter() - w0
    print(f"pathway town, {n:,} households, {count} steps in turn (CPU and wall ms a step):")
    for name, m in models.items():
        own = sum(m.phase_seconds.get(p, 0.0) for p in MLP)
        print(
            f"  {name:4s} CPU {1000 * cpu[name] / count:7.2f}  wall "
            f"{1000 * wall[name] / count:7.2f}  (the three phases: {1000 * own / count:.3f} ms)"
        )
    print(f"  on / off: CPU {cpu['on'] / cpu['off']:.3f}x")
    on = models["on"].summary()
    print(
        f"  (the 'on' town: heat pump share {on['regime:share']:.3f}, policy from month "
        f"{on['municipality:first_support_month']})"
    )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--households", type=int, default=100_000)
    ap.add_argument("--steps", type=int, default=60)
    ap.add_argument("--repeats", type=int, default=20)
    args = ap.parse_args()
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    whole_runs(args.repeats)
    steps(args.households, args.steps)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
