"""The ``bt-sim`` command line: thin, it calls the scenario, model and runner layers."""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
from pathlib import Path

from bt_sim.errors import BtSimError, ScenarioError
from bt_sim.scenario.schema import RunConfig

EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
EXIT_TERMINATED = 143
EXIT_BROKEN_PIPE = 141
MAX_REPLICATES = int(RunConfig.__dataclass_fields__["replicates"].metadata["hi"])


class Terminated(KeyboardInterrupt):
    """SIGTERM, handled like Ctrl-C."""


class _Version(argparse.Action):
    """``--version``, looked up only when asked for (importlib.metadata is slow to import)."""

    def __call__(self, parser, namespace, values, option_string=None):
        import bt_sim

        print(f"bt-sim {bt_sim.__version__}")
        parser.exit()


def _on_sigterm(signum, frame) -> None:
    raise Terminated


def _replicates(text: str) -> int:
    value = _positive_int(text)
    if value > MAX_REPLICATES:
        raise argparse.ArgumentTypeError(f"expected at most {MAX_REPLICATES:,}, got {value:,}")
    return value


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


def _bounded(lo: int, hi: int, what: str):
    """An argparse type: an integer in [lo, hi]."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
        if not lo <= value <= hi:
            raise argparse.ArgumentTypeError(
                f"expected {what} from {lo:,} to {hi:,}, got {value:,}"
            )
        return value

    return parse


def _nonneg_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not 0 <= value < float("inf"):
        raise argparse.ArgumentTypeError(f"expected a non-negative number, got {text}")
    return value


#: The most refined levels and continuation steps a tipping analysis takes.
MAX_REFINE = 1_000
MAX_CONTINUATION_STEPS = 100_000


#: The most bootstrap resamples ``bt-sim factors`` takes.
MAX_BOOT = 100_000


def _boot(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if not 0 <= value <= MAX_BOOT:
        raise argparse.ArgumentTypeError(f"expected 0 to {MAX_BOOT:,} resamples, got {value:,}")
    return value


def _seed(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a non-negative integer, got {text!r}") from None
    if not 0 <= value < 2**63:
        raise argparse.ArgumentTypeError(f"expected an integer in [0, 2^63), got {value}")
    return value


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a port number, got {text!r}") from None
    if not 1 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"expected a port number in [1, 65535], got {value}")
    return value


class _Parser(argparse.ArgumentParser):
    """A parser whose errors are one line, with where to find the usage (exit code 2)."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="bt-sim",
        description="Simulate how neighbourhood citizen collectives speed up transitions.",
    )
    p.add_argument("--version", action=_Version, nargs=0, help="show the version and exit")
    p.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = sub.add_parser(
        "run",
        help="run a scenario and write results",
        description="Run a scenario (or re-run a manifest.json) and write "
        "tidy tables, a manifest and a plot.",
    )
    run.add_argument(
        "scenario",
        help="scenario TOML file, a bundled scenario's name (bt-sim scenario list), "
        "or a results manifest.json to re-run",
    )
    run.add_argument(
        "--replicates",
        "-r",
        type=_replicates,
        help=f"number of replicates (1 to {MAX_REPLICATES:,})",
    )
    run.add_argument("--seed", type=_seed, help="root seed (overrides run.seed)")
    run.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a scenario key, e.g. network.mean_degree=6 (repeatable)",
    )
    run.add_argument(
        "--out",
        "-o",
        type=Path,
        help="results folder (default: results/<name>, or results/<name>-2, ... if that "
        "exists or another run is writing it)",
    )
    run.add_argument("--format", choices=("parquet", "csv"), help="table format")
    run.add_argument("--no-plot", action="store_true", help="do not write plot.png")
    _force(run)
    run.add_argument(
        "--quiet", "-q", action="store_true", help="no progress bar or summary: only the folder"
    )
    _debug(run)

    _sweep_parsers(sub)
    _strategy_parsers(sub)

    sc = sub.add_parser("scenario", help="inspect scenario files")
    _debug(sc)
    sc_sub = sc.add_subparsers(dest="action", required=True, metavar="ACTION")
    for name, helptext in (
        ("validate", "check a scenario file (and its edge-list file)"),
        ("show", "print the fully resolved scenario"),
    ):
        a = sc_sub.add_parser(name, help=helptext)
        _debug(a)
        a.add_argument("file", help="scenario TOML file, or a bundled scenario's name")
        a.add_argument(
            "--set",
            dest="overrides",
            action="append",
            default=[],
            metavar="KEY=VALUE",
            help="override a key (repeatable)",
        )
        if name == "show":
            a.add_argument("--json", action="store_true", help="print JSON instead of TOML")
    view = sub.add_parser(
        "view",
        help="start the interactive view (a web page, English and Dutch)",
        description="Start the interactive Solara view and print its address; open it in a "
        "browser. Works offline. Ctrl-C stops it.",
    )
    view.add_argument(
        "scenario",
        nargs="?",
        default="default",
        help="scenario to start with: a bundled scenario's name or a TOML file (default: default)",
    )
    view.add_argument("--port", type=_port, default=8765, help="port to listen on (default 8765)")
    view.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default 127.0.0.1: this computer)",
    )
    view.add_argument("--lang", choices=("en", "nl"), default="en", help="starting language")
    _debug(view)

    _debug(sc_sub.add_parser("keys", help="print every scenario key with default, unit and range"))
    _debug(sc_sub.add_parser("list", help="list the scenarios that come with bt-sim"))

    cal = sub.add_parser(
        "calibrate",
        help="calibrate a scenario against hub data (ABC-SMC)",
        description="Calibrate scenario parameters against a hub's published data with "
        "ABC-SMC (pyabc), as a calibration TOML file says; writes the posterior, a posterior "
        "predictive check and a report.",
    )
    cal.add_argument("calibration", help="calibration TOML file")
    cal.add_argument(
        "--out", "-o", type=Path, help="results folder (default: results/<calibration name>)"
    )
    cal.add_argument(
        "--resume",
        action="store_true",
        help="continue a calibration that was stopped (its history <out>.abc-history.db)",
    )
    cal.add_argument(
        "--procs",
        type=_positive_int,
        default=1,
        help="local worker processes, kept for the whole calibration (default 1: this "
        "process); with --executor dask, the LocalCluster's workers",
    )
    cal.add_argument(
        "--executor",
        choices=("processes", "dask"),
        default="processes",
        help="local processes (default) or a Dask LocalCluster of --procs workers",
    )
    cal.add_argument(
        "--scheduler", metavar="tcp://HOST:PORT", help="run the simulations on this Dask scheduler"
    )
    _force(cal)
    cal.add_argument("--quiet", "-q", action="store_true", help="no progress")
    _debug(cal)

    syn = sub.add_parser(
        "synth-hub",
        help="write a synthetic hub export from a simulation with known parameters",
        description="Simulate a scenario and write what its hubs published as tidy hub data "
        "(hub.csv), with the parameters kept apart in truth.json.",
    )
    syn.add_argument("scenario", help="scenario TOML file or a bundled scenario's name")
    syn.add_argument("--out", "-o", type=Path, help="folder (default: results/<name>-hub)")
    syn.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="the known parameters, e.g. collectives.tie_rate=0.04 (repeatable)",
    )
    syn.add_argument("--seed", type=_seed, help="root seed (overrides run.seed)")
    _force(syn)
    _debug(syn)
    return p


def _executor_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", "-o", type=Path, help="results folder (default: results/<name>)")
    p.add_argument(
        "--executor",
        choices=("processes", "inprocess", "dask"),
        default="processes",
        help="where runs execute: local processes (default, all cores), this process, or a "
        "Dask LocalCluster",
    )
    p.add_argument(
        "--workers", "-j", type=_positive_int, help="worker processes (default: all cores)"
    )
    p.add_argument(
        "--scheduler", metavar="tcp://HOST:PORT", help="run on this Dask scheduler instead"
    )
    p.add_argument(
        "--resume", action="store_true", help="finish an interrupted sweep in its folder"
    )
    _force(p)
    p.add_argument(
        "--quiet", "-q", action="store_true", help="no progress bar or summary: only the folder"
    )


def _sweep_parsers(sub) -> None:
    sw = sub.add_parser(
        "sweep",
        help="run a parameter sweep described in a TOML file",
        description="Run every point of a sweep file (grid, latin, sobol or morris sampler) "
        "with its replicates; results are written as runs finish, so a killed sweep can be "
        "finished with --resume.",
    )
    sw.add_argument("file", help="sweep TOML file")
    sw.add_argument(
        "--check", action="store_true", help="check the sweep file and print its plan; run nothing"
    )
    _executor_options(sw)
    _debug(sw)

    se = sub.add_parser(
        "sensitivity",
        help="Sobol or Morris sensitivity indices of a sweep's outputs",
        description="Analyse a sobol or morris sweep's results folder with SALib: a ranked "
        "table per output, sensitivity.csv and a plot per output in the folder.",
    )
    se.add_argument("results", type=Path, help="results folder of a sweep")
    se.add_argument(
        "--output", dest="outputs", action="append", default=[], help="an output (repeatable)"
    )
    se.add_argument("--top", type=_positive_int, help="show only the top N parameters")
    se.add_argument("--no-plot", action="store_true", help="do not write plots")
    _debug(se)

    rp = sub.add_parser(
        "report",
        help="per-point table and plots of a sweep's results",
        description="Per point of a sweep: each output's mean with its 95 %% interval over the "
        "replicates (and, where the seeds are common, the paired difference against a "
        "reference point), as report.csv, report.md and a plot per output against each swept "
        "parameter, written into the results folder.",
    )
    rp.add_argument("results", type=Path, help="results folder of a sweep")
    rp.add_argument(
        "--output", dest="outputs", action="append", default=[], help="an output (repeatable)"
    )
    rp.add_argument(
        "--reference",
        type=_bounded(0, 10**9, "a point"),
        default=0,
        help="the point paired differences are taken against (default 0)",
    )
    rp.add_argument("--no-plot", action="store_true", help="do not write plots")
    _debug(rp)

    tp = sub.add_parser(
        "tipping",
        help="locate the critical value of a control parameter",
        description="Sweep one control parameter with replicates (a sweep file with a "
        "[tipping] table), or read a finished sweep's folder, then locate where the outcome "
        "jumps, measure bimodality across replicates and draw the bifurcation-style diagram.",
    )
    tp.add_argument("source", help="sweep TOML file, or the results folder of a sweep")
    tp.add_argument("--control", help="the control parameter (default: from [tipping])")
    tp.add_argument("--outcome", help="the outcome (default: from [tipping])")
    tp.add_argument(
        "--min-jump",
        type=_nonneg_float,
        help="the smallest jump of the mean outcome between neighbouring levels called a "
        "tipping point (default: [tipping] min_jump, else 0.1); smaller, or within the noise "
        "of the replicates: the verdict is that nothing tips",
    )
    tp.add_argument(
        "--refine",
        type=_bounded(0, MAX_REFINE, "a number of levels"),
        help="after the sweep, run this many more levels inside the bracket of the jump",
    )
    tp.add_argument(
        "--continuation",
        type=_bounded(1, MAX_CONTINUATION_STEPS, "steps"),
        metavar="STEPS",
        help="then step the control up and down through its levels, each level running STEPS "
        "steps from the state the previous one left: forward and backward branches show "
        "hysteresis (a sweep file with a grid only)",
    )
    _executor_options(tp)
    _debug(tp)


def _strategy_parsers(sub) -> None:
    cp = sub.add_parser(
        "compare",
        help="compare scaling strategies on the same towns",
        description="Run every strategy of a comparison file on the same towns (replicate r "
        "of every strategy shares its seed), then report for each the time to the target "
        "adoption, final adoption and saving, equity, and the hours and money spent, with "
        "intervals of the paired differences against the reference strategy and a ranking: "
        "comparison.md, comparison.csv and comparison.png in the results folder.",
    )
    cp.add_argument("file", help="comparison TOML file (see scenarios/strategies/)")
    cp.add_argument(
        "--check", action="store_true", help="check the file and every strategy; run nothing"
    )
    _executor_options(cp)
    _debug(cp)
    rc = sub.add_parser(
        "records",
        help="experiment records of a scenario's runs (what each collective tried)",
        description="Run a scenario's replicates and write the experiment records of every "
        "intervention round carried out (Parquet or CSV by the file's suffix, with its schema "
        "beside it; docs/records.md), or check a records file from elsewhere (--check).",
    )
    rc.add_argument("source", help="scenario file or bundled name; with --check a records file")
    rc.add_argument("--out", "-o", type=Path, help="the records file to write (.parquet, .csv)")
    rc.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    rc.add_argument("--replicates", "-r", type=_replicates, help="runs (default: the scenario's)")
    rc.add_argument("--seed", type=_seed, help="seed (default: the scenario's)")
    rc.add_argument("--check", action="store_true", help="validate a records file; write nothing")
    rc.add_argument("--force", action="store_true", help="replace a records file that exists")
    _debug(rc)
    fc = sub.add_parser(
        "factors",
        help="the effect of a building block from experiment records, beside the truth",
        description="Estimate from experiment records (docs/records.md) the effect of a "
        "building block on the first year of the collectives that carried it out: the plain "
        "difference, propensity-score matching and weighting, adjusting for the "
        "neighbourhoods' context, with bootstrap intervals, balance and overlap; with --qca, "
        "the combinations of conditions that go with success. SOURCE is a records file, or a "
        "scenario whose towns are run: then the true effect (the same towns run again "
        "without the building block) stands beside each estimate, and --archives scores the "
        "methods' bias, RMSE and coverage (docs/factors.md). Writes nothing.",
    )
    fc.add_argument(
        "records", metavar="SOURCE", help="a records file (.parquet, .csv) or a scenario"
    )
    fc.add_argument("--kind", required=True, help="the building block's kind (energy_coach, ...)")
    fc.add_argument(
        "--objective",
        choices=("members", "saving"),
        default="members",
        help="the first-year outcome: sharing members or published saving per household",
    )
    fc.add_argument(
        "--covariate",
        dest="covariates",
        action="append",
        metavar="COLUMN",
        help="a context column to adjust for (repeat; default: every context column that varies)",
    )
    fc.add_argument("--boot", type=_boot, default=500, help="bootstrap resamples (default 500)")
    fc.add_argument("--seed", type=_seed, default=1, help="seed of the resampling (default 1)")
    fc.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a scenario key (SOURCE a scenario)",
    )
    fc.add_argument(
        "--towns", type=_replicates, help="towns per archive (default: the scenario's replicates)"
    )
    fc.add_argument(
        "--archives",
        type=_bounded(1, 10_000, "archives"),
        default=1,
        help="independent archives of --towns towns to score the methods over (default 1)",
    )
    fc.add_argument(
        "--workers",
        "-j",
        type=_positive_int,
        default=1,
        help="processes running towns (default 1; results do not depend on it)",
    )
    fc.add_argument(
        "--confound",
        metavar="COLUMN=STRENGTH",
        help="keep treated cases more often where COLUMN is high (a confounded archive)",
    )
    fc.add_argument("--qca", action="store_true", help="qualitative comparative analysis too")
    fc.add_argument(
        "--condition",
        dest="conditions",
        action="append",
        metavar="NAME",
        help="a QCA condition: a kind of building block or a context column (repeat)",
    )
    fc.add_argument(
        "--success",
        type=float,
        help="QCA: the first-year outcome that counts as success (default: above the median)",
    )
    fc.add_argument(
        "--n-cut",
        type=_positive_int,
        default=1,
        help="QCA: cases a configuration needs (default 1)",
    )
    fc.add_argument(
        "--incl-cut",
        type=float,
        default=0.8,
        help="QCA: consistency a sufficient configuration needs (default 0.8)",
    )
    fc.add_argument(
        "--truth-model",
        metavar="EXPR",
        help="QCA: the true model (e.g. 'GATEKEEPER_PROGRAMME*SHARE_NON_NATIVE'); says "
        "whether each parsimonious solution is a submodel of it",
    )
    _debug(fc)


def _force(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--force",
        action="store_true",
        help="replace an existing results folder that bt-sim wrote (never other files)",
    )


def _debug(p: argparse.ArgumentParser) -> None:
    # SUPPRESS keeps the top-level value when the flag is not repeated after the subcommand.
    p.add_argument(
        "--debug", action="store_true", default=argparse.SUPPRESS, help="show tracebacks on errors"
    )


def _read_manifest(path: str) -> dict:
    """A results manifest, checked enough that every bad value gets a message."""
    try:
        raw = Path(path).read_bytes()
    except FileNotFoundError:
        raise ScenarioError([(path, "", "file not found")]) from None
    except OSError as exc:
        raise ScenarioError([(path, "", f"cannot be read: {exc.strerror}")]) from None
    try:
        manifest = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ScenarioError(
            [(path, "", f"not UTF-8 text (byte 0x{raw[exc.start]:02x} at offset {exc.start})")]
        ) from None
    except json.JSONDecodeError as exc:
        raise ScenarioError(
            [
                (
                    path,
                    "",
                    f"not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg}); "
                    "is the file truncated?",
                )
            ]
        ) from None
    if not isinstance(manifest, dict) or not isinstance(manifest.get("scenario"), dict):
        raise ScenarioError(
            [(path, "scenario", "expected a bt-sim manifest.json with a 'scenario' table")]
        )
    problems = []
    for key, lo, hi in (("seed", 0, 2**63 - 1), ("replicates", 1, MAX_REPLICATES)):
        value = manifest.get(key)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
            problems.append((path, key, f"expected an integer in [{lo}, {hi}], got {value!r}"))
    if problems:
        raise ScenarioError(problems)
    edgelist = manifest["scenario"].get("network", {})
    if isinstance(edgelist, dict) and isinstance(edgelist.get("edgelist"), str):
        rel = edgelist["edgelist"]
        if rel and not Path(rel).is_absolute():  # relative to the manifest, like a scenario
            edgelist["edgelist"] = str((Path(path).resolve().parent / rel).resolve())
    return manifest


def _load(path: str, overrides: list[str]):
    from bt_sim.scenario import load_scenario
    from bt_sim.scenario.loader import find_scenario, scenario_from_data

    if path.endswith(".json"):
        manifest = _read_manifest(path)
        return scenario_from_data(manifest["scenario"], path, overrides), manifest
    return load_scenario(find_scenario(path), overrides), None


def _check_edgelist(scenario) -> None:
    """Read the edge-list file now, so a bad one is reported before anything else happens."""
    if scenario.network.kind == "edgelist":
        from bt_sim.network import read_edgelist

        read_edgelist(scenario.network.edgelist, scenario.population.households)


class _Progress:
    """A tqdm bar whose clock starts after the first step, not before.

    Building the model and the first step (which loads the compiled kernels) take far longer
    than a step; timing from there would make the first estimate of the time left far off.
    """

    def __init__(self, total: int, name: str):
        from tqdm import tqdm

        self.bar = tqdm(total=total, unit="step", desc=name, file=sys.stderr, dynamic_ncols=True)
        self.warm = False

    def ready(self) -> None:
        self.bar.reset()

    def update(self, n: int) -> None:
        if not self.warm:
            self.warm = True
            self.bar.reset()
            self.bar.n = self.bar.last_print_n = n
            self.bar.refresh()
            return
        self.bar.update(n)


def _warn(scenario) -> None:
    """Print named warnings for settings that do nothing (before any work)."""
    from bt_sim.scenario.warnings import empty_seeding, expected_initial_adopters, inert_settings

    warnings = inert_settings(scenario) + empty_seeding(
        scenario, expected_initial_adopters(scenario)
    )
    for w in warnings:
        print(f"bt-sim: warning: {w}", file=sys.stderr)


def _cmd_run(args) -> int:
    from bt_sim.outdir import claim_output
    from bt_sim.runner import check_memory, describe, python_command, run_scenario, write_staged

    scenario, manifest = _load(args.scenario, args.overrides)
    seed = args.seed
    reps = args.replicates
    if manifest is not None:
        seed = manifest.get("seed") if seed is None else seed
        reps = manifest.get("replicates") if reps is None else reps
    reps = scenario.run.replicates if reps is None else reps
    fmt = args.format or scenario.output.format
    # Every check that can fail does so now, before the simulation.
    _check_edgelist(scenario)
    _warn(scenario)
    check_memory(scenario, reps)
    claim = claim_output(args.out, scenario.name, args.force)
    args._claim = claim
    try:
        progress = None if args.quiet else _Progress(reps * scenario.run.steps, scenario.name)
        try:
            result = run_scenario(
                scenario,
                reps,
                seed,
                progress=progress.update if progress else None,
                ready=progress.ready if progress else None,
                source={
                    "scenario": args.scenario,
                    "overrides": args.overrides,
                    "command": python_command(),
                },
            )
        finally:
            if progress is not None:
                progress.bar.close()
        out = write_staged(
            result,
            claim,
            fmt,
            plot=scenario.output.plot and not args.no_plot,
            hub_panel=scenario.output.hub_panel,
            title=f"{scenario.name}: {reps} replicate(s), seed {result.manifest['seed']}",
        )
    finally:
        claim.release()
    if not args.quiet:
        t = result.manifest["timings"]["total_s"]
        print(
            f"{scenario.name}: {scenario.population.households} households, "
            f"{scenario.run.steps} steps x {reps} replicate(s) in {t:.2f} s"
        )
        print(describe(result))
    print(f"results written to {out}/")  # with -q too: the folder auto-numbering chose
    return 0


def _cmd_scenario(args) -> int:
    from bt_sim.scenario.loader import bundled_scenarios, read_resolved
    from bt_sim.scenario.reference import key_reference, to_toml
    from bt_sim.scenario.validate import scenario_to_dict

    if args.action == "keys":
        print(key_reference(), end="")
        return 0
    if args.action == "list":
        from bt_sim.scenario.loader import _read_toml, bundled_files

        groups = (
            ("scenarios (bt-sim run NAME)", bundled_scenarios(), read_resolved),
            ("sweeps (bt-sim sweep NAME)", bundled_files("sweeps"), _read_toml),
            ("comparisons (bt-sim compare NAME)", bundled_files("strategies"), _read_toml),
        )
        width = max((len(n) for _, found, _ in groups for n in found), default=0)
        for i, (title, found, read) in enumerate(groups):
            if not found:
                continue
            print(f"{'' if i == 0 else chr(10)}{title}:")
            for name, path in found.items():
                desc = read(path, str(path)) if read is _read_toml else read(path)
                print(f"  {name:<{width}}  {desc.get('description', '')}")
        return 0
    scenario, _ = _load(args.file, args.overrides)
    if args.action == "validate":
        _check_edgelist(scenario)
        _warn(scenario)
        print(
            f"{args.file}: valid ({scenario.population.households} households, "
            f"{len(scenario.behaviours)} behaviours, {scenario.run.steps} steps)"
        )
    elif args.json:
        print(json.dumps(scenario_to_dict(scenario), indent=2))
    else:
        print(to_toml(scenario), end="")
    return 0


def _cmd_calibrate(args) -> int:
    from bt_sim.calibration.run import calibrate

    def progress(msg: str) -> None:
        print(f"bt-sim: {msg}", file=sys.stderr, flush=True)

    from bt_sim.experiments.executors import cap_workers, check_executor, make_executor

    check_executor(args.executor, args.scheduler)  # the extra and the address, before any work
    procs, why = cap_workers(args.procs)
    if why and not args.scheduler:
        print(f"bt-sim: --procs {args.procs}: using {procs} ({why})", file=sys.stderr)
    executor = None
    if args.scheduler or args.executor == "dask":
        from bt_sim.calibration.config import load_calibration
        from bt_sim.calibration.sampler import warm_worker
        from bt_sim.extras import require

        require("pyabc", "calibration", "bt-sim calibrate")
        load_calibration(args.calibration)  # a bad file is refused before a cluster starts
        executor = make_executor("dask", procs, args.scheduler, warm=warm_worker)
    try:
        out = calibrate(
            args.calibration,
            args.out,
            resume=args.resume,
            n_procs=procs,
            executor=executor,
            progress=None if args.quiet else progress,
            force=args.force,
            on_history=lambda db: setattr(args, "_history", db),
        )
    finally:
        if executor is not None:
            executor.close()
    if not args.quiet:
        print((out / "report.md").read_text(encoding="utf-8"))
        print(f"results written to {out}/")
    return 0


def _cmd_synth_hub(args) -> int:
    from bt_sim.calibration.run import synth_hub

    out = synth_hub(args.scenario, args.overrides, args.out, args.seed, args.force)
    print(f"synthetic hub data written to {out}/hub.csv (the truth in {out}/truth.json)")
    return 0


def view_command(args) -> tuple[list[str], dict[str, str]]:
    """The ``solara run`` command line and environment that ``bt-sim view`` starts."""
    from bt_sim.scenario.loader import find_scenario
    from bt_sim.view.i18n import t

    found = find_scenario(args.scenario)
    scenario = str(Path(found).resolve()) if Path(args.scenario).exists() else args.scenario
    cmd = [
        sys.executable,
        "-m",
        "solara",
        "run",
        "bt_sim.view.app",
        "--host",
        args.host,
        "--port",
        str(args.port),
        "--production",
        "--no-open",
        "--no-check-version",
        "--log-level",
        "warning",
    ]
    env = {
        **os.environ,
        "BT_SIM_VIEW_SCENARIO": scenario,
        "BT_SIM_VIEW_LANG": args.lang,
        "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "False",  # nothing leaves the computer
        "SOLARA_THEME_TITLE": t(args.lang, "title"),  # the tab's title before the page runs
    }
    return cmd, env


def _listen_error(host: str, port: int, exc: OSError) -> str:
    """Why ``bt-sim view`` cannot listen, blaming the address or the port as the error says.

    >>> import errno
    >>> _listen_error("10.9.9.9", 8765, OSError(errno.EADDRNOTAVAIL, "Cannot assign"))[-34:]
    'choose another address with --host'
    >>> _listen_error("127.0.0.1", 80, OSError(errno.EADDRINUSE, "Address already in use"))
    'cannot listen on 127.0.0.1:80 (Address already in use); choose another port with --port'
    """
    import errno
    import socket

    why = (exc.strerror or str(exc)).split(" (")[0]
    # a name that does not resolve: create_server re-raises getaddrinfo's error as OSError
    if isinstance(exc, socket.gaierror) or (exc.errno is not None and exc.errno < 0):
        return f"cannot listen on {host} ({why}); choose another address with --host"
    if exc.errno in (errno.EADDRNOTAVAIL, errno.EAFNOSUPPORT):
        return (
            f"cannot listen on {host} ({why}: not an address of this computer); choose "
            "another address with --host"
        )
    return f"cannot listen on {host}:{port} ({why}); choose another port with --port"


def _cmd_view(args) -> int:
    import socket

    from bt_sim.view.session import scenario_info

    cmd, env = view_command(args)
    scenario_info(env["BT_SIM_VIEW_SCENARIO"])  # a bad scenario is reported now (exit 2)
    try:
        with socket.create_server((args.host, args.port)):
            pass
    except OSError as exc:
        raise BtSimError(_listen_error(args.host, args.port, exc)) from None
    shown = f"[{args.host}]" if ":" in args.host else args.host
    print(f"bt-sim view: open http://{shown}:{args.port}/ in a browser (Ctrl-C stops)", flush=True)
    os.execve(cmd[0], cmd, env)
    return 0  # not reached


def _interrupted(args, exc: KeyboardInterrupt) -> int:
    claim = getattr(args, "_claim", None)
    what = "terminated" if isinstance(exc, Terminated) else "interrupted"
    history = getattr(args, "_history", None)
    from bt_sim.calibration.run import generations_stored

    if history is not None and (n := generations_stored(history)) != 0:
        print(
            f"bt-sim: {what}; {n or 'the'} generation(s) are kept in {history}; the same "
            "command with --resume continues from there (no results folder was written)",
            file=sys.stderr,
        )
    elif claim is not None and claim.committed:
        print(
            f"bt-sim: {what}; the results were already written to {claim.final}/", file=sys.stderr
        )
    else:
        print(f"bt-sim: {what}; nothing was written", file=sys.stderr)
    return EXIT_TERMINATED if isinstance(exc, Terminated) else EXIT_INTERRUPTED


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``bt-sim``; returns the exit code (2 for bad input).

    SIGTERM is handled like Ctrl-C: the run stops, its staging folder is removed and the
    exit code is 143 (130 for Ctrl-C).
    """
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        previous = signal.signal(signal.SIGTERM, _on_sigterm)
    except ValueError:  # not the main thread
        previous = None
    try:
        if args.command == "run":
            return _cmd_run(args)
        if args.command in ("sweep", "sensitivity", "tipping", "compare", "records", "report"):
            from bt_sim import sweep_cli

            return getattr(sweep_cli, f"cmd_{args.command}")(args)
        if args.command == "factors":
            from bt_sim.factors import cmd_factors

            return cmd_factors(args)
        if args.command == "calibrate":
            return _cmd_calibrate(args)
        if args.command == "synth-hub":
            return _cmd_synth_hub(args)
        if args.command == "view":
            return _cmd_view(args)
        return _cmd_scenario(args)
    except BtSimError as exc:
        if args.debug:
            raise
        print(f"bt-sim: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt as exc:
        if args.debug:
            raise
        return _interrupted(args, exc)
    except BrokenPipeError:
        # The reader went away (``bt-sim scenario show | head``): stop quietly.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_BROKEN_PIPE
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


if __name__ == "__main__":
    sys.exit(main())
