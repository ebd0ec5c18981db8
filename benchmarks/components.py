"""Time per step with the building blocks off and on, stepped in turn in one process.

Two models of the same town (``scenarios/interventions.toml`` at 100,000 households, 500
neighbourhoods, a collective in a third of them, seed 1): one with only the collective
purchase (the model's joint action before the building blocks: the default catalogue), one with
every kind running in every collective (the coach, the dashboard, the gatekeeper programme, the
yearly neighbourhood event and the purchase), and volunteer burn-out on in both
(``--burnout``) or off. Each step of each model is timed by CPU time
(``time.process_time``), the two stepped in turn over the same steps, after a warm-up run that
loads the compiled kernels. Prints CPU ms a step for each, the ratio, the building blocks'
phases' own share (``interventions`` and ``purchase``), and the machine's load:

    python benchmarks/components.py
    python benchmarks/components.py --households 20000 --steps 60 --burnout 0.05
"""

from __future__ import annotations

import argparse
import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import time  # noqa: E402
from pathlib import Path  # noqa: E402

from bt_sim import TransitionModel, load_scenario  # noqa: E402

SCENARIO = str(Path(__file__).resolve().parents[1] / "scenarios" / "interventions.toml")
OFF = [
    f"interventions.{name}.enabled=false" for name in ("coach", "dashboard", "gatekeepers", "event")
]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--households", type=int, default=100_000)
    ap.add_argument("--steps", type=int, default=120)
    ap.add_argument("--burnout", type=float, default=0.0)
    args = ap.parse_args()
    n = args.households
    town = [
        f"population.households={n}",
        f"population.neighbourhoods={max(n // 200, 1)}",
        f"collectives.count={max(n // 600, 1)}",
        f"run.steps={args.steps}",
        f"collectives.burnout_rate={args.burnout}",
    ]
    warm = load_scenario(SCENARIO, ["population.households=600", "collectives.count=2"])
    TransitionModel(warm, seed=1).run()
    models = {
        "off": TransitionModel(load_scenario(SCENARIO, [*town, *OFF]), seed=1),
        "on": TransitionModel(load_scenario(SCENARIO, town), seed=1),
    }
    cpu = dict.fromkeys(models, 0.0)
    phase = dict.fromkeys(models, 0.0)
    for _ in range(args.steps):
        for name, m in models.items():
            m._profile = True
            t0 = time.process_time()
            m.step()
            cpu[name] += time.process_time() - t0
    for name, m in models.items():
        phase[name] = m.phase_seconds.get("interventions", 0.0) + m.phase_seconds.get(
            "purchase", 0.0
        )
    per = {k: 1000 * v / args.steps for k, v in cpu.items()}
    print(
        f"# {time.strftime('%Y-%m-%d %H:%M')}, {n:,} households, {models['on'].collectives.count}"
        f" collectives, {args.steps} steps stepped in turn, load {os.getloadavg()[0]:.2f}"
    )
    for name in models:
        print(
            f"interventions {name:>3}: {per[name]:6.2f} CPU ms a step "
            f"(building blocks' phases {1000 * phase[name] / args.steps:5.2f} ms)"
        )
    print(f"ratio on / off: {per['on'] / per['off']:.2f} (target at most 1.5)")
    s = models["on"].summary()
    print(
        f"coach visits {s['interventions:coach:visits']:.0f}, dashboard collective-months "
        f"{s['interventions:dashboard:carried_months']:.0f}, event ties made "
        f"{s['interventions:event:new_ties']:.0f}, programme collective-months "
        f"{s['interventions:gatekeepers:carried_months']:.0f}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
