"""Neighbourhood events: ties made and strengthened during a run, within preallocated room."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from bt_sim import TransitionModel, load_scenario
from bt_sim.cli import main
from bt_sim.components.interventions.event import MAX_STRENGTH, SLOTS, add_ties, with_room
from bt_sim.errors import ScenarioError
from tests.conftest import SCENARIOS

EXAMPLE = str(SCENARIOS / "interventions.toml")
ONLY_EVENT = [f"interventions.{n}.enabled=false" for n in ("coach", "dashboard", "gatekeepers")]


def live(adj, used):
    """The ties in use, as a plain CSR matrix (without the free places)."""
    rows = np.repeat(np.arange(adj.shape[0]), np.diff(adj.indptr))
    keep = (np.arange(adj.nnz) - np.repeat(adj.indptr[:-1], np.diff(adj.indptr))) < np.repeat(
        used, np.diff(adj.indptr)
    )
    return sp.csr_matrix((adj.data[keep], (rows[keep], adj.indices[keep])), shape=adj.shape)


def same(a: dict, b: dict) -> bool:
    """Equal summaries (NaN equal to NaN)."""
    return {k: repr(v) for k, v in a.items()} == {k: repr(v) for k, v in b.items()}


def test_room_keeps_the_ties_and_adds_free_places():
    rng = np.random.default_rng(1)
    a = sp.random(50, 50, density=0.1, random_state=2, dtype=np.float32)
    a = sp.csr_matrix(a + a.T)
    b, used = with_room(a, 3)
    assert np.array_equal(np.diff(b.indptr), np.diff(a.indptr) + 3)
    assert (abs(live(b, used) - a)).max() == 0
    assert np.allclose(np.asarray(b.sum(axis=1)).ravel(), np.asarray(a.sum(axis=1)).ravel())
    # a full row takes no more ties; a tie is not made twice
    start = b.data.astype(np.float64)
    i = rng.integers(0, 50)
    added = add_ties(b.indptr, b.indices, b.data, start, used, np.full(5, i),
                     np.array([(i + k) % 50 for k in (1, 2, 3, 4, 1)]), 0.5)  # fmt: skip
    assert added <= 3 and used[i] <= np.diff(b.indptr)[i]
    c = live(b, used)
    assert (abs(c - c.T)).max() == 0


def test_events_change_ties_only_among_attendees_within_the_room():
    m = TransitionModel(load_scenario(EXAMPLE, ["run.steps=40", *ONLY_EVENT]), seed=3)
    adj = m.adjacency
    arrays = (adj.indptr, adj.indices, adj.data)
    room = m.interventions.room
    before = live(adj, room.used.copy())
    m.run()
    assert all(x is y for x, y in zip(arrays, (adj.indptr, adj.indices, adj.data), strict=True))
    after = live(adj, room.used)
    assert (abs(after - after.T)).max() < 1e-12  # undirected
    assert (room.used <= np.diff(adj.indptr)).all()
    assert (room.used - np.diff(before.indptr) <= SLOTS).all()
    changed = (after != before).tocoo()
    ends = np.union1d(changed.row, changed.col)
    assert ends.size and (m.collectives.of[ends] >= 0).all()  # only in host neighbourhoods
    assert (m.collectives.of[changed.row] == m.collectives.of[changed.col]).all()
    weights = after.tocoo()
    start = live(sp.csr_matrix((room.start, adj.indices, adj.indptr), shape=adj.shape), room.used)
    assert (after.data <= MAX_STRENGTH * start.data + 1e-6).all() and weights.nnz
    np.testing.assert_allclose(m.wdeg, np.asarray(after.sum(axis=1)).ravel(), rtol=1e-5)
    s = m.summary()
    # events at months 2, 14, 26, 38 in three collectives
    assert s["interventions:event:carried_months"] == 3 * 4
    assert s["interventions:event:new_ties"] == (after.nnz - before.nnz) / 2 > 0


def test_an_event_is_repeatable():
    runs = []
    for _ in range(2):
        m = TransitionModel(load_scenario(EXAMPLE, ["run.steps=16", *ONLY_EVENT]), seed=4)
        m.run()
        runs.append((m.adjacency.indices.copy(), m.adjacency.data.copy(), m.summary()))
    assert np.array_equal(runs[0][0], runs[1][0]) and np.array_equal(runs[0][1], runs[1][1])
    assert same(runs[0][2], runs[1][2])


def test_a_continuation_takes_over_the_changed_network():
    sc = load_scenario(EXAMPLE, ["run.steps=30", *ONLY_EVENT])
    whole = TransitionModel(sc, seed=5)
    whole.run()
    first = TransitionModel(sc, seed=5)
    first.run(15)
    second = TransitionModel(sc, seed=5)
    second.continue_from(first)
    second.run()
    assert np.array_equal(second.adjacency.data, whole.adjacency.data)
    assert same(second.summary(), whole.summary())


def test_an_event_needs_a_network_with_ties(tmp_path, capsys):
    change = "network.kind=complete"
    with pytest.raises(ScenarioError, match=r"interventions\[4\]\.kind"):
        load_scenario(EXAMPLE, [change])
    code = main(["run", EXAMPLE, "--set", change, "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 2 and "network with ties" in err and "Traceback" not in err
