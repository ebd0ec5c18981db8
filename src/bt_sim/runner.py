"""Run a scenario's replicates and write tidy results with a manifest, all or nothing."""

from __future__ import annotations

import json
import os
import platform
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bt_sim.errors import OutputError, ResourceError
from bt_sim.model import TransitionModel
from bt_sim.outdir import OutputClaim, claim_output
from bt_sim.scenario.schema import Scenario
from bt_sim.scenario.validate import scenario_to_dict
from bt_sim.units import HUB_PANEL_UNITS, series_units, summary_units


@dataclass
class RunResult:
    """Tables of a finished run (all replicates) and its manifest."""

    timeseries: pd.DataFrame
    summary: pd.DataFrame
    hub_panel: pd.DataFrame
    manifest: dict[str, Any] = field(default_factory=dict)


def replicate_seeds(seed: int, replicates: int) -> list[np.random.SeedSequence]:
    """Independent seed sequences, one per replicate: ``SeedSequence(seed).spawn(replicates)``.

    Replicate ``r`` gets the same stream however many replicates or workers there are.
    """
    return np.random.SeedSequence(seed).spawn(replicates)


def run_replicate(
    scenario: Scenario,
    seed: np.random.SeedSequence,
    replicate: int,
    progress: Callable[[int], object] | None = None,
    ready: Callable[[], object] | None = None,
) -> tuple[pd.DataFrame, dict, pd.DataFrame, dict, dict]:
    """Run one replicate; returns its time series, summary row, hub panel, timings and the
    units of each table's columns (:mod:`bt_sim.units`).

    ``ready`` is called once the model is built, before its first step. The summary row holds
    outcomes only (no timings), so that it is byte-for-byte reproducible; the timings are
    returned separately and kept in the manifest.
    """
    t0 = time.perf_counter()
    model = TransitionModel(scenario, seed=seed)
    t1 = time.perf_counter()
    if ready is not None:
        ready()
    model.run(progress=progress)
    t2 = time.perf_counter()
    ts = model.timeseries()
    ts.insert(0, "replicate", replicate)
    summary = {"replicate": replicate, **model.summary()}
    hub_panel = model.hub_panel()
    hub_panel.insert(0, "replicate", replicate)
    units = {
        "summary": summary_units(summary, model.components.values()),
        "timeseries": series_units(model),
        "hub_panel": HUB_PANEL_UNITS,
    }
    return ts, summary, hub_panel, {"setup_s": t1 - t0, "run_s": t2 - t1}, units


def _versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for pkg in ("bt-sim", "mesa", "numpy", "scipy", "pandas", "networkx", "pyarrow"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            out[pkg] = "not installed"
    return out


def run_scenario(
    scenario: Scenario,
    replicates: int | None = None,
    seed: int | None = None,
    progress: Callable[[int], object] | None = None,
    source: dict | None = None,
    ready: Callable[[], object] | None = None,
) -> RunResult:
    """Run every replicate of a scenario in this process.

    Parameters
    ----------
    scenario : Scenario
    replicates, seed : int, optional
        Override ``scenario.run.replicates`` and ``scenario.run.seed``.
    progress : callable, optional
        Called with the number of steps just done.
    source : dict, optional
        Provenance to keep in the manifest (scenario file, overrides, command).
    ready : callable, optional
        Called once the first replicate's model is built, before any step (a progress bar
        starts its clock there, so construction does not count as a step).
    """
    reps = scenario.run.replicates if replicates is None else replicates
    root = scenario.run.seed if seed is None else seed
    start = time.perf_counter()
    parts, rows, panels, timings = [], [], [], []
    for r, ss in enumerate(replicate_seeds(root, reps)):
        ts, row, panel, tm, units = run_replicate(
            scenario, ss, r, progress, ready if r == 0 else None
        )
        parts.append(ts)
        rows.append(row)
        panels.append(panel)
        timings.append(tm)
    manifest = {
        "bt_sim_manifest": 1,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "scenario": scenario_to_dict(scenario),
        "seed": int(root),
        "replicates": int(reps),
        "seed_scheme": "replicate r uses numpy SeedSequence(seed).spawn(replicates)[r]",
        "random_numbers": (
            "common random numbers: each decision has its own stream (bt_sim.streams), each "
            "number a counter-based hash of (stream key, step, household[, behaviour])"
            if scenario.run.crn
            else "one sequential dynamics stream per replicate (run.crn = false)"
        ),
        "visibility": VISIBILITY,
        "source": source or {},
        "versions": _versions(),
        "platform": platform.platform(),
        "units": units,
        "timings": {"total_s": time.perf_counter() - start, "replicates": timings},
    }
    tables = {
        "timeseries": pd.concat(parts, ignore_index=True),
        "summary": pd.DataFrame(rows),
        "hub_panel": pd.concat(panels, ignore_index=True),
    }
    for name, df in tables.items():
        df.attrs = {**df.attrs, "units": units[name]}
    return RunResult(**tables, manifest=manifest)


#: Who may see each table (docs/hub-data.md): the hub panel is the only thing a hub publishes.
VISIBILITY = {
    "hub_panel": "hub-safe: the only thing a hub publishes (k, release windows, minimum change, "
    "noise; docs/hub-data.md)",
    "timeseries": "researcher-only in scope collective_truth (all members' true values, no k "
    "rule); the other scopes are town-level model outputs",
    "summary": "researcher-only model outcomes",
}


def _write_table(df: pd.DataFrame, path_stem: Path, fmt: str) -> str:
    if fmt == "csv":
        path = path_stem.with_suffix(".csv")
        df.to_csv(path, index=False)
    else:
        path = path_stem.with_suffix(".parquet")
        df.to_parquet(path, index=False)
    return path.name


def write_tables(
    result: RunResult,
    folder: Path,
    fmt: str = "parquet",
    plot: bool = True,
    hub_panel: bool = True,
    title: str = "",
) -> dict[str, str]:
    """Write tables, plot and manifest into an existing, empty ``folder``.

    Returns
    -------
    dict
        The files written, by role (also recorded in the manifest under ``files``).
    """
    files = {
        "timeseries": _write_table(result.timeseries, folder / "timeseries", fmt),
        "summary": _write_table(result.summary, folder / "summary", fmt),
    }
    if hub_panel:
        files["hub_panel"] = _write_table(result.hub_panel, folder / "hub_panel", fmt)
    if plot:
        from bt_sim.plot import plot_run

        plot_run(result.timeseries, folder / "plot.png", title)
        files["plot"] = "plot.png"
    manifest = dict(result.manifest, files=files)
    (folder / "manifest.json").write_text(
        json.dumps(manifest, indent=2, default=float) + "\n", encoding="utf-8"
    )
    return files


def write_staged(
    result: RunResult,
    claim: OutputClaim,
    fmt: str = "parquet",
    plot: bool = True,
    hub_panel: bool = True,
    title: str = "",
) -> Path:
    """Write the results into a claimed folder's staging folder, then move them into place.

    On any failure or interruption the staging folder is removed and the claim released;
    an existing folder being replaced is left as it was.

    Raises
    ------
    OutputError
        If the results cannot be written.
    """
    try:
        try:
            write_tables(result, claim.staging, fmt, plot, hub_panel, title)
        except OSError as exc:
            raise OutputError(
                f"{claim.final}: cannot write results: {exc.strerror or exc}"
            ) from None
        return claim.commit()
    finally:
        claim.release()


def write_results(
    result: RunResult,
    out: Path,
    fmt: str = "parquet",
    plot: bool = True,
    hub_panel: bool = True,
    force: bool = False,
    title: str = "",
) -> Path:
    """Write tables, manifest and plot into ``out`` atomically.

    Everything is written to a hidden staging folder beside ``out`` and moved into place only
    when complete (see :mod:`bt_sim.outdir`), so an interrupted or failed write leaves nothing
    half-written and never loses an earlier folder.

    Raises
    ------
    OutputError
        If ``out`` exists and is not empty (unless ``force`` and it is a results folder that
        bt-sim wrote), is being written by another run, or cannot be written.
    """
    claim = claim_output(Path(out), Path(out).name, force)
    return write_staged(result, claim, fmt, plot, hub_panel, title)


#: Outcomes printed by :func:`describe` (their units come from :mod:`bt_sim.units`).
_PRINTED = (
    "any_adoption",
    "kpi_change",
    "time_to_50pct:any",
    "inclusivity_gap",
    "member_share",
    "representativeness",
    "compared_share",
)
#: What the collectives did, printed after the main outcomes.
_COLLECTIVE_PRINTED = ("capacity:stalled", "capacity:dissolved", "collectives:founded")
#: Building blocks' outcomes printed (by the end of their name).
_BLOCK_PRINTED = ("carried_months", "refused_months", "visits", "new_ties")
#: What the network organisation did, printed when it spent anything.
_ORGANISATION_PRINTED = (
    "organisation:founded",
    "organisation:warm_starts",
    "organisation:links",
    "organisation:staff_hours",
    "organisation:euros",
)
#: The transition, printed when the landscape, the regime or the municipality acts.
_TRANSITION_PRINTED = (
    "regime:share",
    "regime:tipped",
    "regime:tip_month",
    "regime:time_to_50",
    "regime:price_change",
    "municipality:support_months",
    "municipality:spent",
)
#: Short forms of long units in the printed table.
_SHORT = {"collective-months": "coll-mon", "staff hours": "hours"}


def describe(result: RunResult) -> str:
    """A short text summary: mean (and range over replicates) of the main outcomes, with units,
    then what the collectives did (building blocks carried out and refused, collectives
    stalled, dissolved and founded) where the run has collectives, what the network
    organisation did where it spent anything, and the transition (its share, tipping, pathway
    class, price and policy) where the landscape, the regime or the municipality acted."""
    s = result.summary
    units = s.attrs.get("units", {})
    cols = [c for c in s.columns if c.startswith("final_adoption:")] + list(_PRINTED)
    if "capacity:active_months" in s.columns and s["capacity:active_months"].max() > 0:
        cols += [
            c
            for c in s.columns
            if (c.startswith("interventions:") and c.endswith(_BLOCK_PRINTED))
            or c in _COLLECTIVE_PRINTED
        ]
    if "organisation:staff_hours" in s.columns and s["organisation:staff_hours"].max() > 0:
        cols += [c for c in _ORGANISATION_PRINTED if c in s.columns]
    transition = _transition_acts(result)
    if transition:
        cols += [c for c in _TRANSITION_PRINTED if c in s.columns]
    w = max(34, *(len(c) for c in cols))
    lines = [f"{'outcome':<{w}} {'unit':<11} {'mean':>9} {'min':>9} {'max':>9}"]
    for c in cols:
        v = s[c].astype(float)
        unit = units.get(c, "?")
        unit = _SHORT.get(unit, unit)
        lines.append(f"{c:<{w}} {unit:<11} {v.mean():>9.3f} {v.min():>9.3f} {v.max():>9.3f}")
    if transition and "regime:pathway" in s.columns:
        counts = s["regime:pathway"].value_counts()
        classes = ", ".join(f"{k} {v} of {len(s)}" for k, v in counts.items())
        lines.append(f"{'regime:pathway':<{w}} {'class':<11} {classes}")
    return "\n".join(lines)


def _transition_acts(result: RunResult) -> bool:
    """Whether the landscape, the regime or the municipality acted in the run: a driver, a
    behaviour's resistance, a price that learning moved, or a municipality's review."""
    s, ts = result.summary, result.timeseries
    if "municipality:reviews" in s.columns and s["municipality:reviews"].max() > 0:
        return True
    if "regime:price_change" in s.columns and (s["regime:price_change"] < 1).any():
        return True
    names = ts["variable"].astype(str).unique()
    return any(v.startswith(("landscape:", "regime:resistance:")) for v in names)


# Memory model of a run, fitted to peak resident memory measured on runs of 100,000-400,000
# households (mean degree 10-40) and 2,000 households x 200 replicates, rounded up.
_BASE_BYTES = 250e6  # interpreter, numpy, pandas, numba kernels
_HOUSEHOLD_BYTES = 800.0  # attributes, state, rule work arrays
_TIE_BYTES = 64.0  # per tie end: CSR arrays plus the generator's temporaries
_ROW_BYTES = 160.0  # per recorded time-series row (kept for every replicate)


def estimate_memory(scenario: Scenario, replicates: int | None = None) -> dict[str, float]:
    """Estimate the peak memory of a run, in bytes, before anything is allocated.

    Parameters
    ----------
    scenario : Scenario
    replicates : int, optional
        Overrides ``scenario.run.replicates``.

    Returns
    -------
    dict
        ``households``, ``network``, ``results`` (the tables kept for every replicate) and
        ``total``.
    """
    reps = scenario.run.replicates if replicates is None else replicates
    pop, net = scenario.population, scenario.network
    if net.kind == "complete":
        tie_ends = 0.0
    elif net.kind == "edgelist":
        try:  # about 8 bytes a row; every tie is held from both ends
            tie_ends = Path(net.edgelist).stat().st_size / 4
        except OSError:
            tie_ends = 0.0
    else:
        tie_ends = float(pop.households) * net.mean_degree
    cc = scenario.collectives
    from bt_sim.components.organisation import foundings_planned

    collectives = cc.max_count or cc.count + len(scenario.foundings) + foundings_planned(scenario)
    scopes = 3 + pop.neighbourhoods + collectives
    per_step = scopes * (len(scenario.behaviours) + 6) + 10 * collectives + 20  # + components'
    rows = float(reps) * (scenario.run.steps + 1) * per_step
    parts = {
        "households": _BASE_BYTES + _HOUSEHOLD_BYTES * pop.households,
        "network": _TIE_BYTES * tie_ends,
        "results": _ROW_BYTES * rows,
    }
    parts["total"] = sum(parts.values())
    return parts


def available_memory() -> float:
    """Memory this process can use without swapping, in bytes (MemAvailable, else all RAM)."""
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return float(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return float(os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    except (OSError, ValueError):
        return float("inf")


def _size(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB", "TB", "PB"):
        if n < 1000 or unit == "PB":
            return f"{n:.3g} {unit}"
        n /= 1000
    return f"{n:.3g} PB"


def check_memory(scenario: Scenario, replicates: int | None = None) -> dict[str, float]:
    """Refuse a run whose estimated memory exceeds what is available.

    Returns
    -------
    dict
        The estimate (see :func:`estimate_memory`) when the run fits.

    Raises
    ------
    ResourceError
        With the estimate, the memory available and the keys to lower.
    """
    est = estimate_memory(scenario, replicates)
    have = available_memory()
    if est["total"] <= have:
        return est
    reps = scenario.run.replicates if replicates is None else replicates
    lower = {
        "households": "population.households",
        "network": "network.mean_degree or population.households",
        "results": f"--replicates ({reps}) or run.steps ({scenario.run.steps})",
    }
    biggest = max(lower, key=lambda k: est[k])
    detail = ", ".join(f"{k} {_size(est[k])}" for k in lower)
    raise ResourceError(
        f"this run needs about {_size(est['total'])} of memory ({detail}) but only "
        f"{_size(have)} is available; lower {lower[biggest]}"
    )


def python_command() -> str:
    """The command line that started this process (for the manifest)."""
    return " ".join([Path(sys.argv[0]).name, *sys.argv[1:]])
