"""The counter-based numbers of bt_sim.draws have the distributions they claim.

Each test uses fixed keys, so it is deterministic; the tolerances are those of a test at the
0.1 % level (a p-value, or four standard errors), which a correct generator passes with these
fixed numbers and a biased one of the size that would matter fails.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from bt_sim import draws


@pytest.fixture(scope="module")
def z():
    return draws.normals(np.uint64(0x1234ABCD), 5, np.arange(2_000_000))


def test_normals_are_standard_normal(z):
    assert stats.kstest(z, "norm").pvalue > 0.001
    # Mean and sd of 2,000,000 standard normals: standard errors 0.0007 and 0.0005.
    assert z.mean() == pytest.approx(0, abs=0.003)
    assert z.std() == pytest.approx(1, abs=0.002)
    assert stats.skew(z) == pytest.approx(0, abs=0.007)  # se sqrt(6 / n) = 0.0017


@pytest.mark.parametrize("t", [1.0, 2.0, 3.0, 3.6541528853610088, 4.0])
def test_normal_tails(z, t):
    """The ziggurat's wedges and its tail beyond r = 3.654 (about 1 % of draws, made by the
    slow path) give the right frequencies: within 4 binomial standard errors."""
    expected = 2 * stats.norm.sf(t)
    se = np.sqrt(expected * (1 - expected) / z.size)
    assert abs((np.abs(z) > t).mean() - expected) < 4 * se


def test_a_normal_is_a_function_of_its_counter():
    few = draws.normals(np.uint64(9), 2, np.array([3, 70_000]))
    many = draws.normals(np.uint64(9), 2, np.arange(100_000))
    assert few.tolist() == [many[3], many[70_000]]
    assert draws.normals(np.uint64(9), 3, np.array([3]))[0] != many[3]


def test_pair_uniforms_are_uniform_and_independent():
    """Seven behaviours: two hashes per household for the leading bits, one per pair for the
    rest. Each column is uniform, columns sharing a hash are uncorrelated, and the small values
    where adoption is decided (below 1 / 4096, inside one leading value) have the right
    frequency."""
    n, nb = 200_000, 7
    u = draws.pair_uniforms(np.uint64(77), 4, n, nb)
    assert u.min() >= 0 and u.max() < 1
    for b in range(nb):
        assert stats.kstest(u[:, b], "uniform").pvalue > 0.001, b
    # Correlation of independent uniforms over 200,000 pairs has sd 0.0022.
    c = np.corrcoef(u.T)
    assert np.abs(c[np.triu_indices(nb, 1)]).max() < 0.01
    small = 0.5 / 4096  # half of the first leading value: the trailing bits decide
    expected = small * n * nb
    assert abs((u < small).sum() - expected) < 4 * np.sqrt(expected)


def test_a_pair_uniform_depends_on_its_pair_only():
    key = np.uint64(5)
    few = draws.pair_uniforms(key, 8, 10, 5)
    many = draws.pair_uniforms(key, 8, 1000, 5)
    assert np.array_equal(few, many[:10])
    assert few[3, 2] == draws.pair_uniform(key, 8, 3, 2, 5)
    assert not np.array_equal(few, draws.pair_uniforms(key, 9, 10, 5))


def test_normals_of_a_chunk_are_the_counters_normals():
    """The chunked normals (hashes and the ziggurat's common case in loops without a branch,
    the rare draws one by one) are exactly draws.normal of each counter."""
    key, step, first, m = np.uint64(77), 5, 1000, 20_000
    bits, out = np.empty(m, np.uint64), np.empty(m)
    draws.normals_into(np.uint64(draws.step_bits(key, step)), first, m, bits, out)
    np.testing.assert_array_equal(out, draws.normals(key, step, np.arange(first, first + m)))
