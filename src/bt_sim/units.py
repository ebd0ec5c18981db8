"""Units of measure of every column and series bt-sim writes.

The summary, the time series and the hub panel carry their units in ``DataFrame.attrs["units"]``
(kept in Parquet files) and in the run's manifest under ``units`` (for CSV files too). A
component names the units of its own outputs: its ``results`` and ``collective_results`` (name
to unit) and its ``summary_units`` (or :meth:`bt_sim.component.Component.summary_unit` where
the keys depend on the scenario, as the building blocks' do).

>>> outcome_unit("final_adoption:insulation")
'fraction'
>>> outcome_unit("time_to_50pct:any")
'months'
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bt_sim.component import Component
    from bt_sim.model import TransitionModel

#: Units of the model's own end-of-run outcomes (:func:`bt_sim.outcomes.summarise`).
OUTCOME_UNITS = {
    "replicate": "index",
    "steps": "steps",
    "households": "households",
    "any_adoption": "fraction",
    "behaviours_per_household": "behaviours",
    "kpi_saving": "fraction",
    "kpi_change": "fraction",
    "adoption_disadvantaged": "fraction",
    "adoption_other": "fraction",
    "inclusivity_gap": "fraction",
    "saving_gap": "fraction",
    "inclusivity_gap_hosted": "fraction",
    "saving_gap_hosted": "fraction",
    "members": "households",
    "member_share": "fraction",
    "representativeness": "ratio",
    "representativeness_senior": "ratio",
    "representativeness_young": "ratio",
    "consenting": "households",
    "compared_share": "fraction",
    "mean_efficacy": "score 0-1",
    "peer_curtailment": "fraction",
    "mean_effort": "fraction",
    "mean_goal": "fraction",
    "collective_progress": "fraction",
    "spawn_key": "",
    "undefined": "",
}
#: Per-behaviour outcomes, by prefix.
_PREFIX_UNITS = {"final_adoption:": "fraction", "time_to_50pct:": "months"}

#: The recorder's series: shares (or means) of households in the scope; per collective,
#: ``members`` and ``consenting`` are counts of households.
_SERIES_UNITS = {
    "kpi_saving": "fraction",
    "efficacy": "score 0-1",
    "members": "fraction",
    "consenting": "fraction",
    "compared": "fraction",
    "any_adoption": "fraction",
}
_TRUTH_COUNTS = {"members": "households", "consenting": "households"}

#: The hub panel's columns (docs/hub-data.md).
HUB_PANEL_UNITS = {
    "replicate": "index",
    "step": "steps",
    "month": "months",
    "collective": "neighbourhood id",
    "size_class": "class",
    "n_households": "households",
    "saving_mean": "fraction",
}


def outcome_unit(name: str) -> str | None:
    """The unit of one of the model's own outcomes, or ``None`` if it is not one."""
    if name in OUTCOME_UNITS:
        return OUTCOME_UNITS[name]
    for prefix, unit in _PREFIX_UNITS.items():
        if name.startswith(prefix):
            return unit
    return None


def summary_units(
    columns: Iterable[str], components: Iterable[Component | type[Component]] | None = None
) -> dict[str, str]:
    """Unit of each summary column (``?`` for one nothing names, never silently empty).

    ``components`` are the model's (instances or classes; the default ones by default).

    >>> summary_units(["capacity:stalled", "interventions:coach:visits"])
    {'capacity:stalled': 'collectives', 'interventions:coach:visits': 'visits'}
    """
    if components is None:
        from bt_sim.components import DEFAULT_COMPONENTS

        components = DEFAULT_COMPONENTS
    by_name = {c.name: c for c in components}
    out = {}
    for col in columns:
        unit = outcome_unit(col)
        if unit is None and ":" in col:
            name, key = col.split(":", 1)
            comp = by_name.get(name)
            unit = comp.summary_unit(key) if comp is not None else None
        out[col] = "?" if unit is None else unit
    return out


def series_units(model: TransitionModel) -> dict[str, dict[str, str]]:
    """Unit of each time-series variable, per scope (``{scope: {variable: unit}}``)."""
    from bt_sim.recorder import TRUTH_SCOPE

    own = {f"adoption:{b}": "fraction" for b in model.behaviour_names} | _SERIES_UNITS
    overall = own | {
        f"{c.name}:{k}": u for c in model.components.values() for k, u in c.results.items()
    }
    truth = (
        {k: v for k, v in own.items() if k.startswith("adoption:") or k == "kpi_saving"}
        | _TRUTH_COUNTS
        | {
            f"{c.name}:{k}": u
            for c in model.components.values()
            for k, u in c.collective_results.items()
        }
    )
    return {
        "overall": overall,
        "group": own,
        "neighbourhood": {k: v for k, v in own.items() if k.startswith("adoption:")},
        TRUTH_SCOPE: truth,
    }


#: A sweep's own columns (:mod:`bt_sim.experiments.core`).
SWEEP_UNITS = {"run": "index", "point": "index", "replicate": "index", "error": "", "seconds": "s"}


def sweep_units(columns: Iterable[str], parameters: Iterable[str], model: bool) -> dict[str, str]:
    """Unit of each column of a sweep's results: its own columns, the swept scenario keys
    (their unit in the schema) and, for a sweep of the model (``model``), its outcomes; ``?``
    where nothing names one (a parameter or output of a plain function).
    """
    from bt_sim.scenario.reference import key_unit

    params = set(parameters)
    outputs = [c for c in columns if c not in params and c not in SWEEP_UNITS]
    out = {c: SWEEP_UNITS[c] for c in columns if c in SWEEP_UNITS}
    out |= {p: (key_unit(p) if model else None) or "?" for p in params}
    out |= summary_units(outputs) if model else dict.fromkeys(outputs, "?")
    return out
