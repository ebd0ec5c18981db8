"""A report for every sweep: per point, each output's mean with its interval over replicates.

``bt-sim report RESULTS`` reads a sweep's folder and writes into it ``report.csv`` (one row per
point and output: the point's parameters, the output, runs, mean, 95 % t interval over the
replicates and, where the sweep's seeds are common, the paired difference against a reference
point with its interval), ``report.md`` (the same as a table per output) and one picture per
output, ``report-<output>.png``: the output against each swept parameter, each point's mean
with its interval.

A sweep's runs, from Python, are one line (the parts beside the manifest)::

    bt_sim.experiments.store.open_store("results/hub_k").results()
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from bt_sim.experiments.compare_report import mean_interval
from bt_sim.experiments.sensitivity import safe_name


def _interval(values: np.ndarray, level: float = 0.95) -> tuple[float, float, float, int]:
    """Mean, t interval and count of the finite values (:func:`mean_interval`)."""
    m = mean_interval(np.asarray(values, np.float64), level)
    return float(m["mean"]), float(m["lo"]), float(m["hi"]), int(m["n"])


def point_table(
    results: pd.DataFrame,
    parameters: Sequence[str],
    outputs: Sequence[str],
    paired: bool = False,
    reference: int = 0,
    level: float = 0.95,
) -> pd.DataFrame:
    """Per point and output: mean and interval over the replicates (failed runs left out)
    and, with ``paired`` (common seeds), the mean paired difference against point
    ``reference`` over the replicates both have, with its interval.

    >>> runs = pd.DataFrame({"point": [0, 0, 1, 1], "replicate": [0, 1, 0, 1],
    ...                      "x": [1, 1, 2, 2], "y": [1.0, 2.0, 3.0, 5.0], "error": ""})
    >>> t = point_table(runs, ["x"], ["y"], paired=True)
    >>> t[["point", "mean", "diff"]].to_dict("list")
    {'point': [0, 1], 'mean': [1.5, 4.0], 'diff': [0.0, 2.5]}
    """
    ok = results[results["error"] == ""] if "error" in results else results
    rows = []
    for out in outputs:
        y = pd.to_numeric(ok[out], errors="coerce")
        ref = y[ok["point"] == reference].set_axis(ok.loc[ok["point"] == reference, "replicate"])
        for p, g in ok.groupby("point", sort=True):
            vals = y.loc[g.index].to_numpy(np.float64)
            mean, lo, hi, n = _interval(vals, level)
            row = {"point": int(p), **{k: g[k].iloc[0] for k in parameters}, "output": out,
                   "runs": n, "mean": mean, "lo": lo, "hi": hi}  # fmt: skip
            if paired:
                mine = y.loc[g.index].set_axis(g["replicate"])
                both = pd.concat([mine, ref], axis=1, join="inner").dropna()
                d = (both.iloc[:, 0] - both.iloc[:, 1]).to_numpy(np.float64)
                dm, dlo, dhi, pairs = _interval(d, level)
                row.update(diff=dm, diff_lo=dlo, diff_hi=dhi, pairs=pairs)
            rows.append(row)
    return pd.DataFrame(rows)


def markdown(table: pd.DataFrame, parameters: Sequence[str], paired: bool, reference: int) -> str:
    """One Markdown table per output."""
    parts = []
    for out, t in table.groupby("output", sort=False):
        head = ["point", *parameters, "runs", "mean [95 %]"]
        if paired:
            head.append(f"vs point {reference} (paired)")
        lines = ["| " + " | ".join(head) + " |", "|" + " --- |" * len(head)]
        for d in t.to_dict("records"):
            cells = [str(d["point"]), *(f"{d[k]}" for k in parameters), str(d["runs"]),
                     f"{d['mean']:.4g} [{d['lo']:.4g}, {d['hi']:.4g}]"]  # fmt: skip
            if paired:
                cells.append(f"{d['diff']:+.4g} [{d['diff_lo']:+.4g}, {d['diff_hi']:+.4g}]")
            lines.append("| " + " | ".join(cells) + " |")
        unit = t["unit"].iloc[0] if "unit" in t else ""
        title = f"{out} ({unit})" if unit else out
        parts.append(f"## {title}\n\n" + "\n".join(lines))
    return "\n\n".join(parts) + "\n"


def plot_output(table: pd.DataFrame, parameters: Sequence[str], output: str, path: Path) -> None:
    """The output against each swept parameter: each point's mean with its interval."""
    from matplotlib.figure import Figure

    from bt_sim.experiments.store import write_atomic

    t = table[table["output"] == output]
    fig = Figure(figsize=(4.2 * len(parameters), 3.6), layout="constrained")
    axes = fig.subplots(1, len(parameters), squeeze=False)[0]
    for ax, key in zip(axes, parameters, strict=True):
        x = t[key]
        numeric = pd.api.types.is_numeric_dtype(x) and not pd.api.types.is_bool_dtype(x)
        xs = x.to_numpy(float) if numeric else pd.factorize(x.astype(str))[0]
        err = np.nan_to_num(np.stack([t["mean"] - t["lo"], t["hi"] - t["mean"]]), nan=0.0)
        ax.errorbar(xs, t["mean"], yerr=err, fmt="o", capsize=3, alpha=0.8)
        if not numeric:
            labels = pd.factorize(x.astype(str))[1]
            ax.set_xticks(range(len(labels)), labels)
        ax.set_xlabel(key)
        unit = t["unit"].iloc[0] if "unit" in t and len(t) else ""
        ax.set_ylabel(f"{output} ({unit})" if unit else output)
        ax.grid(alpha=0.3)
    fig.suptitle(f"{output}: mean over replicates with 95 % intervals, one dot per point",
                 fontsize=10)  # fmt: skip
    write_atomic(path, lambda p: fig.savefig(p, dpi=110, format="png"))


def report(folder: Path, outputs: Sequence[str] | None = None, reference: int = 0) -> dict:
    """The report of a sweep folder (see the module docstring): returns what to write,
    ``{file name: writer}``, and the table."""
    from bt_sim.errors import SweepError
    from bt_sim.experiments.core import output_columns
    from bt_sim.experiments.store import open_store

    store = open_store(folder)
    manifest = store.manifest
    params = list(manifest.get("parameters", []))
    res = store.results()
    if res.empty:
        raise SweepError([(str(folder), "", "no runs recorded yet")])
    have = output_columns(res, params)
    outs = list(outputs) if outputs else have
    missing = [o for o in outs if o not in have]
    if missing:
        raise SweepError([(str(folder), "--output", f"no output {m!r} (have: "
                           f"{', '.join(have)})") for m in missing])  # fmt: skip
    points = int(res["point"].max()) + 1
    if not 0 <= reference < points:
        raise SweepError([(str(folder), "--reference", f"expected a point in 0..{points - 1}, "
                           f"got {reference}")])  # fmt: skip
    paired = manifest.get("sweep", {}).get("seeds") == "common"
    table = point_table(res, params, outs, paired, reference)
    units = res.attrs.get("units", {})
    table.insert(table.columns.get_loc("output") + 1, "unit", table["output"].map(
        lambda o: units.get(o, "?")))  # fmt: skip
    text = f"# {manifest.get('name', 'sweep')}: per point\n\n" + markdown(
        table, params, paired, reference
    )  # made before anything is written
    files = {
        "report.csv": lambda p: table.to_csv(p, index=False),
        "report.md": lambda p: p.write_text(text, encoding="utf-8"),
    }
    for out in outs:
        files[f"report-{safe_name(out)}.png"] = lambda p, o=out: plot_output(table, params, o, p)
    return {"files": files, "table": table, "paired": paired, "parameters": params}
