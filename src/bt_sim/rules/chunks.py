"""Building blocks of the kernels that work on a chunk of households at a time.

A kernel that walks every household each step (measuring, recording, packing role codes) runs
fastest as a few short loops over a chunk of a few hundred households, each simple enough for
the compiler to turn into vector instructions, with the chunk's intermediate values in small
buffers that stay in the first-level cache. These are such loops:

* :func:`row_masks`: each household's row of a boolean matrix (its behaviours) as a bit mask,
  read eight bytes at a time (a row of up to eight behaviours spans at most two aligned
  words), so that a table indexed by the mask replaces a loop over behaviours;
* :func:`exp_into`: the exponential of a chunk of numbers, by range reduction and a
  polynomial, within 2 units in the last place of ``numpy.exp`` (the tests check it over a wide
  range; values beyond +-700 and NaN go to ``numpy.exp`` itself).

Each returns exactly what the scalar loop it replaces returns (the masks), or says how close it
is (the exponential).
"""

from __future__ import annotations

import numpy as np
from numba import njit

#: Households a chunk holds.
CHUNK = 512

#: Behaviours up to which :func:`row_masks` reads a row from two 64-bit words.
WORD_ROWS_MAX = 8


@njit(cache=True, nogil=True, inline="always")
def byte_words(flags):
    """The bytes of the C-contiguous boolean array ``flags`` as 64-bit words (the last bytes,
    which do not fill a word, left out)."""
    flat = flags.reshape(-1).view(np.uint8)
    return flat[: (flat.shape[0] // 8) * 8].view(np.uint64)


@njit(cache=True, nogil=True, inline="always")
def mask_constants(nb):
    """``(bytes, multiplier)`` of :func:`row_masks` for rows of ``nb`` (at most 8) flags: the
    low bit of each of the row's bytes, and the multiplier that gathers bit ``b`` of byte ``b``
    into bit ``56 + b`` (every partial product lands on a bit of its own, so nothing carries)."""
    low = np.uint64(0)
    mult = np.uint64(0)
    for b in range(nb):
        low |= np.uint64(1) << np.uint64(8 * b)
        mult |= np.uint64(1) << np.uint64(56 - 7 * b)
    return low, mult


@njit(cache=True, nogil=True, inline="always")
def word_rows(nb, words):
    """Rows of ``nb`` flags whose bytes lie within ``words`` and the word after their first
    (:func:`row_masks` reads these two words)."""
    return max(0, (8 * (words.shape[0] - 1)) // nb) if nb else 0


@njit(cache=True, nogil=True, inline="always")
def row_masks(flags, words, start, stop, out):
    """``out[r]`` = the bit mask of row ``start + r`` of the boolean matrix ``flags`` (bit ``b``
    set where ``flags[i, b]``), for the rows ``start`` to ``stop``; ``words`` is
    :func:`byte_words` of ``flags``. Rows of up to :data:`WORD_ROWS_MAX` flags are read from the
    two aligned words that hold them, in a loop without a branch; other rows byte by byte."""
    nb = flags.shape[1]
    m = stop - start
    if nb == 1:  # a row is a byte
        column = flags[start:stop, 0]
        for r in range(m):
            out[r] = np.int64(column[r])
        return
    split = 0  # rows of the chunk read from words (indices unsigned: no test for negatives)
    if nb <= WORD_ROWS_MAX:
        split = min(m, max(0, word_rows(nb, words) - start))
        low, mult = mask_constants(nb)
        width = np.uint64(nb)
        first = np.uint64(start)
        for r in range(split):
            p = width * (first + np.uint64(r))
            q = p >> np.uint64(3)
            off = (p & np.uint64(7)) << np.uint64(3)
            row = (words[q] >> off) | (
                (words[q + np.uint64(1)] << (np.uint64(63) - off)) << np.uint64(1)
            )
            out[r] = np.int64(((row & low) * mult) >> np.uint64(56))
    for r in range(split, m):
        a = 0
        for b in range(nb):
            a |= np.int64(flags[start + r, b]) << b
        out[r] = a


#: Range reduction of :func:`exp_into`: ``log2(e)`` and ``ln(2)`` split into a head whose
#: product with a small integer is exact and a tail (as in fdlibm).
_LOG2E = 1.4426950408889634
_LN2_HI = 6.93147180369123816490e-01
_LN2_LO = 1.90821492927058770002e-10
_EXP_LIMIT = 700.0


@njit(cache=True, nogil=True, inline="always")
def exp_into(y, out, m, scale):
    """``out[:m] = exp(y[:m])``; ``scale`` is an int64 work array of length ``m`` or more.

    ``y = k ln 2 + r`` with ``|r| <= ln(2) / 2``; ``exp(r)`` by its Taylor polynomial of degree
    13 (truncation below 1e-18), ``2^k`` from its bits. Within 2 units in the last place of
    ``numpy.exp``; an entry beyond +-700, or NaN, is ``numpy.exp`` of it.
    """
    twos = scale.view(np.float64)
    far = False
    for r in range(m):
        x = y[r]
        far |= not (abs(x) <= _EXP_LIMIT)
        x = min(max(x, -_EXP_LIMIT), _EXP_LIMIT)
        k = np.floor(x * _LOG2E + 0.5)
        k = k if k == k else 0.0  # NaN: fixed below
        t = (x - k * _LN2_HI) - k * _LN2_LO
        p = 1.0 / 479001600.0 + t * (1.0 / 6227020800.0)
        p = 1.0 / 39916800.0 + t * p
        p = 1.0 / 3628800.0 + t * p
        p = 1.0 / 362880.0 + t * p
        p = 1.0 / 40320.0 + t * p
        p = 1.0 / 5040.0 + t * p
        p = 1.0 / 720.0 + t * p
        p = 1.0 / 120.0 + t * p
        p = 1.0 / 24.0 + t * p
        p = 1.0 / 6.0 + t * p
        p = 0.5 + t * p
        out[r] = 1.0 + t * (1.0 + t * p)
        scale[r] = (np.int64(k) + 1023) << 52
    for r in range(m):
        out[r] *= twos[r]
    if far:
        for r in range(m):
            if not (abs(y[r]) <= _EXP_LIMIT):
                out[r] = np.exp(y[r])
