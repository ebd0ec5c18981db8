"""The fused kernels of the hot path equal the reference rules, draw for draw."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from bt_sim import TransitionModel, load_scenario
from bt_sim.rules import collective as coll
from bt_sim.rules import fused, mastery, social
from tests.conftest import SCENARIOS


def running_model(*extra, steps=15):
    m = TransitionModel(
        load_scenario(
            SCENARIOS / "default.toml",
            [
                "population.households=3000",
                "collectives.count=4",
                "collectives.tie_rate=0.3",
                *extra,
            ],
        ),
        seed=4,
    )
    m.run(steps)  # a state with adoptions, members and successes to exercise every branch
    return m


def reference_adoption(m, u):
    """The full rule written with the reference (numpy) rules of bt_sim.rules.social."""
    s, x = m.state, m.full_rule_inputs()
    a = s.adopted.astype(np.float32)
    share = social.neighbour_share(m._adj, m._wdeg, a * x["vis"][:, None])
    rows = np.flatnonzero(x["member_pos"] >= 0)
    if rows.size:
        cw = x["collective_weight"]
        share[rows] = (1 - cw) * share[rows] + cw * x["fellow"][x["member_pos"][rows]]
    rate = social.full_rate(
        share, m._readiness * s.efficacy[:, None], x["unmet"], x["p"], x["q"], x["action_rate"]
    )
    hazard = -np.expm1(-rate * x["dt"])
    return (u < hazard) & m._eligible & ~s.adopted


def kernel_adoption(m, u):
    """The kernel, given the same draws: it takes those of the open pairs, in row order."""
    open_pairs = (m._readiness > 0) & ~m.state.adopted
    assert fused.adoption_candidates(m.state.adopted, m._readiness) == open_pairs.sum()
    return m.full_adoption_from(u[open_pairs])


@pytest.mark.parametrize("extra", [(), ("run.dt=0.5", "social.q=0.4"), ("mastery.enabled=false",)])
def test_full_adoption_kernel_equals_reference(extra):
    m = running_model(*extra)
    # Uniform draws concentrated where the answer is close, so both bounds of the kernel's
    # shortcut and the exact branch are exercised.
    rng = np.random.default_rng(0)
    u = (rng.random(m.state.adopted.shape) * 0.05).astype(np.float32)
    assert np.array_equal(kernel_adoption(m, u), reference_adoption(m, u))
    assert kernel_adoption(m, u).sum() > 20, "enough adoptions to compare"


def test_full_adoption_kernel_on_the_complete_graph():
    m = running_model("network.kind=complete", "population.households=400", steps=5)
    u = np.random.default_rng(1).random(m.state.adopted.shape).astype(np.float32) * 0.1
    share_free = social.neighbour_share(None, m._wdeg, m.state.adopted.astype(np.float32))
    assert share_free.shape == m.state.adopted.shape
    assert np.array_equal(kernel_adoption(m, u), reference_adoption(m, u))


def test_reflect_kernel_equals_reference():
    m = running_model()
    s = m.state
    rng = np.random.default_rng(2)
    n = s.efficacy.shape[0]
    saving = rng.normal(0.05, 0.05, n).astype(np.float32)
    sd = rng.choice(np.array([0.08, 0.02], np.float32), n)
    z = rng.standard_normal(n).astype(np.float32)
    learning = rng.choice(np.array([0.3, 0.7, 1.0]), n)
    dt, gain, loss = 0.5, 0.12, 0.08
    success, eff, goal = mastery.reflect(
        s.efficacy, s.goal, saving + sd * z, learning, gain, loss, 0.02, 0.02, 0.5, dt
    )
    e2, g2, ok2 = s.efficacy.copy(), s.goal.copy(), np.zeros(n, bool)
    fused.reflect(
        saving,
        sd,
        z,
        e2,
        g2,
        (1 - (1 - learning * gain) ** dt).astype(np.float32),
        (1 - (1 - learning * loss) ** dt).astype(np.float32),
        0.02,
        0.02,
        0.5,
        dt,
        s.adopted,
        m._reversible,
        ok2,
    )
    assert np.array_equal(ok2, success)
    np.testing.assert_allclose(e2, eff, rtol=1e-6)
    np.testing.assert_allclose(g2, goal, rtol=1e-6)


def test_drop_kernel_drops_only_failed_reversible_at_the_hazard_rate():
    rng = np.random.default_rng(3)
    n = 200_000
    adopted = np.ones((n, 2), bool)
    reversible = np.array([True, False])
    success = rng.random(n) < 0.5
    efficacy = np.full(n, 0.5, np.float32)
    candidates = int((~success).sum())
    dropped = fused.drop(
        adopted, reversible, success, efficacy, 0.2, 1.0, rng.random(candidates).astype(np.float32)
    )
    assert adopted[:, 1].all() and adopted[success, 0].all()
    hazard = -np.expm1(-0.2 * 0.5)
    # ~100,000 candidates: the dropped share has a standard error of 0.001; 0.005 is 5 of them.
    assert dropped / candidates == pytest.approx(hazard, abs=0.005)
    ref = mastery.drop(np.ones((n, 2), bool), reversible, ~success, efficacy, 0.2, 1.0, rng)
    assert ref[:, 0].sum() / candidates == pytest.approx(hazard, abs=0.005)


def test_neighbourhood_sums_equal_bincounts():
    m = running_model()
    s, pop = m.state, m.population
    rec = m.recorder
    c, v = rec.nb_sum.shape[1:]
    out = [np.zeros((c, v), np.float32) for _ in range(3)]
    saving = (1 - s.kpi / pop.baseline_kpi).astype(np.float32)
    fused.neighbourhood_sums(
        rec._nbhd,
        s.adopted,
        saving,
        s.efficacy,
        s.member,
        s.consent,
        s.compared,
        pop.disadvantaged,
        *out,
    )
    cols = [
        *s.adopted.T,
        saving,
        s.efficacy,
        s.member,
        s.consent,
        s.compared,
        s.adopted.any(axis=1),
    ]
    for k, col in enumerate(cols):
        col = col.astype(np.float64)
        for out_k, mask in zip(
            out, (np.ones_like(s.member), pop.disadvantaged, s.member), strict=True
        ):
            expected = np.bincount(pop.neighbourhood, col * mask, c)
            np.testing.assert_allclose(out_k[:, k], expected, rtol=1e-4, atol=1e-3)


def test_scatter_ties_equals_sparse_product():
    m = running_model()
    adj = m._adj
    x = np.where(m.state.member, 2.0, 0.0)
    rows = np.flatnonzero(x)
    out = np.zeros(x.shape[0])
    fused.scatter_ties(adj.indptr, adj.indices, adj.data, rows, x[rows], out)
    np.testing.assert_allclose(out, adj @ x, rtol=1e-5)
    share = coll.member_tie_share(adj, m._wdeg, m.state.member, np.ones(x.shape[0], np.float32))
    expected = (adj @ m.state.member.astype(np.float64)) / np.maximum(m._wdeg, 1e-12)
    np.testing.assert_allclose(share, expected, rtol=1e-5)
    assert isinstance(adj, sp.csr_array)
