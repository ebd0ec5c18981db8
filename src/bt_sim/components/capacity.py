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

State per collective: ``volunteers``, ``status`` (0 active, 1 stalled, 2 dissolved, 3 not
founded yet: room for a collective founded during the run) and the
month its stall began. Phase ``capacity`` right after ``collectives``; no random numbers.
Results: the number of collectives active, stalled and dissolved each step, and per collective
(researcher-only) its ``volunteers`` and ``state``; the summary adds
``capacity:stalled`` and ``capacity:dissolved`` (collectives at the end),
``capacity:stalled_months`` and ``capacity:active_months`` (collective-months in each state
over the run) and ``capacity:volunteers`` (the mean over collectives still standing).

With the defaults (no burn-out) no collective ever stalls and nothing else changes.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, ClassVar

import numpy as np
from numba import njit

from bt_sim.component import Component
from bt_sim.contrast import Contrast

if TYPE_CHECKING:
    from bt_sim.keyed import Keyed

ACTIVE, STALLED, DISSOLVED, UNFOUNDED = 0, 1, 2, 3


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


@njit(cache=True, nogil=True, error_model="numpy")
def capacity_step(
    member, unmet, collective_of, celebrated_now, celebrated, volunteers, status, stalled_since,
    counts, share, recruit, burnout, renewal, floor, stall_months, month,
):  # fmt: skip
    """One step of every collective's capacity, in place (as :func:`volunteer_update` with
    ``recruit = 1 - exp(-rate dt)`` and ``burnout = rate dt``, then the status rules of the
    module); returns which collectives dissolve now."""
    k = volunteers.shape[0]
    members = np.zeros(k, np.int64)
    failing = np.zeros(k, np.int64)
    for i in range(member.shape[0]):
        c = collective_of[i]
        if member[i] and c >= 0:
            members[c] += 1
            if unmet[i]:
                failing[c] += 1
    ending = np.zeros(k, np.bool_)
    counts[:] = 0
    for c in range(k):
        if status[c] == UNFOUNDED:  # room for a collective founded later
            continue
        renewed = celebrated_now[c] > celebrated[c]
        celebrated[c] = celebrated_now[c]
        if status[c] == DISSOLVED:
            counts[DISSOLVED] += 1
            continue
        v = volunteers[c]
        gap = share * members[c] - v
        if gap > 0.0:
            v += recruit * gap
        if burnout > 0.0 and failing[c] > 0:
            v *= np.exp(-burnout * failing[c] / members[c])
        if renewed:
            v += renewal
        volunteers[c] = v
        if v < floor:
            if status[c] == ACTIVE:
                status[c] = STALLED
                stalled_since[c] = month
            if month - stalled_since[c] >= stall_months - 1e-9:
                ending[c] = True
        else:
            status[c] = ACTIVE
            stalled_since[c] = np.nan
        counts[status[c]] += 1
    return ending


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
    summary_units: ClassVar[dict[str, str]] = {
        "stalled": "collectives",
        "dissolved": "collectives",
        "stalled_months": "collective-months",
        "active_months": "collective-months",
        "volunteers": "volunteers",
    }
    collective_results: ClassVar[dict[str, str]] = {
        "volunteers": "volunteers",
        "state": "0 active, 1 stalled, 2 dissolved, 3 not founded yet",
    }
    dynamic = (
        "volunteers",
        "status",
        "stalled_since",
        "celebrated",
        "stalled_months",
        "active_months",
        "counts",
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
        self.status = np.where(colls.founded, ACTIVE, UNFOUNDED).astype(np.int8)
        self.stalled_since = np.full(k, np.nan)
        self.celebrated = colls.state.celebrated.copy()
        self.stalled_months = 0.0
        self.active_months = 0.0
        self.counts = np.bincount(self.status, minlength=4).astype(np.int64)
        # (active, stalled, dissolved, not founded yet)

    def step(self) -> None:
        """Capacity: volunteers join, burn out and renew; collectives stall and dissolve.

        Volunteers are recruited from members, burnt out by failed checks and renewed by
        celebrations; a collective stalls below the floor and dissolves after a long stall.
        """
        model = self.model
        colls, cc, s = model.collectives, model.config.collectives, model.state
        if colls.count == 0:
            return
        dt = model.config.run.dt
        ending = capacity_step(
            s.member,
            s.unmet,
            colls.of,
            colls.state.celebrated,
            self.celebrated,
            self.volunteers,
            self.status,
            self.stalled_since,
            self.counts,
            cc.volunteer_share,
            -math.expm1(-cc.volunteer_rate * dt),
            cc.burnout_rate * dt,
            cc.celebration_volunteers,
            cc.capacity_floor,
            cc.stall_months,
            model.month,
        )
        if ending.any():
            self.dissolve(np.flatnonzero(ending))
            self.counts[:] = np.bincount(self.status, minlength=4)
        self.stalled_months += float(self.counts[STALLED]) * dt
        self.active_months += float(self.counts[ACTIVE]) * dt

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
        self.result["active"][step] = self.counts[ACTIVE]
        self.result["stalled"][step] = self.counts[STALLED]
        self.result["dissolved"][step] = self.counts[DISSOLVED]
        self.per_collective["volunteers"][step] = self.volunteers
        self.per_collective["state"][step] = self.status

    def on_founding(self, c: int, founders: np.ndarray) -> None:
        self.volunteers[c] = float(founders.size)
        self.status[c] = ACTIVE  # (its stall month and milestones are still at their start)
        self.counts[:] = np.bincount(self.status, minlength=4)

    def summary(self) -> dict[str, float]:
        standing = (self.status == ACTIVE) | (self.status == STALLED)
        return {
            "stalled": float(np.count_nonzero(self.status == STALLED)),
            "dissolved": float(np.count_nonzero(self.status == DISSOLVED)),
            "stalled_months": self.stalled_months,
            "active_months": self.active_months,
            "volunteers": float(self.volunteers[standing].mean()) if standing.any() else 0.0,
        }
