"""Tie sums: what each household's contacts show, summed over its ties, kept up to date.

Social learning reads, for every household ``i``, the tie-weighted sums ``sum_j w_ij v_jb``
of what its contacts visibly do and ``sum_j w_ij rho_j`` of their role weights
(:func:`bt_sim.rules.social.role_weights`): the product ``A @ V`` of the weighted adjacency
with the matrix ``V = [v | rho]`` of shape (n, b + 1). Recomputing that product every step
costs a pass over every tie, although most households show the same as a step before: they
neither adopted, dropped nor checked.

:class:`TieSums` keeps ``S = A @ V`` and, per household, its state as last summed packed into
one 64-bit code (success, the behaviours it performs, those of them proven). Each update packs
every household's state again (one cheap pass); for each household whose code moved it
recomputes the old and the new row of ``V`` from the two codes and adds the difference to its
contacts' sums (the network is undirected, so row ``j`` of ``A`` lists the households that see
``j``). The cost follows the households that changed and their ties, not the whole network.
Sums are held in float64, column-major (a change of one column touches one compact array), so
that additions and removals leave no drift that matters (rounding of about 1e-16 of a sum);
the tests check them against a full product. With more than :data:`PACKED_MAX` behaviours a
copy of ``V`` is kept and compared row by row instead.

Because the update compares against what was last summed, it needs no bookkeeping of who
changed: any change to the state (an intervention, a continuation, a parameter changed between
steps) is picked up at the next update.
"""

from __future__ import annotations

import numpy as np
from numba import njit

#: Behaviours up to which a household's adoption, proven behaviours and success are packed into
#: one 64-bit code, so an unchanged household is recognised by a single comparison.
PACKED_MAX = 31


#: The code of a household not yet summed.
UNSEEN = np.uint64(0xFFFFFFFFFFFFFFFF)


@njit(cache=True, nogil=True, inline="always")
def _role_row(code, nb, kj, w, row):
    """The role-matrix row of a household from its packed code (:func:`update_role_sums`)."""
    if code == UNSEEN:
        row[:] = 0.0
        return
    one = np.uint64(1)
    row[nb] = ((1.0 - w) + w * np.float64(code & one)) * kj
    for b in range(nb):
        if (code >> np.uint64(1 + b)) & one:
            proven = np.float64((code >> np.uint64(1 + nb + b)) & one)
            row[b] = ((1.0 - w) + w * proven) * kj
        else:
            row[b] = 0.0


@njit(cache=True, nogil=True, inline="always")
def _code(adopted, proven, success, j, nb):
    """Household ``j``'s packed code: success, then its behaviours, then those proven."""
    code = np.uint64(success[j])
    for b in range(nb):
        a = np.uint64(adopted[j, b])
        code |= a << np.uint64(1 + b)
        code |= (a & np.uint64(proven[j, b])) << np.uint64(1 + nb + b)
    return code


@njit(cache=True, nogil=True, error_model="numpy")
def update_role_sums(
    indptr,
    indices,
    weights,
    adopted,
    proven,
    success,
    key,
    success_weight,
    key_weight,
    old_success_weight,
    old_key_weight,
    codes,
    shown,
    sums,
    todo,
):
    """Recompute the role matrix ``V`` where it changed and add each changed row's difference
    to the contacts' ``sums``.

    ``V[j, b] = a_jb (1 - w + w proven_jb) k_j`` and ``V[j, B] = (1 - w + w success_j) k_j``
    (``k_j = key_weight`` for key figures, else 1), in float32; ``sums`` (float64) holds
    ``A @ V`` as last summed. With at most :data:`PACKED_MAX` behaviours, ``codes`` packs each
    household's success, adoption and adopted proven behaviours as last summed (the row then
    follows from the code and the weights, ``old_*`` those of the last update), and only
    households whose code or weights moved are recomputed. With more behaviours, ``shown``
    holds ``V`` as last summed and every row is compared. ``todo`` (int64, length ``n``) is
    scratch space. Returns the number of rows that changed.
    """
    n, nb = adopted.shape
    force = success_weight != old_success_weight or key_weight != old_key_weight
    w = success_weight
    row = np.empty(nb + 1, np.float32)
    old = np.empty(nb + 1, np.float32)
    delta = np.empty(nb + 1, np.float64)
    if nb <= PACKED_MAX:
        # First a pass without a branch that lists the households whose code moved (about one
        # in seven a step, at random: a branch per household would be mispredicted often).
        m = 0
        for j in range(n):
            todo[m] = j
            m += (_code(adopted, proven, success, j, nb) != codes[j]) | force
        rows = todo[:m]
    else:
        rows = np.arange(n)
    changed = 0
    for j in rows:
        kj = key_weight if key[j] else 1.0
        if nb <= PACKED_MAX:
            code = _code(adopted, proven, success, j, nb)
            before = codes[j]
            codes[j] = code
            _role_row(before, nb, old_key_weight if key[j] else 1.0, old_success_weight, old)
            _role_row(code, nb, kj, w, row)
        else:
            row[nb] = ((1.0 - w) + w * (1.0 if success[j] else 0.0)) * kj
            for b in range(nb):
                p = 1.0 if proven[j, b] else 0.0
                row[b] = ((1.0 - w) + w * p) * kj if adopted[j, b] else 0.0
            for c in range(nb + 1):
                old[c] = shown[j, c]
                shown[j, c] = row[c]
        moved = False
        for c in range(nb + 1):
            d = np.float64(row[c]) - np.float64(old[c])
            delta[c] = d
            if d != 0.0:
                moved = True
        if not moved:
            continue
        changed += 1
        lo, hi = indptr[j], indptr[j + 1]
        for c in range(nb + 1):
            d = delta[c]
            if d != 0.0:
                for e in range(lo, hi):
                    sums[indices[e], c] += np.float64(weights[e]) * d
    return changed


class TieSums:
    """``A @ V`` for a fixed undirected network, updated from the rows of ``V`` that change.

    Parameters
    ----------
    matrix : scipy.sparse.csr_array
        The (symmetric) weighted adjacency, or the unweighted pattern.
    columns : int
        Columns of ``V``: the behaviours and the role weight (``b + 1``).

    Attributes
    ----------
    sums : float64 ndarray, shape (n, columns)
        ``A @ V`` as of the last update.
    changed : int
        Rows of ``V`` that changed at the last update.

    Examples
    --------
    >>> import scipy.sparse as sp
    >>> a = sp.csr_array(np.array([[0, 1, 1], [1, 0, 0], [1, 0, 0]], dtype=np.float32))
    >>> ties = TieSums(a, 2)
    >>> adopted = np.array([[False], [True], [False]])
    >>> no = np.zeros(3, bool)
    >>> ties.update(adopted, adopted & False, no, no, 0.0, 1.0)[:, 0].tolist()
    [1.0, 0.0, 0.0]
    >>> ties.sums[:, 1].tolist()  # the role weights summed: the weighted degrees
    [2.0, 1.0, 1.0]
    """

    def __init__(self, matrix, columns: int):
        self._indptr, self._indices, self._weights = matrix.indptr, matrix.indices, matrix.data
        n = matrix.shape[0]
        packed = columns - 1 <= PACKED_MAX
        self.sums = np.zeros((n, columns), np.float64, order="F")
        self._codes = np.full(n if packed else 0, UNSEEN, np.uint64)
        self._shown = np.zeros((0 if packed else n, columns), np.float32)
        self._weights_seen = (0.0, 0.0)
        self._todo = np.empty(n if packed else 0, np.int64)
        self.changed = 0

    def update(
        self,
        adopted: np.ndarray,
        proven: np.ndarray,
        success: np.ndarray,
        key: np.ndarray,
        success_weight: float,
        key_weight: float,
    ) -> np.ndarray:
        """Bring the sums up to date with the role matrix of this state; returns ``sums``."""
        seen = (float(success_weight), float(key_weight))
        self.changed = update_role_sums(
            self._indptr,
            self._indices,
            self._weights,
            adopted,
            proven,
            success,
            key,
            *seen,
            *self._weights_seen,
            self._codes,
            self._shown,
            self.sums,
            self._todo,
        )
        self._weights_seen = seen
        return self.sums

    def copy_from(self, other: TieSums) -> None:
        """Take over another model's sums (same network): a continuation."""
        self._shown[:] = other._shown
        self.sums[:] = other.sums
        self._codes[:] = other._codes
        self._weights_seen = other._weights_seen
