"""Run a scenario's replicates and write tidy results with a manifest, all or nothing."""

from __future__ import annotations

import json
import os
import platform
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bt_sim.errors import OutputError
from bt_sim.model import TransitionModel
from bt_sim.scenario.schema import Scenario
from bt_sim.scenario.validate import scenario_to_dict


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
    scenario: Scenario, seed: np.random.SeedSequence, replicate: int, progress=None
) -> tuple[pd.DataFrame, dict, pd.DataFrame, dict]:
    """Run one replicate; returns its time series, summary row, hub panel and timings."""
    t0 = time.perf_counter()
    model = TransitionModel(scenario, seed=seed)
    t1 = time.perf_counter()
    model.run(progress=progress)
    t2 = time.perf_counter()
    ts = model.timeseries()
    ts.insert(0, "replicate", replicate)
    summary = {"replicate": replicate, **model.summary(), "seconds": t2 - t0}
    hub_panel = model.hub_panel()
    hub_panel.insert(0, "replicate", replicate)
    return ts, summary, hub_panel, {"setup_s": t1 - t0, "run_s": t2 - t1}


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
    progress=None,
    source: dict | None = None,
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
    """
    reps = scenario.run.replicates if replicates is None else replicates
    root = scenario.run.seed if seed is None else seed
    start = time.perf_counter()
    parts, rows, panels, timings = [], [], [], []
    for r, ss in enumerate(replicate_seeds(root, reps)):
        ts, row, panel, tm = run_replicate(scenario, ss, r, progress)
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
        "source": source or {},
        "versions": _versions(),
        "platform": platform.platform(),
        "timings": {"total_s": time.perf_counter() - start, "replicates": timings},
    }
    return RunResult(
        pd.concat(parts, ignore_index=True),
        pd.DataFrame(rows),
        pd.concat(panels, ignore_index=True),
        manifest,
    )


def _write_table(df: pd.DataFrame, path_stem: Path, fmt: str) -> str:
    if fmt == "csv":
        path = path_stem.with_suffix(".csv")
        df.to_csv(path, index=False)
    else:
        path = path_stem.with_suffix(".parquet")
        df.to_parquet(path, index=False)
    return path.name


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

    Everything is written to a hidden temporary folder beside ``out`` and moved into place only
    when complete, so an interrupted or failed write leaves nothing half-written.

    Raises
    ------
    OutputError
        If ``out`` exists and is not empty (unless ``force``), or cannot be written.
    """
    out = Path(out)
    if out.exists() and (not out.is_dir() or any(out.iterdir())) and not force:
        raise OutputError(
            f"{out}: already exists and is not empty; choose another --out "
            "or pass --force to replace it"
        )
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
        tmp.chmod(0o755)
    except OSError as exc:
        raise OutputError(f"{out}: cannot create the results folder: {exc.strerror}") from None
    try:
        files = {
            "timeseries": _write_table(result.timeseries, tmp / "timeseries", fmt),
            "summary": _write_table(result.summary, tmp / "summary", fmt),
        }
        if hub_panel:
            files["hub_panel"] = _write_table(result.hub_panel, tmp / "hub_panel", fmt)
        if plot:
            from bt_sim.plot import plot_run

            plot_run(result.timeseries, tmp / "plot.png", title)
            files["plot"] = "plot.png"
        manifest = dict(result.manifest, files=files)
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2, default=float) + "\n")
        if out.exists():
            shutil.rmtree(out) if out.is_dir() else out.unlink()
        os.replace(tmp, out)
    except OSError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise OutputError(f"{out}: cannot write results: {exc.strerror or exc}") from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out


def describe(result: RunResult) -> str:
    """A short text summary: mean (and range over replicates) of the main outcomes."""
    s = result.summary
    lines = [f"{'outcome':<34} {'mean':>9} {'min':>9} {'max':>9}"]
    cols = [c for c in s.columns if c.startswith("final_adoption:")] + [
        "any_adoption",
        "kpi_change",
        "time_to_50pct:any",
        "inclusivity_gap",
        "member_share",
        "representativeness",
        "compared_share",
    ]
    for c in cols:
        v = s[c].astype(float)
        lines.append(f"{c:<34} {v.mean():>9.3f} {v.min():>9.3f} {v.max():>9.3f}")
    return "\n".join(lines)


def python_command() -> str:
    """The command line that started this process (for the manifest)."""
    return " ".join([Path(sys.argv[0]).name, *sys.argv[1:]])
