"""Comparing scaling strategies: the same towns, each strategy in turn, paired by replicate.

A comparison file is TOML::

    name = "half_the_town"
    scenario = "town.toml"          # relative to this file, or a bundled scenario's name
    set = ["run.steps=120"]         # overrides every strategy shares (optional)
    replicates = 20                 # towns (seeds): replicate r of every strategy shares its seed
    seed = 1
    target = 0.5                    # share of households doing at least one behaviour
    reference = "none"              # the strategy the others are compared against

    [[strategies]]
    name = "none"
    description = "collectives on their own"
    set = { "organisation.strategy" = "none" }

    [[strategies]]
    name = "out_least_served"
    set = { "organisation.strategy" = "out", "organisation.found_order" = "least_served" }

It runs as a sweep (:mod:`bt_sim.experiments.core`) over one parameter, ``strategy`` (the
index of the strategy), with common seeds: replicate ``r`` of every strategy is replicate
``r`` of ``bt-sim run --seed SEED``, so the strategies meet the same towns (population,
network, initial state) and differ only by what the strategy does. It uses the sweep's
executors (this process, local processes, Dask), its results folder, resume and locks
unchanged. Each run reports :func:`strategy_outcomes`; the folder then gets
``comparison.csv``, ``comparison.md`` and ``comparison.png``
(:mod:`bt_sim.experiments.compare_report`).

Every strategy's scenario is built before any run: a bad key or value is reported with the
file and the strategy's entry.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from bt_sim.errors import ScenarioError, SweepError
from bt_sim.experiments.compare_report import Metric

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")

#: What each run of a comparison reports, and which way is better.
METRICS: tuple[Metric, ...] = (
    Metric("time_to_target", "time to the target adoption", "lower", "months"),
    Metric("any_adoption", "households doing a behaviour at the end", "higher", "share"),
    Metric("kpi_saving", "mean saving at the end", "higher", "fraction"),
    Metric("inclusivity_gap", "inclusivity gap (others - disadvantaged)", "lower", "share"),
    Metric("representation_members", "disadvantaged among members", "higher", "ratio"),
    Metric("representation_adopters", "disadvantaged among adopters", "higher", "ratio"),
    Metric("saving_concentration", "concentration index of saving by income", "lower", ""),
    Metric("poorest_coverage", "poorest neighbourhoods with a collective", "higher", "share"),
    Metric("staff_hours", "staff hours spent", "lower", "hours"),
    Metric("staff_euros", "organisation's money spent", "lower", "EUR"),
    Metric("volunteer_hours", "volunteer hours on interventions", "lower", "hours"),
    Metric("intervention_euros", "money spent on interventions", "lower", "EUR"),
)

#: The metrics of the short table (the terminal, and the top of comparison.md).
HEADLINE = ("time_to_target", "any_adoption", "inclusivity_gap", "representation_adopters",
            "staff_hours")  # fmt: skip


def headline() -> tuple[Metric, ...]:
    """The metrics of the short table."""
    return tuple(m for m in METRICS if m.name in HEADLINE)


_TOP = {
    "name": "name of the comparison and of its results folder",
    "description": "the question it answers",
    "scenario": "the town: a scenario file (relative to this file) or a bundled name",
    "set": "overrides every strategy shares, KEY=VALUE strings",
    "replicates": "towns (seeds) per strategy, at least 2",
    "seed": "the comparison's seed",
    "target": "the adoption target: share of households doing at least one behaviour",
    "reference": "the strategy the others are compared against (default: the first)",
    "level": "confidence level of the intervals (default 0.95)",
    "out": "results folder (default results/<name>)",
    "strategies": "array of tables: name, description, set",
}


@dataclass(frozen=True)
class Strategy:
    """One named strategy: its scenario settings."""

    name: str
    settings: dict = field(default_factory=dict)
    description: str = ""


@dataclass(frozen=True)
class Comparison:
    """A validated comparison file."""

    source: str
    name: str
    scenario: str
    strategies: tuple[Strategy, ...]
    fixed: tuple[str, ...] = ()
    replicates: int = 20
    seed: int = 0
    target: float = 0.5
    reference: str = ""
    level: float = 0.95
    description: str = ""
    out: str | None = None

    def sweep(self):
        """The sweep it runs: one parameter, ``strategy``, common seeds."""
        from bt_sim.experiments.spec import Parameter, SweepSpec

        levels = tuple(range(len(self.strategies)))
        return SweepSpec(
            source=self.source, name=self.name, scenario=self.scenario,
            parameters=(Parameter("strategy", levels=levels),), description=self.description,
            fixed=self.fixed, sampler="grid", replicates=self.replicates, seed=self.seed,
            seeds="common", out=self.out,
        )  # fmt: skip


def read_comparison(path: str | Path) -> Comparison:
    """Read and check a comparison file, or a bundled one by name (each strategy's scenario
    is built by :func:`prepare`).

    Raises
    ------
    SweepError
        Every problem, each naming the file and the key.
    """
    from bt_sim.scenario.loader import _read_toml, find_file

    path = Path(find_file(str(path), "strategies"))  # a bundled one by name
    src = str(path)
    try:
        data = _read_toml(path, src)
    except ScenarioError as exc:
        raise SweepError(exc.problems) from None
    return comparison_from_dict(data, src, path.parent)


def comparison_from_dict(
    data: dict, src: str = "<comparison>", folder: Path | None = None
) -> Comparison:
    """Check comparison data (a parsed file); relative scenario paths are read from
    ``folder``."""
    from bt_sim.experiments.spec import _find_base, top_level_reader

    problems: list[tuple[str, str, str]] = []
    get = top_level_reader(data, _TOP, src, problems)

    is_int = lambda v: isinstance(v, int) and not isinstance(v, bool)  # noqa: E731
    is_num = lambda v: isinstance(v, int | float) and not isinstance(v, bool)  # noqa: E731
    name = get(
        "name",
        lambda v: isinstance(v, str) and _NAME.match(v),
        "a plain name (letters, digits, _)",
        Path(src).stem if src != "<comparison>" else "comparison",
    )
    if not _NAME.match(name):
        name = "comparison"
    scenario = data.get("scenario")
    if not isinstance(scenario, str) or not scenario:
        problems.append((src, "scenario", f"expected a file path or a name, got {scenario!r}"))
        scenario = None
    else:
        scenario = _find_base(scenario, folder, src, problems)
    fixed = get("set", lambda v: isinstance(v, list) and all(isinstance(s, str) for s in v),
                "an array of KEY=VALUE strings", [])  # fmt: skip
    replicates = get("replicates", lambda v: is_int(v) and 2 <= v <= 100_000,
                     "an integer of at least 2 (differences need pairs)", 20)  # fmt: skip
    seed = get("seed", lambda v: is_int(v) and v >= 0, "a non-negative integer", 0)
    target = get("target", lambda v: is_num(v) and 0 < v <= 1, "a share in (0, 1]", 0.5)
    level = get("level", lambda v: is_num(v) and 0.5 <= v < 1, "a level in [0.5, 1)", 0.95)
    description = get("description", lambda v: isinstance(v, str), "a string", "")
    out = get("out", lambda v: isinstance(v, str) and v, "a folder path", None)
    strategies = _strategies(data.get("strategies"), src, problems)
    names = [s.name for s in strategies]
    reference = get("reference", lambda v: isinstance(v, str), "a strategy's name",
                    names[0] if names else "")  # fmt: skip
    if names and reference not in names:
        problems.append((src, "reference", f"no strategy named {reference!r} (have: "
                         f"{', '.join(names)})"))  # fmt: skip
    if problems:
        raise SweepError(problems)
    return Comparison(
        source=src, name=name, scenario=scenario or "", strategies=tuple(strategies),
        fixed=tuple(fixed), replicates=replicates, seed=seed, target=float(target),
        reference=reference, level=float(level), description=description,
        out=str(folder / out) if out and folder is not None and not Path(out).is_absolute()
        else out,
    )  # fmt: skip


def _strategies(raw: Any, src: str, problems: list) -> list[Strategy]:
    if not isinstance(raw, list) or not raw:
        problems.append((src, "strategies", "expected a non-empty array of tables "
                         "([[strategies]] with name and set)"))  # fmt: skip
        return []
    out, seen = [], set()
    for i, item in enumerate(raw):
        where = f"strategies[{i}]"
        if not isinstance(item, dict):
            problems.append((src, where, f"expected a table, got {item!r}"))
            continue
        for k in sorted(set(item) - {"name", "description", "set"}):
            problems.append((src, f"{where}.{k}", "unknown key (known: description, name, set)"))
        name = item.get("name")
        if not isinstance(name, str) or not _NAME.match(name):
            problems.append((src, f"{where}.name", f"expected an identifier, got {name!r}"))
            continue
        if name in seen:
            problems.append((src, f"{where}.name", f"duplicate strategy name {name!r}"))
        seen.add(name)
        settings = item.get("set", {})
        if not isinstance(settings, dict):
            problems.append((src, f"{where}.set", "expected a table of scenario keys and values "
                             f"(e.g. {{ \"organisation.strategy\" = \"out\" }}), got "
                             f"{settings!r}"))  # fmt: skip
            settings = {}
        out.append(Strategy(name, dict(settings), str(item.get("description", ""))))
    return out


class StrategyRun:
    """A picklable sweep function: ``({"strategy": i}, seed) -> outcomes`` of strategy ``i``.

    Parameters
    ----------
    base : dict
        The resolved base scenario (``scenario_to_dict``), shared overrides applied.
    strategies : sequence of Strategy
    target : float
        The adoption target of ``time_to_target``.
    """

    def __init__(self, base: dict, strategies: Sequence[Strategy], target: float, source: str):
        self.base = base
        self.strategies = tuple(strategies)
        self.target = float(target)
        self.source = source
        # what decides the runs (the sweep's manifest and resume check)
        self.data = base
        self.fingerprint_data = {
            "base": base,
            "strategies": [(s.name, s.settings) for s in self.strategies],
            "target": self.target,
        }

    def scenario(self, i: int):
        """The scenario of strategy ``i`` (built once per process: every replicate of a
        strategy runs the same scenario)."""
        from bt_sim.experiments.scenario_run import apply_params
        from bt_sim.scenario.validate import scenario_from_dict

        i = int(i)
        cache = self.__dict__.setdefault("_scenarios", {})
        if i not in cache:
            s = self.strategies[i]
            cache[i] = scenario_from_dict(
                apply_params(self.base, s.settings), f"{self.source}: strategy {s.name!r}"
            )
        return cache[i]

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state.pop("_scenarios", None)  # built again where the runs go
        return state

    def __call__(self, params: Mapping[str, Any], seed) -> dict:
        from bt_sim.model import TransitionModel

        model = TransitionModel(self.scenario(params["strategy"]), seed=seed)
        model.run()
        return strategy_outcomes(model, self.target)


def prepare(comparison: Comparison):
    """Build every strategy's scenario (a bad key or value: SweepError naming the strategy)
    and the sweep's function and design, before any run."""
    import pandas as pd

    from bt_sim.scenario.loader import load_scenario
    from bt_sim.scenario.validate import scenario_to_dict

    base = load_scenario(
        comparison.scenario, list(comparison.fixed), set_by=f"{comparison.source}: set"
    )
    func = StrategyRun(
        scenario_to_dict(base), comparison.strategies, comparison.target, comparison.source
    )
    problems = []
    for i in range(len(comparison.strategies)):
        try:
            func.scenario(i)
        except ScenarioError as exc:
            for _, key, msg in exc.problems:
                problems.append((comparison.source, f"strategies[{i}].set.{key}", msg))
        except (KeyError, ValueError, TypeError) as exc:
            problems.append((comparison.source, f"strategies[{i}].set", str(exc)))
    if problems:
        raise SweepError(problems)
    design = pd.DataFrame({"strategy": list(range(len(comparison.strategies)))})
    return func, design


def strategy_outcomes(model, target: float) -> dict[str, float]:
    """The outcomes of one run that a comparison reports (:data:`METRICS`).

    ``time_to_target``: months until the share of households doing at least one behaviour
    reaches ``target`` (NaN: never); ``representation_members``: the share of disadvantaged
    households among members over their share in the host neighbourhoods;
    ``representation_adopters``: their share among households doing a behaviour over their
    share in the town; ``saving_concentration``: the concentration index of the households'
    savings by income (0: equal; positive: the richer save more); ``poorest_coverage``: the
    share of the poorest fifth of neighbourhoods (by median income, at least one) with a
    collective standing at the end; the organisation's and the interventions' hours and money.
    """
    from bt_sim.components.capacity import DISSOLVED
    from bt_sim.experiments.compare_report import concentration_index
    from bt_sim.outcomes import time_to_reach

    s, pop = model.state, model.population
    summary = model.summary()
    adoption = model.recorder.overall["any_adoption"]
    dis = pop.disadvantaged
    adopters = s.adopted.any(axis=1)
    base = dis.mean()
    rep_adopters = (
        float(dis[adopters].mean() / base) if adopters.any() and base > 0 else float("nan")
    )
    from bt_sim.records import median_income

    median = median_income(pop)
    poorest = np.argsort(median, kind="stable")[: max(1, len(median) // 5)]
    colls = model.collectives
    standing = colls.founded & (model.capacity.status != DISSOLVED)
    hosts = set(colls.nbhd[standing].tolist())
    iv = model.interventions.result
    return {
        "time_to_target": time_to_reach(adoption, target, model.config.run.dt),
        "any_adoption": float(summary["any_adoption"]),
        "kpi_saving": float(summary["kpi_saving"]),
        "inclusivity_gap": float(summary["inclusivity_gap"]),
        "representation_members": float(summary["representativeness"]),
        "representation_adopters": rep_adopters,
        "saving_concentration": concentration_index(
            s.saving.astype(np.float64), pop.income.astype(np.float64)
        ),
        "poorest_coverage": float(np.mean([nb in hosts for nb in poorest])),
        "staff_hours": float(summary["organisation:staff_hours"]),
        "staff_euros": float(summary["organisation:euros"]),
        "volunteer_hours": float(np.nansum(iv["hours"])),
        "intervention_euros": float(np.nansum(iv["euros"])),
        "collectives": float(np.count_nonzero(colls.founded)),
        "organisation_founded": float(summary["organisation:founded"]),
        "warm_starts": float(summary["organisation:warm_starts"]),
        "links": float(summary["organisation:links"]),
    }


def named_runs(results, comparison: Comparison):
    """A comparison's results table with the strategy's name in ``strategy``."""
    df = results[results["error"] == ""].copy()
    names = [s.name for s in comparison.strategies]
    df["strategy"] = [names[int(i)] for i in df["strategy"]]
    return df


def run_comparison(comparison: Comparison, executor=None, progress: bool = False):
    """Run a comparison in memory (no results folder): ``(runs, summary)``, the outcomes of
    every run (``strategy`` by name) and :func:`~bt_sim.experiments.compare_report.summarise`
    of them. ``bt-sim compare`` does the same into a results folder, resumably.

    >>> import dataclasses
    >>> comp = read_comparison("scenarios/strategies/half_the_town.toml")
    >>> small = dataclasses.replace(comp, replicates=2, fixed=("run.steps=12",
    ...                             "population.households=300"))
    >>> runs, summary = run_comparison(small)
    >>> len(runs), sorted(set(summary["verdict"]))[:2]
    (12, ['better', 'indistinguishable'])
    """
    from bt_sim.experiments.compare_report import summarise
    from bt_sim.experiments.core import run_sweep

    func, design = prepare(comparison)
    results = run_sweep(
        func, design, comparison.replicates, comparison.seed, executor, seeds="common",
        progress=progress, desc=comparison.name,
    )  # fmt: skip
    runs = named_runs(results, comparison)
    return runs, summarise(runs, METRICS, comparison.reference, comparison.level)
