"""The step as a public, ordered plan of phases.

A phase is a plain function of the model (its state arrays, population, network, scenario and
named random streams) that carries out one mechanism for one time step. The model's step walks
its plan, ``model.phases``, in order. The households' own phases (adopt, measure, record) are
here (:func:`core_phases`); every other mechanism is a component that brings its phases and
their place in the plan (:mod:`bt_sim.component`, :mod:`bt_sim.components`). A one-off change
can still be a plain phase inserted into a model's plan::

    from bt_sim.phases import Phase

    def subsidy(model):
        "Halve the cost of insulation from year 3 on."
        ...

    model.insert_phase(Phase("subsidy", subsidy), before="adopt")

``plan_table(model.phases)`` lists the plan (the ODD's schedule table matches the default plan;
a test checks it), and ``model.run(profile=True)`` times each phase.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import pandas as pd

if TYPE_CHECKING:
    from bt_sim.model import TransitionModel


@dataclass(frozen=True)
class Phase:
    """One named part of the step.

    Parameters
    ----------
    name : str
        Unique name in the plan.
    run : callable
        ``run(model) -> None``; reads and updates the model's state arrays.
    streams : tuple of str
        The named random streams (:data:`bt_sim.streams.STREAMS`) it draws from.
    """

    name: str
    run: Callable[[TransitionModel], None]
    streams: tuple[str, ...] = field(default=())

    @property
    def doc(self) -> str:
        """The first line of the phase function's docstring."""
        return (self.run.__doc__ or "").strip().splitlines()[0] if self.run.__doc__ else ""


def core_phases() -> list[Phase]:
    """The households' own phases: adoption, measuring the KPI and recording."""
    from bt_sim.recorder import record_phase
    from bt_sim.rules import adoption, kpi

    return [
        Phase("adopt", adoption.adopt_phase, ("adopt",)),
        Phase("measure", kpi.measure_phase, ("kpi_noise",)),
        Phase("record", record_phase, ()),
    ]


def default_phases() -> list[Phase]:
    """The model's default plan, in order: the core phases with the default components'
    phases at their anchors (:mod:`bt_sim.components`)."""
    from bt_sim.component import insert_at, placed_of
    from bt_sim.components import DEFAULT_COMPONENTS

    plan = core_phases()
    for cls in DEFAULT_COMPONENTS:
        for phases, anchor in placed_of(cls):
            insert_at(plan, phases, anchor)
    return plan


def plan_table(phases: list[Phase]) -> pd.DataFrame:
    """The plan as a table: order, name, function, streams and what the phase does."""
    return pd.DataFrame(
        {
            "order": range(1, len(phases) + 1),
            "phase": [p.name for p in phases],
            "function": [f"{p.run.__module__}.{p.run.__name__}" for p in phases],
            "streams": [", ".join(p.streams) for p in phases],
            "does": [p.doc for p in phases],
        }
    )
