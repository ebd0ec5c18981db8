"""Tie sums: what each household's contacts show, summed over its ties.

Social learning reads, for household ``i``, the tie-weighted sums ``sum_j w_ij v_jb`` of what
its contacts visibly do and ``sum_j w_ij rho_j`` of their role weights
(:func:`bt_sim.rules.social.role_weights`): row ``i`` of the product ``A @ V`` of the weighted
adjacency with the matrix ``V = [v | rho]`` of shape (n, b + 1). Two ways to get them:

* :class:`RoleCodes` (the full rule): each adopt phase packs every household's state into one
  64-bit code (success, the behaviours it performs, those of them proven, key figure), in one
  pass without a branch; a kernel that needs household ``i``'s sums decodes its contacts'
  codes along its ties (:func:`gather_role_pair`), in float64 and in
  the order of a sparse product's row. Under the full rule only households that come close to
  adopting a behaviour, or that may drop one, need their sums: a few percent a step, since the
  kernels first rule out the others from a bound with every share at 1. Nothing but the codes
  is kept, so there is no drift and no bookkeeping: any change to the state (an intervention,
  a continuation, a parameter changed between steps) is read at the next pack.
* :class:`TieSums` (the threshold and complex rules, which compare every open pair's sums
  with a threshold each step, and the full rule with more than :data:`PACKED_MAX`
  behaviours): keeps ``S = A @ V`` up to date. Each update packs every household's state
  again; for each household whose code moved it recomputes the old and the new row of ``V``
  from the two codes and adds the difference to its contacts' sums (the network is
  undirected, so row ``j`` of ``A`` lists the households that see ``j``). The cost follows the
  households that changed and their ties. Sums are held in float64, column-major, so that
  additions and removals leave no drift that matters (rounding of about 1e-16 of a sum). With
  more than :data:`PACKED_MAX` behaviours a copy of ``V`` is kept and compared row by row.
  Because the update compares against what was last summed, it also needs no bookkeeping.

The tests check both against a full product.
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
    """Household ``j``'s packed code: success, then its behaviours, then those proven (none
    without success: :func:`bt_sim.rules.social.role_weights`)."""
    ok = np.uint64(success[j])
    code = ok
    for b in range(nb):
        a = np.uint64(adopted[j, b])
        code |= a << np.uint64(1 + b)
        code |= (a & ok & np.uint64(proven[j, b])) << np.uint64(1 + nb + b)
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
        a8, p8 = adopted.view(np.uint8), proven.view(np.uint8)  # bytes load faster than bools
        for j in range(n):
            todo[m] = j
            m += (_code(a8, p8, success, j, nb) != codes[j]) | force
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
                p = 1.0 if proven[j, b] and success[j] else 0.0
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


#: Bit of a role code that marks a key figure (the codes of :class:`RoleCodes`).
KEY_BIT = np.uint64(63)


@njit(cache=True, nogil=True, error_model="numpy")
def pack_role_codes(adopted, proven, success, key, codes):
    """Every household's role code: success (bit 0), its behaviours (bits ``1..b``), those of
    them proven (bits ``b + 1..2b``; none without success, as in
    :func:`bt_sim.rules.social.role_weights`) and whether it is a key figure (bit 63); at most
    :data:`PACKED_MAX` behaviours. The same codes as :func:`_code`, with each household's
    behaviours gathered into two bit masks first (about twice as fast)."""
    n, nb = adopted.shape
    a8 = adopted.view(np.uint8)
    p8 = proven.view(np.uint8)
    zero = np.uint64(0)
    for j in range(n):
        a = zero
        pr = zero
        for b in range(nb):
            a |= np.uint64(a8[j, b]) << np.uint64(b)
            pr |= np.uint64(p8[j, b]) << np.uint64(b)
        ok = np.uint64(success[j])
        shown = a & pr & (zero - ok)  # proven counts only with success
        codes[j] = (
            ok | (a << np.uint64(1)) | (shown << np.uint64(1 + nb)) | (np.uint64(key[j]) << KEY_BIT)
        )


@njit(cache=True, nogil=True, inline="always")
def gather_role_pair(i, b, indptr, indices, weights, codes, nb, w, key_weight):
    """``(S_ib, S_iB)``: household ``i``'s tie sums of behaviour ``b`` shown and of the role
    weights (:func:`bt_sim.rules.social.role_weights`), decoded from its contacts' codes and
    summed in float64 over its ties in order, as a row of the sparse product ``A @ V`` is."""
    one = np.uint64(1)
    plain = 1.0 - w
    shown = 0.0
    weight = 0.0
    at, proven_at = np.uint64(1 + b), np.uint64(1 + nb + b)
    for e in range(indptr[i], indptr[i + 1]):
        code = codes[indices[e]]
        key = np.float64(code >> KEY_BIT)
        we = np.float64(weights[e]) * (key_weight * key + (1.0 - key))  # exact, no branch
        weight += we * (plain + w * np.float64(code & one))
        a = np.float64((code >> at) & one)
        shown += we * a * (plain + w * np.float64((code >> proven_at) & one))
    return shown, weight


@njit(cache=True, nogil=True, error_model="numpy")
def gather_role_rows(rows, indptr, indices, weights, codes, nb, w, key_weight, out):
    """Every column of the tie sums (:func:`gather_role_pair`) of each household of ``rows``
    into the rows of ``out`` (for inspection and the tests: a pass over the ties per
    behaviour)."""
    for r in range(rows.shape[0]):
        for b in range(max(nb, 1)):
            shown, weight = gather_role_pair(
                rows[r], b, indptr, indices, weights, codes, nb, w, key_weight
            )
            if b < nb:
                out[r, b] = shown
            out[r, nb] = weight


#: The role arguments of a kernel where the tie sums are dense instead (no codes).
NO_ROLES = (
    np.zeros(1, np.int32),
    np.zeros(0, np.int32),
    np.zeros(0, np.float32),
    np.zeros(0, np.uint64),
    0.0,
    1.0,
)


class RoleCodes:
    """What each household shows its contacts, packed into one 64-bit code per household, for
    the full rule's tie sums ``S = A @ [v | rho]`` on demand.

    The adopt phase packs every household's code (one pass without a branch); a kernel that
    needs household ``i``'s sums decodes its contacts' codes along its ties
    (:func:`gather_role_pair`). Each step only the households that come close to adopting or
    that may drop a behaviour need their sums (a few percent), so this costs far less than
    keeping every household's sums up to date, and nothing is carried from step to step but
    the codes: no drift, no bookkeeping.

    Parameters
    ----------
    matrix : scipy.sparse.csr_array
        The (symmetric) weighted adjacency.
    behaviours : int
        Number of behaviours, at most :data:`PACKED_MAX`.

    Examples
    --------
    >>> import scipy.sparse as sp
    >>> a = sp.csr_array(np.array([[0, 1, 1], [1, 0, 0], [1, 0, 0]], dtype=np.float32))
    >>> roles = RoleCodes(a, 1)
    >>> no = np.zeros(3, bool)
    >>> roles.pack(np.array([[False], [True], [False]]), np.zeros((3, 1), bool), no, no, 0.0, 1.0)
    >>> roles.sums().tolist()  # [A @ adopted | weighted degree]
    [[1.0, 2.0], [0.0, 1.0], [0.0, 1.0]]
    """

    def __init__(self, matrix, behaviours: int):
        if behaviours > PACKED_MAX:
            raise ValueError(f"role codes hold at most {PACKED_MAX} behaviours")
        self.indptr, self.indices, self.weights = matrix.indptr, matrix.indices, matrix.data
        self.behaviours = behaviours
        self.codes = np.zeros(matrix.shape[0], np.uint64)
        self.success_weight, self.key_weight = 0.0, 1.0

    def pack(
        self,
        adopted: np.ndarray,
        proven: np.ndarray,
        success: np.ndarray,
        key: np.ndarray,
        success_weight: float,
        key_weight: float,
    ) -> None:
        """Pack this state (and the weights it is read with) for the kernels."""
        pack_role_codes(adopted, proven, success, key, self.codes)
        self.success_weight, self.key_weight = float(success_weight), float(key_weight)

    def kernel_args(self) -> tuple:
        """``(indptr, indices, weights, codes, success_weight, key_weight)`` for a kernel."""
        return (
            self.indptr,
            self.indices,
            self.weights,
            self.codes,
            self.success_weight,
            self.key_weight,
        )

    def sums(self, rows: np.ndarray | None = None) -> np.ndarray:
        """The tie sums ``[A @ v | A @ rho]`` (float64) of ``rows`` (default: every household)
        as last packed."""
        rows = np.arange(self.codes.shape[0]) if rows is None else np.asarray(rows, np.int64)
        out = np.empty((rows.shape[0], self.behaviours + 1), np.float64)
        indptr, indices, weights, codes, w, key_weight = self.kernel_args()
        gather_role_rows(rows, indptr, indices, weights, codes, self.behaviours, w, key_weight, out)
        return out

    def copy_from(self, other: RoleCodes) -> None:
        """Take over another model's codes (same network): a continuation."""
        self.codes[:] = other.codes
        self.success_weight, self.key_weight = other.success_weight, other.key_weight


class Ties:
    """The tie sums the adoption rules keep over the network, for one model.

    This step's sums ``[A @ v | A @ rho]`` (dense, or gathered on demand from the role codes),
    the role codes of the full rule, the incrementally updated sums per purpose, and work
    arrays of the phases that read them (the adopt, reflect and collectives phases).

    Parameters
    ----------
    adjacency, pattern : scipy.sparse.csr_array or None
        The weighted and the unweighted adjacency (``None`` on the complete graph, and
        ``pattern`` unless the complex rule counts contacts).
    n, nb : int
        Households and behaviours.
    """

    def __init__(self, adjacency, pattern, n: int, nb: int):
        self.adjacency, self.pattern = adjacency, pattern
        self.n, self.nb = n, nb
        self._exposure = np.zeros((n, nb + 1), np.float64)
        self._roles: RoleCodes | None = None  # made by the first adopt phase that packs codes
        self._sums: dict[str, TieSums] = {}
        self._member: tuple | None = None  # (layout, own, other, summed): member_sums

    def tie_sums(self, purpose: str) -> TieSums:
        """The incrementally updated tie sums kept for ``purpose``: ``"roles"`` and
        ``"adoption"`` over the weighted adjacency, ``"count"`` over the unweighted pattern
        (contacts counted)."""
        ties = self._sums.get(purpose)
        if ties is None:
            matrix = self.pattern if purpose == "count" else self.adjacency
            ties = self._sums[purpose] = TieSums(matrix, self.nb + 1)
        return ties

    def role_codes(self) -> RoleCodes | None:
        """The full rule's role codes over the network (:class:`RoleCodes`), or ``None`` where
        the tie sums are dense instead: on the complete graph, and with more behaviours than a
        code holds."""
        if self.adjacency is None or self.nb > PACKED_MAX:
            return None
        if self._roles is None:
            self._roles = RoleCodes(self.adjacency, self.nb)
        return self._roles

    def set_exposure(self, sums: np.ndarray) -> None:
        """Record this step's dense tie sums (where there are no role codes)."""
        self._exposure = sums

    def role_args(self) -> tuple:
        """The role codes' arguments of a kernel (:data:`NO_ROLES` where the sums are dense)."""
        return NO_ROLES if self._roles is None else self._roles.kernel_args()

    def exposure_args(self) -> tuple:
        """``(sums, *role_args)``: this step's tie sums as the kernels read them (``sums``
        without rows where the role codes hold them)."""
        dense = self._exposure if self._roles is None else self._exposure[:0]
        return (dense, *self.role_args())

    @property
    def exposure(self) -> np.ndarray:
        """The tie sums ``[A @ v | A @ rho]`` (shape (n, b + 1)) of the last adopt phase, for
        every household (gathered from the role codes when asked for: a pass over the ties)."""
        return self._exposure if self._roles is None else self._roles.sums()

    def member_sums(self, layout) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(own, other, summed)``: every hosted household's tie sums from members of its own
        collective and of others (float64), kept from step to step by the membership kernel
        (:func:`bt_sim.rules.collective.membership_step`), and what each household sent along
        its ties when they were last summed (``summed``, float32: its reach as a member, else
        0). They start again from zero when ``layout`` (which collectives sit where) differs
        from the last call's, and when the ties change."""
        if self._member is None or self._member[0] != layout:
            n = self.n
            self._member = (layout, np.zeros(n), np.zeros(n), np.zeros(n, np.float32))
        return self._member[1], self._member[2], self._member[3]

    def rewired(self) -> None:
        """The ties changed (weights, or new ties in free places): the incrementally kept sums
        start again from scratch at their next update (the role codes read the ties as they
        are)."""
        self._sums = {}
        self._member = None

    def copy_from(self, other: Ties) -> None:
        """Take over the sums of another model's ties over the same network (a continuation)."""
        self._exposure = other._exposure.copy()
        if other._roles is not None:
            self.role_codes().copy_from(other._roles)
        self._sums = {}
        for purpose, ties in other._sums.items():
            self.tie_sums(purpose).copy_from(ties)
