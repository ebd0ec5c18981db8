"""Network generators: structure, degrees, and edge-list input."""

from __future__ import annotations

import dataclasses

import networkx as nx
import numpy as np
import pytest
import scipy.sparse as sp

from bt_sim import network
from bt_sim.errors import NetworkFileError
from bt_sim.network import ball, build_network, from_edges, from_keys, read_edgelist
from bt_sim.population import draw_population
from bt_sim.scenario import NetworkConfig, PopulationConfig

# Every generator the schema offers, except the implicit complete graph and file input.
KINDS = [
    k
    for k in dataclasses.fields(NetworkConfig)[0].metadata["choices"]
    if k not in ("complete", "edgelist")
]


def make(kind, n=4000, degree=10.0, seed=3, **kw):
    pop = draw_population(
        PopulationConfig(households=n, neighbourhoods=20), np.random.default_rng(seed)
    )
    net = build_network(
        pop, NetworkConfig(kind=kind, mean_degree=degree, **kw), np.random.default_rng(seed + 1)
    )
    return pop, net


@pytest.mark.parametrize("kind", KINDS)
def test_generators_are_simple_symmetric_and_hit_the_mean_degree(kind):
    _, net = make(kind)
    a = net.adjacency()
    assert (a != a.T).nnz == 0, "ties are undirected with equal weights both ways"
    assert a.diagonal().sum() == 0, "no self-loops"
    assert np.all(np.diff(net.indices[net.indptr[0] : net.indptr[1]]) > 0), "no duplicates"
    # 4000 households: the mean degree of a random graph has sd ~ sqrt(10/4000/2) ~ 0.035;
    # 2% allows for rejected duplicates in the sampled generators.
    assert net.degree().mean() == pytest.approx(10.0, rel=0.02)
    assert net.weights.min() >= 0.2 and net.weights.max() <= 1.0


def test_neighbourhood_network_keeps_ties_local_and_homophilous():
    pop, net = make("neighbourhood", within_share=0.85, homophily=2.0)
    rows = np.repeat(np.arange(net.n), net.degree())
    inside = pop.neighbourhood[rows] == pop.neighbourhood[net.indices]
    # Candidates inside a neighbourhood are kept more often (closer attributes), so the
    # realised share is at least the configured 0.85 less sampling noise.
    assert inside.mean() > 0.83
    same_tenure = (pop.owner[rows] == pop.owner[net.indices]).mean()
    random_pairs = pop.owner.mean() ** 2 + (1 - pop.owner.mean()) ** 2
    assert same_tenure > random_pairs + 0.05


def test_erdos_renyi_degrees_are_poisson():
    _, net = make("erdos_renyi", n=20000, degree=4.0)
    deg = net.degree()
    # Poisson(4): variance equals the mean; 20,000 draws give a standard error of ~0.06.
    assert deg.var() == pytest.approx(4.0, abs=0.25)
    assert (deg == 0).mean() == pytest.approx(np.exp(-4.0), abs=0.005)


def test_barabasi_albert_has_hubs():
    _, net = make("barabasi_albert", n=20000, degree=6.0)
    deg = net.degree()
    assert deg.min() >= 3
    assert deg.max() > 15 * deg.mean(), "preferential attachment makes heavy-tailed degrees"


def test_watts_strogatz_clustering_falls_with_rewiring():
    def clustering(p):
        _, net = make("watts_strogatz", n=2000, degree=6.0, rewire_p=p)
        return nx.average_clustering(net.to_networkx())

    lattice = clustering(0.0)
    assert lattice == pytest.approx(0.6, abs=0.01)  # 3(k-2)/(4(k-1)) = 0.6 for k = 6
    assert clustering(1.0) < 0.02


def test_complete_graph_is_implicit():
    _pop, net = make("complete", n=50)
    assert net.complete and net.n_edges == 50 * 49 // 2
    assert net.to_networkx().number_of_edges() == net.n_edges
    assert set(net.neighbours(3)) == set(range(50)) - {3}


def test_to_networkx_matches_csr():
    _, net = make("stochastic_block", n=500)
    g = net.to_networkx()
    assert g.number_of_edges() == net.n_edges
    assert sorted(g.neighbors(7)) == sorted(net.neighbours(7).tolist())
    u, v = 7, int(net.neighbours(7)[0])
    assert g[u][v]["weight"] == pytest.approx(float(net.adjacency()[u, v]))


def test_from_edges_merges_duplicates_and_drops_loops():
    net = from_edges(4, np.array([0, 1, 2, 2]), np.array([1, 0, 2, 3]))
    assert net.n_edges == 2
    assert net.degree().tolist() == [1, 1, 1, 1]


def test_ball_grows_by_hops():
    net = from_edges(6, np.arange(5), np.arange(1, 6))  # a path 0-1-2-3-4-5
    assert sorted(ball(net, 2, 3).tolist()) == [1, 2, 3]
    assert sorted(ball(net, 0, 10).tolist()) == list(range(6))


def test_edgelist_file(tmp_path):
    path = tmp_path / "ties.csv"
    path.write_text("source,target,weight\n0,1,0.5\n1,2\n# a comment\n\n2,3,1.0\n")
    src, dst, w = read_edgelist(path, 4)
    assert src.tolist() == [0, 1, 2] and dst.tolist() == [1, 2, 3]
    assert w.tolist() == [0.5, 1.0, 1.0]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0 1\n1 x\n", "row 2: expected 'source target [weight]'"),
        ("0 1\n1 9\n", "row 2: household ids must be in [0, 3]"),
        ("0 1 1.5\n", "row 1: weight must be in (0, 1]"),
        ("0\n", "row 1: expected"),
    ],
)
def test_bad_edgelist_rows_are_named(tmp_path, text, expected):
    path = tmp_path / "ties.txt"
    path.write_text(text)
    with pytest.raises(NetworkFileError) as err:
        read_edgelist(path, 4)
    assert str(path) in str(err.value)
    assert expected in str(err.value)


def test_missing_edgelist(tmp_path):
    with pytest.raises(NetworkFileError, match="not found"):
        read_edgelist(tmp_path / "none.csv", 4)


def _reference_neighbourhood_ties(pop, cfg, rng):
    """The neighbourhood generator written plainly, whole arrays at a time (int64 ids, the
    Laplace draw with its per-candidate scale, ``np.where``, one ``np.unique`` a round)."""
    n, feats, bounds = pop.n, pop.similarity_features(), pop.neighbourhood_bounds()
    target = round(n * cfg.mean_degree / 2)
    keys = np.empty(0, np.int64)
    yield_rate = 1.0
    for _ in range(50):
        need = target - keys.size
        if need <= 0:
            break
        count = int(need / max(yield_rate, 0.02) * 1.1) + 16
        i = rng.integers(0, n, count)
        inside = rng.random(count) < cfg.within_share
        b = pop.neighbourhood[i]
        size = bounds[b + 1] - bounds[b]
        offset = np.rint(rng.laplace(0, np.maximum(cfg.locality * size, 1.0))).astype(np.int64)
        j = np.where(inside, bounds[b] + (i - bounds[b] + offset) % size, rng.integers(0, n, count))
        d = np.abs(feats[i] - feats[j]).mean(axis=1)
        keep = rng.random(count) < np.exp(-cfg.homophily * d)
        lo, hi = np.minimum(i[keep], j[keep]), np.maximum(i[keep], j[keep])
        before = keys.size
        keys = np.unique(np.concatenate([keys, (lo * n + hi)[lo != hi]]))
        yield_rate = max((keys.size - before) / count, 1e-3)
    if keys.size > target:
        keys = keys[np.sort(rng.choice(keys.size, target, replace=False))]
    w = rng.uniform(cfg.weight_min, 1.0, keys.size).astype(np.float32)
    return keys // n, keys % n, w


@pytest.mark.parametrize("seed", [0, 1])
def test_chunked_neighbourhood_network_equals_the_plain_one(monkeypatch, seed):
    # Chunks of 1000 candidates, so every round is processed in many chunks.
    monkeypatch.setattr(network, "CHUNK", 1000)
    pop = draw_population(
        PopulationConfig(households=6000, neighbourhoods=30), np.random.default_rng(seed)
    )
    cfg = NetworkConfig()
    net = build_network(pop, cfg, np.random.default_rng(seed + 1))
    lo, hi, w = _reference_neighbourhood_ties(pop, cfg, np.random.default_rng(seed + 1))
    plain = from_edges(pop.n, lo, hi, w)
    assert np.array_equal(net.indptr, plain.indptr)
    assert np.array_equal(net.indices, plain.indices)
    assert np.array_equal(net.weights, plain.weights)
    a = sp.coo_array((w, (lo, hi)), shape=(pop.n, pop.n))
    assert (net.adjacency() != (a + a.T).tocsr()).nnz == 0


def test_from_keys_matches_from_edges():
    rng = np.random.default_rng(5)
    n = 300
    src, dst = rng.integers(0, n, (2, 2000))
    ref = from_edges(n, src, dst)
    lo, hi = np.minimum(src, dst), np.maximum(src, dst)
    keys = np.unique((lo * n + hi)[lo != hi])
    net = from_keys(n, keys, np.ones(keys.size, np.float32))
    assert np.array_equal(net.indptr, ref.indptr)
    assert np.array_equal(net.indices, ref.indices)
    assert np.array_equal(net.weights, ref.weights)


def _distances(feats, i, j, chunk=1 << 20):
    """``|feats[i] - feats[j]|`` averaged over features, a million pairs at a time: the array
    formula the network's compiled loop replaced."""
    d = np.empty(i.shape[0], np.result_type(feats.dtype, np.float32))
    for s in range(0, i.shape[0], chunk):
        e = s + chunk
        d[s:e] = np.abs(feats[i[s:e]] - feats[j[s:e]]).mean(axis=1)
    return d


def test_compiled_candidate_steps_equal_the_array_formulas():
    """The neighbourhood network's compiled steps give, bit for bit, the values of the array
    formulas they replace (so networks do not depend on which one built them)."""
    from bt_sim.network import _feature_distances, _street_partners

    rng = np.random.default_rng(8)
    pop = draw_population(PopulationConfig(households=5000, neighbourhoods=25), rng)
    feats = pop.similarity_features()
    bounds = pop.neighbourhood_bounds()
    count = 200_000
    i = rng.integers(0, pop.n, count, dtype=np.int32)
    j = rng.integers(0, pop.n, count, dtype=np.int32)
    inside = rng.random(count) < 0.8
    unit = rng.laplace(0.0, 1.0, count)
    got = np.full(count, -1, np.int32)
    _street_partners(i, unit, inside, pop.neighbourhood, bounds, 0.05, got)
    start = bounds[pop.neighbourhood[i]]
    size = bounds[pop.neighbourhood[i] + 1] - start
    offset = np.rint(unit * np.maximum(0.05 * size, 1.0)).astype(np.int64)
    expected = start + (i - start + offset) % size
    assert np.array_equal(got[inside], expected[inside]) and (got[~inside] == -1).all()
    d = np.empty(count, np.float32)
    _feature_distances(feats, i, j, d)
    assert np.array_equal(d, _distances(feats, i, j))
