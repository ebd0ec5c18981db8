"""The ``bt-sim sweep``, ``sensitivity`` and ``tipping`` commands (thin: the work is in
:mod:`bt_sim.experiments`)."""

from __future__ import annotations

import dataclasses
import json
import sys
from pathlib import Path

from bt_sim.cli import EXIT_INTERRUPTED, EXIT_TERMINATED, Terminated
from bt_sim.errors import SweepError


def _memory(spec, prepared, args, workers: int | None) -> dict[str, float]:
    """The sweep's memory estimate, refused (ResourceError) where it does not fit; the
    workers of a Dask scheduler run elsewhere and are not counted."""
    from bt_sim.experiments.executors import default_workers
    from bt_sim.experiments.resources import check_sweep_memory

    if args.scheduler:
        n = 0
    elif args.executor == "inprocess":
        n = 1
    else:
        n = workers or default_workers()
    return check_sweep_memory(spec, prepared[0], len(prepared[1]) * spec.replicates, n)


def _workers(args, runs: int | None) -> int | None:
    """``-j`` capped at what the machine and the sweep can use (said on stderr)."""
    from bt_sim.experiments.executors import cap_workers

    if args.workers is None or args.scheduler or args.executor == "inprocess":
        return args.workers
    workers, why = cap_workers(args.workers, runs)
    if why:
        print(f"bt-sim: -j {args.workers}: using {workers} workers ({why})", file=sys.stderr)
    return workers


def _check_executor(args) -> None:
    """What can fail about the executor, before any work (and with --check)."""
    from bt_sim.experiments.executors import check_executor

    check_executor(args.executor, args.scheduler)


def _plan(spec, design) -> str:
    runs = len(design) * spec.replicates
    params = ", ".join(spec.keys)
    return (
        f"{spec.name}: {spec.sampler} sampler, {len(design)} points x {spec.replicates} "
        f"replicate(s) = {runs:,} runs of {spec.scenario}; parameters: {params}"
    )


def _run(spec, args, prepared, out: Path | None = None):
    """Run a sweep file with the command's executor; Ctrl-C keeps what is done."""
    from bt_sim.experiments.core import run_sweep_file
    from bt_sim.experiments.executors import make_executor

    state = {}
    runs = len(prepared[1]) * spec.replicates
    workers = _workers(args, runs)
    _memory(spec, prepared, args, workers)  # before any worker starts
    try:
        with make_executor(args.executor, workers, args.scheduler) as ex:
            return run_sweep_file(
                spec,
                out if out is not None else args.out,
                ex,
                force=args.force,
                resume=args.resume,
                progress=not args.quiet,
                prepared=prepared,
                on_folder=lambda f: state.setdefault("folder", f),
            )
    except KeyboardInterrupt as exc:
        folder = state.get("folder")
        what = "terminated" if isinstance(exc, Terminated) else "interrupted"
        if folder is None:
            print(f"bt-sim: {what}; nothing was written", file=sys.stderr)
        else:
            from bt_sim.experiments.store import SweepStore

            n = len(SweepStore(folder).done_runs())
            print(
                f"bt-sim: {what}; {n} finished runs are saved in {folder}/; "
                f"bt-sim {args.command} {getattr(args, 'file', None) or args.source} --out "
                f"{folder} --resume runs the rest",
                file=sys.stderr,
            )
        raise SystemExit(
            EXIT_TERMINATED if isinstance(exc, Terminated) else EXIT_INTERRUPTED
        ) from None


def cmd_sweep(args) -> int:
    from bt_sim.experiments.core import (
        check_folder,
        describe_outcome,
        output_columns,
        prepare,
        sweep_manifest,
    )
    from bt_sim.experiments.spec import read_sweep

    spec = read_sweep(args.file)
    _check_executor(args)
    prepared = prepare(spec)  # every parameter checked against the schema, before any run
    folder = check_folder(spec, sweep_manifest(spec, *prepared), args.out, args.force, args.resume)
    if args.check:
        from bt_sim.runner import _size

        runs = len(prepared[1]) * spec.replicates
        est = _memory(spec, prepared, args, _workers(args, runs))
        print(_plan(spec, prepared[1]))
        print(f"memory: about {_size(est['total'])} ({_size(est['per_run'])} a run in each "
              f"worker, {_size(est['results'])} for the results)")  # fmt: skip
        what = "finishes" if args.resume else "replaces" if folder.exists() else "writes"
        print(f"{what} {folder}/")
        return 0
    if not args.quiet:
        print(_plan(spec, prepared[1]), file=sys.stderr)
    outcome = _run(spec, args, prepared)
    if not args.quiet:
        res = outcome.results
        print(
            f"{spec.name}: {outcome.ran} runs in {outcome.seconds:.1f} s "
            f"({outcome.ran / max(outcome.seconds, 1e-9):.1f} runs/s), "
            f"{outcome.failed} failed; {len(res)} recorded"
        )
        print(describe_outcome(outcome, output_columns(res, spec.keys)))
        if outcome.failed:
            first = res[res["error"] != ""].iloc[0]
            print(f"first failure (run {first['run']}): {first['error']}")
    print(f"results written to {outcome.folder}/")  # with -q too
    return 0


def _write_into(folder: Path, files: dict[str, object]) -> None:
    """Write analysis files into a sweep folder under its lock and record them."""
    from bt_sim.experiments.store import SweepStore, write_atomic
    from bt_sim.outdir import FolderLock

    lock = FolderLock(folder)
    try:
        store = SweepStore(folder)
        for name, writer in files.items():
            write_atomic(folder / name, writer)
            store.add_file(name, name)  # by its whole name: tipping.csv and tipping.json
    finally:
        lock.release()


def cmd_sensitivity(args) -> int:
    from bt_sim.experiments.sensitivity import analyse_store, format_table, safe_name
    from bt_sim.experiments.store import open_store

    store = open_store(args.results)
    sens = analyse_store(store, args.outputs or None)
    if sens.table.empty:
        raise SweepError(
            [
                (
                    str(args.results),
                    "outputs",
                    "no output could be analysed: "
                    + "; ".join(f"{k}: {v}" for k, v in sens.skipped.items()),
                )
            ]
        )
    label = "Sobol indices" if sens.method == "sobol" else "Morris elementary effects"
    print(f"{label} of {store.manifest.get('name')} ({store.manifest.get('points')} points)")
    print(format_table(sens, args.top), end="")
    table, second = sens.table, sens.second
    if args.outputs:  # keep the other outputs' rows of an earlier analysis
        import pandas as pd

        def merged(name: str, new):
            path = store.folder / name
            if not path.exists():
                return new
            old = pd.read_csv(path)
            if "output" not in old:
                return new
            return pd.concat([old[~old["output"].isin(new["output"].unique())], new],
                             ignore_index=True)  # fmt: skip

        table = merged("sensitivity.csv", table)
        if len(second):
            second = merged("sensitivity_s2.csv", second)
    files = {"sensitivity.csv": lambda p: table.to_csv(p, index=False)}
    if len(second):
        files["sensitivity_s2.csv"] = lambda p: second.to_csv(p, index=False)
    if not args.no_plot:
        for out in sens.table["output"].unique():
            files[f"sensitivity-{safe_name(out)}.png"] = lambda p, out=out: _plot_to(p, sens, out)
    _write_into(store.folder, files)
    print(f"written to {store.folder}/: {', '.join(files)}")
    return 0


def _plot_to(path: Path, sens, out: str) -> None:
    """Matplotlib picks the format from the suffix: draw to a .png and rename it."""
    from bt_sim.experiments.sensitivity import plot

    tmp = path.with_name(path.name + ".png")
    plot(sens, out, tmp)
    tmp.replace(path)


def cmd_tipping(args) -> int:
    from bt_sim.experiments.store import open_store

    src = Path(args.source)
    if src.is_dir():
        if args.continuation:
            raise SweepError(
                [(str(src), "--continuation", "needs the sweep file, not a results folder")]
            )
        store = open_store(src)
        tipping = store.manifest.get("sweep", {}).get("tipping") or {}
        params = store.manifest.get("parameters", [])
        control = (
            args.control or tipping.get("control") or (params[0] if len(params) == 1 else None)
        )
        outcome = args.outcome or tipping.get("outcome")
        if control not in params:
            raise SweepError([(str(src), "control", f"give --control, one of {params}")])
        if not outcome:
            raise SweepError([(str(src), "outcome", "give --outcome, an output of the sweep")])
        res = store.results()
        if outcome not in res:
            raise SweepError([(str(src), "outcome", f"no output {outcome!r} in the results")])
        min_jump = args.min_jump if args.min_jump is not None else tipping.get("min_jump", 0.1)
        return _tipping_report(
            res, control, outcome, tipping.get("tipped"), src, args, store.timeseries(),
            min_jump,
        )  # fmt: skip
    from bt_sim.experiments.core import prepare
    from bt_sim.experiments.spec import TippingSpec, read_sweep

    spec = read_sweep(src)
    tip = spec.tipping
    if tip is None:
        if len(spec.keys) != 1 or not (args.outcome or (spec.outputs and len(spec.outputs) == 1)):
            raise SweepError(
                [
                    (
                        str(src),
                        "tipping",
                        "missing: a [tipping] table with control and outcome "
                        "(or one parameter, one output, or --outcome)",
                    )
                ]
            )
        tip = TippingSpec(spec.keys[0], args.outcome or spec.outputs[0])
    control = args.control or tip.control
    outcome = args.outcome or tip.outcome
    if control not in spec.keys:
        raise SweepError([(str(src), "control", f"{control!r} is not a parameter of the sweep")])
    if spec.outputs and outcome not in spec.outputs:
        raise SweepError(
            [(str(src), "outcome", f"{outcome!r} is not an output the sweep keeps "
              f"({', '.join(spec.outputs)})")]
        )  # fmt: skip
    if args.continuation and spec.sampler != "grid":
        raise SweepError([(spec.source, "sampler", "--continuation needs a grid sweep")])
    if args.continuation:
        from bt_sim.experiments.continuation import check_control

        levels = next(p for p in spec.parameters if p.key == control).grid_levels()
        try:
            check_control(spec.scenario, control, levels, spec.fixed)
        except ValueError as exc:
            raise SweepError([(spec.source, "--continuation", str(exc))]) from None
    _check_executor(args)
    if not spec.outputs:  # every outcome is kept: the outcome must be one of them
        spec_checked = dataclasses.replace(spec, outputs=(outcome,))
        prepare(spec_checked)
    prepared = prepare(spec)
    if not args.quiet:
        print(_plan(spec, prepared[1]), file=sys.stderr)
    first = _run(spec, args, prepared)
    res = first.results
    refine = tip.refine if args.refine is None else args.refine
    if refine > 0:
        from bt_sim.experiments.spec import Parameter
        from bt_sim.experiments.tipping import find_critical, refine_levels

        ok = res[res["error"] == ""]
        coarse = find_critical(ok[control], ok[outcome], tip.tipped)
        levels = tuple(refine_levels(coarse, refine))
        fine = dataclasses.replace(
            spec,
            name=f"{spec.name}-refine",
            parameters=(Parameter(control, levels=levels),),
            out=None,
        )
        if not args.quiet:
            print(
                f"refining: {refine} levels between {coarse.bracket[0]:.6g} and "
                f"{coarse.bracket[1]:.6g}",
                file=sys.stderr,
            )
        second = _run(
            fine, args, prepare(fine), out=first.folder.with_name(f"{first.folder.name}-refine")
        )
        extra = second.results.copy()
        extra["run"] += 10**12  # keep run indices apart in the combined table
        import pandas as pd

        res = pd.concat([res, extra], ignore_index=True)
    from bt_sim.experiments.store import SweepStore

    series = SweepStore(first.folder).timeseries()
    min_jump = args.min_jump if args.min_jump is not None else tip.min_jump
    code = _tipping_report(res, control, outcome, tip.tipped, first.folder, args, series, min_jump)
    if args.continuation:
        _continuation_report(spec, control, outcome, first.folder, args)
    return code


def _continuation_report(spec, control: str, outcome: str, folder: Path, args) -> None:
    """Forward and backward continuation over the sweep's control levels (hysteresis)."""
    from bt_sim.experiments.continuation import continuation, hysteresis, plot_hysteresis

    param = next(p for p in spec.parameters if p.key == control)
    levels = param.grid_levels() if spec.sampler == "grid" else None
    if not levels:
        raise SweepError([(spec.source, "sampler", "--continuation needs a grid sweep")])
    reps = min(spec.replicates, 10)
    if not args.quiet:
        print(
            f"continuation: {len(levels)} levels up and down, {args.continuation} steps each, "
            f"{reps} replicate(s)",
            file=sys.stderr,
        )
    try:
        df = continuation(
            spec.scenario, control, levels, outcome, args.continuation, spec.seed, reps,
            spec.fixed,
        )  # fmt: skip
    except ValueError as exc:
        raise SweepError([(spec.source, "outcome", str(exc))]) from None
    table = hysteresis(df, control, outcome)
    print("forward (control rising) and backward (falling) branches:")
    print(table.to_string(index=False, float_format=lambda v: f"{v:.4g}"))
    n = int(table["differs"].sum())
    print(
        f"hysteresis: the branches differ beyond 3 standard errors at {n} of {len(table)} levels"
        if n
        else "no hysteresis: the branches agree within 3 standard errors at every level"
    )
    _write_into(
        folder,
        {
            "continuation.csv": lambda p: df.to_csv(p, index=False),
            "hysteresis.csv": lambda p: table.to_csv(p, index=False),
            "hysteresis.png": lambda p: _diagram_to(
                p, df, control, None, lambda d, c, _, path: plot_hysteresis(d, c, outcome, path)
            ),
        },
    )
    print(f"written to {folder}/: continuation.csv, hysteresis.csv, hysteresis.png")


def _tipping_report(
    res, control, outcome, tipped, folder: Path, args, series=None, min_jump: float = 0.1
) -> int:
    from bt_sim.experiments.tipping import diagram, find_critical

    ok = res[res["error"] == ""]
    if ok[control].nunique() < 2:
        raise SweepError([(str(folder), "control", "needs at least two levels with results")])
    tip = find_critical(
        ok[control], ok[outcome], tipped, names=(control, outcome), min_jump=min_jump
    )
    print(tip.summary())
    table = tip.levels
    if not args.quiet:
        print(table.to_string(index=False, float_format=lambda v: f"{v:.4g}"))
    info = {
        "control": control,
        "outcome": outcome,
        "tips": tip.tips,
        "critical": tip.critical if tip.tips else None,
        "bracket": list(tip.bracket),
        "jump": tip.jump,
        "jump_interval": list(tip.jump_interval),
        "min_jump": tip.min_jump,
        "midline": tip.midline,
        "most_bimodal": list(tip.most_bimodal),
        "runs": len(ok),
        "units": {k: res.attrs.get("units", {}).get(k, "?") for k in (control, outcome)},
    }
    files = {}
    if series is not None and len(series):
        from bt_sim.experiments.tipping import early_warning_levels, early_warning_runs

        variable = str(series["variable"].iloc[0])
        ew = early_warning_levels(ok, early_warning_runs(series, variable), control)
        print(
            f"early-warning indicators of {variable} (Kendall tau of lag-1 autocorrelation "
            "and variance before any jump; compared with the lowest level as the null):"
        )
        print(ew.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
        files["early_warning.csv"] = lambda p: ew.to_csv(p, index=False)
    _write_into(
        folder,
        {
            **files,
            "tipping.csv": lambda p: table.to_csv(p, index=False),
            "tipping.json": lambda p: p.write_text(json.dumps(info, indent=2) + "\n"),
            "tipping.png": lambda p: _diagram_to(p, ok[control], ok[outcome], tip, diagram),
        },
    )
    print(
        f"written to {folder}/: {', '.join([*files, 'tipping.csv', 'tipping.json', 'tipping.png'])}"
    )
    return 0


def _diagram_to(path: Path, control, outcome, tip, draw) -> None:
    tmp = path.with_name(path.name + ".png")
    draw(control, outcome, tip, tmp)
    tmp.replace(path)


def cmd_compare(args) -> int:
    from bt_sim.experiments.compare import (
        METRICS,
        headline,
        named_runs,
        prepare,
        read_comparison,
    )
    from bt_sim.experiments.compare_report import markdown_table, plot_tradeoff, summarise

    comp = read_comparison(args.file)
    _check_executor(args)
    prepared = prepare(comp)  # every strategy's scenario built, before any run
    plan = (
        f"{comp.name}: {len(comp.strategies)} strategies x {comp.replicates} towns = "
        f"{len(comp.strategies) * comp.replicates:,} runs of {comp.scenario} (common seeds from "
        f"{comp.seed}); reference {comp.reference!r}; target {comp.target:g}"
    )
    if args.check:
        print(plan)
        return 0
    if not args.quiet:
        print(plan, file=sys.stderr)
    outcome = _run(comp.sweep(), args, prepared)
    runs = named_runs(outcome.results, comp)
    if runs.empty:
        raise SweepError(
            [
                (
                    comp.source,
                    "strategies",
                    "every run failed: their errors are in the part files of the results folder",
                )
            ]
        )
    summary = summarise(runs, METRICS, comp.reference, comp.level)
    short = markdown_table(summary, headline())
    groups = (METRICS[:4], METRICS[4:8], METRICS[8:])  # outcomes, equity, costs
    full = "\n\n".join(markdown_table(summary, g) for g in groups)

    def write_csv(p):
        summary.to_csv(p, index=False)

    def write_png(p):
        plot_tradeoff(summary, "time_to_target", "inclusivity_gap").savefig(
            p, dpi=120, format="png"
        )

    _write_into(
        outcome.folder,
        {
            "comparison.csv": write_csv,
            "comparison.md": lambda p: p.write_text(
                f"# {comp.name}\n\n{comp.description}\n\n{short}\n\n## Every outcome\n\n{full}\n",
                encoding="utf-8",
            ),
            "comparison.png": write_png,
        },
    )
    if not args.quiet:
        print(short)
        if outcome.failed:
            print(f"{outcome.failed} runs failed (see the part files)")
    print(f"results written to {outcome.folder}/")  # with -q too
    return 0


def cmd_records(args) -> int:
    from bt_sim.record_file import read_records

    if args.check:
        recs = read_records(args.source)
        print(f"{args.source}: {len(recs)} records, valid against the records schema")
        return 0
    from bt_sim.records import records_of_runs

    if args.out is None:
        raise SweepError([("--out", "", "expected the records file to write (--out FILE)")])
    path = records_of_runs(
        args.source, args.overrides, args.out, replicates=args.replicates, seed=args.seed,
        force=args.force,
    )  # fmt: skip
    print(f"records written to {path}")
    return 0


def cmd_report(args) -> int:
    from bt_sim.experiments.report import markdown, report

    made = report(args.results, args.outputs or None, args.reference)
    if args.no_plot:
        made["files"] = {k: v for k, v in made["files"].items() if not k.endswith(".png")}
    _write_into(Path(args.results), made["files"])
    params = made["parameters"]
    outputs = made["table"]["output"].unique()
    if len(outputs) <= 5:
        print(markdown(made["table"], params, made["paired"], args.reference), end="")
    else:
        print(f"{len(outputs)} outputs: the tables are in report.md (--output X for fewer)")
    names = list(made["files"])
    shown = ", ".join(names[:6]) + (f" and {len(names) - 6} more" if len(names) > 6 else "")
    print(f"written to {args.results}/: {shown}")
    return 0
