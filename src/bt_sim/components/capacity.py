"""Volunteer capacity as a component: collectives that stall and stop.

A collective runs on its volunteers. Each collective starts with its founders as volunteers;
members take up the work towards a share of the membership (``collectives.volunteer_share``,
at ``collectives.volunteer_rate`` a month); volunteers burn out while their fellow members'
checks keep failing (``collectives.burnout_rate`` times the share of members whose last check
missed its goal), and a celebrated milestone brings new ones
(``collectives.celebration_volunteers``). Below ``collectives.capacity_floor`` volunteers a
collective *stalls*: it starts no new campaign. If it stays stalled for
``collectives.stall_months`` it *dissolves*: its members leave, nobody in its neighbourhood
can join any more, and its hub publishes nothing new (what it published stays published). A
stalled collective that finds volunteers again becomes active.

State per collective: ``volunteers``, ``status`` (0 active, 1 stalled, 2 dissolved) and the
month its stall began. Phase ``capacity`` right after ``collectives``; no random numbers.
Results: the number of collectives active, stalled and dissolved each step; the summary adds
``capacity:stalled`` and ``capacity:dissolved`` (collectives at the end),
``capacity:stalled_months`` and ``capacity:active_months`` (collective-months in each state
over the run) and ``capacity:volunteers`` (the mean over collectives still standing).

With the defaults (no burn-out) no collective ever stalls and nothing else changes.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, ClassVar

import numpy as np

from bt_sim.component import Component
from bt_sim.contrast import Contrast

if TYPE_CHECKING:
    from bt_sim.keyed import Keyed

ACTIVE, STALLED, DISSOLVED = 0, 1, 2


def volunteer_update(
    volunteers: np.ndarray,
    members: np.ndarray,
    failing: np.ndarray,
    celebrated: np.ndarray,
    share: float,
    rate: float,
    burnout: float,
    renewal: float,
    dt: float,
) -> np.ndarray:
    """Volunteers after one step of ``dt`` months (a pure function of the arrays).

    Recruitment closes ``1 - exp(-rate dt)`` of the gap up to ``share * members``; burn-out
    keeps ``exp(-burnout * failing * dt)`` of them (``failing``: the share of members whose
    last check missed its goal); a celebration adds ``renewal``.

    >>> volunteer_update(np.array([5.0]), np.array([100]), np.array([0.0]),
    ...                  np.array([False]), 0.1, math.inf, 0.0, 0.0, 1.0).tolist()
    [10.0]
    """
    target = share * members
    gap = np.maximum(target - volunteers, 0.0)
    grown = volunteers + (-math.expm1(-rate * dt) if math.isfinite(rate) else 1.0) * gap
    kept = grown * np.exp(-burnout * failing * dt)
    return kept + renewal * celebrated


class Capacity(Component):
    """Volunteers, stalls and dissolution of collectives (keys in ``[collectives]``)."""

    name = "capacity"
    section = "collectives"
    phases = (("capacity", "step"),)
    anchor = ("after", "collectives")
    requires = ("collectives",)
    results: ClassVar[dict[str, str]] = {
        "active": "collectives",
        "stalled": "collectives",
        "dissolved": "collectives",
    }
    dynamic = (
        "volunteers",
        "status",
        "stalled_since",
        "celebrated",
        "stalled_months",
        "active_months",
    )
    contrasts: ClassVar[tuple[Contrast, ...]] = (
        Contrast(
            "capacity: celebrations bring no -> 2 volunteers (with burn-out)",
            ("collectives.celebration_volunteers=0",),
            ("collectives.celebration_volunteers=2",),
            "capacity:active_months",
            "raises",
            "volunteers burn out without visible results and are renewed by shared "
            "achievements (Omoto & Snyder 1995; Bandura 2000)",
            common=("collectives.burnout_rate=0.05", "collectives.placement=first"),
        ),
        Contrast(
            "capacity: no floor -> a floor of 2 volunteers (with burn-out)",
            ("collectives.capacity_floor=0",),
            ("collectives.capacity_floor=2",),
            "capacity:dissolved",
            "raises",
            "a collective without enough volunteers stops (Omoto & Snyder 1995)",
            common=("collectives.burnout_rate=0.05", "collectives.placement=first"),
        ),
    )

    def init_state(self, keyed: Keyed) -> None:
        colls = self.model.collectives
        k = colls.count
        member = self.model.state.member
        self.volunteers = np.bincount(colls.of[member & (colls.of >= 0)], minlength=k).astype(
            np.float64
        )
        self.status = np.zeros(k, np.int8)
        self.stalled_since = np.full(k, np.nan)
        self.celebrated = colls.state.celebrated.copy()
        self.stalled_months = 0.0
        self.active_months = 0.0

    def step(self) -> None:
        """Capacity: volunteers join, burn out and renew; collectives stall and dissolve.

        Volunteers are recruited from members, burnt out by failed checks and renewed by
        celebrations; a collective stalls below the floor and dissolves after a long stall.
        """
        model = self.model
        colls, cc, s = model.collectives, model.config.collectives, model.state
        k = colls.count
        if k == 0:
            return
        dt = model.config.run.dt
        inside = s.member & (colls.of >= 0)
        members = np.bincount(colls.of[inside], minlength=k)
        failing = np.bincount(colls.of[inside & s.unmet], minlength=k) / np.maximum(members, 1)
        celebrated = colls.state.celebrated > self.celebrated
        self.celebrated = colls.state.celebrated.copy()
        standing = self.status != DISSOLVED
        self.volunteers = np.where(
            standing,
            volunteer_update(
                self.volunteers,
                members,
                failing,
                celebrated,
                cc.volunteer_share,
                cc.volunteer_rate,
                cc.burnout_rate,
                cc.celebration_volunteers,
                dt,
            ),
            0.0,
        )
        low = standing & (self.volunteers < cc.capacity_floor)
        newly = low & (self.status == ACTIVE)
        self.stalled_since[newly] = model.month
        self.status[standing & ~low] = ACTIVE
        self.stalled_since[standing & ~low] = np.nan
        self.status[low] = STALLED
        ending = low & (model.month - self.stalled_since >= cc.stall_months - 1e-9)
        if ending.any():
            self.dissolve(np.flatnonzero(ending))
        stalled = self.status != ACTIVE
        colls.state.focus[stalled] = -1  # no campaign while stalled or gone
        self.stalled_months += float(np.count_nonzero(self.status == STALLED)) * dt
        self.active_months += float(np.count_nonzero(self.status == ACTIVE)) * dt

    def dissolve(self, which: np.ndarray) -> None:
        """Dissolve collectives ``which``: members leave, nobody can join, the hub of each
        publishes nothing new."""
        model = self.model
        colls, s = model.collectives, model.state
        self.status[which] = DISSOLVED
        self.volunteers[which] = 0.0
        gone = np.isin(colls.of, which)
        s.member[gone] = False
        s.consent[gone] = False
        s.compared[gone] = False
        colls.hosted[gone] = False

    def update_results(self, step: int) -> None:
        for name, code in (("active", ACTIVE), ("stalled", STALLED), ("dissolved", DISSOLVED)):
            self.result[name][step] = np.count_nonzero(self.status == code)

    def summary(self) -> dict[str, float]:
        standing = self.status != DISSOLVED
        return {
            "stalled": float(np.count_nonzero(self.status == STALLED)),
            "dissolved": float(np.count_nonzero(self.status == DISSOLVED)),
            "stalled_months": self.stalled_months,
            "active_months": self.active_months,
            "volunteers": float(self.volunteers[standing].mean()) if standing.any() else 0.0,
        }
