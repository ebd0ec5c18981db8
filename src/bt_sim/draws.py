"""Common random numbers: every random number a function of (seed, stream, step, counter).

Each uniform is a counter-based hash (splitmix64's mixer, applied twice) of the stream's
64-bit key, the step and a counter, so nothing is drawn in sequence and nothing depends on how
many other numbers were drawn. With common random numbers (``run.crn = true``, the default)
each decision has its own stream (:data:`bt_sim.streams.STREAMS`) and the counter names what
is decided: the household (``i``), or the household and behaviour (``i * b_count + b``). A
household's draw for a decision at a step is then the same in two scenarios whatever else
differs, so a change in one mechanism leaves every other household's draws untouched, and
paired comparisons need far fewer runs (Klein et al. 2024; Starsim's ``distributions``).

With ``run.crn = false`` every decision draws from one ``dynamics`` stream in turn: the
counter runs on from decision to decision within a step, as with a single sequential
generator, so one decision drawing more shifts every later draw (for comparison, and the scheme
of earlier versions).

A normal number is made from its counter's 64 bits by the ziggurat method (Marsaglia and Tsang
2000): in about 99 % of draws a table look-up, a multiplication and a comparison; the rest take
further words from splitmix64 seeded by those bits. One counter, one normal.

Adoption draws compose each pair's uniform from the leading bits in a hash shared by a block of
a household's behaviours and trailing bits of its own (:func:`pair_uniform`), so the adoption
kernel can rule out most pairs, whose chance of adopting is small, from one hash per household.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from bt_sim.streams import Streams

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_ODD = np.uint64(0xD1B54A32D192ED03)


@njit(cache=True, nogil=True, inline="always")
def _mix(x):
    """splitmix64's finaliser: a bijective, well-mixing map of 64-bit integers."""
    x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


@njit(cache=True, nogil=True, inline="always")
def step_bits(key, step):
    """The part of :func:`_hash` shared by every counter of a step (a kernel makes it once)."""
    return _mix(key + _GOLDEN * np.uint64(step + 1))


@njit(cache=True, nogil=True, inline="always")
def counter_bits(stepped, counter):
    """The 64 random bits of ``counter`` under ``stepped = step_bits(key, step)``."""
    return _mix(stepped ^ (np.uint64(counter) * _ODD + np.uint64(1)))


@njit(cache=True, nogil=True, inline="always")
def _hash(key, step, counter):
    """The 64 random bits of ``(key, step, counter)``."""
    return counter_bits(step_bits(key, step), counter)


@njit(cache=True, nogil=True, inline="always")
def uniform(key, step, counter):
    """The uniform in [0, 1) of ``(key, step, counter)`` (53 random bits)."""
    return (_hash(key, step, counter) >> np.uint64(11)) * (1.0 / 9007199254740992.0)


#: Adoption draws of a household's behaviours share hashes: one per block of ``PAIR_SLOTS``
#: behaviours, whose 64 bits hold the leading ``PAIR_BITS`` bits of each pair's uniform
#: (:func:`pair_uniform`).
PAIR_SLOTS = 5
PAIR_BITS = 12
PAIR_MASK = np.uint64((1 << PAIR_BITS) - 1)
_FINE = np.uint64(0x5851F42D4C957F2D)


@njit(cache=True, nogil=True, inline="always")
def pair_blocks(nb):
    """Hashes per household for ``nb`` behaviours: one per block of :data:`PAIR_SLOTS`."""
    return (nb + PAIR_SLOTS - 1) // PAIR_SLOTS


@njit(cache=True, nogil=True, inline="always")
def pair_lead(word, b):
    """The leading bits of behaviour ``b``'s uniform (an int64 below ``2^PAIR_BITS``), from
    its block's hash ``word``."""
    return np.int64((word >> np.uint64(PAIR_BITS * (b % PAIR_SLOTS))) & PAIR_MASK)


@njit(cache=True, nogil=True, inline="always")
def pair_word(stepped, i, b, nb):
    """The hash of household ``i``'s block of behaviours that holds ``b``
    (``stepped = step_bits(key, step)``)."""
    return counter_bits(stepped, i * pair_blocks(nb) + b // PAIR_SLOTS)


@njit(cache=True, nogil=True, inline="always")
def pair_fine(key, step):
    """``step_bits`` of the pairs' trailing bits: a stream of its own, derived from ``key``."""
    return step_bits(_mix(key ^ _FINE), step)


@njit(cache=True, nogil=True, inline="always")
def pair_finish(fine, i, b, nb, lead):
    """The uniform in [0, 1) (53 bits) of pair ``(i, b)`` whose leading ``PAIR_BITS`` bits
    are ``lead``; the others come from counter ``i * nb + b`` under ``fine``
    (:func:`pair_fine`)."""
    bits = counter_bits(fine, i * nb + b) >> np.uint64(11 + PAIR_BITS)
    bits |= np.uint64(lead) << np.uint64(53 - PAIR_BITS)
    return bits * (1.0 / 9007199254740992.0)


@njit(cache=True, nogil=True, inline="always")
def pair_uniform(key, step, i, b, nb):
    """The uniform of household ``i`` and behaviour ``b`` (of ``nb``) at ``step``.

    Its leading :data:`PAIR_BITS` bits are slot ``b % PAIR_SLOTS`` of the hash at counter
    ``i * blocks + b // PAIR_SLOTS`` (``blocks = ceil(nb / PAIR_SLOTS)``); the others are
    those of counter ``i * nb + b`` under a key derived from ``key`` (:func:`pair_fine`). So
    a decision whose chance is below ``x`` is ruled out by the leading bits alone wherever
    they are at least ``x * 2^PAIR_BITS``: one hash rules out a household's five behaviours,
    and the full uniform is made only for the few pairs left. The pairs' numbers are
    independent and exactly uniform, and depend on nothing but (key, step, i, b).
    """
    lead = pair_lead(pair_word(step_bits(key, step), i, b, nb), b)
    return pair_finish(pair_fine(key, step), i, b, nb, lead)


@njit(cache=True, nogil=True)
def pair_uniforms(key, step, n, nb):
    """The uniforms of every household-behaviour pair, shape ``(n, nb)``
    (:func:`pair_uniform`)."""
    out = np.empty((n, nb), np.float64)
    for i in range(n):
        for b in range(nb):
            out[i, b] = pair_uniform(key, step, i, b, nb)
    return out


def _ziggurat_tables(layers: int = 256, r: float = 3.6541528853610088, v: float = 0.00492867323399):
    """Marsaglia and Tsang's (2000) ziggurat for the half normal ``exp(-x^2 / 2)``: ``layers``
    layers of area ``v`` each, the base one reaching into the tail beyond ``r``. Returns, per
    layer, the scale ``w`` of 52-bit integers to ``x``, the integer bound ``k`` below which
    ``x`` lies inside the next layer's width (accepted at once), and the density ``f`` at the
    layer's edge."""
    m = float(1 << 52)
    k = np.zeros(layers, np.uint64)
    w = np.zeros(layers)
    f = np.zeros(layers)
    dn = tn = r
    q = v / np.exp(-0.5 * dn * dn)
    k[0] = np.uint64(dn / q * m)
    w[0], w[-1] = q / m, dn / m
    f[0], f[-1] = 1.0, np.exp(-0.5 * dn * dn)
    for i in range(layers - 2, 0, -1):
        dn = np.sqrt(-2.0 * np.log(v / dn + np.exp(-0.5 * dn * dn)))
        k[i + 1] = np.uint64(dn / tn * m)
        tn = dn
        f[i] = np.exp(-0.5 * dn * dn)
        w[i] = dn / m
    return w, k, f


_ZIG_W, _ZIG_K, _ZIG_F = _ziggurat_tables()
_ZIG_R = 3.6541528853610088
_MASK52 = np.uint64((1 << 52) - 1)


@njit(cache=True, nogil=True, inline="always")
def _open_uniform(bits):
    """A uniform in (0, 1) from the top 53 bits of ``bits``."""
    return ((bits >> np.uint64(11)) + 0.5) * (1.0 / 9007199254740992.0)


@njit(cache=True, nogil=True)
def _ziggurat_slow(bits):
    """The rare ends of :func:`normal_of_bits` (about 1 % of draws): the wedges of the layers
    and the tail beyond ``r``, with further 64-bit words from splitmix64 seeded by ``bits``."""
    state = bits
    while True:
        layer = bits & np.uint64(0xFF)
        neg = (bits >> np.uint64(8)) & np.uint64(1)
        mag = (bits >> np.uint64(9)) & _MASK52
        x = mag * _ZIG_W[layer]
        if mag < _ZIG_K[layer]:
            return -x if neg else x
        state += _GOLDEN
        extra = _mix(state)
        if layer == 0:  # the tail beyond r: Marsaglia's (1964) exponential method
            while True:
                xx = -np.log(_open_uniform(extra)) / _ZIG_R
                state += _GOLDEN
                yy = -np.log(_open_uniform(_mix(state)))
                if yy + yy > xx * xx:
                    return -(_ZIG_R + xx) if neg else _ZIG_R + xx
                state += _GOLDEN
                extra = _mix(state)
        u = _open_uniform(extra)
        if _ZIG_F[layer] + u * (_ZIG_F[layer - 1] - _ZIG_F[layer]) < np.exp(-0.5 * x * x):
            return -x if neg else x
        state += _GOLDEN
        bits = _mix(state)  # rejected: a fresh word


@njit(cache=True, nogil=True, inline="always")
def normal_of_bits(bits):
    """The standard normal of a 64-bit hash by the ziggurat (Marsaglia and Tsang 2000; 256
    layers): bits 0-7 pick a layer, bit 8 the sign and bits 9-60 the magnitude; about 99 %
    of draws are a multiplication and a comparison, the rest go to :func:`_ziggurat_slow`."""
    layer = bits & np.uint64(0xFF)
    mag = (bits >> np.uint64(9)) & _MASK52
    if mag < _ZIG_K[layer]:
        x = mag * _ZIG_W[layer]
        return -x if (bits >> np.uint64(8)) & np.uint64(1) else x
    return _ziggurat_slow(bits)


@njit(cache=True, nogil=True, inline="always")
def normal(key, step, counter):
    """The standard normal of ``(key, step, counter)``: :func:`normal_of_bits` of the
    counter's hash. Exactly normal (up to the ziggurat's 52-bit resolution), one counter each."""
    return normal_of_bits(_hash(key, step, counter))


@njit(cache=True, nogil=True, inline="always")
def normals_into(stepped, first, m, bits, out):
    """``out[r]`` = the standard normal of counter ``first + r`` under ``stepped =
    step_bits(key, step)`` for ``r < m`` (as :func:`normal`): the hashes in one loop, the
    ziggurat's common case in another (both without a branch, so the compiler vectorises
    them), then the rare draws that need more (about 1 %) one by one. ``bits`` is uint64 work
    space of length ``m`` or more."""
    for r in range(m):
        bits[r] = counter_bits(stepped, first + r)
    rare = False
    for r in range(m):
        word = bits[r]
        layer = word & np.uint64(0xFF)
        mag = (word >> np.uint64(9)) & _MASK52
        x = mag * _ZIG_W[layer]
        out[r] = -x if (word >> np.uint64(8)) & np.uint64(1) else x
        rare |= mag >= _ZIG_K[layer]
    if rare:
        for r in range(m):
            word = bits[r]
            if ((word >> np.uint64(9)) & _MASK52) >= _ZIG_K[word & np.uint64(0xFF)]:
                out[r] = _ziggurat_slow(word)


@njit(cache=True, nogil=True)
def uniforms(key, step, counters):
    """Uniforms for an array of counters."""
    out = np.empty(counters.shape[0], np.float64)
    for k in range(counters.shape[0]):
        out[k] = uniform(key, step, counters[k])
    return out


@njit(cache=True, nogil=True)
def normals(key, step, counters):
    """Standard normals for an array of counters."""
    out = np.empty(counters.shape[0], np.float64)
    for k in range(counters.shape[0]):
        out[k] = normal(key, step, counters[k])
    return out


class Draws:
    """The random numbers of one replicate's dynamics.

    Parameters
    ----------
    streams : Streams
        The replicate's named streams (their seeds give the keys).
    crn : bool
        Common random numbers (one stream per decision, counters by household) or one
        sequential ``dynamics`` stream.

    Notes
    -----
    :meth:`take` gives a kernel what it needs to draw for itself: the key, the base of the
    counter and whether counters run in sequence (then the caller reports how many it used
    with :meth:`used`). :meth:`uniform` and :meth:`normal` draw for index arrays directly.
    """

    def __init__(self, streams: Streams, crn: bool = True):
        self.crn = crn
        self._keys = {}
        self._streams = streams
        self.offset = 0
        self._step = -1

    def key(self, name: str) -> np.uint64:
        """The 64-bit key of stream ``name`` (``dynamics`` for every decision without CRN)."""
        name = name if self.crn else "dynamics"
        k = self._keys.get(name)
        if k is None:
            k = self._keys[name] = np.uint64(
                self._streams.sequence(name).generate_state(1, np.uint64)[0]
            )
        return k

    def take(self, name: str, step: int) -> tuple[np.uint64, int, bool]:
        """``(key, base, sequential)`` for a decision at ``step``."""
        if step != self._step:
            self._step, self.offset = step, 0
        return self.key(name), self.offset, not self.crn

    def used(self, count: int) -> None:
        """Advance the sequential counter by ``count`` draws (no effect with CRN)."""
        if not self.crn:
            self.offset += int(count)

    def _counters(self, name: str, step: int, index: np.ndarray) -> tuple[np.uint64, np.ndarray]:
        key, base, sequential = self.take(name, step)
        if sequential:
            counters = base + np.arange(index.shape[0], dtype=np.int64)
            self.used(index.shape[0])
        else:
            counters = index.astype(np.int64)
        return key, counters

    def uniform(self, name: str, step: int, index: np.ndarray) -> np.ndarray:
        """One uniform per entry of ``index`` (households or household-behaviour pairs)."""
        key, counters = self._counters(name, step, index)
        return uniforms(key, step, counters)

    def normal(self, name: str, step: int, index: np.ndarray) -> np.ndarray:
        """One standard normal per entry of ``index``."""
        key, counters = self._counters(name, step, index)
        return normals(key, step, counters)
