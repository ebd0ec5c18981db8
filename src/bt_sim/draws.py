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

Normal numbers come in Box-Muller pairs: counters ``2p`` and ``2p + 1`` share the two
uniforms of pair ``p`` (the cosine and the sine half), which are still a function of the
counter alone.
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
def uniform(key, step, counter):
    """The uniform in [0, 1) of ``(key, step, counter)`` (53 random bits)."""
    h = _mix(key + _GOLDEN * np.uint64(step + 1))
    h = _mix(h ^ (np.uint64(counter) * _ODD + np.uint64(1)))
    return (h >> np.uint64(11)) * (1.0 / 9007199254740992.0)


@njit(cache=True, nogil=True, inline="always")
def normal_pair(key, step, pair):
    """The two standard normals of counters ``2 pair`` and ``2 pair + 1`` (Box-Muller)."""
    u1 = 1.0 - uniform(key, step, 2 * pair)  # in (0, 1]
    u2 = uniform(key, step, 2 * pair + 1)
    r = np.sqrt(-2.0 * np.log(u1))
    a = 2.0 * np.pi * u2
    return r * np.cos(a), r * np.sin(a)


@njit(cache=True, nogil=True, inline="always")
def normal(key, step, counter):
    """The standard normal of ``(key, step, counter)``: the cosine (even counter) or sine (odd)
    half of the Box-Muller pair of ``counter // 2``."""
    c, s = normal_pair(key, step, counter >> 1)
    return c if counter % 2 == 0 else s


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
