"""Social networks as compressed sparse rows, built straight from arrays.

Every generator returns a :class:`Network`; none goes through networkx objects, so a million
households build in seconds. :meth:`Network.to_networkx` gives a graph for users who want one.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from numba import njit

from bt_sim.errors import NetworkFileError
from bt_sim.population import Population
from bt_sim.scenario.schema import NetworkConfig


@dataclass
class Network:
    """An undirected weighted network in CSR form.

    ``complete=True`` marks the complete graph, which is held implicitly (no arrays): rules
    then use the mean-field form of neighbour exposure.
    """

    n: int
    indptr: np.ndarray
    indices: np.ndarray
    weights: np.ndarray
    complete: bool = False

    @property
    def n_edges(self) -> int:
        """Number of undirected ties."""
        if self.complete:
            return self.n * (self.n - 1) // 2
        return int(self.indices.shape[0] // 2)

    def degree(self) -> np.ndarray:
        """Number of ties of each household."""
        if self.complete:
            return np.full(self.n, self.n - 1, dtype=np.int64)
        return np.diff(self.indptr)

    def adjacency(self) -> sp.csr_array:
        """The weighted adjacency matrix (not available for the implicit complete graph)."""
        if self.complete:
            raise ValueError("the complete graph is implicit; use rules that handle it")
        return self._csr(self.weights)

    def pattern(self) -> sp.csr_array:
        """The unweighted adjacency matrix (ones where a tie exists)."""
        return self._csr(np.ones_like(self.weights))

    def _csr(self, data: np.ndarray) -> sp.csr_array:
        # 32-bit indices wherever they fit: half the memory traffic of a sparse product.
        small = self.indices.shape[0] < 2**31 and self.n < 2**31
        kind = np.int32 if small else np.int64
        return sp.csr_array(
            (data, self.indices.astype(kind, copy=False), self.indptr.astype(kind, copy=False)),
            shape=(self.n, self.n),
        )

    def neighbours(self, i: int) -> np.ndarray:
        """Ids of household ``i``'s contacts."""
        if self.complete:
            return np.delete(np.arange(self.n), i)
        return self.indices[self.indptr[i] : self.indptr[i + 1]]

    def to_networkx(self):
        """The network as a :class:`networkx.Graph` with a ``weight`` edge attribute."""
        import networkx as nx

        if self.complete:
            return nx.complete_graph(self.n)
        g = nx.Graph()
        g.add_nodes_from(range(self.n))
        rows = np.repeat(np.arange(self.n), np.diff(self.indptr))
        keep = rows < self.indices
        g.add_weighted_edges_from(
            zip(
                rows[keep].tolist(),
                self.indices[keep].tolist(),
                self.weights[keep].tolist(),
                strict=True,
            )
        )
        return g


def from_edges(
    n: int, src: np.ndarray, dst: np.ndarray, weights: np.ndarray | None = None
) -> Network:
    """Build an undirected network from edge endpoint arrays.

    Self-loops are dropped and duplicate ties merged (keeping the first weight).

    Examples
    --------
    >>> net = from_edges(3, np.array([0, 1, 1]), np.array([1, 2, 0]))
    >>> net.n_edges, net.degree().tolist()
    (2, [1, 2, 1])
    """
    src = np.asarray(src, dtype=np.int64)
    dst = np.asarray(dst, dtype=np.int64)
    w = np.ones(src.shape[0], np.float32) if weights is None else np.asarray(weights, np.float32)
    keep = src != dst
    key = np.minimum(src, dst)[keep] * n + np.maximum(src, dst)[keep]
    w = w[keep]
    del keep
    order = np.argsort(key, kind="stable")
    key = key[order]
    first = np.ones(key.shape[0], bool)
    first[1:] = key[1:] != key[:-1]
    w = w[order[first]]
    key = key[first]
    del order, first
    return from_keys(n, key, w)


def from_keys(n: int, keys: np.ndarray, weights: np.ndarray) -> Network:
    """Build an undirected network from sorted distinct tie keys ``lo * n + hi`` (``lo < hi``).

    The same network as :func:`from_edges` of the pairs ``divmod(keys, n)``, without the
    endpoint arrays or a sort; the generators that draw distinct ties end here.

    Parameters
    ----------
    n : int
        Number of households.
    keys : int64 array
        Tie keys, strictly increasing, each ``lo * n + hi`` with ``0 <= lo < hi < n``.
    weights : float32 array
        Weight of each tie, aligned with ``keys``.

    Examples
    --------
    >>> net = from_keys(3, np.array([1, 5]), np.array([0.5, 1.0], np.float32))
    >>> net.indices.tolist(), net.weights.tolist()
    ([1, 0, 2, 1], [0.5, 0.5, 1.0, 1.0])
    """
    index_type = np.int32 if n < 2**31 else np.int64
    indptr = np.zeros(n + 1, np.int64)
    _key_degrees(keys, n, indptr[1:])
    np.cumsum(indptr, out=indptr)
    indices = np.empty(indptr[-1], index_type)
    csr_weights = np.empty(indptr[-1], np.float32)
    _fill_csr_keys(keys, n, np.asarray(weights, np.float32), indptr, indices, csr_weights)
    return Network(n, indptr, indices, csr_weights)


@njit(cache=True, nogil=True)
def _key_degrees(keys, n, deg):
    """Add each tie of ``keys`` to the degrees of both its ends."""
    for k in range(keys.shape[0]):
        deg[keys[k] // n] += 1
        deg[keys[k] % n] += 1


@njit(cache=True, nogil=True)
def _fill_csr_keys(keys, n, w, indptr, indices, weights):
    """Fill symmetric CSR arrays from sorted tie keys, as ``fill_csr`` does from the pairs
    ``divmod(keys, n)``: each row receives its lower neighbours first, then its higher ones."""
    pos = indptr[:n].copy()
    for k in range(keys.shape[0]):  # lower neighbours first, in increasing order
        lo, r = keys[k] // n, keys[k] % n
        indices[pos[r]] = lo
        weights[pos[r]] = w[k]
        pos[r] += 1
    for k in range(keys.shape[0]):  # then higher ones, in increasing order
        r, hi = keys[k] // n, keys[k] % n
        indices[pos[r]] = hi
        weights[pos[r]] = w[k]
        pos[r] += 1


@njit(cache=True, nogil=True)
def fill_csr(lo, hi, w, indptr, indices, weights):
    """Fill symmetric CSR arrays from pairs sorted by ``(lo, hi)`` (see
    :func:`csr_from_pairs`)."""
    n = indptr.shape[0] - 1
    pos = indptr[:n].copy()
    for k in range(lo.shape[0]):  # lower neighbours first, in increasing order
        r = hi[k]
        indices[pos[r]] = lo[k]
        weights[pos[r]] = w[k]
        pos[r] += 1
    for k in range(lo.shape[0]):  # then higher ones, in increasing order
        r = lo[k]
        indices[pos[r]] = hi[k]
        weights[pos[r]] = w[k]
        pos[r] += 1


def csr_from_pairs(
    n: int, lo: np.ndarray, hi: np.ndarray, w: np.ndarray, index_type=np.int32
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Symmetric CSR arrays of distinct pairs ``lo < hi`` sorted by ``(lo, hi)``.

    A counting sort in two passes: each row receives first its lower neighbours (from the
    pairs where it is ``hi``, in increasing ``lo``), then its higher ones (where it is ``lo``,
    in increasing ``hi``), so column indices come out sorted without building the doubled
    COO arrays a sparse-matrix conversion would need.

    >>> indptr, indices, w = csr_from_pairs(3, np.array([0, 0]), np.array([1, 2]),
    ...                                     np.array([0.5, 1.0], np.float32))
    >>> indptr.tolist(), indices.tolist(), w.tolist()
    ([0, 2, 3, 4], [1, 2, 0, 0], [0.5, 1.0, 0.5, 1.0])
    """
    deg = np.bincount(lo, minlength=n) + np.bincount(hi, minlength=n)
    indptr = np.zeros(n + 1, np.int64)
    np.cumsum(deg, out=indptr[1:])
    indices = np.empty(indptr[-1], index_type)
    weights = np.empty(indptr[-1], np.float32)
    fill_csr(lo, hi, w, indptr, indices, weights)
    return indptr, indices, weights


CHUNK = 1 << 20  # candidates processed at a time: bounds the temporaries of a step


def distinct_ties(
    draw, n: int, target: int, rng: np.random.Generator, max_rounds: int = 50
) -> tuple:
    """Draw candidate ties with ``draw(count) -> (src, dst)`` until ``target`` distinct ones.

    Self-loops and repeats are discarded and drawn again, so a generator hits its mean degree
    however often its candidates collide; a surplus is thinned at random. Returns the ends
    ``(lo, hi)`` of the ties, ``lo < hi``, sorted; :func:`distinct_keys` gives them as keys.
    """
    keys = distinct_keys(draw, n, target, rng, max_rounds)
    return keys // n, keys % n


def distinct_keys(
    draw, n: int, target: int, rng: np.random.Generator, max_rounds: int = 50
) -> np.ndarray:
    """The ties of :func:`distinct_ties` as sorted keys ``lo * n + hi`` (int64).

    Each round's candidates are keyed a chunk at a time straight into one buffer behind the
    ties already held, which is then sorted and de-duplicated in place: the round's memory is
    the candidates' ends and one key per candidate.
    """
    keys = np.empty(0, np.int64)
    yield_rate = 1.0  # distinct new ties per candidate drawn, learnt from the last round
    for _ in range(max_rounds):
        need = target - keys.size
        if need <= 0:
            break
        count = int(need / max(yield_rate, 0.02) * 1.1) + 16
        src, dst = draw(count)
        before = keys.size
        grown = np.empty(before + src.shape[0], np.int64)
        grown[:before] = keys
        del keys
        end = before
        for s in range(0, src.shape[0], CHUNK):
            lo = np.minimum(src[s : s + CHUNK], dst[s : s + CHUNK]).astype(np.int64, copy=False)
            hi = np.maximum(src[s : s + CHUNK], dst[s : s + CHUNK]).astype(np.int64, copy=False)
            keep = lo != hi
            k = int(np.count_nonzero(keep))
            grown[end : end + k] = lo[keep] * n + hi[keep]
            end += k
        del src, dst
        keys = grown[:end]
        keys.sort()
        keys = keys[: _compact_sorted(keys)]
        yield_rate = max((keys.size - before) / count, 1e-3)
    if keys.size > target:
        pick = rng.choice(keys.size, target, replace=False)
        pick.sort()
        _gather_forward(keys, pick)
        keys = keys[:target]
    return keys


def sorted_unique(keys: np.ndarray) -> np.ndarray:
    """Sorted distinct values (a plain sort; faster than ``np.unique`` on large int arrays)."""
    keys = np.sort(keys)
    return keys[: _compact_sorted(keys)]


@njit(cache=True, nogil=True)
def _compact_sorted(keys):
    """Move the distinct values of sorted ``keys`` to its front, in place; returns how many."""
    if keys.shape[0] == 0:
        return 0
    m = 1
    for k in range(1, keys.shape[0]):
        if keys[k] != keys[m - 1]:
            keys[m] = keys[k]
            m += 1
    return m


@njit(cache=True, nogil=True)
def _gather_forward(values, pick):
    """``values[:len(pick)] = values[pick]`` in place, for increasing distinct ``pick``
    (so ``pick[k] >= k`` and no value is overwritten before it is read)."""
    for k in range(pick.shape[0]):
        values[k] = values[pick[k]]


def erdos_renyi(n: int, mean_degree: float, rng: np.random.Generator) -> tuple:
    """Endpoints of a G(n, p) random graph with ``p = mean_degree / (n - 1)``."""
    p = min(mean_degree / max(n - 1, 1), 1.0)
    m = rng.binomial(n * (n - 1) // 2, p)
    if n > 1 and m > 0.3 * n * (n - 1) / 2:  # dense: draw every pair
        i, j = np.triu_indices(n, 1)
        keep = rng.random(i.shape[0]) < p
        return i[keep], j[keep]
    return distinct_ties(lambda c: rng.integers(0, n, (2, c)), n, m, rng)


def ring_lattice(n: int, mean_degree: float) -> tuple:
    """A ring where each household is tied to its ``mean_degree / 2`` nearest on each side."""
    half = max(round(mean_degree / 2), 0)
    base = np.arange(n, dtype=np.int64)
    src = np.repeat(base, half)
    dst = (src + np.tile(np.arange(1, half + 1), n)) % n
    return src, dst


def watts_strogatz(n: int, mean_degree: float, p: float, rng: np.random.Generator) -> tuple:
    """A ring lattice whose tie ends are rewired to random households with probability ``p``."""
    src, dst = ring_lattice(n, mean_degree)
    rewire = rng.random(src.shape[0]) < p
    dst = dst.copy()
    dst[rewire] = rng.integers(0, n, int(rewire.sum()))
    return src, dst


def barabasi_albert(n: int, mean_degree: float, rng: np.random.Generator) -> tuple:
    """Preferential attachment with ``m = mean_degree / 2`` ties per newcomer.

    Each new tie picks a uniformly random end of an earlier tie, which is exactly
    degree-proportional choice; chains of copied ends are resolved by pointer jumping, so the
    whole graph is drawn with array operations.
    """
    m = max(round(mean_degree / 2), 1)
    if n <= m + 1:
        i, j = np.triu_indices(n, 1)
        return i, j
    core_i, core_j = np.triu_indices(m + 1, 1)
    n_core = core_i.shape[0]
    new_src = np.repeat(np.arange(m + 1, n, dtype=np.int64), m)
    src = np.concatenate([core_i.astype(np.int64), new_src])
    idx = np.arange(n_core, src.shape[0])
    # Ties created by the same newcomer may only copy ties made before that newcomer.
    first_of_node = n_core + (idx - n_core) // m * m
    pick = (rng.random(idx.shape[0]) * first_of_node).astype(np.int64)
    take_source = rng.random(idx.shape[0]) < 0.5
    redo = np.ones(idx.shape[0], bool)
    for _ in range(100):  # redraw a newcomer's repeated targets until its m targets differ
        pick[redo] = (rng.random(int(redo.sum())) * first_of_node[redo]).astype(np.int64)
        take_source[redo] = rng.random(int(redo.sum())) < 0.5
        dst = _resolve_copies(src, core_j, n_core, idx, pick, take_source)
        key = src[n_core:] * n + dst[n_core:]
        order = np.argsort(key, kind="stable")
        dup = np.zeros(key.shape[0], bool)
        dup[order[1:]] = key[order[1:]] == key[order[:-1]]
        redo = dup
        if not redo.any():
            break
    return src, dst


def _resolve_copies(src, core_j, n_core, idx, pick, take_source) -> np.ndarray:
    """Targets of copied tie ends, resolving chains of copies by pointer jumping."""
    dst = np.full(src.shape[0], -1, dtype=np.int64)
    dst[:n_core] = core_j
    pointer = np.arange(src.shape[0], dtype=np.int64)
    dst[idx[take_source]] = src[pick[take_source]]
    pointer[idx[~take_source]] = pick[~take_source]
    unresolved = np.flatnonzero(dst < 0)
    while unresolved.size:
        tgt = pointer[unresolved]
        dst[unresolved] = dst[tgt]
        pointer[unresolved] = pointer[tgt]
        unresolved = unresolved[dst[unresolved] < 0]
    return dst


def _block_partner(
    i: np.ndarray, bounds: np.ndarray, block: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    b = block[i]
    start, size = bounds[b], bounds[b + 1] - bounds[b]
    return start + (rng.random(i.shape[0]) * size).astype(np.int64)


def stochastic_block(
    pop: Population, mean_degree: float, within: float, rng: np.random.Generator
) -> tuple:
    """Neighbourhoods as blocks: a share ``within`` of ties falls inside a household's block."""
    keys = stochastic_block_keys(pop, mean_degree, within, rng)
    return keys // pop.n, keys % pop.n


def stochastic_block_keys(
    pop: Population, mean_degree: float, within: float, rng: np.random.Generator
) -> np.ndarray:
    """The ties of :func:`stochastic_block` as sorted keys ``lo * n + hi``."""
    n = pop.n
    bounds = pop.neighbourhood_bounds()

    def draw(count: int) -> tuple:
        i = rng.integers(0, n, count)
        inside = rng.random(count) < within
        j = np.where(
            inside, _block_partner(i, bounds, pop.neighbourhood, rng), rng.integers(0, n, count)
        )
        cross_ok = inside | (pop.neighbourhood[i] != pop.neighbourhood[j])
        return i[cross_ok], j[cross_ok]

    return distinct_keys(draw, n, round(n * mean_degree / 2), rng)


@njit(cache=True, nogil=True)
def _street_partners(i, unit, inside, neighbourhood, bounds, locality, j):
    """``j[k]`` for the candidates inside a neighbourhood: household ``i[k]``'s partner an
    offset ``rint(unit[k] * max(locality * size, 1))`` along its neighbourhood's street (of
    ``size`` households), wrapping around; others are left for the caller to fill."""
    for k in range(i.shape[0]):
        if inside[k]:
            ii = np.int64(i[k])
            c = neighbourhood[ii]
            start = np.int64(bounds[c])
            size = np.int64(bounds[c + 1]) - start
            offset = np.int64(np.rint(unit[k] * max(locality * size, 1.0)))
            j[k] = start + (ii - start + offset) % size


@njit(cache=True, nogil=True)
def _feature_distances(feats, i, j, out):
    """``out[k] = mean_f |feats[i[k], f] - feats[j[k], f]|`` in float32, summed in feature
    order: the values of ``np.abs(feats[i] - feats[j]).mean(axis=1)`` (tested), without its
    (pairs x features) temporaries."""
    nf = feats.shape[1]
    count = np.float32(nf)
    for k in range(i.shape[0]):
        a, b = i[k], j[k]
        total = np.float32(0.0)
        for f in range(nf):
            total += np.float32(abs(feats[a, f] - feats[b, f]))
        out[k] = total / count


def neighbourhood_network(pop: Population, cfg: NetworkConfig, rng: np.random.Generator) -> tuple:
    """The default: street proximity and homophily inside neighbourhoods, a few ties across.

    Candidate ties inside a neighbourhood join households a Laplace-distributed distance apart
    along the street (scale ``locality`` of the neighbourhood's size); ties across neighbourhoods
    join random pairs. Each candidate is kept with probability ``exp(-homophily * d)``, ``d`` the
    distance between the two households' standardised attributes; candidates are over-drawn so
    the mean degree is met. Returns the ends ``(lo, hi)`` of the ties, sorted.
    """
    keys = neighbourhood_keys(pop, cfg, rng)
    return keys // pop.n, keys % pop.n


def neighbourhood_keys(pop: Population, cfg: NetworkConfig, rng: np.random.Generator) -> np.ndarray:
    """The ties of :func:`neighbourhood_network` as sorted keys ``lo * n + hi``.

    Each random array is drawn whole, in the same calls as ever, and everything derived from
    it is computed by compiled loops (:func:`_street_partners`, :func:`_feature_distances`)
    or a chunk at a time, with 32-bit household ids where they fit: a round peaks at about 17
    bytes a candidate (ids, the Laplace draws, the in-neighbourhood flag).
    """
    n = pop.n
    feats = pop.similarity_features()
    bounds = pop.neighbourhood_bounds()
    ids = np.int32 if n < 2**31 else np.int64

    def draw(count: int) -> tuple:
        i = rng.integers(0, n, count, dtype=ids)  # the same numbers as int64 draws
        inside = rng.random(count) < cfg.within_share
        # Unit Laplace draws times the per-candidate scale: numpy draws ``0 + s * L`` or
        # ``0 - s * L`` (``L`` the log of a uniform) with scale ``s``, and ``(0 ± L) * s`` is
        # the same double but for the sign of a zero, which rounding to an integer offset
        # erases; so the same offsets, without a float64 scale array beside the draws.
        unit = rng.laplace(0.0, 1.0, count)
        j = np.empty(count, ids)
        _street_partners(i, unit, inside, pop.neighbourhood, bounds, float(cfg.locality), j)
        del unit
        across = rng.integers(0, n, count, dtype=ids)
        np.copyto(j, across, where=~inside)
        del across, inside
        if cfg.homophily > 0:
            u = rng.random(count)
            keep = np.empty(count, bool)
            d = np.empty(min(count, CHUNK), np.float32)
            for s in range(0, count, CHUNK):
                e = min(s + CHUNK, count)
                _feature_distances(feats, i[s:e], j[s:e], d[: e - s])
                keep[s:e] = u[s:e] < np.exp(-cfg.homophily * d[: e - s])
            del u
            i, j = i[keep], j[keep]
        return i, j

    return distinct_keys(draw, n, round(n * cfg.mean_degree / 2), rng)


def _number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def read_edgelist(path: str | Path, n: int) -> tuple:
    """Read ``source target [weight]`` rows (comma or whitespace separated, ``#`` comments).

    The first row is a header when neither of its first two fields is a number. Household ids
    are integers in ``[0, n)``; a weight is in (0, 1] (default 1). Nothing is dropped or
    guessed: a self-loop, a tie listed twice (in either direction), a row with more than three
    fields, ids written as decimals and a file without ties are errors.

    Raises
    ------
    NetworkFileError
        Naming the file and row of the first bad line.
    """
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise NetworkFileError(f"{path}: edge-list file not found") from None
    except IsADirectoryError:
        raise NetworkFileError(f"{path}: is a folder, expected an edge-list file") from None
    except OSError as exc:
        raise NetworkFileError(f"{path}: cannot be read: {exc.strerror}") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise NetworkFileError(
            f"{path}: row {raw[: exc.start].count(b'\n') + 1}: not UTF-8 text "
            f"(byte 0x{raw[exc.start]:02x} at offset {exc.start}); "
            "save it as UTF-8"
        ) from None
    src, dst, w = [], [], []
    seen: dict[tuple[int, int], int] = {}
    first = True
    for row, line in enumerate(text.splitlines(), start=1):
        line = line.split("#", 1)[0].replace(",", " ").strip()
        if not line:
            continue
        parts = line.split()
        if first:
            first = False
            if not any(_number(p) for p in parts[:2]):
                continue  # a header row such as "source,target,weight"
        if len(parts) not in (2, 3):
            raise NetworkFileError(
                f"{path}: row {row}: expected 'source target [weight]' (2 or 3 fields), "
                f"got {len(parts)} fields: {line!r}"
            )
        try:
            a, b = int(parts[0]), int(parts[1])
            weight = float(parts[2]) if len(parts) > 2 else 1.0
        except ValueError:
            raise NetworkFileError(
                f"{path}: row {row}: expected 'source target [weight]' with integer ids, "
                f"got {line!r}"
            ) from None
        if not (0 <= a < n and 0 <= b < n):
            raise NetworkFileError(
                f"{path}: row {row}: household ids must be in [0, {n - 1}] "
                f"(population.households = {n}), got {a} {b}"
            )
        if not 0 < weight <= 1:
            raise NetworkFileError(f"{path}: row {row}: weight must be in (0, 1], got {weight}")
        if a == b:
            raise NetworkFileError(
                f"{path}: row {row}: self-loop {a} {b}; a household cannot tie to itself"
            )
        tie = (min(a, b), max(a, b))
        if tie in seen:
            raise NetworkFileError(
                f"{path}: row {row}: the tie {a} {b} is listed twice (first on row "
                f"{seen[tie]}); ties are undirected, list each once"
            )
        seen[tie] = row
        src.append(a)
        dst.append(b)
        w.append(weight)
    if not src:
        raise NetworkFileError(f"{path}: holds no ties; expected rows of 'source target [weight]'")
    return np.array(src, np.int64), np.array(dst, np.int64), np.array(w, np.float32)


def build_network(pop: Population, cfg: NetworkConfig, rng: np.random.Generator) -> Network:
    """Build the network a scenario asks for.

    Parameters
    ----------
    pop : Population
        Households (neighbourhoods and attributes shape the default generator).
    cfg : NetworkConfig
        Generator and its parameters.
    rng : numpy.random.Generator
        The only source of randomness.
    """
    n = pop.n
    weights = None
    if cfg.kind == "complete":
        empty = np.empty(0, np.int32)
        return Network(n, np.zeros(n + 1, np.int64), empty, np.empty(0, np.float32), True)
    if cfg.kind == "erdos_renyi":
        src, dst = erdos_renyi(n, cfg.mean_degree, rng)
    elif cfg.kind == "watts_strogatz":
        src, dst = watts_strogatz(n, cfg.mean_degree, cfg.rewire_p, rng)
    elif cfg.kind == "ring_lattice":
        src, dst = ring_lattice(n, cfg.mean_degree)
    elif cfg.kind == "barabasi_albert":
        src, dst = barabasi_albert(n, cfg.mean_degree, rng)
    elif cfg.kind == "edgelist":
        src, dst, weights = read_edgelist(cfg.edgelist, n)
    else:
        # Sorted distinct ties already: straight to CSR, without endpoint arrays or a sort.
        if cfg.kind == "stochastic_block":
            keys = stochastic_block_keys(pop, cfg.mean_degree, cfg.within_share, rng)
        else:
            keys = neighbourhood_keys(pop, cfg, rng)
        return from_keys(n, keys, _tie_weights(cfg, keys.shape[0], rng))
    if weights is None:
        weights = _tie_weights(cfg, src.shape[0], rng)
    return from_edges(n, src, dst, weights)


def _tie_weights(cfg: NetworkConfig, count: int, rng: np.random.Generator) -> np.ndarray:
    """Weights of ``count`` ties: uniform on ``[weight_min, 1)`` for ``weights = "random"``,
    else ones. Drawn a chunk at a time into float32 (the same values as one float64 draw
    cast afterwards)."""
    w = np.ones(count, np.float32)
    if cfg.weights == "random":
        for s in range(0, count, CHUNK):
            w[s : s + CHUNK] = rng.uniform(cfg.weight_min, 1.0, min(CHUNK, count - s))
    return w


def ball(net: Network, start: int, size: int) -> np.ndarray:
    """The ``size`` households nearest to ``start`` by hops (breadth-first, ties by id).

    Used to seed a cluster of initial adopters (Centola & Macy seed a node and its contacts).
    """
    if net.complete:
        others = np.delete(np.arange(net.n), start)
        return np.concatenate([[start], others[: max(size - 1, 0)]])
    seen = np.zeros(net.n, bool)
    seen[start] = True
    order = [np.array([start])]
    frontier = order[0]
    total = 1
    while total < size and frontier.size:
        starts, ends = net.indptr[frontier], net.indptr[frontier + 1]
        lengths = ends - starts
        pos = np.repeat(starts - np.cumsum(lengths) + lengths, lengths) + np.arange(lengths.sum())
        nxt = np.unique(net.indices[pos])
        nxt = nxt[~seen[nxt]]
        seen[nxt] = True
        order.append(nxt)
        total += nxt.size
        frontier = nxt
    return np.concatenate(order)[:size]
