"""Social networks as compressed sparse rows, built straight from arrays.

Every generator returns a :class:`Network`; none goes through networkx objects, so a million
households build in seconds. :meth:`Network.to_networkx` gives a graph for users who want one.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import scipy.sparse as sp

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
        return sp.csr_array((self.weights, self.indices, self.indptr), shape=(self.n, self.n))

    def pattern(self) -> sp.csr_array:
        """The unweighted adjacency matrix (ones where a tie exists)."""
        ones = np.ones_like(self.weights)
        return sp.csr_array((ones, self.indices, self.indptr), shape=(self.n, self.n))

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
            zip(rows[keep].tolist(), self.indices[keep].tolist(), self.weights[keep].tolist(),
                strict=True)
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
    lo, hi, w = np.minimum(src, dst)[keep], np.maximum(src, dst)[keep], w[keep]
    key = lo * n + hi
    key, first = np.unique(key, return_index=True)
    lo, hi, w = key // n, key % n, w[first]
    rows = np.concatenate([lo, hi])
    cols = np.concatenate([hi, lo])
    ww = np.concatenate([w, w])
    order = np.lexsort((cols, rows))
    rows, cols, ww = rows[order], cols[order], ww[order]
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=n), out=indptr[1:])
    index_type = np.int32 if n < 2**31 else np.int64
    return Network(n, indptr, cols.astype(index_type), ww.astype(np.float32))


def erdos_renyi(n: int, mean_degree: float, rng: np.random.Generator) -> tuple:
    """Endpoints of a G(n, p) random graph with ``p = mean_degree / (n - 1)``."""
    m = rng.binomial(n * (n - 1) // 2, min(mean_degree / max(n - 1, 1), 1.0))
    if n > 1 and m > 0.3 * n * (n - 1) / 2:  # dense: draw every pair
        i, j = np.triu_indices(n, 1)
        keep = rng.random(i.shape[0]) < mean_degree / (n - 1)
        return i[keep], j[keep]
    src, dst = np.empty(0, np.int64), np.empty(0, np.int64)
    while True:  # draw pairs until m distinct ties; duplicates are rare in sparse graphs
        need = m - _distinct_ties(src, dst, n)
        if need <= 0:
            break
        a, b = rng.integers(0, n, (2, int(need * 1.05) + 8))
        src, dst = np.concatenate([src, a]), np.concatenate([dst, b])
    lo, hi = np.minimum(src, dst), np.maximum(src, dst)
    keep = lo != hi
    key = np.unique(lo[keep] * n + hi[keep])
    key = rng.permutation(key)[:m]
    return key // n, key % n


def _distinct_ties(src: np.ndarray, dst: np.ndarray, n: int) -> int:
    lo, hi = np.minimum(src, dst), np.maximum(src, dst)
    keep = lo != hi
    return int(np.unique(lo[keep] * n + hi[keep]).shape[0])


def ring_lattice(n: int, mean_degree: float) -> tuple:
    """A ring where each household is tied to its ``mean_degree / 2`` nearest on each side."""
    half = max(int(round(mean_degree / 2)), 0)
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
    m = max(int(round(mean_degree / 2)), 1)
    if n <= m + 1:
        i, j = np.triu_indices(n, 1)
        return i, j
    core_i, core_j = np.triu_indices(m + 1, 1)
    n_core = core_i.shape[0]
    new_src = np.repeat(np.arange(m + 1, n, dtype=np.int64), m)
    src = np.concatenate([core_i.astype(np.int64), new_src])
    e = src.shape[0]
    dst = np.full(e, -1, dtype=np.int64)
    dst[:n_core] = core_j
    pointer = np.arange(e, dtype=np.int64)
    idx = np.arange(n_core, e)
    # Ties created by the same newcomer may only copy ties made before that newcomer.
    first_of_node = n_core + (idx - n_core) // m * m
    pick = (rng.random(idx.shape[0]) * first_of_node).astype(np.int64)
    take_source = rng.random(idx.shape[0]) < 0.5
    dst[idx[take_source]] = src[pick[take_source]]
    pointer[idx[~take_source]] = pick[~take_source]
    unresolved = dst < 0
    while unresolved.any():
        tgt = pointer[unresolved]
        dst[unresolved] = dst[tgt]
        pointer[unresolved] = pointer[tgt]
        unresolved = dst < 0
    return src, dst


def _block_partner(i: np.ndarray, bounds: np.ndarray, block: np.ndarray,
                   rng: np.random.Generator) -> np.ndarray:
    b = block[i]
    start, size = bounds[b], bounds[b + 1] - bounds[b]
    return start + (rng.random(i.shape[0]) * size).astype(np.int64)


def stochastic_block(pop: Population, mean_degree: float, within: float,
                     rng: np.random.Generator) -> tuple:
    """Neighbourhoods as blocks: a share ``within`` of ties falls inside a household's block."""
    n = pop.n
    m = int(round(n * mean_degree / 2))
    m_in = rng.binomial(m, within)
    bounds = pop.neighbourhood_bounds()
    i_in = rng.integers(0, n, m_in)
    j_in = _block_partner(i_in, bounds, pop.neighbourhood, rng)
    i_out, j_out = rng.integers(0, n, (2, m - m_in))
    cross = pop.neighbourhood[i_out] != pop.neighbourhood[j_out]
    return np.concatenate([i_in, i_out[cross]]), np.concatenate([j_in, j_out[cross]])


def neighbourhood_network(pop: Population, cfg: NetworkConfig, rng: np.random.Generator) -> tuple:
    """The default: street proximity and homophily inside neighbourhoods, a few ties across.

    Candidate ties inside a neighbourhood join households a Laplace-distributed distance apart
    along the street (scale ``locality`` of the neighbourhood's size); ties across neighbourhoods
    join random pairs. Each candidate is kept with probability ``exp(-homophily * d)``, ``d`` the
    distance between the two households' standardised attributes; candidates are over-drawn so
    the mean degree is met.
    """
    n = pop.n
    target = int(round(n * cfg.mean_degree / 2))
    feats = pop.similarity_features()
    bounds = pop.neighbourhood_bounds()
    src_parts, dst_parts, have = [], [], 0
    for _ in range(30):
        need = target - have
        if need <= 0:
            break
        draw = int(need * 2.5) + 16
        i = rng.integers(0, n, draw)
        inside = rng.random(draw) < cfg.within_share
        b = pop.neighbourhood[i]
        size = bounds[b + 1] - bounds[b]
        offset = np.rint(rng.laplace(0, np.maximum(cfg.locality * size, 1.0))).astype(np.int64)
        j_in = bounds[b] + (i - bounds[b] + offset) % size
        j_out = rng.integers(0, n, draw)
        j = np.where(inside, j_in, j_out)
        d = np.abs(feats[i] - feats[j]).mean(axis=1) if cfg.homophily > 0 else 0.0
        keep = rng.random(draw) < np.exp(-cfg.homophily * d)
        keep &= i != j
        i, j = i[keep][:need], j[keep][:need]
        src_parts.append(i)
        dst_parts.append(j)
        have += i.shape[0]
    return np.concatenate(src_parts), np.concatenate(dst_parts)


def read_edgelist(path: str | Path, n: int) -> tuple:
    """Read ``source target [weight]`` rows (comma or whitespace separated, ``#`` comments).

    Raises
    ------
    NetworkFileError
        Naming the file and row of the first bad line.
    """
    path = Path(path)
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise NetworkFileError(f"{path}: edge-list file not found") from None
    except OSError as exc:
        raise NetworkFileError(f"{path}: cannot be read: {exc.strerror}") from None
    src, dst, w = [], [], []
    for row, line in enumerate(text.splitlines(), start=1):
        line = line.split("#", 1)[0].replace(",", " ").strip()
        if not line:
            continue
        parts = line.split()
        if row == 1 and not parts[0].lstrip("-").isdigit():
            continue  # a header row
        try:
            a, b = int(parts[0]), int(parts[1])
            weight = float(parts[2]) if len(parts) > 2 else 1.0
        except (ValueError, IndexError):
            raise NetworkFileError(
                f"{path}: row {row}: expected 'source target [weight]' with integer ids, "
                f"got {line!r}") from None
        if not (0 <= a < n and 0 <= b < n):
            raise NetworkFileError(
                f"{path}: row {row}: household ids must be in [0, {n - 1}] "
                f"(population.households = {n}), got {a} {b}")
        if not 0 < weight <= 1:
            raise NetworkFileError(f"{path}: row {row}: weight must be in (0, 1], got {weight}")
        src.append(a)
        dst.append(b)
        w.append(weight)
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
    elif cfg.kind == "stochastic_block":
        src, dst = stochastic_block(pop, cfg.mean_degree, cfg.within_share, rng)
    elif cfg.kind == "edgelist":
        src, dst, weights = read_edgelist(cfg.edgelist, n)
    else:
        src, dst = neighbourhood_network(pop, cfg, rng)
    if weights is None and cfg.weights == "random":
        weights = rng.uniform(cfg.weight_min, 1.0, src.shape[0]).astype(np.float32)
    return from_edges(n, src, dst, weights)


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
