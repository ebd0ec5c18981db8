"""The run's PNG: adoption, KPI saving, collectives and inclusivity over time."""

from __future__ import annotations

from pathlib import Path

import pandas as pd


def plot_run(timeseries: pd.DataFrame, path: Path, title: str) -> None:
    """Draw the four standard panels (mean over replicates, min-max band) to ``path``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 2, figsize=(11, 7.5), constrained_layout=True)
    overall = timeseries[timeseries["scope"] == "overall"]
    group = timeseries[timeseries["scope"] == "group"]

    def band(ax, df, label):
        g = df.groupby("month")["value"]
        mean, lo, hi = g.mean(), g.min(), g.max()
        (line,) = ax.plot(mean.index, mean.to_numpy(), label=label)
        ax.fill_between(mean.index, lo.to_numpy(), hi.to_numpy(), alpha=0.2, color=line.get_color())

    ax = axes[0, 0]
    for var in sorted(v for v in overall["variable"].unique() if v.startswith("adoption:")):
        band(ax, overall[overall["variable"] == var], var.split(":", 1)[1])
    ax.set(title="Adoption by behaviour", xlabel="month", ylabel="share of households")
    ax.legend(fontsize=8)
    ax = axes[0, 1]
    band(ax, overall[overall["variable"] == "kpi_saving"], "all households")
    for unit in ("other", "disadvantaged"):
        band(ax, group[(group["variable"] == "kpi_saving") & (group["entity"] == unit)], unit)
    ax.set(title="KPI saving against baseline", xlabel="month", ylabel="relative saving")
    ax.legend(fontsize=8)
    ax = axes[1, 0]
    for var, label in (
        ("members", "members"),
        ("consenting", "sharing data with hub"),
        ("compared", "getting peer comparison"),
    ):
        band(ax, overall[overall["variable"] == var], label)
    ax.set(title="Collectives and hub", xlabel="month", ylabel="share of all households")
    ax.legend(fontsize=8)
    ax = axes[1, 1]
    for unit in ("other", "disadvantaged"):
        band(ax, group[(group["variable"] == "any_adoption") & (group["entity"] == unit)], unit)
    ax.set(
        title="Inclusivity: adopting at least one behaviour",
        xlabel="month",
        ylabel="share of group",
    )
    ax.legend(fontsize=8)
    fig.suptitle(title)
    fig.savefig(path, dpi=110)
    plt.close(fig)
