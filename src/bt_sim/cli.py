"""The ``bt-sim`` command line: thin, it calls the scenario, model and runner layers."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from bt_sim import __version__
from bt_sim.errors import BtSimError, ScenarioError

EXIT_USAGE = 2


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


def _seed(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a non-negative integer, got {text!r}") from None
    if not 0 <= value < 2**63:
        raise argparse.ArgumentTypeError(f"expected an integer in [0, 2^63), got {value}")
    return value


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="bt-sim",
        description="Simulate how neighbourhood citizen collectives speed up transitions.",
    )
    p.add_argument("--version", action="version", version=f"bt-sim {__version__}")
    p.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = sub.add_parser(
        "run",
        help="run a scenario and write results",
        description="Run a scenario (or re-run a manifest.json) and write "
        "tidy tables, a manifest and a plot.",
    )
    run.add_argument("scenario", help="scenario TOML file, or a results manifest.json to re-run")
    run.add_argument("--replicates", "-r", type=_positive_int, help="number of replicates")
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
        help="results folder (default: results/<name>, or results/<name>-2, ... if that exists)",
    )
    run.add_argument("--format", choices=("parquet", "csv"), help="table format")
    run.add_argument("--no-plot", action="store_true", help="do not write plot.png")
    run.add_argument("--force", action="store_true", help="replace an existing results folder")
    run.add_argument("--quiet", "-q", action="store_true", help="no progress bar or summary")

    sc = sub.add_parser("scenario", help="inspect scenario files")
    sc_sub = sc.add_subparsers(dest="action", required=True, metavar="ACTION")
    for name, helptext in (
        ("validate", "check a scenario file"),
        ("show", "print the fully resolved scenario"),
    ):
        a = sc_sub.add_parser(name, help=helptext)
        a.add_argument("file", help="scenario TOML file")
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
    sc_sub.add_parser("keys", help="print every scenario key with default, unit and range")
    return p


def _load(path: str, overrides: list[str]):
    from bt_sim.scenario import load_scenario
    from bt_sim.scenario.loader import scenario_from_data

    if path.endswith(".json"):
        try:
            manifest = json.loads(Path(path).read_text())
            data = manifest["scenario"]
        except FileNotFoundError:
            raise ScenarioError([(path, "", "file not found")]) from None
        except (json.JSONDecodeError, KeyError, TypeError):
            raise ScenarioError(
                [(path, "scenario", "expected a bt-sim manifest.json with a 'scenario' table")]
            ) from None
        return scenario_from_data(data, path, overrides), manifest
    return load_scenario(path, overrides), None


def _fresh_folder(base: Path) -> Path:
    """``base``, or ``base-2``, ``base-3``, ... whichever does not exist yet."""
    out, i = base, 1
    while out.exists():
        i += 1
        out = base.with_name(f"{base.name}-{i}")
    return out


def _cmd_run(args) -> int:
    from bt_sim.runner import describe, python_command, run_scenario, write_results

    scenario, manifest = _load(args.scenario, args.overrides)
    seed = args.seed
    reps = args.replicates
    if manifest is not None:
        seed = manifest.get("seed") if seed is None else seed
        reps = manifest.get("replicates") if reps is None else reps
    reps = scenario.run.replicates if reps is None else reps
    out = args.out or _fresh_folder(Path("results") / scenario.name)
    fmt = args.format or scenario.output.format
    total = reps * scenario.run.steps
    bar = None
    if not args.quiet:
        from tqdm import tqdm

        bar = tqdm(
            total=total, unit="step", desc=scenario.name, file=sys.stderr, dynamic_ncols=True
        )
    try:
        result = run_scenario(
            scenario,
            reps,
            seed,
            progress=bar.update if bar else None,
            source={
                "scenario": args.scenario,
                "overrides": args.overrides,
                "command": python_command(),
            },
        )
    finally:
        if bar is not None:
            bar.close()
    write_results(
        result,
        out,
        fmt,
        plot=scenario.output.plot and not args.no_plot,
        hub_panel=scenario.output.hub_panel,
        force=args.force,
        title=f"{scenario.name}: {reps} replicate(s), seed {result.manifest['seed']}",
    )
    if not args.quiet:
        t = result.manifest["timings"]["total_s"]
        print(
            f"{scenario.name}: {scenario.population.households} households, "
            f"{scenario.run.steps} steps x {reps} replicate(s) in {t:.2f} s"
        )
        print(describe(result))
        print(f"results written to {out}/")
    return 0


def _cmd_scenario(args) -> int:
    from bt_sim.scenario.reference import key_reference, to_toml
    from bt_sim.scenario.validate import scenario_to_dict

    if args.action == "keys":
        print(key_reference(), end="")
        return 0
    scenario, _ = _load(args.file, args.overrides)
    if args.action == "validate":
        print(
            f"{args.file}: valid ({scenario.population.households} households, "
            f"{len(scenario.behaviours)} behaviours, {scenario.run.steps} steps)"
        )
    elif args.json:
        print(json.dumps(scenario_to_dict(scenario), indent=2))
    else:
        print(to_toml(scenario), end="")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``bt-sim``; returns the exit code (2 for bad input)."""
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "run":
            return _cmd_run(args)
        return _cmd_scenario(args)
    except BtSimError as exc:
        if args.debug:
            raise
        print(f"bt-sim: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("bt-sim: interrupted; nothing was written", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
