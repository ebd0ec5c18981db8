"""Turn plain dictionaries into a validated :class:`~bt_sim.scenario.schema.Scenario`.

All problems are collected and reported together, each naming its source, key path and what
was expected.
"""

from __future__ import annotations

import dataclasses
import re
import types
import typing
from pathlib import Path
from typing import Any

from bt_sim.errors import ScenarioError
from bt_sim.scenario.schema import (
    DEFAULT_INTERVENTIONS,
    Behaviour,
    Driver,
    Founding,
    Intervention,
    Scenario,
)

#: The smallest ``hub.k`` a scenario may set (below ``HUB_K_WARN`` it is valid with a warning).
HUB_K_FLOOR = 5
HUB_K_WARN = 10
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
#: A scenario name names its results folder, so it must be a plain name, never a path.
SCENARIO_NAME = re.compile(r"^[A-Za-z0-9_-][A-Za-z0-9._-]{0,63}$")


def _kind(tp: Any) -> str:
    return {int: "an integer", float: "a number", bool: "true or false", str: "a string"}.get(
        tp, str(tp)
    )


def _check_value(f: dataclasses.Field, tp: Any, value: Any, path: str, problems: list) -> Any:
    meta = f.metadata
    if tp is bool:
        if not isinstance(value, bool):
            problems.append((path, f"expected true or false, got {value!r}"))
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            problems.append((path, f"expected an integer, got {value!r}"))
            return value
    elif tp is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            problems.append((path, f"expected a number, got {value!r}"))
            return value
        value = float(value)
        if value != value:
            problems.append((path, "expected a number, got nan"))
            return value
    elif tp is str:
        if not isinstance(value, str):
            problems.append((path, f"expected a string, got {value!r}"))
            return value
        if meta.get("choices") and value not in meta["choices"]:
            allowed = ", ".join(repr(c) for c in meta["choices"])
            problems.append((path, f"expected one of {allowed}, got {value!r}"))
        return value
    lo, hi = meta.get("lo"), meta.get("hi")
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        unit = f" {meta['unit']}" if meta.get("unit") else ""
        problems.append((path, f"expected a value in [{lo:g}, {hi:g}]{unit}, got {value!r}"))
    return value


def _build(cls: type, data: Any, path: str, problems: list) -> Any:
    if not isinstance(data, dict):
        problems.append((path, f"expected a table, got {data!r}"))
        return cls()
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    for name in data:
        if name not in fields:
            where = f"{path}.{name}" if path else name
            known = ", ".join(sorted(fields))
            problems.append((where, MOVED.get(where, f"unknown key (known: {known})")))
    kwargs = {}
    for name, f in fields.items():
        if name not in data:
            continue
        sub = f"{path}.{name}" if path else name
        tp = hints[name]
        value = data[name]
        if dataclasses.is_dataclass(tp):
            kwargs[name] = _build(tp, value, sub, problems)
        elif name in NAMED_TABLES:
            item, nonempty = NAMED_TABLES[name]
            kwargs[name] = _build_named(item, value, sub, problems, name, nonempty)
        elif typing.get_args(tp)[:1] == (float,):
            kwargs[name] = _build_numbers(value, sub, problems)
        elif typing.get_origin(tp) is tuple or isinstance(tp, types.GenericAlias):
            kwargs[name] = _build_strings(value, sub, problems)
        else:
            kwargs[name] = _check_value(f, tp, value, sub, problems)
    return cls(**kwargs)


def _build_strings(value: Any, path: str, problems: list) -> tuple[str, ...]:
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        problems.append((path, f"expected an array of strings, got {value!r}"))
        return ()
    return tuple(value)


def _build_numbers(value: Any, path: str, problems: list) -> tuple[float, ...]:
    ok = isinstance(value, list | tuple) and all(
        isinstance(v, int | float) and not isinstance(v, bool) for v in value
    )
    if not ok:
        problems.append((path, f"expected an array of numbers, got {value!r}"))
        return ()
    bad = [i for i, v in enumerate(value) if not (float(v) == float(v) and abs(v) != float("inf"))]
    if bad:
        problems.append((path, f"expected finite numbers, got {value[bad[0]]!r} at [{bad[0]}]"))
    return tuple(float(v) for v in value)


_PURCHASE = (
    "the joint-action campaign is now a building block: an [[interventions]] entry of kind "
    "'collective_purchase' (the default catalogue's 'purchase'); set its {} instead, e.g. "
    "--set interventions.purchase.{}=..."
)
#: Keys that no longer exist, and where their setting went.
MOVED = {
    "collectives.joint_rate": _PURCHASE.format("pull_rate", "pull_rate"),
    "collectives.joint_discount": _PURCHASE.format("discount", "discount"),
    "collectives.campaign_months": _PURCHASE.format("months and every_months", "months"),
}

#: What one entry of each array of named tables is called in messages.
ENTRY = {
    "behaviours": "behaviour",
    "interventions": "intervention",
    "foundings": "founding",
    "landscape": "landscape driver",
}

#: Arrays of named tables: the class of an entry, and whether the array may be empty.
NAMED_TABLES = {
    "behaviours": (Behaviour, True),
    "interventions": (Intervention, False),
    "foundings": (Founding, False),
    "landscape": (Driver, False),
}


def _build_named(
    cls: type, value: Any, path: str, problems: list, table: str, nonempty: bool
) -> tuple:
    """An array of tables of ``cls``, each named by a unique identifier."""
    if not isinstance(value, list | tuple) or (nonempty and not value):
        what = "a non-empty array" if nonempty else "an array"
        problems.append((path, f"expected {what} of tables ([[{table}]])"))
        return ()
    out = tuple(_build(cls, item, f"{path}[{i}]", problems) for i, item in enumerate(value))
    seen = set()
    for i, x in enumerate(out):
        if not _NAME.match(x.name):
            problems.append((f"{path}[{i}].name", f"expected an identifier, got {x.name!r}"))
        if x.name in seen:
            problems.append((f"{path}[{i}].name", f"duplicate {ENTRY[table]} name {x.name!r}"))
        seen.add(x.name)
    return out


def _check_foundings(s: Scenario, problems: list) -> None:
    """Foundings: within the run, in a neighbourhood that exists (each at most once), and no
    more collectives than the room for them or the neighbourhoods."""
    cc, months = s.collectives, s.run.steps * s.run.dt
    places = s.population.neighbourhoods
    seen: dict[int, int] = {}
    for i, f in enumerate(s.foundings):
        if f.month >= months:
            problems.append(
                (
                    f"foundings[{i}].month",
                    f"expected a month within the run (before {months:g}), got {f.month:g}",
                )
            )
        if f.neighbourhood >= places:
            problems.append(
                (
                    f"foundings[{i}].neighbourhood",
                    f"expected -1 or a neighbourhood id below population.neighbourhoods "
                    f"({places}), got {f.neighbourhood}",
                )
            )
        elif f.neighbourhood >= 0 and f.neighbourhood in seen:
            problems.append(
                (
                    f"foundings[{i}].neighbourhood",
                    f"expected one founding per neighbourhood; foundings[{seen[f.neighbourhood]}] "
                    f"is also in {f.neighbourhood}",
                )
            )
        if f.neighbourhood >= 0:
            seen.setdefault(f.neighbourhood, i)
    wanted = cc.count + len(s.foundings)
    if cc.max_count and wanted > cc.max_count:
        problems.append(
            (
                "collectives.max_count",
                f"expected room for collectives.count ({cc.count}) plus the foundings "
                f"({len(s.foundings)}), at least {wanted}, got {cc.max_count}",
            )
        )
    if s.foundings and wanted > places:
        problems.append(
            (
                "foundings",
                f"expected at most population.neighbourhoods ({places}) collectives in all "
                f"(one per neighbourhood), got collectives.count + foundings = {wanted}",
            )
        )


def _check_organisation(s: Scenario, problems: list) -> None:
    org = s.organisation
    shares = {"out": org.out_share, "deep": org.deep_share, "linking": org.linking_share}
    if org.strategy == "mix":
        total = sum(shares.values())
        if total <= 0 or total > 1 + 1e-9:
            problems.append(
                (
                    "organisation.out_share",
                    "with strategy 'mix', expected out_share + deep_share + linking_share in "
                    f"(0, 1], got {total:g}",
                )
            )
    else:
        for name, v in shares.items():
            if v > 0:
                problems.append(
                    (
                        f"organisation.{name}_share",
                        f"used only with organisation.strategy = 'mix' (the strategy is "
                        f"{org.strategy!r}: set strategy = 'mix', or leave the share out)",
                    )
                )
    if org.records and not Path(org.records).is_file():
        problems.append(("organisation.records", f"{org.records}: file not found"))


def _check_behaviour_names(s: Scenario, problems: list) -> None:
    """Keys that name a behaviour: empty or a behaviour of the scenario."""
    names = [b.name for b in s.behaviours]
    named = [
        ("regime.transition", s.regime.transition),
        ("municipality.subsidised", s.municipality.subsidised),
        ("municipality.standard_behaviour", s.municipality.standard_behaviour),
    ]
    named += [(f"landscape[{i}].behaviour", d.behaviour) for i, d in enumerate(s.landscape)]
    for where, name in named:
        if name and name not in names:
            problems.append(
                (where, f"expected '' or a behaviour of the scenario ({', '.join(names)}), "
                 f"got {name!r}")
            )  # fmt: skip


def _check_landscape(s: Scenario, problems: list) -> None:
    """Landscape drivers: what each needs for its kind and coupling; a series file is read
    (and every bad row reported) before any run starts."""
    for i, d in enumerate(s.landscape):
        at = f"landscape[{i}]"
        if d.behaviour and d.acts_on != "price":
            problems.append(
                (f"{at}.behaviour", f"used only with acts_on = 'price' (acts_on is {d.acts_on!r})")
            )
        if d.lo > d.hi:
            problems.append((f"{at}.lo", f"expected at most hi ({d.hi:g}), got {d.lo:g}"))
        elif not d.lo <= d.start <= d.hi:
            problems.append(
                (f"{at}.start", f"expected a level in [lo, hi] = [{d.lo:g}, {d.hi:g}], got "
                 f"{d.start:g}")
            )  # fmt: skip
        if d.kind == "values" and not d.values:
            problems.append((f"{at}.values", "kind = 'values' needs at least one value"))
        if d.kind != "values" and d.values:
            problems.append(
                (f"{at}.values", f"used only with kind = 'values' (kind is {d.kind!r})")
            )
        if d.kind == "file":
            if not d.file:
                problems.append((f"{at}.file", "kind = 'file' needs a CSV file"))
                continue
            from bt_sim.landscape import read_series_csv  # numpy: only for a series file

            try:
                read_series_csv(d.file, d.column or d.name)
            except ScenarioError as exc:
                problems.extend((f"{at}.file", f"{src}: {k}: {m}" if k else f"{src}: {m}")
                                for src, k, m in exc.problems)  # fmt: skip
        elif d.file or d.column:
            which = "file" if d.file else "column"
            problems.append((f"{at}.{which}", f"used only with kind = 'file' (kind is {d.kind!r})"))


def _cross_checks(s: Scenario, problems: list) -> None:
    _check_organisation(s, problems)
    _check_behaviour_names(s, problems)
    _check_landscape(s, problems)
    pop, net = s.population, s.network
    if pop.neighbourhoods > pop.households:
        problems.append(
            (
                "population.neighbourhoods",
                f"expected at most population.households ({pop.households}), "
                f"got {pop.neighbourhoods}",
            )
        )
    if net.kind not in ("complete", "edgelist") and net.mean_degree > pop.households - 1:
        problems.append(
            (
                "network.mean_degree",
                f"expected less than population.households ({pop.households}), "
                f"got {net.mean_degree:g}",
            )
        )
    if net.kind == "edgelist" and not net.edgelist:
        problems.append(("network.edgelist", "expected a file path when network.kind = 'edgelist'"))
    months = s.run.steps * s.run.dt
    names = [b.name for b in s.behaviours]
    for i, x in enumerate(s.interventions):
        # (the default catalogue's entries may fall after a short run: not the user's doing)
        if x.start_month >= months and x not in DEFAULT_INTERVENTIONS:
            problems.append(
                (
                    f"interventions[{i}].start_month",
                    f"expected a month within the run (before {months:g}), got {x.start_month:g}",
                )
            )
        if x.kind == "collective_purchase" and x.behaviour and x.behaviour not in names:
            problems.append(
                (
                    f"interventions[{i}].behaviour",
                    f"expected '' or a behaviour of the scenario ({', '.join(names)}), "
                    f"got {x.behaviour!r}",
                )
            )
        if x.kind == "neighbourhood_event" and x.enabled and net.kind == "complete":
            problems.append(
                (
                    f"interventions[{i}].kind",
                    "a neighbourhood_event changes ties: expected a network with ties "
                    "(network.kind other than 'complete')",
                )
            )
        if x.every_months and x.every_months < x.months:
            problems.append(
                (
                    f"interventions[{i}].every_months",
                    f"expected 0 or at least months ({x.months:g}), got {x.every_months:g}",
                )
            )
    if s.model.components:
        from bt_sim.component import check_components, load_component
        from bt_sim.components import DEFAULT_COMPONENTS

        classes = list(DEFAULT_COMPONENTS)
        for i, spec in enumerate(s.model.components):
            try:
                classes.append(load_component(spec))
            except ValueError as exc:
                problems.append((f"model.components[{i}]", str(exc)))
        if len(classes) == len(DEFAULT_COMPONENTS) + len(s.model.components):
            try:
                check_components(classes)
            except ValueError as exc:
                problems.append(("model.components", str(exc)))
    if s.collectives.count > pop.neighbourhoods:
        problems.append(
            (
                "collectives.count",
                f"expected at most population.neighbourhoods ({pop.neighbourhoods}) "
                f"(one collective per neighbourhood), got {s.collectives.count}",
            )
        )
    _check_foundings(s, problems)
    if pop.senior_share + pop.young_share > 1:
        problems.append(
            (
                "population.senior_share",
                "expected senior_share + young_share <= 1, got "
                f"{pop.senior_share + pop.young_share:g}",
            )
        )
    if s.hub.k < HUB_K_FLOOR:
        problems.append(
            (
                "hub.k",
                f"expected at least {HUB_K_FLOOR} households, got {s.hub.k}: a smaller group "
                "publishes near-individual data (with k = 1 a single household's value; with "
                "k - 1 fellow members colluding, the last one's)",
            )
        )
    m = s.mastery
    if m.goal_initial > m.goal_max:
        problems.append(
            (
                "mastery.goal_initial",
                f"expected at most mastery.goal_max ({m.goal_max:g}), got {m.goal_initial:g}",
            )
        )


def scenario_from_dict(data: dict, source: str) -> Scenario:
    """Validate a resolved dictionary and build a :class:`Scenario`.

    Parameters
    ----------
    data : dict
        The merged contents of a scenario file (``extends`` already resolved).
    source : str
        Where the data came from; used in error messages.

    Raises
    ------
    ScenarioError
        Listing every unknown key, wrong type and out-of-range value.
    """
    problems: list[tuple[str, str]] = []
    scenario = _build(Scenario, data, "", problems)
    if isinstance(scenario.name, str) and not SCENARIO_NAME.match(scenario.name):
        problems.append(
            (
                "name",
                "expected a plain name of 1-64 letters, digits, '-', '_' or '.', not starting "
                f"with '.' (it names the results folder), got {scenario.name!r}",
            )
        )
    if not problems:
        _cross_checks(scenario, problems)
    if problems:
        raise ScenarioError([(source, k, m) for k, m in problems])
    return scenario


def scenario_to_dict(scenario: Scenario) -> dict:
    """The scenario as plain TOML-compatible data (behaviours as a list of tables)."""
    return dataclasses.asdict(scenario, dict_factory=dict) | {
        "behaviours": [dataclasses.asdict(b) for b in scenario.behaviours],
        "interventions": [dataclasses.asdict(x) for x in scenario.interventions],
        "foundings": [dataclasses.asdict(x) for x in scenario.foundings],
        "landscape": [dataclasses.asdict(x) for x in scenario.landscape],
    }
