"""The fused kernels of the hot path equal the reference rules, draw for draw."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from bt_sim import TransitionModel, draws, load_scenario
from bt_sim.rules import collective as coll
from bt_sim.rules import fused, kpi, mastery, social
from bt_sim.rules.adoption import full_adoption_from, full_inputs
from bt_sim.rules.social import household_readiness
from bt_sim.rules.ties import NO_ROLES, PACKED_MAX, RoleCodes, TieSums
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


def reference_adoption(m, x, u):
    """The full rule written with the reference (numpy) rules of bt_sim.rules.social."""
    sc, s = m.config, m.state
    soc = sc.social
    nb = s.adopted.shape[1]
    sums = m.ties.exposure  # every household's tie sums as of the inputs, in full
    exposure, denom = sums[:, :nb], sums[:, nb]
    share = np.zeros(s.adopted.shape)
    np.divide(exposure, denom[:, None], out=share, where=denom[:, None] > 0)
    rows = np.flatnonzero(s.member)
    c = m.collectives.of[rows]
    if rows.size and soc.collective_weight > 0:
        cw = soc.collective_weight
        fellow = coll.fellow_member_share(
            c, s.adopted[rows].astype(np.float32), m.collectives.count
        )
        share[rows] = (1 - cw) * share[rows] + cw * fellow
    joint = np.zeros(s.adopted.shape[0])
    focus_of = np.full(s.adopted.shape[0], -1)
    discount = np.zeros(s.adopted.shape[0])
    joint[rows] = x["joint"][c]
    focus_of[rows] = x["focus"][c]
    discount[rows] = x["discount"][c]
    ready = household_readiness(m)
    action = sc.mastery.action_rate if sc.mastery.enabled else 0.0
    rate = social.full_rate(
        share,
        ready,
        s.efficacy,
        x["unmet"],
        soc.p,
        soc.q,
        action,
        soc.response,
        soc.response_midpoint,
        soc.response_steepness,
    )
    # Joint action: a member's purchase behaviour, bought at its collective's discount.
    focus = np.flatnonzero(focus_of >= 0)
    if focus.size:
        b = focus_of[focus]
        disc = np.zeros(focus.size)
        for d in np.unique(discount[focus]):
            at = np.flatnonzero(discount[focus] == d)
            disc[at] = household_readiness(m, focus[at], discount=d)[np.arange(at.size), b[at]]
        f_share = share[focus, b]
        pull = soc.q + action * x["unmet"][focus]
        resp = social.response(f_share, soc.response, soc.response_midpoint, soc.response_steepness)
        rate[focus, b] = disc * s.efficacy[focus] * (soc.p + pull * resp + joint[focus])
    hazard = -np.expm1(-rate * sc.run.dt)
    return (u < hazard) & m.eligible & ~s.adopted


def stream_uniforms(m, name, shape):
    """The uniforms the kernels draw for themselves with common random numbers, as an array."""
    key, _, _ = m.draws.take(name, m.steps_done)
    return draws.uniforms(key, m.steps_done, np.arange(int(np.prod(shape)))).reshape(shape)


def adoption_uniforms(m):
    """The adoption stream's uniform of every household-behaviour pair at the coming step."""
    key, _, _ = m.draws.take("adopt", m.steps_done)
    return draws.pair_uniforms(key, m.steps_done, *m.state.adopted.shape)


def kernel_adoption(m, x):
    return full_adoption_from(m, x)


@pytest.mark.parametrize(
    "extra",
    [
        (),
        ("run.dt=0.5", "social.q=0.4", "social.response=sigmoid"),
        ("mastery.enabled=false",),
        (
            "interventions.purchase.pull_rate=2",
            "interventions.purchase.months=1",
            "interventions.purchase.every_months=1",
        ),
        # Every behaviour costs and the campaign discounts it: the bound that spares most
        # hazards is looser than the costs allow, never tighter.
        (
            "behaviours.lower_thermostat.cost=50",
            "behaviours.shorter_showers.cost=20",
            "interventions.purchase.discount=0.9",
            "social.p=0.02",
        ),
    ],
)
def test_full_adoption_kernel_equals_reference(extra):
    m = running_model(*extra)
    total = 0
    for _ in range(12):  # compare on the draws of several steps
        m.steps_done += 1  # the draws of the coming step, as the adopt phase sees them
        x = full_inputs(m)
        u = adoption_uniforms(m)
        got = kernel_adoption(m, x)
        assert np.array_equal(got, reference_adoption(m, x, u))
        total += got.sum()
        m.steps_done -= 1
        m.step()
    assert total > 20, "enough adoptions to compare"


def test_full_adoption_kernel_on_the_complete_graph():
    m = running_model("network.kind=complete", "population.households=400", steps=5)
    x = full_inputs(m)
    u = adoption_uniforms(m)
    assert np.array_equal(kernel_adoption(m, x), reference_adoption(m, x, u))


def test_measure_kernel_equals_reference():
    m = running_model()
    s, pop = m.state, m.population
    rng = np.random.default_rng(5)
    n = pop.n
    effort = rng.random(n).astype(np.float32)
    peer = (rng.random(n) * 0.05).astype(np.float32)
    noise = (rng.standard_normal(n) * 0.05).astype(np.float32)
    key = np.uint64(99)
    z = draws.normals(key, 7, np.arange(n))
    keep, scale, shift = kpi.noise_coefficients(0.05, 0.5)
    e2, n2 = effort.copy(), noise.copy()
    out_kpi, out_sav = np.zeros(n, np.float32), np.zeros(n, np.float32)
    csum, ctime = np.zeros(n, np.float32), np.zeros(n, np.float32)
    relapse_keep = float(np.exp(-0.05 * 0.5))
    fused.measure(
        s.adopted,
        m.log_keep,
        pop.baseline_kpi,
        e2,
        0.08,
        relapse_keep,
        peer,
        n2,
        keep,
        scale,
        shift,
        True,
        key,
        7,
        0,
        out_kpi,
        out_sav,
        csum,
        ctime,
        0.5,
    )
    ref_noise = noise * keep + scale * z
    ref = kpi.measure(
        pop.baseline_kpi,
        s.adopted.astype(np.float32),
        m.log_keep,
        0.08 * effort * relapse_keep,
        peer,
        ref_noise,
        shift,
    )
    np.testing.assert_allclose(n2, ref_noise, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(out_kpi, ref, rtol=1e-4)
    np.testing.assert_allclose(csum, 0.5 * (1 - ref / pop.baseline_kpi), rtol=1e-3, atol=1e-6)
    np.testing.assert_allclose(ctime, 0.5)


def test_reflect_kernel_equals_reference():
    m = running_model()
    s = m.state
    rng = np.random.default_rng(2)
    n = s.efficacy.shape[0]
    rows = np.sort(rng.choice(n, n // 3, replace=False))
    s.cycle_sum[:] = rng.normal(0.05, 0.05, n).astype(np.float32) * 3
    s.cycle_time[:] = 3.0
    level = rng.integers(0, 3, n).astype(np.int8)
    sd, learning, rel = mastery.feedback_terms(0.08, 4.0, 0.04, (0.3, 0.7, 1.0))
    key = np.uint64(5)
    z = draws.normals(key, 3, rows)
    perceived = s.cycle_sum[rows] / 3.0 + sd[level[rows]] * z
    pars = dict(gain=0.15, loss=0.1, effort_gain=4.0, step_up=0.01, step_down=0.01, patience=2)
    ref = mastery.reflect(
        perceived,
        s.goal[rows],
        s.efficacy[rows],
        s.effort[rows],
        s.fails[rows],
        learning[level[rows]],
        rel[level[rows]],
        **pars,
        goal_floor=0.05,
        goal_max=0.5,
    )
    failed = np.empty(rows.size, np.int64)
    candidates, n_failed = fused.reflect(
        rows,
        key,
        3,
        0,
        False,
        level[rows],
        sd,
        learning,
        rel,
        s.efficacy,
        s.goal,
        s.effort,
        s.cycle_sum,
        s.cycle_time,
        s.perceived,
        s.success,
        s.unmet,
        s.fails,
        s.adopted,
        s.proven,
        m.droppable,
        *pars.values(),
        0.05,
        0.5,
        failed,
    )
    ok, eff, effort, goal, fails = ref
    open_to_drop = (s.adopted[rows] & m.droppable[rows]).sum(axis=1) * ~ok
    assert candidates == open_to_drop.sum() > 0
    assert np.array_equal(failed[:n_failed], np.flatnonzero(open_to_drop))
    assert np.array_equal(s.success[rows], ok)
    np.testing.assert_allclose(s.efficacy[rows], eff, rtol=1e-5)
    np.testing.assert_allclose(s.effort[rows], effort, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(s.goal[rows], goal, rtol=1e-6)
    assert np.array_equal(s.fails[rows], fails)
    assert np.array_equal(s.proven[rows], s.adopted[rows] & ok[:, None])
    assert np.array_equal(s.unmet[rows], ~ok)
    assert (s.cycle_time[rows] == 0).all()


def test_drop_kernel_drops_only_failed_droppable_at_its_probability():
    rng = np.random.default_rng(3)
    n = 200_000
    adopted = np.ones((n, 2), bool)
    droppable = np.tile(np.array([True, False]), (n, 1))
    success = rng.random(n) < 0.5
    efficacy = np.full(n, 0.5, np.float32)
    level = np.zeros(n, np.int8)  # per row (all rows here)
    rel = np.array([0.2, 0.8, 0.8])
    sums = np.ones((n, 3))  # tie sums [exposure | role weights]: a share of 0.5 each
    sums[:, :2] = 0.5
    rows = np.arange(n)
    candidates = int((~success).sum())
    key = np.uint64(17)
    dropped, used = fused.drop(
        rows, success, level, rel, efficacy, adopted, droppable, 0.4, sums, *NO_ROLES, 0.5, 0,
        1.0, 1.0, key, 2, 0, False,
    )  # fmt: skip
    assert used == candidates
    assert adopted[:, 1].all() and adopted[success, 0].all()
    prob = 0.4 * 0.5 * 0.8 * (1 - 0.5 * 0.5)
    # ~100,000 candidates: the dropped share has a standard error of 0.001; 0.005 is 5 of them.
    assert dropped / candidates == pytest.approx(prob, abs=0.005)
    u = draws.uniforms(key, 2, np.arange(2 * n)).reshape(n, 2)
    fail = np.flatnonzero(~success)
    ref = mastery.drop(
        np.ones((n, 2), bool), droppable, ~success, efficacy, np.full(n, 0.2),
        np.full((n, 2), 0.5), 0.4, 0.5, u[fail, 0],
    )  # fmt: skip
    assert np.array_equal(ref[:, 0], ~adopted[:, 0])


def test_neighbourhood_sums_equal_bincounts():
    m = running_model()
    s, pop = m.state, m.population
    rec = m.recorder
    c, v = rec.nb_sum.shape[1:]
    out = [np.zeros((c, v), np.float32) for _ in range(3)]
    fused.neighbourhood_sums(
        rec._bounds,
        s.adopted,
        s.saving,
        s.efficacy,
        s.member,
        s.consent,
        s.compared,
        pop.disadvantaged,
        *out,
    )
    cols = [
        *s.adopted.T,
        s.saving,
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


def test_member_ties_equal_sparse_products_split_by_collective():
    m = running_model("collectives.other_member_weight=1")
    adj = m.adjacency
    member = m.state.member
    reach = m.collectives.reach
    own, other = coll.member_tie_shares(adj, m.wdeg, member, reach, m.collectives.of)
    x = member * reach.astype(np.float64)
    same = m.collectives.of[:, None] == m.collectives.of[None, :]
    dense = adj.toarray()
    np.testing.assert_allclose(own * m.wdeg, (dense * same) @ x, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(other * m.wdeg, (dense * ~same) @ x, rtol=1e-4, atol=1e-5)
    assert isinstance(adj, sp.csr_array)


def test_tie_sums_equal_the_full_product_of_the_reference_role_weights():
    """The incrementally updated tie sums equal A @ [v | rho] of the reference role weights,
    step after step and when the weights change between updates."""
    m = running_model("social.key_figure_weight=3", "population.gatekeeper_share=0.1", steps=2)
    adj, key = m.adjacency, m.population.gatekeeper
    ties = TieSums(adj, len(m.behaviour_names) + 1)
    checked = 0
    for w in (0.5, 0.5, 0.5, 1.0, 0.0, 0.5):
        s = m.state
        got = ties.update(s.adopted, s.proven, s.success, key, w, 3.0)
        v, rho = social.role_weights(s.success, s.proven, s.adopted, key, w, 3.0)
        exp_v, exp_rho = social.role_shares(adj, v, rho)
        np.testing.assert_allclose(got[:, :-1], exp_v, rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(got[:, -1], exp_rho, rtol=1e-5, atol=1e-5)
        checked += ties.changed
        m.step()
    assert s.proven.any() and s.success.any()
    assert checked > 100, "rows changed between updates, so the increments were exercised"
    # State changed from outside the phases (as an intervention would) is picked up too.
    m.state.adopted[:50] = True
    got = ties.update(m.state.adopted, m.state.proven, m.state.success, key, 0.5, 3.0)
    v, rho = social.role_weights(m.state.success, m.state.proven, m.state.adopted, key, 0.5, 3.0)
    np.testing.assert_allclose(got[:, :-1], social.role_shares(adj, v, rho)[0], atol=1e-5)


def test_role_codes_give_the_full_product_of_the_reference_role_weights():
    """The sums gathered from the role codes equal A @ [v | rho] of the reference role
    weights, for every household and for a few, with key figures and success weights."""
    m = running_model("social.key_figure_weight=3", "population.gatekeeper_share=0.1", steps=6)
    adj, key, s = m.adjacency, m.population.gatekeeper, m.state
    roles = RoleCodes(adj, len(m.behaviour_names))
    assert s.proven.any() and s.success.any() and key.any()
    for w in (0.5, 1.0, 0.0):
        roles.pack(s.adopted, s.proven, s.success, key, w, 3.0)
        v, rho = social.role_weights(s.success, s.proven, s.adopted, key, w, 3.0)
        exp_v, exp_rho = social.role_shares(adj, v, rho)
        got = roles.sums()
        np.testing.assert_allclose(got[:, :-1], exp_v, rtol=1e-6, atol=1e-9)
        np.testing.assert_allclose(got[:, -1], exp_rho, rtol=1e-6)
        some = np.array([5, 17, 2000])
        assert np.array_equal(roles.sums(some), got[some])
    # State set from outside that marks behaviours proven without a successful check counts
    # them as not proven, so a share never exceeds 1 (the kernels' bounds rely on it).
    s.proven[:] = s.adopted
    s.success[::2] = False
    roles.pack(s.adopted, s.proven, s.success, key, 1.0, 3.0)
    v, rho = social.role_weights(s.success, s.proven, s.adopted, key, 1.0, 3.0)
    got = roles.sums()
    np.testing.assert_allclose(got[:, :-1], social.role_shares(adj, v, rho)[0], rtol=1e-6)
    assert (got[:, :-1] <= got[:, -1:] * (1 + 1e-12)).all()
    # The model's exposure is the same gathered sums, as of its last adopt phase.
    x = full_inputs(m)
    assert x["roles"][3] is m.ties.role_codes().codes
    np.testing.assert_array_equal(m.ties.exposure, m.ties.role_codes().sums())


def test_tie_sums_without_packed_codes():
    """More behaviours than fit a packed code: every row is compared, with the same sums."""
    rng = np.random.default_rng(3)
    n, nb = 300, PACKED_MAX + 2
    a = sp.random(n, n, density=0.05, random_state=4, dtype=np.float32)
    adj = sp.csr_array(a + a.T)
    ties = TieSums(adj, nb + 1)
    no = np.zeros(n, bool)
    for _ in range(3):
        adopted = rng.random((n, nb)) < 0.3
        got = ties.update(adopted, adopted, no, no, 0.0, 1.0)
        np.testing.assert_allclose(got[:, :-1], adj @ adopted.astype(np.float64), atol=1e-9)
        np.testing.assert_allclose(got[:, -1], adj.sum(axis=1), rtol=1e-6)


def test_membership_kernel_equals_the_reference_joining_and_leaving():
    """Joins and leaves of the membership kernel are those of join_hazard and member_value
    (with member_tie_shares' reference tie shares) on the same draws."""
    m = running_model("collectives.other_member_weight=0.5", "collectives.leave_rate=0.5")
    s, cc, dt = m.state, m.config.collectives, m.config.run.dt
    step = m.steps_done + 1
    member0 = s.member.copy()
    own, other = coll.member_tie_shares(
        m.adjacency, m.wdeg, member0, m.collectives.reach, m.collectives.of
    )
    cand = np.flatnonzero(m.collectives.hosted & ~member0)
    hazard = coll.join_hazard(m.collectives.propensity[cand], own[cand], other[cand], cc, dt)
    keys = {name: m.draws.take(name, step)[0] for name in ("recruit", "leave", "consent")}
    joins = cand[draws.uniforms(keys["recruit"], step, cand) < hazard]
    members = np.flatnonzero(member0)
    cs = m.collectives.state
    value = coll.member_value(
        s.success[members], s.compared[members], cs.progress[m.collectives.of[members]]
    )
    leave_p = -np.expm1(-cc.leave_rate * (1.0 - value) * dt)
    leaves = members[draws.uniforms(keys["leave"], step, members) < leave_p]
    expected = member0.copy()
    expected[leaves] = False
    expected[joins] = True
    own_buf, other_buf = np.zeros(m.population.n), np.zeros(m.population.n)
    adj = m.adjacency
    coll.membership_step(
        s.member, s.consent, s.trust, s.compared, s.success, s.efficacy, m.collectives.of,
        m.collectives.spans(), m.collectives.hosted, m.collectives.propensity,
        m.collectives.reach, m.wdeg, adj.indptr, adj.indices, adj.data, own_buf, other_buf,
        np.zeros(m.population.n, np.float32), True,
        np.zeros(m.collectives.count, bool), cs.progress, 0.0, 0.0,
        cc.outreach_rate, cc.tie_rate, cc.other_member_weight, cc.leave_rate, dt, True,
        m.config.hub.consent_rate, m.config.hub.trust_initial, keys["recruit"], keys["leave"],
        keys["consent"], step, 0, False,
    )  # fmt: skip
    assert np.array_equal(s.member, expected)
    assert joins.size > 5 and leaves.size > 5, "enough of both to compare"
    assert not s.consent[leaves].any() and not s.compared[leaves].any()
    # the sums kept for the next step are those of the membership at the start of this one
    hosted = m.collectives.hosted
    np.testing.assert_allclose(own_buf[hosted], (own * m.wdeg)[hosted], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(other_buf[hosted], (other * m.wdeg)[hosted], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("nb", [1, 3, 5, 7, 12])
def test_adoption_first_pass_keeps_exactly_the_pairs_below_their_bound(nb):
    """The adoption kernel's candidates (one hash per household, its smallest lead and the
    household's bound made in chunks without a branch; or a hash per block of behaviours) are,
    in household then behaviour order, exactly the pairs whose leading bits lie at or below
    the household's bound times 2^PAIR_BITS."""
    rng = np.random.default_rng(nb)
    n, k = 3000, 4
    collective_of = rng.integers(-1, k, n).astype(np.int32)
    member = rng.random(n) < 0.3
    focus = rng.integers(-1, nb, k)
    joint = rng.random(k) * 0.5
    unmet = rng.random(n) < 0.4
    time_budget = rng.random(n).astype(np.float32)
    efficacy = rng.random(n).astype(np.float32)
    efficacy[:5] = -0.1  # no bound: every pair kept
    income_rel = (rng.random(n) + 0.1).astype(np.float32)
    args = (collective_of, member, focus, joint, unmet, 0.3, 0.2, time_budget, efficacy,
            income_rel, 0.01, 1.0, 0.1, True, 0.05)  # fmt: skip
    key, step = np.uint64(12345), 9
    stepped = np.uint64(draws.step_bits(key, step))
    blocks = draws.pair_blocks(nb)
    expected = []
    for i in range(n):
        lim = fused.LEADS * fused._household_bound(i, *args)
        for b in range(nb):
            lead = draws.pair_lead(np.uint64(draws.pair_word(stepped, i, b, nb)), b)
            if lead <= lim:
                expected.append((i * nb + b) * fused.LEADS + lead)
    if blocks == 1:  # the chunks' hashes, smallest leads and bounds give the same pairs
        word, low, lim = (np.empty(n, t) for t in (np.uint64, np.float64, np.float64))
        fused._chunk_bounds(0, n, nb, stepped, *args, word, low, lim)
        got = []
        for i in np.flatnonzero(low <= lim):
            for b in range(nb):
                lead = int((int(word[i]) >> (draws.PAIR_BITS * b)) & int(draws.PAIR_MASK))
                if lead <= lim[i]:
                    got.append((i * nb + b) * fused.LEADS + lead)
        assert got == expected
    pairs, kept = fused._candidate_pairs_blocks(n, nb, blocks, stepped, *args)
    assert np.array_equal(pairs[:kept], expected)
    assert 0 < len(expected) < n * nb  # some pairs kept, most ruled out


@pytest.mark.parametrize("nb", [0, 1, 5, 8, 9, 12])
def test_row_masks_are_the_rows_bits(nb):
    """Behaviour masks read eight bytes at a time equal the rows' bits, for every row (the
    last rows, whose second word does not exist, byte by byte) and any range of rows."""
    from bt_sim.rules.chunks import byte_words, row_masks

    flags = np.random.default_rng(nb).random((1003, nb)) < 0.4
    expected = (flags * (1 << np.arange(nb))).sum(axis=1)
    words = byte_words(flags)
    out = np.empty(1003, np.int64)
    row_masks(flags, words, 0, 1003, out)
    assert np.array_equal(out, expected)
    row_masks(flags, words, 990, 1003, out)
    assert np.array_equal(out[:13], expected[990:])


def test_chunk_exponential_is_within_two_units_in_the_last_place():
    """The chunks' exponential against numpy's, over the range the KPI noise spans and far
    beyond; infinities, NaN and values past the double range as numpy gives them."""
    from bt_sim.rules.chunks import exp_into

    rng = np.random.default_rng(0)
    for spread in (1e-3, 0.3, 5.0, 200.0, 700.0):
        y = rng.uniform(-spread, spread, 100_000)
        out, scale = np.empty_like(y), np.empty(y.size, np.int64)
        exp_into(y, out, y.size, scale)
        ref = np.exp(y)
        assert np.max(np.abs(out - ref) / np.spacing(ref)) <= 2.0
    y = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 709.7, -745.0, 800.0, -800.0, 1e-300])
    out, scale = np.empty_like(y), np.empty(y.size, np.int64)
    exp_into(y, out, y.size, scale)
    with np.errstate(over="ignore"):
        np.testing.assert_array_equal(out, np.exp(y))


@pytest.mark.parametrize("nb", [1, 5, 8, 9, 12])
def test_neighbourhood_sums_count_exactly_with_any_number_of_behaviours(nb):
    """The record's counts (byte lanes emptied every 255 households, or household by household
    past eight behaviours) are exact, in neighbourhoods empty, small and larger than a lane
    holds."""
    rng = np.random.default_rng(nb)
    bounds = np.array([0, 10, 700, 1000, 1000, 1300], np.int64)
    n, c = 1300, 5
    adopted = rng.random((n, nb)) < 0.5
    saving = rng.normal(0.1, 0.05, n).astype(np.float32)
    efficacy = rng.random(n).astype(np.float32)
    member, consent, compared, dis = rng.random((4, n)) < 0.5
    v = nb + 6
    out = [np.zeros((c, v), np.float32) for _ in range(3)]
    fused.neighbourhood_sums(
        bounds, adopted, saving, efficacy, member, consent, compared, dis, *out
    )
    nbhd = np.repeat(np.arange(c), np.diff(bounds))
    cols = [*adopted.T, saving, efficacy, member, consent, compared, adopted.any(axis=1)]
    for k, col in enumerate(cols):
        for out_k, mask in zip(out, (np.ones(n, bool), dis, member), strict=True):
            if k == nb + 2 and out_k is out[2]:
                mask = np.ones(n, bool)  # the members' member count is every member
            expected = np.bincount(nbhd, col.astype(np.float64) * mask, c)
            if k < nb or k >= nb + 2:
                np.testing.assert_array_equal(out_k[:, k], expected.astype(np.float32))
            else:
                np.testing.assert_allclose(out_k[:, k], expected, rtol=1e-5, atol=1e-5)


def test_kept_member_tie_sums_give_the_run_of_sums_made_afresh(monkeypatch):
    """The members' tie sums kept from step to step (updated by the households whose
    membership or reach moved) give the same run, bit for bit, as sums made afresh every step:
    in a town whose gatekeeper programme changes reach and whose events add and strengthen
    ties."""
    from bt_sim.rules.ties import Ties

    sc = load_scenario(
        SCENARIOS / "interventions.toml",
        [
            "population.households=6000",
            "population.neighbourhoods=30",
            "collectives.count=10",
            "run.steps=24",
        ],
    )
    kept = TransitionModel(sc, seed=1)
    reach0 = kept.collectives.reach.copy()
    moved = 0
    while kept.running:
        kept.step()
        moved += not np.array_equal(kept.collectives.reach, reach0)
    assert moved, "reach changed during the run"
    assert kept.summary()["interventions:event:new_ties"] > 0, "events made ties"
    original = Ties.member_sums

    def afresh(self, layout):
        self._member = None  # every step from zero: a fresh scatter of every member
        return original(self, layout)

    monkeypatch.setattr(Ties, "member_sums", afresh)
    fresh = TransitionModel(sc, seed=1)
    fresh.run()
    for name in ("member", "consent", "adopted", "efficacy", "saving"):
        assert np.array_equal(getattr(kept.state, name), getattr(fresh.state, name)), name
    a, b = kept.summary(), fresh.summary()
    assert a.keys() == b.keys()
    for k, v in a.items():
        assert v == b[k] or (v != v and b[k] != b[k]), k  # NaN where both have none
