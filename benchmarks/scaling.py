"""How the engine's time per step grows with households and with ties.

Usage::

    python benchmarks/scaling.py [--sizes 1000 10000 100000 1000000]
                                 [--degrees 4 8 16 32] [--degree-households 100000]
                                 [--out docs/scaling.png]

Each configuration runs in a fresh single-core process (see ``run_benchmarks.py``) on the
benchmark world (default "neighbourhood" network, all mechanisms on) and times every step
separately; the figure shows the median step. Left panel: time per step against households at
mean degree 10 (log-log, with a line of slope 1). Right panel: time per step against the number
of ties at ``--degree-households`` households, mean degree 4 to 32, with the least-squares line
``a + b * ties``: a straight line means the cost is linear in the edges, ``a`` being the part of a
step that does not depend on the ties.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def _steps_for(households: int) -> int:
    """Enough steps for a stable median, few enough that 1,000,000 households stay quick."""
    return int(min(60, max(5, 2_000_000 // households)))


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    p.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000, 100_000, 1_000_000])
    p.add_argument("--degrees", type=float, nargs="+", default=[4, 8, 16, 32])
    p.add_argument("--degree-households", type=int, default=100_000)
    p.add_argument("--out", type=Path, default=ROOT / "docs" / "scaling.png")
    p.add_argument("--seed", type=int, default=1)
    args = p.parse_args(argv)
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from benchmarks.run_benchmarks import measure, source_version

    print(
        f"Time per step (median over the steps timed; fresh process, one core); source "
        f"{source_version()}"
    )
    print()
    print(
        "| households | mean degree | ties | steps timed | ms per step | "
        "ns per household | ns per tie end |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|")

    def run(n: int, degree: float) -> dict:
        r = measure("step_times", n, _steps_for(n), args.seed, mean_degree=degree)
        r["median_s"] = statistics.median(r["step_s"])
        ms = 1000 * r["median_s"]
        print(
            f"| {n:,} | {degree:g} | {r['edges']:,} | {len(r['step_s'])} | {ms:.2f} | "
            f"{1e9 * r['median_s'] / n:.0f} | {1e9 * r['median_s'] / (2 * r['edges']):.0f} |",
            flush=True,
        )
        return r

    by_size = [run(n, 10.0) for n in args.sizes]
    by_degree = [run(args.degree_households, d) for d in args.degrees]

    sizes = np.array([r["households"] for r in by_size], float)
    t_size = np.array([r["median_s"] for r in by_size])
    ties = np.array([r["edges"] for r in by_degree], float)
    t_deg = np.array([r["median_s"] for r in by_degree])
    print()
    if len(sizes) >= 2:
        big = sizes >= 10_000
        if big.sum() >= 2:
            slope = np.polyfit(np.log(sizes[big]), np.log(t_size[big]), 1)[0]
            print(f"log-log slope of time per step against households (>= 10,000): {slope:.2f}")
    if len(ties) >= 2:
        b, a = np.polyfit(ties, t_deg, 1)
        fit = a + b * ties
        r2 = 1 - ((t_deg - fit) ** 2).sum() / max(((t_deg - t_deg.mean()) ** 2).sum(), 1e-30)
        n = args.degree_households
        print(
            f"at {n:,} households: time per step = {1000 * a:.1f} ms + {1e9 * b:.0f} ns x ties"
            f" (R^2 = {r2:.4f}); at mean degree 10 the ties are "
            f"{100 * b * 5 * n / (a + b * 5 * n):.0f}% of a step"
        )

    _plot(
        args.out,
        sizes,
        t_size,
        ties,
        t_deg,
        args.degree_households,
        [r["mean_degree"] for r in by_degree],
    )
    print(f"\nfigure: {args.out}")


def _plot(out: Path, sizes, t_size, ties, t_deg, n_deg: int, degrees) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker

    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    left.loglog(sizes, 1000 * t_size, "o-", label="engine, mean degree 10")
    if len(sizes):
        ref = sizes[-1]
        ref_t = 1000 * t_size[-1]
        left.loglog(sizes, ref_t * sizes / ref, "--", color="grey", label="slope 1 (linear)")
    left.set_xlabel("households")
    left.set_ylabel("time per step (ms)")
    left.set_title("Time per step against households")
    left.legend()
    left.grid(True, which="both", alpha=0.3)
    left.yaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda y, _: f"{y:g}"))

    right.plot(ties / 1e6, 1000 * t_deg, "o", label=f"engine, {n_deg:,} households")
    for x, y, d in zip(ties, t_deg, degrees, strict=True):
        right.annotate(f"k={d:g}", (x / 1e6, 1000 * y), textcoords="offset points", xytext=(5, -12))
    if len(ties) >= 2:
        b, a = np.polyfit(ties, t_deg, 1)
        xs = np.linspace(0, ties.max() * 1.05, 50)
        right.plot(
            xs / 1e6,
            1000 * (a + b * xs),
            "--",
            color="grey",
            label=f"{1000 * a:.1f} ms + {1e9 * b:.0f} ns per tie",
        )
    right.set_xlabel("ties (millions)")
    right.set_ylabel("time per step (ms)")
    right.set_xlim(left=0)
    right.set_ylim(bottom=0)
    right.set_title("Time per step against ties (mean degree 4-32)")
    right.legend()
    right.grid(True, alpha=0.3)
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=120)
    plt.close(fig)


if __name__ == "__main__":
    main()
