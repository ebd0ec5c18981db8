"""Common random numbers: every random number a function of (seed, stream, step, counter).

Each uniform is a counter-based hash (splitmix64's mixer, applied three times) of the stream's
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

A normal number is the inverse normal distribution function of the uniform of its counter
(Wichura's algorithm AS 241, accurate to about 1e-16): one counter, one normal, and in the
central 85 % of draws no transcendental function at all, so a normal costs little more than a
uniform.
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
def _hash(key, step, counter):
    """The 64 random bits of ``(key, step, counter)``."""
    h = _mix(key + _GOLDEN * np.uint64(step + 1))
    return _mix(h ^ (np.uint64(counter) * _ODD + np.uint64(1)))


@njit(cache=True, nogil=True, inline="always")
def uniform(key, step, counter):
    """The uniform in [0, 1) of ``(key, step, counter)`` (53 random bits)."""
    return (_hash(key, step, counter) >> np.uint64(11)) * (1.0 / 9007199254740992.0)


# Wichura's AS 241 (PPND16): numerator and denominator coefficients, highest power first, of
# the central region (|p - 1/2| <= 0.425) and of the two tail regions.
_CENTRAL_A = np.array([2509.0809287301226727, 33430.575583588128105, 67265.770927008700853,
                       45921.953931549871457, 13731.693765509461125, 1971.5909503065514427,
                       133.14166789178437745, 3.387132872796366608])  # fmt: skip
_CENTRAL_B = np.array([5226.495278852545925, 28729.085735721942674, 39307.89580009271061,
                       21213.794301586595867, 5394.1960214247511077, 687.1870074920579083,
                       42.313330701600911252, 1.0])  # fmt: skip
_NEAR_C = np.array([7.7454501427834140764e-4, 0.0227238449892691845833, 0.24178072517745061177,
                    1.27045825245236838258, 3.64784832476320460504, 5.7694972214606914055,
                    4.6303378461565452959, 1.42343711074968357734])  # fmt: skip
_NEAR_D = np.array([1.05075007164441684324e-9, 5.475938084995344946e-4, 0.0151986665636164571966,
                    0.14810397642748007459, 0.68976733498510000455, 1.6763848301838038494,
                    2.05319162663775882187, 1.0])  # fmt: skip
_FAR_E = np.array([2.01033439929228813265e-7, 2.71155556874348757815e-5, 0.0012426609473880784386,
                   0.026532189526576123093, 0.29656057182850489123, 1.7848265399172913358,
                   5.4637849111641143699, 6.6579046435011037772])  # fmt: skip
_FAR_F = np.array([2.04426310338993978564e-15, 1.4215117583164458887e-7, 1.8463183175100546818e-5,
                   7.868691311456132591e-4, 0.0148753612908506148525, 0.13692988092273580531,
                   0.59983220655588793769, 1.0])  # fmt: skip


@njit(cache=True, nogil=True, inline="always")
def _ratio(num, den, r):
    """``num(r) / den(r)`` by Horner's rule (coefficients highest power first)."""
    a = num[0]
    b = den[0]
    for k in range(1, num.shape[0]):
        a = a * r + num[k]
        b = b * r + den[k]
    return a / b


@njit(cache=True, nogil=True, inline="always")
def inverse_normal(p):
    """The standard normal quantile of ``p`` in (0, 1) (Wichura 1988, AS 241 PPND16)."""
    q = p - 0.5
    if abs(q) <= 0.425:
        return q * _ratio(_CENTRAL_A, _CENTRAL_B, 0.180625 - q * q)
    r = np.sqrt(-np.log(p if q < 0.0 else 1.0 - p))
    x = _ratio(_NEAR_C, _NEAR_D, r - 1.6) if r <= 5.0 else _ratio(_FAR_E, _FAR_F, r - 5.0)
    return -x if q < 0.0 else x


@njit(cache=True, nogil=True, inline="always")
def normal(key, step, counter):
    """The standard normal of ``(key, step, counter)``: the inverse normal distribution
    function of the open uniform ``(k + 1/2) / 2^52`` from 52 bits ``k`` of the counter's hash
    (so it is finite: ``|z| < 8.3``)."""
    k = _hash(key, step, counter) >> np.uint64(12)
    return inverse_normal((k + 0.5) * (1.0 / 4503599627370496.0))


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
