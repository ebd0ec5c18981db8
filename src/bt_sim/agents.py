"""Households as :class:`mesa.Agent` objects: read-only views onto rows of the model's arrays.

The engine never iterates over these; they exist for inspection, custom analyses and the view.
Create them with :meth:`bt_sim.model.TransitionModel.household` or
:meth:`~bt_sim.model.TransitionModel.household_agents`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa

from bt_sim.population import AGE_GROUPS

if TYPE_CHECKING:
    from bt_sim.model import TransitionModel


class Household(mesa.Agent):
    """One household, viewed through the model's arrays.

    Examples
    --------
    >>> from bt_sim import TransitionModel, load_scenario
    >>> model = TransitionModel(load_scenario(None, ["population.households=50"]))
    >>> h = model.household(3)
    >>> h.index, 0.0 <= h.efficacy <= 1.0
    (3, True)
    """

    def __init__(self, model: TransitionModel, index: int):
        super().__init__(model)
        self.index = int(index)

    @property
    def _pop(self):
        return self.model.population

    @property
    def neighbourhood(self) -> int:
        return int(self._pop.neighbourhood[self.index])

    @property
    def income(self) -> float:
        return float(self._pop.income[self.index])

    @property
    def owner(self) -> bool:
        return bool(self._pop.owner[self.index])

    @property
    def age_group(self) -> str:
        return AGE_GROUPS[int(self._pop.age_group[self.index])]

    @property
    def disadvantaged(self) -> bool:
        return bool(self._pop.disadvantaged[self.index])

    @property
    def efficacy(self) -> float:
        return float(self.model.state.efficacy[self.index])

    @property
    def goal(self) -> float:
        return float(self.model.state.goal[self.index])

    @property
    def kpi(self) -> float:
        return float(self.model.state.kpi[self.index])

    @property
    def member(self) -> bool:
        return bool(self.model.state.member[self.index])

    @property
    def consent(self) -> bool:
        return bool(self.model.state.consent[self.index])

    @property
    def adopted(self) -> dict[str, bool]:
        """Behaviour name to whether this household performs it."""
        row = self.model.state.adopted[self.index]
        return {b: bool(row[i]) for i, b in enumerate(self.model.behaviour_names)}

    def contacts(self) -> list[int]:
        """Indices of this household's contacts in the social network."""
        return self.model.network.neighbours(self.index).tolist()

    def __repr__(self) -> str:
        return f"Household(index={self.index}, neighbourhood={self.neighbourhood})"
