"""Construction draws keyed by entity: every number a function of (seed, stream, entity).

The dynamics draw counter-based numbers by (stream, step, household) (:mod:`bt_sim.draws`);
construction does the same with :class:`Keyed`: a stream's key, a named sub-stream for each
attribute or decision (``keyed.sub("income")``) and the entity's index (a household, a
neighbourhood) as the counter. Nothing is drawn in sequence, so a change that touches a few
households, or draws more numbers for them, leaves every other household's numbers as they
were: adding a collective moves no other collective, its founders or anyone's initial state.

A uniform or a normal is one hash of its counter (the ziggurat of :mod:`bt_sim.draws`); a
Poisson count is the inverse of its distribution function at the entity's uniform (so a larger
mean never gives anyone a smaller count); a Beta number takes a short run of words from
splitmix64 seeded by the entity's hash (Marsaglia and Tsang's (2000) gamma method), so how many
words one entity needs changes nobody else's.

Examples
--------
>>> k = Keyed(7).sub("income")
>>> bool((k.uniform(5)[:3] == k.uniform(3)).all())  # an entity's number is its own
True
"""

from __future__ import annotations

import zlib

import numpy as np
from numba import njit

from bt_sim.draws import _GOLDEN, _hash, _mix, _open_uniform, normal_of_bits

#: The step at which construction draws (the dynamics count steps from 1).
CONSTRUCTION = -1


@njit(cache=True, nogil=True)
def _uniform_range(key, n):
    out = np.empty(n, np.float64)
    for i in range(n):
        out[i] = (_hash(key, CONSTRUCTION, i) >> np.uint64(11)) * (1.0 / 9007199254740992.0)
    return out


@njit(cache=True, nogil=True)
def _uniform_at(key, index):
    out = np.empty(index.shape[0], np.float64)
    for k in range(index.shape[0]):
        bits = _hash(key, CONSTRUCTION, index[k])
        out[k] = (bits >> np.uint64(11)) * (1.0 / 9007199254740992.0)
    return out


@njit(cache=True, nogil=True)
def _normal_range(key, n):
    out = np.empty(n, np.float64)
    for i in range(n):
        out[i] = normal_of_bits(_hash(key, CONSTRUCTION, i))
    return out


@njit(cache=True, nogil=True)
def _poisson_range(key, lam, n, cap):
    """Poisson(``lam``) counts capped at ``cap``, each the inverse distribution function at
    the entity's uniform."""
    out = np.empty(n, np.int64)
    base = np.exp(-lam)
    for i in range(n):
        u = (_hash(key, CONSTRUCTION, i) >> np.uint64(11)) * (1.0 / 9007199254740992.0)
        k = 0
        p = base
        cum = p
        while u >= cum and k < cap:
            k += 1
            p *= lam / k
            cum += p
        out[i] = k
    return out


@njit(cache=True, nogil=True, inline="always")
def _next(state):
    state += _GOLDEN
    return state, _mix(state)


@njit(cache=True, nogil=True)
def _gamma(state, shape):
    """A Gamma(``shape``, 1) number from the words after ``state`` (Marsaglia and Tsang 2000;
    ``shape < 1`` by the boost ``Gamma(shape + 1) * U^(1 / shape)``). Returns (state, x)."""
    boost = shape < 1.0
    d = (shape + 1.0 if boost else shape) - 1.0 / 3.0
    c = 1.0 / np.sqrt(9.0 * d)
    while True:
        state, bits = _next(state)
        x = normal_of_bits(bits)
        v = 1.0 + c * x
        if v <= 0.0:
            continue
        v = v * v * v
        state, bits = _next(state)
        u = _open_uniform(bits)
        if np.log(u) < 0.5 * x * x + d - d * v + d * np.log(v):
            g = d * v
            break
    if boost:
        state, bits = _next(state)
        g *= _open_uniform(bits) ** (1.0 / shape)
    return state, g


@njit(cache=True, nogil=True)
def _beta_range(key, a, b):
    n = a.shape[0]
    out = np.empty(n, np.float64)
    for i in range(n):
        state = _hash(key, CONSTRUCTION, i)
        state, x = _gamma(state, a[i])
        state, y = _gamma(state, b[i])
        out[i] = x / (x + y) if x + y > 0.0 else 0.5
    return out


_M64 = (1 << 64) - 1


def _mix_int(x: int) -> int:
    """splitmix64's finaliser on a Python int (the same map as :func:`bt_sim.draws._mix`)."""
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _M64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _M64
    return x ^ (x >> 31)


class Keyed:
    """A stream of construction numbers, one per entity.

    Parameters
    ----------
    key : int
        The stream's 64-bit key (from its seed sequence: :meth:`of`).
    """

    def __init__(self, key: int | np.uint64):
        self.key = np.uint64(key)

    @classmethod
    def of(cls, source: np.random.SeedSequence | np.random.Generator | Keyed) -> Keyed:
        """The keyed stream of a seed sequence, of a generator (its next 64 bits), or itself."""
        if isinstance(source, Keyed):
            return source
        if isinstance(source, np.random.SeedSequence):
            return cls(source.generate_state(1, np.uint64)[0])
        if isinstance(source, np.random.Generator):
            return cls(source.integers(0, 2**64, dtype=np.uint64))
        raise TypeError(f"need a SeedSequence, a Generator or a Keyed stream, got {source!r}")

    def sub(self, name: str) -> Keyed:
        """The sub-stream ``name`` (an attribute, a decision, a behaviour's name)."""
        name_bits = ((zlib.crc32(name.encode()) + 1) * 0xD1B54A32D192ED03) & _M64
        return Keyed(_mix_int(_mix_int(int(self.key) ^ name_bits)))

    def uniform(self, n: int) -> np.ndarray:
        """Uniforms in [0, 1) of entities ``0 .. n - 1``."""
        return _uniform_range(self.key, int(n))

    def uniform_at(self, index: np.ndarray) -> np.ndarray:
        """Uniforms of the entities ``index`` (the same numbers as ``uniform(n)[index]``).

        >>> k = Keyed(3)
        >>> bool((k.uniform_at(np.array([4, 1])) == k.uniform(5)[[4, 1]]).all())
        True
        """
        return _uniform_at(self.key, np.ascontiguousarray(index, np.int64))

    def normal(self, n: int) -> np.ndarray:
        """Standard normals of entities ``0 .. n - 1``."""
        return _normal_range(self.key, int(n))

    def poisson(self, lam: float, n: int, cap: int) -> np.ndarray:
        """Poisson(``lam``) counts of entities ``0 .. n - 1``, capped at ``cap``; monotone in
        ``lam`` for every entity."""
        return _poisson_range(self.key, float(max(lam, 0.0)), int(n), int(cap))

    def beta(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Beta(``a[i]``, ``b[i]``) numbers of entities ``0 .. len(a) - 1``."""
        a = np.ascontiguousarray(a, np.float64)
        b = np.ascontiguousarray(np.broadcast_to(b, a.shape), np.float64)
        return _beta_range(self.key, a, b)


def smallest(keys: np.ndarray, candidates: np.ndarray, count: int) -> np.ndarray:
    """The ``count`` candidates with the smallest ``keys`` (ties by index), in increasing key.

    Nested in ``count``: a larger count adds candidates and keeps these, in the same order.

    >>> smallest(np.array([0.5, 0.1, 0.9, 0.3]), np.arange(4), 2).tolist()
    [1, 3]
    """
    count = min(int(count), candidates.size)
    if count <= 0:
        return candidates[:0]
    k = keys[candidates]
    if count < candidates.size:
        part = np.argpartition(k, count - 1)[:count]
    else:
        part = np.arange(candidates.size)
    chosen = candidates[part]
    return chosen[np.lexsort((chosen, keys[chosen]))]
