"""``bt-sim calibrate`` and ``bt-sim synth-hub``: the steps around the ABC, and what they write."""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from bt_sim.calibration.config import CalibrationError, load_calibration
from bt_sim.calibration.hubdata import check_placement, load_hub_data, panel_to_tidy

HISTORY_SUFFIX = ".abc-history.db"


def history_path(final: Path) -> Path:
    """Where a calibration writing ``final`` keeps its (resumable) SQLite history."""
    return final.parent / f"{final.name}{HISTORY_SUFFIX}"


def calibrate(
    path,
    out: Path | None = None,
    resume: bool = False,
    n_procs: int = 1,
    executor=None,
    progress: Callable[[str], None] | None = None,
    force: bool = False,
    on_history: Callable[[Path], object] | None = None,
) -> Path:
    """Calibrate a scenario against hub data as the calibration file says; returns the folder.

    Everything that can fail on bad input is checked before the first simulation. The ABC
    history is written to ``<out>.abc-history.db`` beside the results folder as it goes, so a
    killed calibration can be continued with ``resume=True``; the results are written to a
    claimed folder only when complete, and the history is then moved into it. Simulations
    run on ``executor`` (any bt-sim executor, e.g. a Dask cluster), else on ``n_procs`` local
    processes (see :func:`bt_sim.calibration.abc.run_abc`).
    """
    from bt_sim.extras import require

    require("pyabc", "calibration", "bt-sim calibrate")
    from bt_sim.calibration.abc import plot_predictive, posterior, predictive, run_abc
    from bt_sim.outdir import claim_output

    cal = load_calibration(path)
    scenario = cal.scenario()
    check_placement(scenario, f"{cal.path}: scenario {cal.scenario_path}")
    observed = load_hub_data(cal.data_path, scenario)
    from bt_sim.calibration.record import check_resume, fitted_to, record_path, write_record

    record = fitted_to(cal)
    claim = claim_output(out, cal.name, force)
    started = False  # whether this call started the history (removed if it stores nothing)
    try:
        db = history_path(claim.final)
        if resume and not db.exists():
            raise CalibrationError(
                f"{db}: no calibration history to resume (was the calibration started with "
                "the same --out?)"
            )
        if not resume and db.exists():
            raise CalibrationError(
                f"{db}: a calibration history is already there; pass --resume to continue it, "
                "or move it away to start afresh"
            )
        if resume:
            for change in check_resume(db, record):  # refused if fitted to something else
                if progress is not None:
                    progress(f"resuming with {change}")
        write_record(db, record)
        started = not resume
        if on_history is not None:
            on_history(db)
        own = executor is None
        if own:  # kept to the end: the predictive check runs on the same workers
            from bt_sim.calibration.sampler import local_executor

            executor = local_executor(n_procs)
        try:
            history, stats, timing = run_abc(cal, observed, db, resume, n_procs, executor, progress)
            samples, summary = posterior(cal, history)
            if progress is not None:
                progress(f"posterior predictive check: {cal.draws} simulations")
            t0 = time.perf_counter()
            table = predictive(cal, stats, samples, cal.seed + 1, executor)
            pp_seconds = time.perf_counter() - t0
        except BaseException:
            if started and generations_stored(db) == 0:  # nothing to resume: no blocker
                db.unlink(missing_ok=True)
                record_path(db).unlink(missing_ok=True)
            raise
        finally:
            if own:
                executor.close()
        st = claim.staging
        samples.to_csv(st / "posterior_samples.csv", index=False)
        summary.to_csv(st / "posterior_summary.csv", index=False)
        table.to_csv(st / "predictive.csv", index=False)
        plot_predictive(table, st / "predictive.png")
        truth = _truth(cal.data_path)
        pops = history.get_all_populations()
        eps = pops[pops["t"] >= 0]["epsilon"].tolist()
        fit = {
            "generations": int(history.max_t + 1),
            "epsilons": [float(e) for e in eps],
            "simulations_total": int(history.total_nr_simulations),
            "simulations_this_run": timing["simulations"],
            "seconds_this_run": timing["seconds"],
            "simulations_per_second": timing["simulations"] / max(timing["seconds"], 1e-9),
            "predictive_simulations_per_second": cal.draws / max(pp_seconds, 1e-9),
            "resumed_at_generation": timing["resumed_at"] if resume else None,
            "predictive_coverage_90": float(table["covered"].mean()),
            "standardised_rmse": float(
                np.sqrt(np.mean(((table["sim_median"] - table["observed"]) / stats.scales) ** 2))
            ),
        }
        (st / "report.md").write_text(_report(cal, summary, fit, truth), encoding="utf-8")
        shutil.copy2(db, st / "history.db")
        files = {
            "posterior_samples": "posterior_samples.csv",
            "posterior_summary": "posterior_summary.csv",
            "predictive": "predictive.csv",
            "predictive_plot": "predictive.png",
            "report": "report.md",
            "history": "history.db",
        }
        import bt_sim

        manifest = {
            "bt_sim_manifest": 1,
            "kind": "calibration",
            "version": bt_sim.__version__,
            "calibration": str(cal.path),
            "scenario": str(cal.scenario_path),
            "data": str(cal.data_path),
            "fit": fit,
            "fitted_to": record,
            "files": files,
        }
        (st / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
        final = claim.commit()
        db.unlink(missing_ok=True)
        record_path(db).unlink(missing_ok=True)
    finally:
        claim.release()
    return final


def generations_stored(db: Path) -> int | None:
    """Generations (t >= 0) a pyabc history holds: 0 if there is no history or it has none,
    ``None`` if it cannot be read now (locked, say): never taken for empty."""
    import sqlite3

    if not db.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as con:
            return int(con.execute("SELECT COUNT(*) FROM populations WHERE t >= 0").fetchone()[0])
    except sqlite3.OperationalError as exc:
        if "no such table" in str(exc):  # created, nothing stored yet
            return 0
        return None
    except sqlite3.Error:
        return None


def _truth(data_path: Path) -> dict | None:
    p = data_path.parent / "truth.json"
    try:
        return json.loads(p.read_text(encoding="utf-8")).get("parameters")
    except (OSError, ValueError, AttributeError):
        return None


def _report(cal, summary, fit, truth) -> str:
    lines = [
        f"# Calibration `{cal.name}`",
        "",
        f"Scenario `{cal.scenario_path.name}`, hub data `{cal.data_path.name}`, matched "
        + ", ".join(f"`{k}` to `{v}`" for k, v in cal.match.items())
        + f"; ABC-SMC (pyabc), population {cal.population_size}, "
        f"{fit['generations']} generation(s), {fit['simulations_total']} simulations.",
        "",
        "## Posterior",
        "",
        "| parameter | mean | median | 5 % | 95 % | prior 5 % | prior 95 % | width / prior width"
        + (" | truth | covered |" if truth else " |"),
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---:"
        + (" | ---: | --- |" if truth else " |"),
    ]
    for r in summary.itertuples():
        row = (
            f"| `{r.parameter}` | {r.mean:.4g} | {r.median:.4g} | {r.q05:.4g} | {r.q95:.4g} | "
            f"{r.prior_q05:.4g} | {r.prior_q95:.4g} | {r.width_ratio:.2f} |"
        )
        if truth:
            t = truth.get(r.parameter)
            cov = "" if t is None else ("yes" if r.q05 <= t <= r.q95 else "no")
            row += f" {t if t is not None else ''} | {cov} |"
        lines.append(row)
    lines += [
        "",
        "## Fit",
        "",
        f"* epsilon by generation: {', '.join(f'{e:.3g}' for e in fit['epsilons'])}",
        f"* observed statistics inside the simulated 5-95 % band: "
        f"{100 * fit['predictive_coverage_90']:.0f} % (posterior predictive, {cal.draws} draws)",
        f"* root mean square of (simulated median - observed) / scale: "
        f"{fit['standardised_rmse']:.3g}",
        f"* speed: {fit['simulations_per_second']:.1f} simulations/s in the ABC "
        f"({fit['simulations_this_run']} in {fit['seconds_this_run']:.1f} s)",
        "",
        "Files: `posterior_samples.csv` (last generation, with weights), `posterior_summary.csv`, "
        "`predictive.csv` and `predictive.png` (bands per collective), `history.db` (pyabc).",
        "",
    ]
    return "\n".join(lines)


def synth_hub(
    scenario_arg: str,
    overrides: list[str],
    out: Path | None,
    seed: int | None,
    force: bool = False,
) -> Path:
    """Simulate a hub export with known parameters: ``hub.csv`` and, apart, ``truth.json``."""
    from bt_sim.model import TransitionModel
    from bt_sim.outdir import claim_output
    from bt_sim.scenario import load_scenario
    from bt_sim.scenario.loader import find_scenario, parse_override

    scenario = load_scenario(find_scenario(scenario_arg), overrides)
    check_placement(scenario, str(scenario_arg))
    seed = scenario.run.seed if seed is None else seed
    claim = claim_output(out, f"{scenario.name}-hub", force)
    try:
        model = TransitionModel(scenario, seed=seed)
        model.run()
        tidy = panel_to_tidy(model.hub_panel())
        tidy.to_csv(claim.staging / "hub.csv", index=False)
        from bt_sim.scenario.validate import scenario_to_dict

        params = {}
        resolved = scenario_to_dict(scenario)
        for text in overrides:
            parts, _ = parse_override(text)
            cur = resolved
            for part in parts:
                cur = cur.get(part) if isinstance(cur, dict) else None
            params[".".join(parts)] = cur
        truth = {
            "scenario": str(scenario_arg),
            "overrides": overrides,
            "seed": seed,
            "parameters": params,
            "note": "the answer: keep it apart from hub.csv when testing a calibration",
        }
        (claim.staging / "truth.json").write_text(json.dumps(truth, indent=2), encoding="utf-8")
        files = {"hub": "hub.csv", "truth": "truth.json"}
        (claim.staging / "manifest.json").write_text(
            json.dumps({"bt_sim_manifest": 1, "kind": "synth-hub", "files": files}, indent=2),
            encoding="utf-8",
        )
        return claim.commit()
    finally:
        claim.release()
