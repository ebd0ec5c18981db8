"""Engine benchmarks against the idiomatic per-agent Mesa baseline (design brief, section 4).

Usage::

    python benchmarks/run_benchmarks.py [--sizes 10000 100000 1000000] [--steps 20]
                                        [--baseline-max 100000] [--baseline-large-steps 3]
                                        [--no-scale] [--country] [--small] [--small-runs 20]

Every configuration runs in a fresh Python process, pinned to one CPU core, with
``OMP_NUM_THREADS=OPENBLAS_NUM_THREADS=MKL_NUM_THREADS=1``; the process reports its own wall
times and its peak resident memory (``ru_maxrss``, which includes the interpreter and the
imported libraries, about 150 MB). Timings exclude interpreter start-up and imports and include
everything from the scenario on: "construction" is building the model (population, network,
initial state; for the baseline also the engine model it copies its world from, then the agents
and their neighbour lists).

Rows of the main table: the engine (``TransitionModel``) and the baseline
(``benchmarks/mesa_baseline.py``) on the default "neighbourhood" network with mean degree 10,
``population.neighbourhoods = N / 200`` and ``collectives.count`` a third of those; every
mechanism on (full social rule, mastery learning, collectives, hub). The speed-up is the ratio of
household-steps per second over the steps alone. The baseline runs ``--steps`` steps up to 10,000
households and ``--baseline-large-steps`` (default 3) above, since it is slow; it is skipped above
``--baseline-max``.

Below the table: the scale target (1,000,000 households, 120 monthly steps, construction included;
target under 12 s and 800 MB on one core), optionally the country scale (``--country``: 8,000,000
households, 120 steps; target under 2 minutes and 3 GB), and with ``--small`` the small-run target
(2,000 households x 120 steps, construction included, over ``--small-runs`` runs; target at most
15 ms of CPU a run). The small runs are timed by CPU time (``time.process_time``) as well as wall
time.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ONE_CORE_ENV = {
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "NUMBA_NUM_THREADS": "1",
}
SMALL_BASELINE_SIZE = 10_000  # the baseline runs all --steps steps up to this size
TARGET_SPEEDUP = 100.0
TARGET_SCALE_S, TARGET_SCALE_MB = 12.0, 800.0  # design brief: 1M x 120 steps, one core
TARGET_COUNTRY_S, TARGET_COUNTRY_MB = 120.0, 3072.0  # design brief: 8M x 120 steps, one core
TARGET_SMALL_MS = 15.0  # design brief: CPU a run, construction included


def bench_overrides(households: int, steps: int, mean_degree: float = 10.0) -> list[str]:
    """Scenario overrides of a benchmark world of ``households`` households."""
    neighbourhoods = max(1, households // 200)
    return [
        f"population.households={households}",
        f"population.neighbourhoods={neighbourhoods}",
        f"collectives.count={max(1, neighbourhoods // 3)}",
        f"network.mean_degree={mean_degree}",
        f"run.steps={steps}",
    ]


# ---- workers (run in a fresh process) --------------------------------------------------------
def _pin_to_one_core() -> None:
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # KiB on Linux


def worker(
    kind: str, households: int, steps: int, seed: int, runs: int, mean_degree: float
) -> dict:
    """Time one configuration in this process; returns the measurements."""
    _pin_to_one_core()
    from bt_sim import TransitionModel, load_scenario

    scenario = load_scenario(None, bench_overrides(households, steps, mean_degree))
    out: dict = {"kind": kind, "households": households, "steps": steps}
    # Load the compiled kernels once (numba's on-disk cache, or a first compilation) with a tiny
    # model, so the timings below measure the engine, not a one-off start-up cost per process.
    t0 = time.perf_counter()
    TransitionModel(load_scenario(None, bench_overrides(400, 12)), seed=seed).run()
    out["warmup_s"] = time.perf_counter() - t0
    if kind == "engine":
        t0 = time.perf_counter()
        model = TransitionModel(scenario, seed=seed)
        t1 = time.perf_counter()
        model.run(steps)
        t2 = time.perf_counter()
        out.update(build_s=t1 - t0, steps_s=t2 - t1, edges=model.network.n_edges)
    elif kind == "baseline":
        if str(ROOT) not in sys.path:
            sys.path.insert(0, str(ROOT))
        from benchmarks.mesa_baseline import BaselineModel

        t0 = time.perf_counter()
        model = BaselineModel(scenario, seed=seed)
        t1 = time.perf_counter()
        model.run(steps)
        t2 = time.perf_counter()
        out.update(
            build_s=t1 - t0,
            steps_s=t2 - t1,
            source_s=model.source_seconds,
            agents_s=model.agents_seconds,
        )
    elif kind == "small":
        TransitionModel(scenario, seed=seed).run()  # warm-up at the measured size as well
        times, cpu = [], []
        for r in range(runs):
            t0, c0 = time.perf_counter(), time.process_time()
            TransitionModel(scenario, seed=seed + 1 + r).run()
            times.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
        out.update(run_s=times, cpu_s=cpu)
    elif kind == "step_times":  # per-step times, for benchmarks/scaling.py
        t0 = time.perf_counter()
        model = TransitionModel(scenario, seed=seed)
        build = time.perf_counter() - t0
        times = []
        for _ in range(steps):
            t0 = time.perf_counter()
            model.step()
            times.append(time.perf_counter() - t0)
        out.update(
            build_s=build, step_s=times, edges=model.network.n_edges, mean_degree=mean_degree
        )
    else:
        raise ValueError(f"unknown worker kind {kind!r}")
    out["peak_mb"] = _peak_mb()
    return out


def measure(
    kind: str, households: int, steps: int, seed: int = 1, runs: int = 1, mean_degree: float = 10.0
) -> dict:
    """Run :func:`worker` in a fresh, single-core Python process and return its measurements."""
    cmd = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--worker",
        kind,
        "--households",
        str(households),
        "--steps",
        str(steps),
        "--seed",
        str(seed),
        "--small-runs",
        str(runs),
        "--mean-degree",
        str(mean_degree),
    ]
    env = {**os.environ, **ONE_CORE_ENV}
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"benchmark worker failed ({' '.join(cmd[2:])}):\n{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


# ---- the report ------------------------------------------------------------------------------
def _rate(n: int, steps: int, seconds: float) -> float:
    return n * steps / seconds if seconds > 0 else float("nan")


def _fmt_rate(x: float) -> str:
    if x != x:  # NaN
        return "-"
    if x >= 1e6:
        return f"{x / 1e6:.2f} M"
    return f"{x / 1e3:.1f} k"


def _verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def source_version() -> str:
    """The git commit of the working tree, marked ``-dirty`` when it has uncommitted changes."""
    try:
        out = subprocess.run(
            ["git", "describe", "--always", "--dirty"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        )
    except (OSError, subprocess.CalledProcessError):
        return "unknown (not a git checkout)"
    return out.stdout.strip()


def print_header() -> None:
    import mesa
    import numpy as np
    import scipy

    print(f"# bt_sim benchmarks, {time.strftime('%Y-%m-%d %H:%M')}")
    print(
        f"# python {platform.python_version()}, numpy {np.__version__}, scipy "
        f"{scipy.__version__}, mesa {mesa.__version__}; {os.cpu_count()} CPUs visible, "
        "each configuration in a fresh process pinned to one core"
    )
    print(f"# source: {source_version()}")
    print(f"# command: {' '.join([Path(sys.executable).name, *sys.argv])}")
    print()


def main_table(
    sizes: list[int], steps: int, baseline_max: int, large_steps: int, seed: int
) -> None:
    print(
        f"Engine vs per-agent Mesa baseline (mean degree 10, all mechanisms on; engine "
        f"{steps} steps; baseline {steps} steps up to {SMALL_BASELINE_SIZE:,} households, "
        f"{large_steps} above, skipped above {baseline_max:,})"
    )
    print()
    print(
        "| households | engine build s | engine steps s | engine hh-steps/s (incl. build) "
        "| engine hh-steps/s (steps) | engine peak MB | baseline steps | baseline build s "
        "| baseline hh-steps/s (incl. build) | baseline hh-steps/s (steps) | baseline peak MB "
        "| speed-up (steps) |"
    )
    print("|" + "---:|" * 12)
    for n in sizes:
        e = measure("engine", n, steps, seed)
        e_all = _rate(n, steps, e["build_s"] + e["steps_s"])
        e_steps = _rate(n, steps, e["steps_s"])
        cells = [
            f"{n:,}",
            f"{e['build_s']:.2f}",
            f"{e['steps_s']:.2f}",
            _fmt_rate(e_all),
            _fmt_rate(e_steps),
            f"{e['peak_mb']:.0f}",
        ]
        if n <= baseline_max:
            bsteps = steps if n <= SMALL_BASELINE_SIZE else min(steps, large_steps)
            b = measure("baseline", n, bsteps, seed)
            b_all = _rate(n, bsteps, b["build_s"] + b["steps_s"])
            b_steps = _rate(n, bsteps, b["steps_s"])
            cells += [
                str(bsteps),
                f"{b['build_s']:.2f}",
                _fmt_rate(b_all),
                _fmt_rate(b_steps),
                f"{b['peak_mb']:.0f}",
                f"{e_steps / b_steps:.0f}x",
            ]
        else:
            cells += ["-"] * 6
        print("| " + " | ".join(cells) + " |", flush=True)
    print()
    print(
        f"Speed-up target (design brief): at least {TARGET_SPEEDUP:.0f}x at 100,000 households, "
        "on the steps (the baseline's construction also builds the engine model it copies)."
    )
    print()


def scale_row(
    households: int, steps: int, seed: int, label: str, targets: tuple[float, float] | None
) -> None:
    r = measure("engine", households, steps, seed)
    total = r["build_s"] + r["steps_s"]
    line = (
        f"{label}: {households:,} households x {steps} steps, one core: "
        f"{total:.1f} s in all (construction {r['build_s']:.1f} s, steps {r['steps_s']:.1f} s,"
        f" {1000 * r['steps_s'] / steps:.0f} ms a step), peak memory {r['peak_mb']:.0f} MB"
    )
    if targets is not None:
        seconds, mb = targets
        line += (
            f"; targets < {seconds:.0f} s: {_verdict(total < seconds)}, "
            f"< {mb:.0f} MB: {_verdict(r['peak_mb'] < mb)}"
        )
    print(line, flush=True)


def small_row(runs: int, seed: int) -> None:
    r = measure("small", 2000, 120, seed, runs=runs)
    ms = [1000 * t for t in r["cpu_s"]]
    wall = [1000 * t for t in r["run_s"]]
    mean = statistics.fmean(ms)
    print(
        f"Small runs: 2,000 households x 120 steps, construction included, one core, {runs} runs"
        f" after one warm-up: CPU mean {mean:.1f} ms, median {statistics.median(ms):.1f} ms, "
        f"min {min(ms):.1f} ms, max {max(ms):.1f} ms a run (wall median "
        f"{statistics.median(wall):.1f} ms); target at most {TARGET_SMALL_MS:.0f} ms of CPU: "
        f"{_verdict(mean <= TARGET_SMALL_MS)}",
        flush=True,
    )


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    p.add_argument(
        "--sizes",
        type=int,
        nargs="+",
        default=[10_000, 100_000, 1_000_000],
        help="household counts of the main table",
    )
    p.add_argument("--steps", type=int, default=20, help="engine steps per table row")
    p.add_argument(
        "--baseline-max", type=int, default=100_000, help="largest size the baseline runs at"
    )
    p.add_argument(
        "--baseline-large-steps",
        type=int,
        default=3,
        help=f"baseline steps above {SMALL_BASELINE_SIZE:,} households",
    )
    p.add_argument("--no-table", action="store_true", help="skip the main table")
    p.add_argument("--no-scale", action="store_true", help="skip the 1,000,000 x 120 scale row")
    p.add_argument("--scale-households", type=int, default=1_000_000)
    p.add_argument("--scale-steps", type=int, default=120)
    p.add_argument(
        "--country",
        action="store_true",
        help="also run the country scale (8,000,000 households; about 20 minutes)",
    )
    p.add_argument("--country-steps", type=int, default=120)
    p.add_argument(
        "--small",
        action="store_true",
        help="only the small-run benchmark (2,000 households x 120 steps)",
    )
    p.add_argument("--small-runs", type=int, default=20)
    p.add_argument("--seed", type=int, default=1)
    # internal: run one configuration in this process
    p.add_argument("--worker", help=argparse.SUPPRESS)
    p.add_argument("--households", type=int, help=argparse.SUPPRESS)
    p.add_argument("--mean-degree", type=float, default=10.0, help=argparse.SUPPRESS)
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.worker:
        result = worker(
            args.worker, args.households, args.steps, args.seed, args.small_runs, args.mean_degree
        )
        print(json.dumps(result))
        return
    print_header()
    if args.small:
        small_row(args.small_runs, args.seed)
        return
    if not args.no_table:
        main_table(args.sizes, args.steps, args.baseline_max, args.baseline_large_steps, args.seed)
    if not args.no_scale:
        scale_row(
            args.scale_households,
            args.scale_steps,
            args.seed,
            "Scale target",
            (TARGET_SCALE_S, TARGET_SCALE_MB),
        )
    if args.country:
        scale_row(
            8_000_000,
            args.country_steps,
            args.seed,
            "Country scale",
            (TARGET_COUNTRY_S, TARGET_COUNTRY_MB),
        )


if __name__ == "__main__":
    main()
