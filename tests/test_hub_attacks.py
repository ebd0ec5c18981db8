"""The attacker plays against the published panel of real runs (:mod:`bt_sim.privacy`).

It knows the ground truth about everyone but its target (who is in each release, the exact
values of every other household) and tries differencing (consecutive releases and any pair),
groups of exactly k (and larger) with the other members' values known, revocation events and
the overlap of the collective's progress row with its group rows.
"""

from __future__ import annotations

import numpy as np
import pytest

from bt_sim import load_scenario
from bt_sim.privacy import DEFAULT, OLD_RULE, attack, observe, success_rates
from bt_sim.rules import hub

SEEDS = range(4)


@pytest.fixture(scope="module")
def default_runs():
    sc = load_scenario(DEFAULT, [])
    return [observe(sc, seed) for seed in SEEDS]


@pytest.fixture(scope="module")
def old_runs():
    sc = load_scenario(DEFAULT, list(OLD_RULE))
    return [observe(sc, seed, publish_kpi=True) for seed in SEEDS]


def rates(runs):
    import pandas as pd

    results = []
    n = 0
    for seed, obs in zip(SEEDS, runs, strict=True):
        res = attack(obs)
        res["group"] += 10_000 * seed
        results.append(res)
        n += len(obs.releases)
    return success_rates(pd.concat(results, ignore_index=True), n), n


def test_the_attacker_breaks_the_old_panel(old_runs):
    """Sanity: against the old rule (monthly, exact, every change, KPI beside saving) the same
    attacker recovers baselines by differencing and every value with known others."""
    r, n = rates(old_runs)
    assert n > 200
    assert r["differencing_baseline"] > 0.3, r
    assert r["known_others_saving"] > 0.95, r
    assert r["any_baseline"] > 0.95, r


def test_default_panel_resists_every_attack(default_runs):
    r, n = rates(default_runs)
    assert n > 50, "the default scenario publishes enough to attack"
    assert r["any_baseline"] < 0.05, r
    assert r["any"] < 0.05, r
    for name in ("differencing", "known_others", "revocation", "overlap"):
        assert r[f"{name}_saving"] < 0.05, (name, r)


def test_no_pair_of_releases_isolates_fewer_than_min_change_households(default_runs):
    m = load_scenario(DEFAULT, []).hub.min_change
    for obs in default_runs:
        by_group: dict[int, list[np.ndarray]] = {}
        for rec in obs.releases:
            for past in by_group.get(rec["group"], []):
                d = hub.roster_change(rec["roster"], past)
                assert d == 0 or d >= m
            by_group.setdefault(rec["group"], []).append(rec["roster"])
        res = attack(obs)
        assert res.loc[res["attack"] == "differencing", "candidates"].sum() == 0


def test_a_revoker_is_in_no_release_until_it_consents_again(default_runs):
    checked = 0
    for obs in default_runs:
        for step, hh in obs.revocations:
            again = [t for t, h in obs.consents if h == hh and t >= step]
            until = min(again) if again else np.inf
            for rec in obs.releases:
                if step <= rec["step"] < until:
                    assert hh not in rec["set"], (step, hh, rec["step"])
                    checked += 1
    assert checked > 100, "revokers and later releases to check"


def test_overlapping_rows_leave_no_residual(default_runs):
    for obs in default_runs:
        res = attack(obs)
        assert res.loc[res["attack"] == "overlap", "candidates"].sum() == 0
