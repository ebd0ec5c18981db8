"""The hot path: per-step rules fused into single passes over households (numba).

Each kernel computes, in one loop, what the reference functions of :mod:`bt_sim.rules.social`,
:mod:`bt_sim.rules.kpi` and :mod:`bt_sim.rules.mastery` compute with whole-array numpy
operations; the tests check that both agree on the same random draws. The kernels draw their
own counter-based random numbers (:mod:`bt_sim.draws`) from the key of the phase's named stream
that the caller passes in, so they hold no random state and draw only for the households a
decision concerns. (The hub's, the collectives' and the tie-sum kernels live in their own
modules: :mod:`bt_sim.rules.hub`, :mod:`bt_sim.rules.collective`, :mod:`bt_sim.rules.ties`.)
Fusing pays because a step of numpy operations makes a dozen temporary ``(n, b)`` arrays, and
at small sizes because each numpy call has a fixed overhead.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from bt_sim.draws import (
    PAIR_BITS,
    PAIR_MASK,
    PAIR_SLOTS,
    counter_bits,
    normal_of_bits,
    normals_into,
    pair_blocks,
    pair_fine,
    pair_finish,
    step_bits,
    uniform,
)
from bt_sim.rules.chunks import CHUNK, WORD_ROWS_MAX, byte_words, exp_into, row_masks
from bt_sim.rules.ties import gather_role_pair

LEADS = 1 << PAIR_BITS  # the values a pair uniform's leading bits take


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def below_hazard(u, x):
    """``u < 1 - exp(-x)``, exactly, with the exponential only where the bounds
    ``x - x^2 / 2 <= 1 - exp(-x) <= x`` leave the answer open."""
    if u >= x:
        return False
    if u < x - 0.5 * x * x:
        return True
    return u < -np.expm1(-x)


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _response(s, kind, mid_h, h):
    """Exposure response: ``s`` (linear) or ``s^h (1 + c^h) / (s^h + c^h)`` (sigmoid)."""
    if kind == 0 or s <= 0.0:
        return s
    sh = s**h
    return sh * (1.0 + mid_h) / (sh + mid_h)


@njit(cache=True, nogil=True, error_model="numpy")
def reach_threshold(sums, share, level, adopted, eligible, new):
    """``new[i, b] = eligible & not adopted & x_ib >= level[i]`` in one pass, where ``x`` is
    the share ``sums[i, b] / sums[i, B]`` (``share``: the threshold rule, with tie sums and
    weighted degrees in the last column) or the count ``sums[i, b]`` (the complex rule), both
    without an external rate. Returns the number of adoptions. Without a branch (on byte
    views of the flags), so that the compiler vectorises it."""
    n, nb = adopted.shape
    a8 = adopted.view(np.uint8)
    e8 = eligible.view(np.uint8)
    out = new.view(np.uint8)
    count = 0
    for i in range(n):
        d = sums[i, nb] if share else 1.0
        lv = level[i]
        for b in range(nb):
            x = sums[i, b] / d if d > 0 else 0.0
            hit = np.uint8(e8[i, b] & (1 - a8[i, b]) & (d > 0) & (x >= lv))
            out[i, b] = hit
            count += hit
    return count


@njit(cache=True, nogil=True, error_model="numpy")
def member_totals(member, collective_of, spans, adopted, n_collectives):
    """Members per collective and how many of them perform each behaviour (float64); members
    are looked for in the host neighbourhoods' ranges ``spans``
    (:meth:`bt_sim.components.collectives.Collectives.spans`)."""
    nb = adopted.shape[1]
    count = np.zeros(n_collectives, np.int64)
    total = np.zeros((n_collectives, nb), np.float64)
    for sp in range(spans.shape[0]):
        for i in range(spans[sp, 0], spans[sp, 1]):
            c = collective_of[i]
            if member[i] and c >= 0:
                count[c] += 1
                for b in range(nb):
                    if adopted[i, b]:
                        total[c, b] += 1.0
    return count, total


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _household_bound(
    i, collective_of, member, focus, joint, unmet, q, action_rate, time_budget, efficacy,
    income_rel, p, top, diff_min, valid, scale,
):  # fmt: skip
    """``scale`` times the upper bound of household ``i``'s adoption rates (every share at 1,
    the least difficulty, no cost; see :func:`full_adoption`), or infinity where nothing
    bounds them."""
    c = collective_of[i]
    joint_i = joint[c] if member[i] and c >= 0 and focus[c] >= 0 else 0.0
    pull = q + action_rate if unmet[i] else q
    slack = 1.0 - time_budget[i]
    e = np.float64(efficacy[i])
    if valid and e >= 0.0 and 0.0 <= slack <= 1.0 and income_rel[i] > 0:
        rate = p + max(pull, 0.0) * top + max(joint_i, 0.0)
        return scale * e * (1.0 - diff_min * slack) * rate
    return np.inf


#: Households a chunk of the adoption kernel's first pass hashes at once.
_CHUNK = 512


@njit(cache=True, nogil=True, error_model="numpy")
def _chunk_bounds(
    start, stop, nb, stepped, collective_of, member, focus, joint, unmet, q, action_rate,
    time_budget, efficacy, income_rel, p, top, diff_min, valid, scale, word, low, lim,
):  # fmt: skip
    """For the households ``start`` to ``stop`` (at most :data:`_CHUNK`, one hash each: at most
    :data:`~bt_sim.draws.PAIR_SLOTS` behaviours): their hash (``word``), its smallest lead
    over their behaviours (``low``) and ``LEADS`` times their bound (``lim``,
    :func:`_household_bound`), in two loops without a branch. ``joint`` and ``focus`` must not
    be empty."""
    pad = np.uint64(0)  # unused slots read as the largest lead
    for b in range(nb, PAIR_SLOTS):
        pad |= PAIR_MASK << np.uint64(PAIR_BITS * b)
    m = stop - start
    for r in range(m):
        w = counter_bits(stepped, start + r)
        word[r] = w
        w |= pad
        lo = min(w & PAIR_MASK, (w >> np.uint64(PAIR_BITS)) & PAIR_MASK)
        lo = min(lo, (w >> np.uint64(2 * PAIR_BITS)) & PAIR_MASK)
        lo = min(lo, (w >> np.uint64(3 * PAIR_BITS)) & PAIR_MASK)
        lo = min(lo, (w >> np.uint64(4 * PAIR_BITS)) & PAIR_MASK)
        low[r] = np.float64(lo)
    pull_unmet = max(q + action_rate, 0.0) * top
    pull_met = max(q, 0.0) * top
    scale_leads = scale * LEADS
    # slices indexed from 0 (see measure): no test for negative indices
    of_c, member_c, unmet_c = collective_of[start:stop], member[start:stop], unmet[start:stop]
    time_c, efficacy_c, income_c = (
        time_budget[start:stop],
        efficacy[start:stop],
        income_rel[start:stop],
    )
    for r in range(m):  # _household_bound, without a branch
        c = of_c[r]
        cc = max(c, 0)
        jv = max(joint[cc], 0.0)
        joint_i = jv if member_c[r] and c >= 0 and focus[cc] >= 0 else 0.0
        slack = 1.0 - time_c[r]
        e = np.float64(efficacy_c[r])
        ok = valid & (e >= 0.0) & (slack >= 0.0) & (slack <= 1.0) & (income_c[r] > 0)
        rate = p + (pull_unmet if unmet_c[r] else pull_met) + joint_i
        bound = scale_leads * e * (1.0 - diff_min * slack) * rate
        lim[r] = bound if ok else np.inf


@njit(cache=True, nogil=True, error_model="numpy")
def _decide_pairs(
    m, cand_i, cand_b, cand_u, new, sums, indptr, indices, weights, codes, success_weight,
    key_weight, gather, collective_of, member, focus, unmet, q, action_rate, time_budget,
    income_rel, efficacy, dt, collective_weight, fellow_count, fellow_total, cost, discount,
    difficulty, lock, joint, p, kind, mid_h, h, valid, nb,
):  # fmt: skip
    """Decide the open pairs ``(cand_i[r], cand_b[r])`` on their uniforms ``cand_u[r]``,
    ``r < m`` (:func:`full_adoption`): sets ``new`` where a pair adopts; returns how many."""
    count = 0
    for r in range(m):
        i, b, u = cand_i[r], cand_b[r], cand_u[r]
        c = collective_of[i]
        mem = member[i] and c >= 0
        fb = focus[c] if mem else -1
        pull = q + action_rate if unmet[i] else q
        slack = 1.0 - time_budget[i]
        inc = np.float64(income_rel[i])
        scale = efficacy[i] * dt * inc  # readiness = (1 - difficulty slack) inc / (inc + cost)
        mix = mem and collective_weight > 0
        fellow = 0.0
        if mix:
            others = fellow_count[c] - 1
            fellow = fellow_total[c, b] / others if others > 0 else 0.0
        cb = cost[b] * (1.0 - discount[c]) if b == fb else cost[b]
        factor = (1.0 - difficulty[b] * slack) * lock[b] * scale / (inc + cb)
        extra = joint[c] if b == fb else 0.0
        if valid:
            # The pair's hazard with its contacts' share at its largest, 1: where the uniform
            # is at or above it, the contacts' sums are not needed (gathering them is the
            # costly part of a pair).
            top_share = (1.0 - collective_weight) + collective_weight * fellow if mix else 1.0
            x_top = factor * (p + pull * _response(top_share, kind, mid_h, h) + extra)
            if not below_hazard(u, x_top * (1.0 + 1e-9)):
                continue
        if gather:
            shown, weight = gather_role_pair(
                i, b, indptr, indices, weights, codes, nb, success_weight, key_weight
            )
        else:
            shown, weight = sums[i, b], sums[i, nb]
        share = shown / weight if weight > 0 else 0.0
        if mix:
            share = (1.0 - collective_weight) * share + collective_weight * fellow
        x = factor * (p + pull * _response(share, kind, mid_h, h) + extra)
        if below_hazard(u, x):
            new[i, b] = True
            count += 1
    return count


@njit(cache=True, nogil=True, error_model="numpy")
def _candidate_pairs_blocks(
    n, nb, blocks, stepped, collective_of, member, focus, joint, unmet, q, action_rate,
    time_budget, efficacy, income_rel, p, top, diff_min, valid, scale,
):  # fmt: skip
    """The pairs ``(i * nb + b) * LEADS + lead`` whose leading bits ``lead`` (a hash per block of
    :data:`~bt_sim.draws.PAIR_SLOTS` behaviours) lie at or below the household's bound times
    ``LEADS``, in household then behaviour order, and how many: the candidates of
    :func:`full_adoption` with more behaviours than one hash holds (or no collectives' arrays),
    household by household."""
    pairs = np.empty(n * nb, np.int64)
    kept = 0
    for i in range(n):
        lim = LEADS * _household_bound(
            i, collective_of, member, focus, joint, unmet, q, action_rate, time_budget,
            efficacy, income_rel, p, top, diff_min, valid, scale,
        )  # fmt: skip
        for blk in range(blocks):
            # draws.pair_word and pair_lead, written out
            word = counter_bits(stepped, i * blocks + blk)
            first = blk * PAIR_SLOTS
            for b in range(first, min(nb, first + PAIR_SLOTS)):
                lead = np.int64((word >> np.uint64(PAIR_BITS * (b - first))) & PAIR_MASK)
                pairs[kept] = (i * nb + b) * LEADS + lead
                kept += np.float64(lead) <= lim
    return pairs, kept


@njit(cache=True, nogil=True, error_model="numpy")
def full_adoption(
    sums,
    indptr,
    indices,
    weights,
    codes,
    success_weight,
    key_weight,
    adopted,
    eligible,
    income_rel,
    time_budget,
    cost,
    difficulty,
    lock,
    efficacy,
    unmet,
    action_rate,
    member,
    collective_of,
    fellow_count,
    fellow_total,
    collective_weight,
    joint,
    focus,
    discount,
    p,
    q,
    kind,
    mid_h,
    h,
    dt,
    key,
    step,
    base,
    sequential,
    new,
):
    """New adoptions of the full rule: ``new[i, b]`` is set to True for each (``new`` may be
    ``adopted`` itself: a pair's decision reads no other pair's adoption).

    The tie sums ``[A @ v | A @ rho]`` of a household come from its contacts' role codes
    (:func:`bt_sim.rules.ties.gather_role_pair`, with the CSR arrays, ``codes`` and the two
    weights), for the few households that need them, or where ``codes`` is empty from ``sums``
    (shape (n, b + 1): the complete graph, or more behaviours than a code holds); ``fellow_count``,
    ``fellow_total``, ``joint`` and ``focus`` are per collective. For household ``i`` and
    behaviour ``b`` that ``i`` may adopt (eligible, not adopted):

    * share ``s = sums_ib / sums_iB`` (visible adopters among role-weighted contacts);
      for a member of collective ``c``, ``s <- (1 - cw) s + cw * fellow``, ``fellow`` the share
      of the *other* members of ``c`` performing ``b`` (0 for a member alone);
    * readiness ``r = lock_b / (1 + cost'_b / income_rel_i) * (1 - difficulty_b (1 - time_i))``
      (``lock_b`` what the regime's lock-in leaves of the hazard, 1 without it),
      ``cost' = cost (1 - discount_c)`` for the member's purchase behaviour ``focus_c``;
    * rate ``r * e_i * (p + (q + action_rate * unmet_i) * f(s)) + [b = focus_c] r e_i joint_c``
      with ``f`` the exposure response (:func:`bt_sim.rules.social.response`);
    * adopted when ``u < 1 - exp(-rate dt)``, ``u`` the pair's uniform
      :func:`bt_sim.draws.pair_uniform`, or, with ``sequential``, the uniform of
      :func:`bt_sim.draws.uniform` at counter ``base + k`` for the ``k``-th candidate pair in
      household then behaviour order.

    A pair whose uniform is at least a bound of the household's hazards (all shares at 1, the
    least cost) cannot adopt and its hazard is not computed; with common random numbers the
    leading bits of the uniform (one hash for five behaviours) settle that for most pairs.

    Returns the number of adoptions and the number of uniforms made in full (with
    ``sequential``: the candidate pairs, which the counter advances by).
    """
    n, nb = adopted.shape
    count = 0
    k = 0
    # Upper bound of a household's hazards: the share at 1 (``top``), the least difficulty, the
    # campaign's joint rate, and ``inc / (inc + cost') <= 1`` (costs and discounts valid);
    # none (infinity) where the parameters leave no such bound.
    top = _response(1.0, kind, mid_h, h)
    diff_min = difficulty.min() if nb else 0.0
    lock_max = lock.max() if nb else 1.0
    valid = (
        p >= 0.0
        and (lock.min() if nb else 0.0) >= 0.0
        and (cost.min() if nb else 0.0) >= 0.0
        and (discount.min() if discount.size else 0.0) >= 0.0
        and (discount.max() if discount.size else 0.0) <= 1.0
        and 0.0 <= collective_weight <= 1.0
        and diff_min >= 0.0
        and (difficulty.max() if nb else 0.0) <= 1.0
    )
    spread = (1.0 + 1e-9) * dt  # widened by 1e-9 for rounding
    stepped, fine = step_bits(key, step), pair_fine(key, step)
    blocks = pair_blocks(nb)
    # A pair whose uniform is at or above its household's bound cannot adopt: its hazard is
    # not computed. With common random numbers the leading bits of the uniforms (one hash for
    # a block of behaviours) rule out most pairs before any uniform is made in full.
    gather = codes.shape[0] > 0
    scale = spread * lock_max
    # The open pairs whose uniform lies below their household's bound, a chunk of households
    # at a time (decided by _decide_pairs while the chunk's arrays are in the cache).
    cand_i = np.empty(_CHUNK * nb, np.int64)
    cand_b = np.empty(_CHUNK * nb, np.int64)
    cand_u = np.empty(_CHUNK * nb, np.float64)
    chunked = not sequential and blocks == 1 and joint.shape[0] > 0
    if chunked:
        word = np.empty(_CHUNK, np.uint64)
        low = np.empty(_CHUNK, np.float64)
        lim = np.empty(_CHUNK, np.float64)
        pairs = np.empty(0, np.int64)
        kept = 0
    elif not sequential:
        pairs, kept = _candidate_pairs_blocks(
            n, nb, blocks, stepped, collective_of, member, focus, joint, unmet, q, action_rate,
            time_budget, efficacy, income_rel, p, top, diff_min, valid, scale,
        )  # fmt: skip
    at = 0  # the next of the pairs kept (more behaviours than a hash holds)
    for start in range(0, n, _CHUNK):
        stop = min(n, start + _CHUNK)
        m = 0
        if chunked:
            # the chunk's hashes, smallest leads and bounds in loops without a branch; only
            # households with a lead below their bound are looked at pair by pair
            _chunk_bounds(
                start, stop, nb, stepped, collective_of, member, focus, joint, unmet, q,
                action_rate, time_budget, efficacy, income_rel, p, top, diff_min, valid, scale,
                word, low, lim,
            )  # fmt: skip
            for r in range(stop - start):
                lm = lim[r]
                if low[r] > lm:  # a lead at or below the bound times LEADS keeps its pair
                    continue
                i = start + r
                w = word[r]
                for b in range(nb):
                    lead = np.int64(w & PAIR_MASK)
                    w >>= np.uint64(PAIR_BITS)
                    if np.float64(lead) > lm or adopted[i, b] or not eligible[i, b]:
                        continue
                    cand_i[m], cand_b[m] = i, b
                    cand_u[m] = pair_finish(fine, i, b, nb, lead)
                    m += 1
        elif sequential:
            for i in range(start, stop):
                bound = _household_bound(
                    i, collective_of, member, focus, joint, unmet, q, action_rate, time_budget,
                    efficacy, income_rel, p, top, diff_min, valid, scale,
                )  # fmt: skip
                for b in range(nb):
                    if adopted[i, b] or not eligible[i, b]:
                        continue
                    u = uniform(key, step, base + k)
                    k += 1
                    if u < bound:
                        cand_i[m], cand_b[m], cand_u[m] = i, b, u
                        m += 1
        else:
            while at < kept and pairs[at] // LEADS < stop * nb:
                pair, lead = pairs[at] // LEADS, pairs[at] % LEADS
                at += 1
                i, b = pair // nb, pair % nb
                if adopted[i, b] or not eligible[i, b]:
                    continue
                cand_i[m], cand_b[m] = i, b
                cand_u[m] = pair_finish(fine, i, b, nb, lead)
                m += 1
        if not sequential:
            k += m
        count += _decide_pairs(
            m, cand_i, cand_b, cand_u, new, sums, indptr, indices, weights, codes,
            success_weight, key_weight, gather, collective_of, member, focus, unmet, q,
            action_rate, time_budget, income_rel, efficacy, dt, collective_weight, fellow_count,
            fellow_total, cost, discount, difficulty, lock, joint, p, kind, mid_h, h, valid, nb,
        )  # fmt: skip
    return count, k


@njit(cache=True, nogil=True, error_model="numpy")
def measure(
    adopted,
    log_keep,
    baseline,
    effort,
    effort_max,
    effort_keep,
    peer,
    noise,
    noise_keep,
    noise_scale,
    noise_shift,
    noisy,
    key,
    step,
    base,
    kpi,
    saving,
    cycle_sum,
    cycle_time,
    dt,
):
    """Measure every household's KPI for a step, as :func:`bt_sim.rules.kpi.measure`.

    Effort relaxes by ``effort_keep = exp(-relapse dt)``; the log noise moves as an
    Ornstein-Uhlenbeck process ``noise <- noise * noise_keep + noise_scale * z`` (when
    ``noisy``; ``z`` the normal of :func:`bt_sim.draws.normal` at ``(key, step, base + i)``);
    ``kpi = baseline * exp(sum_b a_ib log_keep_b) * (1 - effort_max * effort)
    * (1 - peer) * exp(noise - noise_shift)``; the saving is added to the cycle's integral.

    Households go in chunks (:mod:`bt_sim.rules.chunks`): what a household's behaviours keep
    is a table's entry at its behaviour mask (the product over its behaviours in order, as a
    loop over them gives it); the normals and the exponential
    (:func:`~bt_sim.rules.chunks.exp_into`, within 2 units in the last place of
    ``numpy.exp``) are made for the chunk at once.
    """
    n, nb = adopted.shape
    keep = np.exp(log_keep)
    table = np.ones(1 << nb if nb <= WORD_ROWS_MAX else 1, np.float64)
    for a in range(table.shape[0]):
        f = 1.0
        for b in range(nb):
            f *= keep[b] if (a >> b) & 1 else 1.0
        table[a] = f
    words = byte_words(adopted)
    stepped = step_bits(key, step)
    masks = np.zeros(CHUNK, np.int64)
    bits = np.empty(CHUNK, np.uint64)
    shifted = np.empty(CHUNK, np.float64)
    grown = np.ones(CHUNK, np.float64)  # exp(noise - shift); 1 without noise
    scale = np.empty(CHUNK, np.int64)
    factor = np.empty(CHUNK, np.float64)
    for start in range(0, n, CHUNK):
        stop = min(n, start + CHUNK)
        m = stop - start
        if nb <= WORD_ROWS_MAX:
            row_masks(adopted, words, start, stop, masks)
            for r in range(m):
                factor[r] = table[masks[r]]
        else:
            for r in range(m):
                f = 1.0
                for b in range(nb):
                    f *= keep[b] if adopted[start + r, b] else 1.0
                factor[r] = f
        # The chunk's slices, indexed from 0 by a loop counter, which the compiler knows is
        # not negative: a household index computed as start + r is not known so, and each
        # access would test for a negative index and keep the loop from being vectorised.
        noise_c, effort_c, peer_c = noise[start:stop], effort[start:stop], peer[start:stop]
        kpi_c, baseline_c, saving_c = kpi[start:stop], baseline[start:stop], saving[start:stop]
        sum_c, time_c = cycle_sum[start:stop], cycle_time[start:stop]
        if noisy:
            normals_into(stepped, base + start, m, bits, shifted)
            for r in range(m):
                x = noise_c[r] * noise_keep + noise_scale * shifted[r]
                noise_c[r] = x
                shifted[r] = x - noise_shift
            exp_into(shifted, grown, m, scale)
        for r in range(m):
            ef = effort_c[r] * effort_keep
            effort_c[r] = ef
            f = factor[r] * ((1.0 - effort_max * ef) * (1.0 - peer_c[r])) * grown[r]
            kpi_c[r] = baseline_c[r] * f
            sv = 1.0 - f
            saving_c[r] = sv
            sum_c[r] += sv * dt
            time_c[r] += dt


@njit(cache=True, nogil=True, error_model="numpy")
def reflect(
    rows,
    key,
    step,
    base,
    sequential,
    level,
    perception_sd,
    learning,
    reliability,
    efficacy,
    goal,
    effort,
    cycle_sum,
    cycle_time,
    perceived,
    success,
    unmet,
    fails,
    adopted,
    proven,
    droppable,
    gain,
    loss,
    effort_gain,
    step_up,
    step_down,
    patience,
    goal_floor,
    goal_max,
    failed,
):
    """Check-act for the households in ``rows``, as :func:`bt_sim.rules.mastery.reflect`.

    ``level`` is per row. ``perceived = cycle mean saving + perception_sd[level] * z`` with
    ``z`` the normal of :func:`bt_sim.draws.normal` at ``(key, step, i)`` (``base + k`` for the
    ``k``-th row with ``sequential``); ``success = perceived >=
    goal``; efficacy, effort and goal move (see :func:`bt_sim.rules.mastery.reflect`); proven
    behaviours are those adopted at a successful check; ``unmet`` is the check's failure; the
    cycle restarts. Returns the number of (household, behaviour) pairs that may now be dropped
    (failed, adopted, droppable) and the number of rows with such pairs, whose positions in
    ``rows`` it writes, in order, at the start of ``failed`` (int64, as long as ``rows``).
    """
    nb = adopted.shape[1]
    candidates = 0
    n_failed = 0
    a8 = adopted.view(np.uint8)
    p8 = proven.view(np.uint8)
    d8 = droppable.view(np.uint8)
    stepped = step_bits(key, step)
    bits = np.empty(CHUNK, np.uint64)
    z = np.empty(CHUNK, np.float64)
    for start in range(0, rows.shape[0], CHUNK):
        stop = min(rows.shape[0], start + CHUNK)
        if sequential:
            normals_into(stepped, base + start, stop - start, bits, z)
        rows_c, level_c = rows[start:stop], level[start:stop]  # indexed from 0 (see measure)
        if not sequential:
            for r in range(stop - start):  # draws.normal at counter i, in two loops
                bits[r] = counter_bits(stepped, rows_c[r])
            for r in range(stop - start):
                z[r] = normal_of_bits(bits[r])
        # Both outcomes of a check computed and one kept, without a branch (success is a
        # coin toss for many households, which a branch would mispredict).
        for r in range(stop - start):
            k = start + r
            i = rows_c[r]
            lv = level_c[r]
            lr = learning[lv]
            t = cycle_time[i]
            mean = cycle_sum[i] / t if t > 0 else 0.0
            seen = mean + perception_sd[lv] * z[r]
            perceived[i] = seen
            g = goal[i]
            ok = seen >= g
            success[i] = ok
            unmet[i] = not ok
            e = efficacy[i]
            ef = effort[i] + lr * reliability[lv] * effort_gain * (g - seen)
            effort[i] = min(max(ef, 0.0), 1.0)
            efficacy[i] = e + lr * gain * (1.0 - e) if ok else e - lr * loss * e
            f = fails[i] + 1
            lower = f >= patience
            failed_goal = max(g - step_down, goal_floor) if lower else g
            goal[i] = min(g + step_up, goal_max) if ok else failed_goal
            fails[i] = 0 if ok or lower else f
            keep = np.uint8(ok)
            mine = 0
            for b in range(nb):
                a = a8[i, b]
                p8[i, b] = a & keep
                mine += a & d8[i, b] & (1 - keep)
            candidates += mine
            failed[n_failed] = k
            n_failed += mine > 0
            cycle_sum[i] = 0.0
            cycle_time[i] = 0.0
    return candidates, n_failed


@njit(cache=True, nogil=True, error_model="numpy")
def drop(
    rows,
    success,
    level,
    reliability,
    efficacy,
    adopted,
    droppable,
    chance,
    sums,
    indptr,
    indices,
    weights,
    codes,
    success_weight,
    key_weight,
    norm,
    kind,
    mid_h,
    h,
    key,
    step,
    base,
    sequential,
):
    """Drop behaviours after a failed check, as :func:`bt_sim.rules.mastery.drop`.

    ``level`` is per row; ``u`` is the uniform of :func:`bt_sim.draws.uniform` at
    ``(key, step, i * b_count + b)`` (``base + k`` for the ``k``-th candidate in ``rows`` then
    behaviour order with ``sequential``); a candidate is dropped when
    ``u < chance * (1 - efficacy) * (1 - reliability) * (1 - norm * f(s))``,
    ``s = sums_ib / sums_iB`` (the tie sums of :mod:`bt_sim.rules.ties`, gathered from the role
    ``codes`` as in :func:`full_adoption`, or read from ``sums`` where ``codes`` is empty) the
    share of contacts visibly performing it
    and ``f`` the exposure response. Returns the number dropped and the number of
    candidates (draws).
    """
    nb = adopted.shape[1]
    k = 0
    dropped = 0
    gather = codes.shape[0] > 0
    top = _response(1.0, kind, mid_h, h)  # the response at a full share, its largest
    sure = 0.0 <= norm <= 1.0 and chance >= 0.0 and top <= 1.0
    for r in range(rows.shape[0]):
        i = rows[r]
        if success[i]:
            continue
        prob = chance * (1.0 - efficacy[i]) * (1.0 - reliability[level[r]])
        for b in range(nb):
            if adopted[i, b] and droppable[i, b]:
                c = base + k if sequential else i * nb + b
                u = uniform(key, step, c)
                k += 1
                # The drop chance lies between prob * (1 - norm * f(1)) and prob, whatever
                # the share: only a uniform between the two needs the contacts' sums.
                if sure and u >= prob:
                    continue
                settled = sure and u < prob * (1.0 - norm * top) * (1.0 - 1e-9)
                if not settled:
                    if gather:  # as in full_adoption, written out there and here for speed
                        shown, d = gather_role_pair(
                            i, b, indptr, indices, weights, codes, nb, success_weight,
                            key_weight,
                        )  # fmt: skip
                    else:
                        shown, d = sums[i, b], sums[i, nb]
                    share = shown / d if d > 0 else 0.0
                    if u >= prob * (1.0 - norm * _response(share, kind, mid_h, h)):
                        continue
                adopted[i, b] = False
                dropped += 1
    return dropped, k


@njit(cache=True, nogil=True, error_model="numpy")
def member_ties(indptr, indices, weights, rows, values, collective_of, own, other):
    """Tie sums from members: ``own[i] += w_ij v_j`` for members ``j`` of ``i``'s collective,
    ``other[i] += w_ij v_j`` for members of other collectives (``j = rows[k]``, ``v = values``).

    On an undirected network this is ``A @ x`` split by collective, at a cost proportional to
    the members' ties only.
    """
    for k in range(rows.shape[0]):
        j = rows[k]
        v = values[k]
        cj = collective_of[j]
        for e in range(indptr[j], indptr[j + 1]):
            i = indices[e]
            if collective_of[i] == cj:
                own[i] += weights[e] * v
            else:
                other[i] += weights[e] * v


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _count_behaviours(adopted, words, spread, start, stop, dis_c, member_c, counts, masks):
    """Add the households ``start`` to ``stop`` (at most 255) performing each behaviour to
    ``counts`` (rows: all, disadvantaged, members; ``dis_c`` and ``member_c`` the chunk's
    flags) and leave each household's behaviour mask in ``masks`` (non-zero: adopted any).
    Up to :data:`~bt_sim.rules.chunks.WORD_ROWS_MAX` behaviours the masks are spread to one
    byte per behaviour (``spread``) and added in 8-bit lanes, without a branch; with more,
    behaviour by behaviour."""
    nb = adopted.shape[1]
    m = stop - start
    if nb <= WORD_ROWS_MAX:
        row_masks(adopted, words, start, stop, masks)
        zero = np.uint64(0)
        lane_a = lane_d = lane_m = zero
        for r in range(m):
            v = spread[masks[r]]
            lane_a += v
            lane_d += v & (zero - np.uint64(dis_c[r]))
            lane_m += v & (zero - np.uint64(member_c[r]))
        for b in range(nb):
            at = np.uint64(8 * b)
            counts[0, b] += np.int64((lane_a >> at) & np.uint64(0xFF))
            counts[1, b] += np.int64((lane_d >> at) & np.uint64(0xFF))
            counts[2, b] += np.int64((lane_m >> at) & np.uint64(0xFF))
        return
    for r in range(m):
        d, mm = np.int64(dis_c[r]), np.int64(member_c[r])
        anyb = 0
        for b in range(nb):
            a = np.int64(adopted[start + r, b])
            anyb |= a
            counts[0, b] += a
            counts[1, b] += a & d
            counts[2, b] += a & mm
        masks[r] = anyb


@njit(cache=True, nogil=True, error_model="numpy")
def neighbourhood_sums(
    bounds, adopted, saving, efficacy, member, consent, compared, dis, out_all, out_dis, out_member
):
    """Per-neighbourhood sums of the recorded variables, over all, disadvantaged and members.

    Neighbourhoods are the contiguous ranges ``bounds[c]:bounds[c + 1]`` of households.
    Columns: one per behaviour (adoption), then saving, efficacy, member, consent, compared and
    "adopted any". The counts are made without a branch in chunks of up to 255 households
    (:func:`_count_behaviours`); the sums of saving and efficacy in household order, in
    float64, as a plain loop adds them.
    """
    nb = adopted.shape[1]
    spread = np.zeros(1 << nb if nb <= WORD_ROWS_MAX else 1, np.uint64)  # bit b to byte b
    for a in range(spread.shape[0]):
        for b in range(nb):
            spread[a] |= np.uint64((a >> b) & 1) << np.uint64(8 * b)
    words = byte_words(adopted)
    masks = np.empty(255, np.int64)
    counts = np.zeros((3, nb), np.int64)
    for c in range(bounds.shape[0] - 1):
        counts[:] = 0
        mm_a = mm_d = cs_a = cs_d = cs_m = cp_a = cp_d = cp_m = an_a = an_d = an_m = 0
        for start in range(bounds[c], bounds[c + 1], 255):
            stop = min(bounds[c + 1], start + 255)
            # slices indexed from 0 (see measure): no test for negative indices
            dis_c, member_c = dis[start:stop], member[start:stop]
            consent_c, compared_c = consent[start:stop], compared[start:stop]
            _count_behaviours(adopted, words, spread, start, stop, dis_c, member_c, counts, masks)
            for r in range(stop - start):
                d = np.int64(dis_c[r])
                mm = np.int64(member_c[r])
                cs = np.int64(consent_c[r])
                cp = np.int64(compared_c[r])
                anyb = np.int64(masks[r] != 0)
                mm_a += mm
                mm_d += mm & d
                cs_a += cs
                cs_d += cs & d
                cs_m += cs & mm
                cp_a += cp
                cp_d += cp & d
                cp_m += cp & mm
                an_a += anyb
                an_d += anyb & d
                an_m += anyb & mm
        sv_a = sv_d = sv_m = ef_a = ef_d = ef_m = 0.0
        lo, hi = bounds[c], bounds[c + 1]
        saving_c, efficacy_c = saving[lo:hi], efficacy[lo:hi]
        dis_c, member_c = dis[lo:hi], member[lo:hi]
        for r in range(hi - lo):
            sv = np.float64(saving_c[r])
            ef = np.float64(efficacy_c[r])
            d = dis_c[r]
            mm = member_c[r]
            sv_a += sv
            ef_a += ef
            sv_d += sv if d else 0.0
            ef_d += ef if d else 0.0
            sv_m += sv if mm else 0.0
            ef_m += ef if mm else 0.0
        for b in range(nb):
            out_all[c, b] = counts[0, b]
            out_dis[c, b] = counts[1, b]
            out_member[c, b] = counts[2, b]
        _put(out_all, c, nb, sv_a, ef_a, mm_a, cs_a, cp_a, an_a)
        _put(out_dis, c, nb, sv_d, ef_d, mm_d, cs_d, cp_d, an_d)
        _put(out_member, c, nb, sv_m, ef_m, mm_a, cs_m, cp_m, an_m)


@njit(cache=True, nogil=True, inline="always")
def _put(out, c, nb, saving, efficacy, member, consent, compared, anyb):
    out[c, nb] = saving
    out[c, nb + 1] = efficacy
    out[c, nb + 2] = member
    out[c, nb + 3] = consent
    out[c, nb + 4] = compared
    out[c, nb + 5] = anyb
