"""The model's default components, in plan order: the hub, mastery, the collectives and their
volunteer capacity, their interventions, the network organisation, and the multi-level
perspective's landscape, municipality (policy) and regime.

Each owns its state, phases, streams and outputs (:mod:`bt_sim.component`). The households'
core (population, network, adoption and the KPI) is the model's own: every component reads it.
"""

from __future__ import annotations

from bt_sim.components.capacity import Capacity
from bt_sim.components.collectives import Collectives
from bt_sim.components.hub import Hub
from bt_sim.components.interventions import Interventions
from bt_sim.components.landscape import Landscape
from bt_sim.components.mastery import Mastery
from bt_sim.components.municipality import Municipality
from bt_sim.components.organisation import Organisation
from bt_sim.components.regime import Regime

#: The components every model has, in the order their phases go into the plan (each at its
#: anchor). They set up their state in an order that puts each after those it ``requires``.
DEFAULT_COMPONENTS = (
    Hub,
    Mastery,
    Collectives,
    Capacity,
    Interventions,
    Organisation,
    Landscape,
    Municipality,
    Regime,
)

__all__ = [
    "DEFAULT_COMPONENTS",
    "Capacity",
    "Collectives",
    "Hub",
    "Interventions",
    "Landscape",
    "Mastery",
    "Municipality",
    "Organisation",
    "Regime",
]
