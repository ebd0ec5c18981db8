"""The neighbourhood event: members and neighbours meet, and the network changes.

In the step in which a round starts, a collective that carries the event out holds it: each
member of the collective attends with probability ``attendance`` and each other household of
the neighbourhood with probability ``guest_share`` (the ``event`` stream, keyed by household).
The ties between attendees of the same event grow stronger by ``tie_gain`` of their weight at
the start (up to :data:`MAX_STRENGTH` times it), and each attendee makes new ties with the
``new_ties`` attendees before and after it in a random order (the ``event`` stream again),
at the network's mean tie weight, where both have room and are not tied yet. Meeting in person
builds and strengthens the ties through which people recruit and imitate each other
(Granovetter 1973 on weak ties; McAdam & Paulsen 1993 on recruitment through ties).

The network's CSR arrays get room for the new ties once, at construction, when the catalogue
holds an event: :data:`SLOTS` free places per household after its own ties (weight 0 and the
household itself as the contact, which every kernel reads as no tie). No step reallocates; an
attendee whose places are full makes no more ties. The incrementally kept tie sums are
recomputed after an event (:meth:`bt_sim.rules.ties.Ties.rewired`).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from numba import njit

from bt_sim.components.interventions.kind import Kind
from bt_sim.components.interventions.schedule import round_of
from bt_sim.rules.ties import Ties

#: Free places per household for ties made at events (a new tie takes one at each end).
SLOTS = 6
#: A tie strengthened at events reaches at most this many times its weight at the start.
MAX_STRENGTH = 3.0


def with_room(adjacency: sp.csr_matrix, slots: int) -> tuple[sp.csr_matrix, np.ndarray]:
    """A copy of ``adjacency`` with ``slots`` free places after each row's ties (index the row
    itself, weight 0), and each row's count of ties in use.

    >>> a = sp.csr_matrix(np.array([[0, 1.0], [1.0, 0]], np.float32))
    >>> b, used = with_room(a, 2)
    >>> b.indptr.tolist(), b.indices.tolist(), b.data.tolist(), used.tolist()
    ([0, 3, 6], [1, 0, 0, 0, 1, 1], [1.0, 0.0, 0.0, 1.0, 0.0, 0.0], [1, 1])
    """
    n = adjacency.shape[0]
    used = np.diff(adjacency.indptr).astype(np.int64)
    indptr = adjacency.indptr.astype(np.int64) + slots * np.arange(n + 1, dtype=np.int64)
    total = int(indptr[-1])
    indices = np.repeat(np.arange(n, dtype=adjacency.indices.dtype), used + slots)
    data = np.zeros(total, adjacency.data.dtype)
    at = np.repeat(indptr[:-1], used) + (
        np.arange(adjacency.nnz) - np.repeat(adjacency.indptr[:-1].astype(np.int64), used)
    )
    indices[at] = adjacency.indices
    data[at] = adjacency.data
    out = sp.csr_matrix((data, indices, indptr.astype(adjacency.indptr.dtype)), shape=(n, n))
    return out, used


@njit(cache=True, nogil=True, error_model="numpy")
def strengthen(indptr, indices, data, start, used, attend, group, rows, gain, cap):
    """Ties between attendees (``attend``) of one event (the same ``group``) in the rows
    ``rows`` gain ``gain`` times their weight at the start (``start``, aligned with ``data``),
    up to ``cap`` times it; returns the number of tie ends strengthened."""
    count = 0
    for r in range(rows.shape[0]):
        i = rows[r]
        for x in range(indptr[i], indptr[i] + used[i]):
            j = indices[x]
            if attend[j] and j != i and group[j] == group[i]:
                w = data[x] + gain * start[x]
                top = cap * start[x]
                data[x] = w if w < top else top
                count += 1
    return count


@njit(cache=True, nogil=True, error_model="numpy")
def add_ties(indptr, indices, data, start, used, a, b, weight):
    """Add the ties ``a[k] -- b[k]`` in order where both rows have room and they are not tied
    yet (a new tie's weight at the start is ``weight``); returns the number added."""
    added = 0
    for k in range(a.shape[0]):
        i, j = a[k], b[k]
        if i == j:
            continue
        if used[i] >= indptr[i + 1] - indptr[i] or used[j] >= indptr[j + 1] - indptr[j]:
            continue
        tied = False
        for x in range(indptr[i], indptr[i] + used[i]):
            if indices[x] == j:
                tied = True
                break
        if tied:
            continue
        for p, q in ((i, j), (j, i)):
            x = indptr[p] + used[p]
            indices[x] = q
            data[x] = weight
            start[x] = weight
            used[p] += 1
        added += 1
    return added


class NeighbourhoodEvent(Kind):
    """Members and neighbours meet; ties are made and strengthened (``kind =
    "neighbourhood_event"``)."""

    kind = "neighbourhood_event"
    counts = "event_ties"
    dynamic = ("rounds", "made", "strengthened", "attended")

    def __init__(self, comp, index, entry):
        super().__init__(comp, index, entry)
        k = self.model.collectives.count
        self.rounds = np.full(k, -1, np.int64)
        self.made = 0.0  # new ties
        self.strengthened = 0.0  # tie ends strengthened
        self.attended = 0.0  # attendances
        self._new = np.zeros(k, bool)
        self._round = -1
        room_for_events(comp)

    def cost(self, active: np.ndarray, inside: float) -> np.ndarray:
        x, model = self.x, self.model
        r = round_of(model.month - model.config.run.dt + inside, x.start_month, x.every_months)
        self._new = active & (self.rounds != r)
        self._round = r
        return x.hours_per_month * inside

    def carry_out(self, ok: np.ndarray, inside: float) -> float:
        held = np.flatnonzero(ok & self._new)
        self.rounds[ok & self._new] = self._round
        room = self.comp.room
        if held.size == 0 or room is None:  # (no network to change on the complete graph)
            return 0.0
        model, x = self.model, self.x
        adj = model.adjacency
        step = model.steps_done
        n = model.population.n
        homes = np.concatenate([model.collectives.homes(int(c)) for c in held])
        u = model.draws.uniform("event", step, homes)
        member = model.state.member[homes]
        goes = np.where(member, u < x.attendance, u < x.guest_share)
        people = homes[goes]
        attend = np.zeros(n, bool)
        attend[people] = True
        self.attended += people.size
        self.strengthened += strengthen(
            adj.indptr, adj.indices, adj.data, room.start, room.used, attend,
            model.collectives.of, people, x.tie_gain, MAX_STRENGTH,
        )  # fmt: skip
        # A random order of each collective's attendees (the event stream, keyed by
        # household after the attendance draws), each tied to its next new_ties.
        order_u = model.draws.uniform("event", step, n + people)
        coll = model.collectives.of[people]
        ring = people[np.lexsort((order_u, coll))]
        ring_coll = model.collectives.of[ring]
        a, b = [], []
        for c in np.unique(ring_coll):
            mine = ring[ring_coll == c]
            for r in range(1, min(int(x.new_ties), mine.size - 1) + 1):
                a.append(mine)
                b.append(np.roll(mine, -r))
        made = 0
        if a:
            made = add_ties(
                adj.indptr, adj.indices, adj.data, room.start, room.used,
                np.concatenate(a), np.concatenate(b), room.weight,
            )  # fmt: skip
        self.made += made
        room.rewired(model)
        return float(made)

    def summary(self) -> dict[str, float]:
        return {
            "new_ties": self.made,
            "strengthened": self.strengthened,
            "attendances": self.attended,
        }

    def continue_from(self, other: Kind) -> None:
        super().continue_from(other)
        if self.comp.room is not None:
            self.comp.room.copy_from(self.model, other.comp.room, other.model)


class Room:
    """The network's room for ties made at events: each tie's weight at the start, each
    household's ties in use and a new tie's weight."""

    def __init__(self, model):
        adj, used = with_room(model.adjacency, SLOTS)
        self.used = used
        self.start = adj.data.astype(np.float64)
        self.weight = float(model.adjacency.data.mean()) if model.adjacency.nnz else 1.0
        model.adjacency = adj
        model.ties = Ties(adj, model.pattern, model.population.n, model.ties.nb)

    def rewired(self, model) -> None:
        """After ties changed: the weighted degrees and the tie sums follow."""
        adj = model.adjacency
        model.wdeg[:] = np.add.reduceat(adj.data, adj.indptr[:-1].astype(np.int64)).astype(
            np.float32
        )
        model.ties.rewired()

    def copy_from(self, model, other: Room, other_model) -> None:
        """Take over another model's network as its events left it (a continuation)."""
        mine, theirs = model.adjacency, other_model.adjacency
        mine.indices[:] = theirs.indices
        mine.data[:] = theirs.data
        self.used[:] = other.used
        self.start[:] = other.start
        self.rewired(model)


def room_for_events(comp) -> None:
    """Give the model's network room for ties made at events, once (:class:`Room`; none on
    the complete graph)."""
    if comp.room is None and comp.model.adjacency is not None:
        comp.room = Room(comp.model)
