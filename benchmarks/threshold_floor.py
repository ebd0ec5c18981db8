"""The threshold special case against the floor: a bare scipy CSR mat-vec loop doing the same rule.

Watts (2002) threshold rule, 100,000 households on an Erdos-Renyi graph of mean degree 10,
50 steps, one core: bt-sim (``scenarios/threshold.toml`` at that size) against a loop of
``share = A @ adopted / degree; adopted |= share >= theta`` on the same graph and thresholds,
both timed by CPU time in the same process, in turn. The ratio bt-sim / floor is the share of
the floor's throughput bt-sim reaches (target: at least 0.9). Since bt-sim keeps its tie
sums up to date from the households that changed, a second, stricter floor does the same in a
bare compiled loop (scatter the new adopters' ties, test every household): the best a
special-purpose program of this rule could do without bt-sim's general model around it.

mesa-frames (Polars) pins numpy 1.26, so it runs in a virtual environment of its own:
``--mesa-frames`` builds ``benchmarks/.venv-mesa-frames`` (once) and times the same rule there.

    python benchmarks/threshold_floor.py [--households 100000] [--steps 50] [--mesa-frames]
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
from numba import njit  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bt_sim import TransitionModel, load_scenario  # noqa: E402

MESA_FRAMES = """
import sys, time, numpy as np, polars as pl
from mesa_frames import AgentSetPolars, ModelDF
data = np.load(sys.argv[1])
indptr, indices, theta, seed0 = data["indptr"], data["indices"], data["theta"], data["seed"]
n, steps = len(theta), int(sys.argv[2])
deg = np.diff(indptr)
src = np.repeat(np.arange(n), deg)
edges = pl.DataFrame({"src": src, "dst": indices})
class Households(AgentSetPolars):
    def __init__(self, model):
        super().__init__(model)
        self += pl.DataFrame({"unique_id": np.arange(n), "theta": theta,
                              "adopted": np.isin(np.arange(n), seed0), "deg": deg})
    def step(self):
        a = self.agents.select(["unique_id", "adopted"])
        counts = (edges.join(a, left_on="dst", right_on="unique_id")
                  .group_by("src").agg(pl.col("adopted").sum().alias("k")))
        df = self.agents.join(counts, left_on="unique_id", right_on="src", how="left")
        new = df["adopted"] | ((df["k"].fill_null(0) / df["deg"].clip(1)) >= df["theta"])
        self["adopted"] = new
class M(ModelDF):
    def __init__(self):
        super().__init__()
        self.agents += Households(self)
    def step(self):
        self.agents.do("step")
m = M()
t = time.process_time()
for _ in range(steps):
    m.step()
col = m.agents["adopted"]
total = sum(int(v.sum()) for v in col.values()) if isinstance(col, dict) else int(col.sum())
print(time.process_time() - t, total)
"""


@njit(cache=True)
def _incremental_floor(indptr, indices, weights, theta, deg, adopted, steps):
    """The threshold rule with tie sums kept up to date: each step scatters only the new
    adopters' ties, then tests every household (the incremental counterpart of the floor)."""
    n = theta.shape[0]
    sums = np.zeros(n)
    frontier = np.flatnonzero(adopted)
    found = np.empty(n, np.int64)
    for _ in range(steps):
        for j in frontier:
            for e in range(indptr[j], indptr[j + 1]):
                sums[indices[e]] += weights[e]
        count = 0
        for i in range(n):
            if not adopted[i] and deg[i] > 0 and sums[i] / deg[i] >= theta[i]:
                found[count] = i
                count += 1
        for x in range(count):
            adopted[found[x]] = True
        frontier = found[:count].copy()
    return adopted


def incremental_floor(adj, theta, adopted, steps):
    deg = np.asarray(adj.sum(axis=1)).ravel().astype(np.float64)
    return _incremental_floor(
        adj.indptr, adj.indices, adj.data, theta.astype(np.float64), deg, adopted.copy(), steps
    )


def floor_loop(adj, theta, adopted, steps):
    deg = np.asarray(adj.sum(axis=1)).ravel()
    deg[deg == 0] = 1
    a = adopted.astype(np.float32)
    for _ in range(steps):
        share = adj @ a / deg
        a = np.maximum(a, (share >= theta).astype(np.float32))
    return a


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--households", type=int, default=100_000)
    ap.add_argument("--steps", type=int, default=50)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--mesa-frames", action="store_true")
    args = ap.parse_args(argv)
    n, steps = args.households, args.steps
    sc = load_scenario(
        ROOT / "scenarios" / "threshold.toml",
        [
            f"population.households={n}",
            "network.mean_degree=10",
            f"run.steps={steps}",
            "behaviours.new_practice.initial_adoption=0.001",
        ],
    )
    TransitionModel(load_scenario(None, ["population.households=300", "run.steps=2"])).run()
    warm = ROOT / "scenarios" / "threshold.toml"  # load the threshold rule's kernels too
    TransitionModel(load_scenario(warm, ["population.households=300", "run.steps=3"])).run()
    small = TransitionModel(load_scenario(warm, ["population.households=300", "run.steps=3"]))
    incremental_floor(small.adjacency, small.theta, small.state.adopted[:, 0], 3)
    rows = []
    for rep in range(args.repeats):
        m = TransitionModel(sc, seed=rep)
        adj, theta = m.adjacency, m.theta
        start = m.state.adopted[:, 0].copy()
        c0 = time.process_time()
        m.run()
        t_bt = time.process_time() - c0
        c0 = time.process_time()
        a = floor_loop(adj, theta, start, steps)
        t_floor = time.process_time() - c0
        c0 = time.process_time()
        inc = incremental_floor(adj, theta, start, steps)
        t_inc = time.process_time() - c0
        adopters = (int(m.state.adopted[:, 0].sum()), int(a.sum()), int(inc.sum()))
        rows.append((t_bt, t_floor, t_inc, adopters))
    print(
        f"# threshold rule, {n:,} households, Erdos-Renyi mean degree 10, {steps} steps, "
        f"one core, CPU time; load {os.getloadavg()[0]:.2f}"
    )
    print(
        "| run | bt-sim s | floor s | incremental floor s | bt-sim M hh-steps/s | "
        "floor M hh-steps/s | incremental floor M hh-steps/s | bt-sim / floor | "
        "bt-sim / incremental floor | adopters (bt-sim, floor, incremental) |"
    )
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
    for i, (tb, tf, ti, (ab, af, ai)) in enumerate(rows):
        print(
            f"| {i} | {tb:.3f} | {tf:.3f} | {ti:.3f} | {n * steps / tb / 1e6:.1f} | "
            f"{n * steps / tf / 1e6:.1f} | {n * steps / ti / 1e6:.1f} | {tf / tb:.2f} | "
            f"{ti / tb:.2f} | {ab:,}, {af:,}, {ai:,} |"
        )
    if args.mesa_frames:
        venv = ROOT / "benchmarks" / ".venv-mesa-frames"
        py = venv / "bin" / "python"
        if not py.exists():
            subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
            subprocess.run(
                [str(py), "-m", "pip", "install", "-q", "mesa-frames==0.1.0a0", "numpy~=1.26"],
                check=True,
            )
        m = TransitionModel(sc, seed=0)
        data = ROOT / "benchmarks" / ".threshold-world.npz"
        np.savez(
            data,
            indptr=m.adjacency.indptr,
            indices=m.adjacency.indices,
            theta=m.theta,
            seed=np.flatnonzero(m.state.adopted[:, 0]),
        )
        script = ROOT / "benchmarks" / ".mesa_frames_threshold.py"
        script.write_text(MESA_FRAMES)
        out = subprocess.run(
            [str(py), str(script), str(data), str(steps)],
            capture_output=True,
            text=True,
            env={**os.environ, "POLARS_MAX_THREADS": "1"},
        )
        if out.returncode:
            print(f"mesa-frames failed: {out.stderr.strip().splitlines()[-1:]}")
        else:
            secs, adopters = out.stdout.split()
            secs = float(secs)
            print(
                f"| mesa-frames | {secs:.3f} | | | {n * steps / secs / 1e6:.1f} | | | | | "
                f"{adopters} |"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
