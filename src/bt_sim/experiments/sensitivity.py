"""Sensitivity analysis of a sweep's outputs: Sobol indices or Morris screening (SALib).

Works on plain data: the design (one row per point, in the sampler's order), the results
(one row per run) and the SALib problem. Each output is averaged over a point's replicates
first (the analysis is of the mean response; replicate noise shows as a small unexplained
share), then analysed with :func:`SALib.analyze.sobol.analyze` (first-order ``S1``, second
order ``S2``, total ``ST``, each with its bootstrap confidence interval) or
:func:`SALib.analyze.morris.analyze` (``mu_star``, its confidence interval, and ``sigma``).

References
----------
Saltelli, A. et al. (2010). Variance based sensitivity analysis of model output. Computer
Physics Communications 181, 259-270.
Campolongo, F., Cariboni, J. & Saltelli, A. (2007). An effective screening design for
sensitivity analysis of large models. Environmental Modelling & Software 22, 1509-1518.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from bt_sim.errors import SweepError

METHODS = {"sobol": "sobol", "morris": "morris"}


@dataclass
class Sensitivity:
    """Indices of every output: ``table`` (one row per output and parameter), ``second``
    (Sobol second-order pairs), ``skipped`` (outputs left out, with the reason)."""

    method: str
    table: pd.DataFrame
    second: pd.DataFrame = field(default_factory=pd.DataFrame)
    skipped: dict[str, str] = field(default_factory=dict)


def point_means(results: pd.DataFrame, points: int, output: str) -> np.ndarray:
    """The mean of ``output`` over each point's successful replicates (NaN if none)."""
    ok = results[results["error"] == ""] if "error" in results else results
    means = pd.to_numeric(ok[output], errors="coerce").groupby(ok["point"]).mean()
    return means.reindex(range(points)).to_numpy(dtype=np.float64)


def analyse(
    method: str,
    problem: dict,
    design: pd.DataFrame,
    results: pd.DataFrame,
    outputs: list[str],
    second_order: bool = True,
    num_levels: int = 4,
    seed: int = 0,
    conf_level: float = 0.95,
) -> Sensitivity:
    """Sobol or Morris indices of each output.

    Raises
    ------
    SweepError
        If the method does not fit the sampler, or points have no successful run.
    """
    if method not in METHODS:
        raise SweepError(
            [("sensitivity", "sampler", f"needs a sobol or morris sweep, got {method!r}")]
        )
    x = design[problem["names"]].to_numpy(dtype=np.float64)
    rows, pairs, skipped = [], [], {}
    for out in outputs:
        y = point_means(results, len(design), out)
        missing = np.flatnonzero(~np.isfinite(y))
        if missing.size:
            skipped[out] = (
                f"{missing.size} of {len(y)} points have no finite value (first: point "
                f"{missing[0]}); failed or missing runs, or an outcome that is undefined there"
            )
            continue
        if np.ptp(y) == 0:
            skipped[out] = "constant over the design"
            continue
        if method == "sobol":
            from SALib.analyze import sobol

            si = sobol.analyze(
                problem, y, calc_second_order=second_order, conf_level=conf_level, seed=seed
            )
            for j, name in enumerate(problem["names"]):
                rows.append(
                    {
                        "output": out,
                        "parameter": name,
                        "S1": si["S1"][j],
                        "S1_conf": si["S1_conf"][j],
                        "ST": si["ST"][j],
                        "ST_conf": si["ST_conf"][j],
                    }
                )
            if second_order:
                names = problem["names"]
                for a in range(len(names)):
                    for b in range(a + 1, len(names)):
                        pairs.append(
                            {
                                "output": out,
                                "parameter_a": names[a],
                                "parameter_b": names[b],
                                "S2": si["S2"][a, b],
                                "S2_conf": si["S2_conf"][a, b],
                            }
                        )
        else:
            from SALib.analyze import morris

            si = morris.analyze(
                problem, x, y, conf_level=conf_level, num_levels=num_levels, seed=seed
            )
            for j, name in enumerate(problem["names"]):
                rows.append(
                    {
                        "output": out,
                        "parameter": name,
                        "mu": si["mu"][j],
                        "mu_star": si["mu_star"][j],
                        "mu_star_conf": si["mu_star_conf"][j],
                        "sigma": si["sigma"][j],
                    }
                )
    table = pd.DataFrame(rows)
    if len(table):
        rank = "ST" if method == "sobol" else "mu_star"
        table = table.sort_values(["output", rank], ascending=[True, False]).reset_index(drop=True)
    return Sensitivity(method, table, pd.DataFrame(pairs), skipped)


def analyse_store(store, outputs: list[str] | None = None, conf_level: float = 0.95):
    """Analyse a sweep folder (:class:`~bt_sim.experiments.store.SweepStore`).

    Raises
    ------
    SweepError
        If the sweep was not sampled for the analysis (grid, latin), is incomplete, or an
        output named is not in its results.
    """
    from bt_sim.experiments.core import output_columns

    m = store.manifest
    sampler = m.get("sampler")
    folder = str(store.folder)
    if sampler not in METHODS:
        raise SweepError(
            [
                (
                    folder,
                    "sampler",
                    f"this sweep used the {sampler!r} sampler; sensitivity analysis needs a "
                    'sweep sampled with sampler = "sobol" (Sobol indices) or "morris" '
                    "(elementary effects)",
                )
            ]
        )
    results = store.results()
    runs = int(m.get("runs", 0))
    if len(results) < runs:
        raise SweepError(
            [
                (
                    folder,
                    "",
                    f"only {len(results)} of {runs} runs are recorded; finish the sweep with "
                    "bt-sim sweep SWEEP.toml --resume first",
                )
            ]
        )
    have = output_columns(results, m.get("parameters", []))
    if outputs:
        bad = [o for o in outputs if o not in have]
        if bad:
            raise SweepError(
                [(folder, "outputs", f"no output {b!r} (have: {', '.join(have)})") for b in bad]
            )
    else:
        outputs = have
    sweep = m.get("sweep", {})
    return analyse(
        sampler,
        m["problem"],
        store.design(),
        results,
        outputs,
        second_order=bool(sweep.get("second_order", True)),
        num_levels=int(sweep.get("num_levels", 4)),
        seed=int(m.get("seed", 0)) % 2**32,
        conf_level=conf_level,
    )


def format_table(sens: Sensitivity, top: int | None = None) -> str:
    """A ranked text table per output."""
    lines = []
    if sens.method == "sobol":
        cols = ("S1", "S1_conf", "ST", "ST_conf")
        head = f"{'parameter':<44} {'S1':>7} {'+-':>6} {'ST':>7} {'+-':>6}"
    else:
        cols = ("mu_star", "mu_star_conf", "sigma")
        head = f"{'parameter':<44} {'mu*':>9} {'+-':>9} {'sigma':>9}"
    for out, grp in sens.table.groupby("output", sort=False):
        lines.append(f"{out}")
        lines.append("  " + head)
        for _, r in grp.head(top or len(grp)).iterrows():
            vals = " ".join(
                f"{r[c]:>7.3f}" if sens.method == "sobol" and "conf" not in c
                else (f"{r[c]:>6.3f}" if sens.method == "sobol" else f"{r[c]:>9.4g}")
                for c in cols
            )  # fmt: skip
            lines.append(f"  {r['parameter']:<44} {vals}")
        lines.append("")
    for out, why in sens.skipped.items():
        lines.append(f"{out}: skipped ({why})")
    return "\n".join(lines).rstrip() + "\n"


def safe_name(text: str) -> str:
    """A file-name-safe version of an output name."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("_") or "output"


def plot(sens: Sensitivity, output: str, path: Path) -> None:
    """A bar chart of one output's indices with their confidence intervals."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    t = sens.table[sens.table["output"] == output]
    names = list(t["parameter"])
    y = np.arange(len(names))
    fig, ax = plt.subplots(figsize=(7, 0.45 * len(names) + 1.5))
    if sens.method == "sobol":
        ax.barh(y - 0.2, t["S1"], 0.4, xerr=t["S1_conf"], label="S1 (first order)")
        ax.barh(y + 0.2, t["ST"], 0.4, xerr=t["ST_conf"], label="ST (total)")
        ax.set_xlabel("Sobol index (95 % interval)")
    else:
        ax.barh(y - 0.2, t["mu_star"], 0.4, xerr=t["mu_star_conf"], label="mu* (mean |effect|)")
        ax.barh(y + 0.2, t["sigma"], 0.4, label="sigma (interactions, non-linearity)")
        ax.set_xlabel("elementary effect")
    ax.set_yticks(y, names)
    ax.invert_yaxis()
    ax.set_title(output)
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
