"""Volunteer capacity: collectives stall below the floor, dissolve after a long stall, and by
default never do (tests/test_golden.py keeps the default results bit for bit)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from bt_sim import TransitionModel, load_scenario
from bt_sim.components.capacity import ACTIVE, DISSOLVED, volunteer_update
from bt_sim.errors import ScenarioError

BURN = ["collectives.burnout_rate=0.05", "collectives.placement=first", "run.steps=120"]


def test_volunteer_update_is_the_stated_formula():
    v = np.array([5.0, 8.0, 1.0])
    members = np.array([100, 40, 0])
    failing = np.array([0.5, 0.0, 1.0])
    got = volunteer_update(v, members, failing, np.array([True, False, False]), 0.1, 0.2, 0.3,
                           1.0, 0.5)  # fmt: skip
    grown = v + (1 - math.exp(-0.2 * 0.5)) * np.maximum(0.1 * members - v, 0)
    want = grown * np.exp(-0.3 * failing * 0.5) + np.array([1.0, 0, 0])
    np.testing.assert_allclose(got, want, rtol=1e-12)


def test_by_default_no_collective_stalls():
    m = TransitionModel(load_scenario(None, ["run.steps=120"]), seed=3)
    m.run()
    assert (m.capacity.status == ACTIVE).all()
    s = m.summary()
    assert s["capacity:stalled_months"] == 0 and s["capacity:dissolved"] == 0
    assert s["capacity:active_months"] == 3 * 120


def test_without_a_floor_none_dissolves():
    for seed in range(5):
        m = TransitionModel(load_scenario(None, [*BURN, "collectives.capacity_floor=0"]), seed)
        m.run()
        assert m.summary()["capacity:dissolved"] == 0


def test_a_dissolved_collective_loses_its_members_and_publishes_nothing_new():
    m = TransitionModel(load_scenario(None, BURN), seed=1)
    when = {}
    while m.running:
        m.step()
        for c in np.flatnonzero(m.capacity.status == DISSOLVED):
            when.setdefault(int(c), m.steps_done)
        stalled = m.capacity.status != ACTIVE
        assert (m.collectives.state.focus[stalled] == -1).all()  # no campaign
    assert when, "with this burn-out some collective dissolves"
    panel = m.hub_panel()
    for c, step in when.items():
        mine = m.collectives.of == c
        assert not m.state.member[mine].any() and not m.collectives.hosted[mine].any()
        rows = panel[panel["collective"] == m.collectives.nbhd[c]]
        assert (rows["step"] <= step).all()  # nothing published after it dissolved


@pytest.mark.parametrize(
    "bad",
    ["collectives.burnout_rate=-1", "collectives.stall_months=0", "collectives.capacity_floor=-2"],
)
def test_bad_capacity_keys_are_refused(bad):
    with pytest.raises(ScenarioError, match=bad.split("=")[0].replace(".", r"\.")):
        load_scenario(None, [bad])
