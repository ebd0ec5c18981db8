"""What every kind of intervention has: its entry, its state, its cost and what it does."""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, ClassVar

import numpy as np

if TYPE_CHECKING:
    from bt_sim.components.interventions import Interventions
    from bt_sim.scenario.schema import Intervention


class Kind:
    """One ``[[interventions]]`` entry of a kind, carried out by the active collectives.

    Each step the component asks every entry whose round runs now what it costs each
    collective (:meth:`cost`, volunteer hours), decides which collectives carry it out within
    their hours, and lets the entry act in those (:meth:`carry_out`). Kinds whose effect lasts
    while a round runs (a dashboard, a gatekeeper programme) then set it for every collective
    at once (:meth:`apply`, with the collectives where an entry of the kind runs now).

    Class attributes
    ----------------
    kind : str
        The ``kind`` value of the entries it carries out.
    counts : str or None
        The component's per-step result that :meth:`carry_out`'s return value adds to.
    dynamic : tuple of str
        Attributes a continuation run copies.
    """

    kind: ClassVar[str] = ""
    counts: ClassVar[str | None] = None
    dynamic: ClassVar[tuple[str, ...]] = ()

    def __init__(self, comp: Interventions, index: int, entry: Intervention):
        self.comp = comp
        self.model = comp.model
        self.index = index
        self.x = entry

    def prepare(self, active: np.ndarray) -> None:
        """Every step, before the costs (``active``: the collectives that are active)."""

    def cost(self, active: np.ndarray, inside: float) -> float | np.ndarray:
        """Hours it takes each collective this step, the same for all (a number) or one each
        (an array); ``inside``: months of the step in a round."""
        return self.x.hours_per_month * inside

    def carry_out(self, ok: np.ndarray, inside: float) -> float:
        """Act in the collectives ``ok`` this step; returns what it adds to ``counts``."""
        return float(np.count_nonzero(ok))

    def idle(self) -> None:
        """Called in a step when no round of it runs (or it is not enabled)."""

    @classmethod
    def apply(cls, comp: Interventions, on: np.ndarray) -> None:
        """Set the lasting effect of the kind where an entry of it runs now (``on``)."""

    def summary(self) -> dict[str, float]:
        """End-of-run outcomes of the entry (keys without the entry's name)."""
        return {}

    def continue_from(self, other: Kind) -> None:
        for attr in self.dynamic:
            setattr(self, attr, copy.deepcopy(getattr(other, attr)))
