"""Qualitative comparative analysis (QCA): crisp-set, fuzzy-set and multi-value.

A small, pure numpy/scipy implementation that reproduces the answers of the R package
``QCA`` (Duşa, version 3.25) on its standard examples.

Method
------
1. **Calibration** (:func:`calibrate`). The *direct method* of Ragin (2008): three
   qualitative anchors (full exclusion, crossover, full inclusion) are mapped to the log
   odds ``-log(idm/(1-idm))``, ``0`` and ``+log(idm/(1-idm))`` (``idm = 0.95`` by default),
   linearly in ``x`` on each side of the crossover, and membership is the logistic function
   of the log odds. As in ``QCA::calibrate``, memberships below ``1e-4`` are set to 0 and
   those above ``0.9999`` to 1. The linear variant is piecewise linear between the anchors.
2. **Truth table** (:func:`truth_table`). Each configuration (corner of the property
   space) gets a row. A case's membership in a corner is the minimum over conditions of
   ``x`` (condition present) or ``1 - x`` (absent); a case belongs to the corner where that
   membership exceeds 0.5. The inclusion (consistency) of a corner is
   ``sum(min(m, y)) / sum(m)`` over all cases, and its PRI is
   ``(sum(min(m, y)) - sum(min(m, y, 1-y))) / (sum(m) - sum(min(m, y, 1-y)))``.
   Rows with fewer than ``n_cut`` cases are logical remainders (``"R"``); the others are
   positive (``"1"``) when their inclusion reaches ``incl_cut`` and negative otherwise.
   Multi-value conditions take integer values ``0 .. L-1``; a case is a member (1/0) of the
   configuration equal to its values.
3. **Boolean minimisation** (:func:`minimize`). The prime implicants of the positive rows
   are found exactly (every candidate implicant is enumerated, which is the same set that
   Quine–McCluskey or the enhanced QM / CCubes algorithms of Duşa & Thiem (2015) find);
   remainders are used as don't-cares for the parsimonious solution (``include="?"``) and
   not at all for the conservative one (``include=""``). Negative rows are never covered.
   The prime implicant chart is solved exactly: every cover with the minimum number of
   prime implicants is returned (``QCA``'s default ``all.sol = FALSE``).
4. **Intermediate solution** (Ragin & Sonnett 2005; Ragin 2008, ch. 9). The simplifying
   assumptions are the remainders covered by a parsimonious solution. Those that agree with
   the directional expectations -- a remainder that differs from some positive
   configuration only in conditions set to their expected value -- are the *easy*
   counterfactuals, the others are *difficult*. The positive rows are minimised again with
   the easy counterfactuals as the only don't-cares, keeping prime implicants that are
   subsets of a parsimonious and supersets of a conservative implicant.
5. **Parameters of fit** (:func:`pof`, :func:`necessity`): consistency, coverage, PRI
   (sufficiency) and consistency, coverage and relevance of necessity (necessity).

References
----------
Ragin, C. C. (2008). *Redesigning Social Inquiry: Fuzzy Sets and Beyond*. University of
Chicago Press.

Ragin, C. C., & Sonnett, J. (2005). Between complexity and parsimony: limited diversity,
counterfactual cases, and comparative analysis. In *Vergleichen in der Politikwissenschaft*.

Duşa, A. (2019). *QCA with R: A Comprehensive Resource*. Springer.

Duşa, A., & Thiem, A. (2015). Enhancing the minimization of Boolean and multivalue output
functions with eQMC. *Journal of Mathematical Sociology*, 39(2), 92–108.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

__all__ = [
    "Solution",
    "TruthTable",
    "calibrate",
    "minimize",
    "necessity",
    "pof",
    "truth_table",
]

#: ``QCA::calibrate`` ends with ``fs[fs < 1e-04] <- 0; fs[fs > 0.9999] <- 1``.
SNAP_LOW = 1e-4
SNAP_HIGH = 0.9999

#: Tolerance used when comparing an inclusion score with ``incl_cut`` (guards against
#: round-off such as ``0.7999999999999999`` for an exact 0.8).
_CUT_TOL = 1e-10

#: Largest number of candidate implicants (``prod(levels + 1)``) the minimiser examines
#: (3**15, i.e. 15 binary conditions).
_MAX_IMPLICANTS = 3**15
#: Largest number of candidate covers examined when solving a prime implicant chart.
_MAX_COVERS = 2_000_000


# --------------------------------------------------------------------------------------
# calibration
# --------------------------------------------------------------------------------------


def calibrate(
    x: Sequence[float] | np.ndarray,
    thresholds: Sequence[float],
    logistic: bool = True,
    idm: float = 0.95,
) -> np.ndarray:
    """Calibrate raw values into fuzzy-set memberships with the direct method.

    Parameters
    ----------
    x : array_like
        Raw values (finite).
    thresholds : sequence of 3 floats
        ``(exclusion, crossover, inclusion)``. ``exclusion > inclusion`` gives a decreasing
        set. The crossover must lie strictly between the two other anchors.
    logistic : bool, default True
        Logistic (log-odds) calibration; otherwise piecewise linear (0 at and beyond the
        exclusion anchor, 0.5 at the crossover, 1 at and beyond the inclusion anchor).
    idm : float, default 0.95
        Inclusion degree of membership given to the inclusion anchor (logistic only); the
        exclusion anchor gets ``1 - idm``. Must lie in (0.5, 1).

    Returns
    -------
    numpy.ndarray
        Memberships in [0, 1]; values below ``1e-4`` are set to 0 and above ``0.9999`` to 1,
        as ``QCA::calibrate`` does.

    Examples
    --------
    >>> calibrate([20, 50, 80, 150], (20, 50, 80)).round(4).tolist()
    [0.05, 0.5, 0.95, 1.0]
    >>> calibrate([25, 50, 90], (20, 50, 80), logistic=False).round(4).tolist()
    [0.0833, 0.5, 1.0]
    """
    arr = np.asarray(x, dtype=float)
    if arr.size and not np.all(np.isfinite(arr)):
        raise ValueError("calibrate: x contains NaN or infinite values")
    if len(thresholds) != 3:
        raise ValueError(
            "calibrate: thresholds must be (exclusion, crossover, inclusion), "
            f"got {len(thresholds)} values"
        )
    e, c, i = (float(t) for t in thresholds)
    if not all(math.isfinite(t) for t in (e, c, i)):
        raise ValueError("calibrate: thresholds must be finite")
    if not (e < c < i or e > c > i):
        raise ValueError(
            "calibrate: the crossover must lie strictly between the exclusion and "
            f"inclusion anchors, got {(e, c, i)}"
        )
    if logistic:
        if not 0.5 < idm < 1:
            raise ValueError(f"calibrate: idm must lie in (0.5, 1), got {idm}")
        scale = math.log(idm / (1 - idm))
        d = arr - c
        inclusion_side = np.sign(d) == np.sign(i - c)
        log_odds = np.where(inclusion_side, scale * d / (i - c), scale * d / (c - e))
        fs = 1.0 / (1.0 + np.exp(-log_odds))
    else:
        t = (arr - e) / (i - e)  # 0 at exclusion, 1 at inclusion, direction handled
        tc = (c - e) / (i - e)
        fs = np.where(t <= tc, 0.5 * t / tc, 0.5 + 0.5 * (t - tc) / (1 - tc))
        fs = np.clip(fs, 0.0, 1.0)
    fs = np.where(fs < SNAP_LOW, 0.0, fs)
    fs = np.where(fs > SNAP_HIGH, 1.0, fs)
    return fs


# --------------------------------------------------------------------------------------
# input checks and set-theoretic helpers
# --------------------------------------------------------------------------------------


def _check_columns(data: pd.DataFrame, outcome: str, conditions: Sequence[str]) -> list[str]:
    if not isinstance(data, pd.DataFrame):
        raise ValueError("data must be a pandas DataFrame")
    conds = list(conditions)
    if not conds:
        raise ValueError("at least one condition is required")
    dup = sorted({c for c in conds if conds.count(c) > 1})
    if dup:
        raise ValueError(f"duplicate conditions: {dup}")
    if outcome in conds:
        raise ValueError(f"the outcome {outcome!r} is also listed among the conditions")
    for col in [*conds, outcome]:
        if col not in data.columns:
            raise ValueError(f"column {col!r} is missing from the data")
    if len(data) < 2:
        raise ValueError(f"at least 2 cases are required, got {len(data)}")
    for col in [*conds, outcome]:
        try:
            values = data[col].to_numpy(dtype=float)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"column {col!r} is not numeric") from exc
        if np.isnan(values).any():
            raise ValueError(f"column {col!r} contains NaN")
    return conds


def _check_fuzzy(data: pd.DataFrame, cols: Sequence[str]) -> None:
    for col in cols:
        values = data[col].to_numpy(dtype=float)
        if np.any((values < 0) | (values > 1)):
            raise ValueError(f"column {col!r} has values outside [0, 1]")


def _check_multivalue(data: pd.DataFrame, cols: Sequence[str]) -> None:
    for col in cols:
        values = data[col].to_numpy(dtype=float)
        if np.any(values < 0) or np.any(values != np.round(values)):
            raise ValueError(f"multi-value condition {col!r} must hold non-negative integers")


def _sufficiency(x: np.ndarray, y: np.ndarray) -> tuple[float, float, float]:
    """Consistency, coverage and PRI of ``x`` as sufficient for ``y``."""
    both = np.minimum(x, y)
    s_xy, s_x, s_y = both.sum(), x.sum(), y.sum()
    s_xyn = np.minimum(both, 1 - y).sum()
    incl = s_xy / s_x if s_x > 0 else math.nan
    cov = s_xy / s_y if s_y > 0 else math.nan
    den = s_x - s_xyn
    pri = (s_xy - s_xyn) / den if den > 0 else math.nan
    return float(incl), float(cov), float(pri)


def _necessity(x: np.ndarray, y: np.ndarray) -> tuple[float, float, float]:
    """Consistency, coverage and relevance of ``x`` as necessary for ``y``."""
    both = np.minimum(x, y)
    s_xy, s_x, s_y = both.sum(), x.sum(), y.sum()
    incl = s_xy / s_y if s_y > 0 else math.nan
    cov = s_xy / s_x if s_x > 0 else math.nan
    den = (1 - both).sum()
    ron = (1 - x).sum() / den if den > 0 else math.nan
    return float(incl), float(cov), float(ron)


_LITERAL = re.compile(r"^(~?)([A-Za-z_.][A-Za-z0-9_.]*)(?:\[(\d+)\])?$")


def _parse_literal(text: str) -> tuple[str, bool, int | None]:
    """``"~A"`` -> ("A", True, None); ``"A[2]"`` -> ("A", False, 2)."""
    m = _LITERAL.match(text.strip())
    if m is None:
        raise ValueError(f"cannot parse the literal {text.strip()!r}")
    neg, name, val = m.groups()
    return name, bool(neg), None if val is None else int(val)


def _parse_expression(expression: str) -> list[list[tuple[str, bool, int | None]]]:
    if not isinstance(expression, str) or not expression.strip():
        raise ValueError("the expression must be a non-empty string such as 'A*~B + C'")
    terms = []
    for term in expression.split("+"):
        if not term.strip():
            raise ValueError(f"empty term in the expression {expression!r}")
        terms.append([_parse_literal(lit) for lit in term.split("*")])
    return terms


def _expression_membership(expression: str, data: pd.DataFrame) -> np.ndarray:
    """Membership of each case in a sum of products (max over terms of min over literals)."""
    terms = _parse_expression(expression)
    out = np.zeros(len(data))
    for term in terms:
        memb = np.ones(len(data))
        for name, neg, val in term:
            if name not in data.columns:
                raise ValueError(f"condition {name!r} of the expression is not in the data")
            x = data[name].to_numpy(dtype=float)
            if np.isnan(x).any():
                raise ValueError(f"column {name!r} contains NaN")
            lit = (x == val).astype(float) if val is not None else x
            if neg:
                lit = 1 - lit
            memb = np.minimum(memb, lit)
        out = np.maximum(out, memb)
    return out


def pof(
    expression: str, data: pd.DataFrame, outcome: str, relation: str = "sufficiency"
) -> dict[str, float]:
    """Parameters of fit of a Boolean expression for an outcome.

    Parameters
    ----------
    expression : str
        Sum of products in ``QCA`` notation: ``*`` for AND, ``+`` for OR, ``~`` for negation,
        ``A[2]`` for a multi-value literal, e.g. ``"DEV*~URB + STB"``.
    data : pandas.DataFrame
        Set memberships (fuzzy/crisp in [0, 1], integer values for multi-value literals).
    outcome : str
        Outcome column; a leading ``~`` analyses the negated outcome.
    relation : {"sufficiency", "necessity"}
        Sufficiency gives ``consistency``, ``coverage`` and ``pri``; necessity gives
        ``consistency``, ``coverage`` and ``ron`` (relevance of necessity).

    Returns
    -------
    dict
        The parameters of fit.

    Examples
    --------
    >>> df = pd.DataFrame({"A": [1, 1, 0, 0], "Y": [1, 0, 1, 0]})
    >>> pof("A", df, "Y")
    {'consistency': 0.5, 'coverage': 0.5, 'pri': 0.5}
    """
    negate_y = outcome.startswith("~")
    yname = outcome[1:] if negate_y else outcome
    if yname not in data.columns:
        raise ValueError(f"outcome column {yname!r} is missing from the data")
    y = data[yname].to_numpy(dtype=float)
    if np.isnan(y).any():
        raise ValueError(f"column {yname!r} contains NaN")
    if np.any((y < 0) | (y > 1)):
        raise ValueError(f"column {yname!r} has values outside [0, 1]")
    if negate_y:
        y = 1 - y
    x = _expression_membership(expression, data)
    if relation == "sufficiency":
        incl, cov, pri = _sufficiency(x, y)
        return {"consistency": incl, "coverage": cov, "pri": pri}
    if relation == "necessity":
        incl, cov, ron = _necessity(x, y)
        return {"consistency": incl, "coverage": cov, "ron": ron}
    raise ValueError(f"relation must be 'sufficiency' or 'necessity', got {relation!r}")


def necessity(data: pd.DataFrame, outcome: str, conditions: Sequence[str]) -> pd.DataFrame:
    """Necessity of each condition and of its negation for the outcome.

    Parameters
    ----------
    data : pandas.DataFrame
        Fuzzy or crisp memberships in [0, 1].
    outcome : str
        Outcome column.
    conditions : sequence of str
        Condition columns.

    Returns
    -------
    pandas.DataFrame
        One row per condition and per negated condition (``"~A"``), with columns
        ``condition``, ``consistency`` (``sum(min(X,Y))/sum(Y)``), ``coverage``
        (``sum(min(X,Y))/sum(X)``) and ``ron`` (``sum(1-X)/sum(1-min(X,Y))``).

    Examples
    --------
    >>> df = pd.DataFrame({"A": [1, 1, 1, 0], "Y": [1, 1, 0, 0]})
    >>> necessity(df, "Y", ["A"]).round(4).to_dict("records")[0]
    {'condition': 'A', 'consistency': 1.0, 'coverage': 0.6667, 'ron': 0.5}
    """
    conds = _check_columns(data, outcome, conditions)
    _check_fuzzy(data, [*conds, outcome])
    y = data[outcome].to_numpy(dtype=float)
    rows = []
    for cond in conds:
        x = data[cond].to_numpy(dtype=float)
        for name, xx in ((cond, x), (f"~{cond}", 1 - x)):
            incl, cov, ron = _necessity(xx, y)
            rows.append({"condition": name, "consistency": incl, "coverage": cov, "ron": ron})
    return pd.DataFrame(rows, columns=["condition", "consistency", "coverage", "ron"])


# --------------------------------------------------------------------------------------
# truth table
# --------------------------------------------------------------------------------------


@dataclass
class TruthTable:
    """A truth table and what is needed to minimise it.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per configuration, in minterm order (first condition most significant):
        ``minterm``, the conditions, ``n``, ``consistency``, ``pri``, ``out``
        (``"1"``, ``"0"`` or ``"R"``) and ``cases`` (list of case ids).
    data : pandas.DataFrame
        The data analysed (its index gives the case ids).
    outcome : str
    conditions : list of str
    levels : list of int
        Number of values of each condition (2 for crisp and fuzzy sets).
    incl_cut, n_cut : float, int
    multivalue : bool
    case_minterm : numpy.ndarray
        Minterm of the configuration each case belongs to (-1 for a case with a membership
        of exactly 0.5 in some condition, which belongs to no configuration).
    """

    table: pd.DataFrame
    data: pd.DataFrame
    outcome: str
    conditions: list[str]
    levels: list[int]
    incl_cut: float
    n_cut: int
    multivalue: bool
    case_minterm: np.ndarray


def _configurations(levels: Sequence[int]) -> np.ndarray:
    return np.array(list(itertools.product(*(range(lv) for lv in levels))), dtype=int).reshape(
        -1, len(levels)
    )


def truth_table(
    data: pd.DataFrame,
    outcome: str,
    conditions: Sequence[str],
    incl_cut: float = 0.8,
    n_cut: int = 1,
    multivalue: bool = False,
) -> TruthTable:
    """Build the truth table of an outcome.

    Parameters
    ----------
    data : pandas.DataFrame
        Memberships in [0, 1] (crisp or fuzzy) or, with ``multivalue=True``, non-negative
        integer values of the conditions. The outcome is always a set in [0, 1]. The index
        gives the case ids.
    outcome : str
    conditions : sequence of str
    incl_cut : float, default 0.8
        Inclusion needed for a row to be positive.
    n_cut : int, default 1
        Rows with fewer cases are remainders.
    multivalue : bool, default False
        Conditions are multi-value (values ``0 .. L-1``, ``L = max + 1``).

    Returns
    -------
    TruthTable

    Examples
    --------
    >>> df = pd.DataFrame({"A": [1, 1, 0, 0], "B": [1, 0, 0, 0], "Y": [1, 1, 0, 0]})
    >>> truth_table(df, "Y", ["A", "B"]).table["out"].tolist()
    ['0', 'R', '1', '1']
    """
    conds = _check_columns(data, outcome, conditions)
    _check_fuzzy(data, [outcome])
    if multivalue:
        _check_multivalue(data, conds)
    else:
        _check_fuzzy(data, conds)
    if n_cut < 1:
        raise ValueError(f"n_cut must be at least 1, got {n_cut}")
    if not 0 <= incl_cut <= 1:
        raise ValueError(f"incl_cut must lie in [0, 1], got {incl_cut}")
    x = data[conds].to_numpy(dtype=float)
    y = data[outcome].to_numpy(dtype=float)
    k = x.shape[1]
    if multivalue:
        xi = x.astype(int)
        levels = [int(xi[:, j].max()) + 1 for j in range(k)]
    else:
        levels = [2] * k
    n_rows = math.prod(levels)
    if n_rows > 2**16:
        raise ValueError(f"too many configurations ({n_rows}) for a truth table")
    configs = _configurations(levels)
    radix = np.array([math.prod(levels[j + 1 :]) for j in range(k)], dtype=int)

    if multivalue:
        case_minterm = xi @ radix
        memb = (case_minterm[:, None] == np.arange(n_rows)[None, :]).astype(float)
    else:
        # membership of every case in every corner: min over conditions of x or 1 - x
        lit = np.where(configs[None, :, :] == 1, x[:, None, :], 1 - x[:, None, :])
        memb = lit.min(axis=2)
        bits = (x > 0.5).astype(int)
        case_minterm = np.where((x == 0.5).any(axis=1), -1, bits @ radix)

    ids = [str(i) for i in data.index]
    rows = []
    for r in range(n_rows):
        in_row = np.flatnonzero(case_minterm == r)
        n = len(in_row)
        if n > 0:
            incl, _, pri = _sufficiency(memb[:, r], y)
        else:
            incl = pri = math.nan
        out = "R" if n < n_cut else ("1" if incl >= incl_cut - _CUT_TOL else "0")
        row = {"minterm": r}
        row.update({c: int(v) for c, v in zip(conds, configs[r], strict=True)})
        row.update(
            {"n": n, "consistency": incl, "pri": pri, "out": out, "cases": [ids[i] for i in in_row]}
        )
        rows.append(row)
    table = pd.DataFrame(
        rows, columns=["minterm", *conds, "n", "consistency", "pri", "out", "cases"]
    )
    return TruthTable(
        table=table,
        data=data,
        outcome=outcome,
        conditions=conds,
        levels=levels,
        incl_cut=incl_cut,
        n_cut=n_cut,
        multivalue=multivalue,
        case_minterm=case_minterm,
    )


# --------------------------------------------------------------------------------------
# minimisation
# --------------------------------------------------------------------------------------


def _lattice_counts(levels: Sequence[int], rows: np.ndarray) -> np.ndarray:
    """For every implicant, how many of the flagged configurations it covers.

    Implicants live in an array of shape ``(L_1 + 1, ..., L_k + 1)``: index 0 of axis ``j``
    leaves condition ``j`` free, index ``v + 1`` fixes it to ``v``. The counts of fully
    specified implicants are the flags; freeing a condition sums over its values (a zeta
    transform, ``O(k prod(L + 1))``), so no implicant-by-configuration matrix is built.
    """
    shape = tuple(lv + 1 for lv in levels)
    counts = np.zeros(shape, dtype=np.int64)
    configs = _configurations(levels)
    counts[tuple((configs + 1).T)] = rows.astype(np.int64)
    for j in range(len(levels)):
        body = [slice(None)] * len(levels)
        body[j] = slice(1, None)
        head = [slice(None)] * len(levels)
        head[j] = 0
        counts[tuple(head)] = counts[tuple(body)].sum(axis=j)
    return counts.ravel()


def _coverage(implicants: np.ndarray, configs: np.ndarray) -> np.ndarray:
    """Boolean matrix: implicant i covers configuration c."""
    out = np.ones((len(implicants), len(configs)), dtype=bool)
    for j in range(implicants.shape[1]):
        imp = implicants[:, j][:, None]
        out &= (imp == -1) | (imp == configs[:, j][None, :])
    return out


def _prime_implicants(
    levels: Sequence[int], on: np.ndarray, allowed: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Prime implicants covering at least one ``on`` row and only ``allowed`` rows.

    Every implicant (each condition fixed to one value or free) is examined: it is valid
    when it covers no forbidden row, and prime when it is valid and no implicant obtained by
    freeing one of its fixed conditions is valid (a valid implicant containing it would
    contain such a parent too). This finds the same prime implicants as Quine–McCluskey.

    Returns the implicants (rows of values, -1 = free) and their coverage matrix.
    """
    shape = tuple(lv + 1 for lv in levels)
    n_imp = math.prod(shape)
    if n_imp > _MAX_IMPLICANTS:
        raise ValueError(
            f"too many conditions for exhaustive minimisation ({n_imp} candidate implicants, "
            f"at most {_MAX_IMPLICANTS})"
        )
    valid = _lattice_counts(levels, ~allowed) == 0
    covers_on = _lattice_counts(levels, on) > 0
    radix = np.array([math.prod(shape[j + 1 :]) for j in range(len(levels))], dtype=np.int64)
    index = np.arange(n_imp, dtype=np.int64)
    prime = valid & covers_on
    for j in range(len(levels)):
        digit = (index // radix[j]) % shape[j]  # 0 = free, v + 1 = value v
        parent = index - digit * radix[j]  # condition j freed
        prime &= ~((digit != 0) & valid[parent])
    flat = np.flatnonzero(prime)
    imps = np.stack(np.unravel_index(flat, shape), axis=1).astype(int) - 1
    return imps, _coverage(imps, _configurations(levels))


def _minimal_covers(chart: np.ndarray) -> list[tuple[int, ...]]:
    """Every minimum-size set of rows (prime implicants) covering all columns of ``chart``."""
    n_pi, n_col = chart.shape
    if n_col == 0:
        return [()]
    masks = [sum(1 << c for c in np.flatnonzero(chart[p])) for p in range(n_pi)]
    full = (1 << n_col) - 1
    essential = sorted(
        {int(np.flatnonzero(chart[:, c])[0]) for c in range(n_col) if chart[:, c].sum() == 1}
    )
    covered = 0
    for p in essential:
        covered |= masks[p]
    rest = [p for p in range(n_pi) if p not in essential and masks[p] & ~covered]
    if covered == full:
        return [tuple(essential)]
    need = full & ~covered
    examined = 0
    for size in range(1, len(rest) + 1):
        found = []
        for combo in itertools.combinations(rest, size):
            examined += 1
            if examined > _MAX_COVERS:
                raise ValueError("the prime implicant chart is too large for exhaustive search")
            m = 0
            for p in combo:
                m |= masks[p]
            if m & need == need:
                found.append(tuple(sorted(essential + list(combo))))
        if found:
            return found
    raise ValueError("the positive configurations cannot be covered")  # pragma: no cover


def _term_string(imp: Sequence[int], conditions: Sequence[str], multivalue: bool) -> str:
    lits = []
    for name, v in zip(conditions, imp, strict=True):
        if v == -1:
            continue
        if multivalue:
            lits.append(f"{name}[{v}]")
        else:
            lits.append(name if v == 1 else f"~{name}")
    return "*".join(lits) if lits else "1"


@dataclass
class Solution:
    """The result of :func:`minimize`.

    Attributes
    ----------
    kind : str
        ``"conservative"``, ``"parsimonious"`` or ``"intermediate"``.
    solutions : list of list of str
        Every tied minimal solution, each a list of terms such as ``"DEV*~URB"``.
    prime_implicants : list of str
        All prime implicants of the minimisation (for the intermediate solution, those of
        the last conservative/parsimonious pair).
    term_fits : pandas.DataFrame
        One row per (solution, term): ``solution`` (index into ``solutions``), ``term``,
        ``consistency``, ``pri``, ``raw_coverage``, ``unique_coverage`` (NaN when the
        solution has a single term) and ``cases`` (ids of the cases with membership > 0.5
        in the term, in truth-table order).
    solution_fits : pandas.DataFrame
        One row per solution: ``solution``, ``expression``, ``consistency``, ``pri``,
        ``coverage``.
    simplifying_assumptions, easy, difficult : list of int
        Minterms of the remainders used (parsimonious and intermediate solutions), and for
        the intermediate solution the easy and difficult counterfactuals (unions over the
        solutions).
    """

    kind: str
    solutions: list[list[str]]
    prime_implicants: list[str]
    term_fits: pd.DataFrame
    solution_fits: pd.DataFrame
    simplifying_assumptions: list[int] = field(default_factory=list)
    easy: list[int] = field(default_factory=list)
    difficult: list[int] = field(default_factory=list)


def _solve(
    tt: TruthTable, on: np.ndarray, allowed: np.ndarray
) -> tuple[np.ndarray, np.ndarray, list[tuple[int, ...]]]:
    imps, cov = _prime_implicants(tt.levels, on, allowed)
    covers = _minimal_covers(cov[:, on])
    return imps, cov, covers


def _term_membership(tt: TruthTable, imp: Sequence[int]) -> np.ndarray:
    """Membership of every case in an implicant (min over its literals)."""
    memb = np.ones(len(tt.data))
    for name, v in zip(tt.conditions, imp, strict=True):
        if v == -1:
            continue
        x = tt.data[name].to_numpy(dtype=float)
        if tt.multivalue:
            x = (x == v).astype(float)
        elif v == 0:
            x = 1 - x
        memb = np.minimum(memb, x)
    return memb


def _fits(
    tt: TruthTable, solutions: list[list[str]], term_imps: Mapping[str, Sequence[int]]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    data = tt.data
    y = data[tt.outcome].to_numpy(dtype=float)
    ids = [str(i) for i in data.index]
    order = np.lexsort((np.arange(len(data)), tt.case_minterm))
    term_rows, sol_rows = [], []
    for s, terms in enumerate(solutions):
        membs = [_term_membership(tt, term_imps[t]) for t in terms]
        sol_m = np.max(membs, axis=0)
        incl, cov, pri = _sufficiency(sol_m, y)
        sol_rows.append(
            {
                "solution": s,
                "expression": " + ".join(terms),
                "consistency": incl,
                "pri": pri,
                "coverage": cov,
            }
        )
        for t, (term, m) in enumerate(zip(terms, membs, strict=True)):
            t_incl, t_cov, t_pri = _sufficiency(m, y)
            if len(terms) > 1:
                others = np.max([mm for u, mm in enumerate(membs) if u != t], axis=0)
                unique = cov - _sufficiency(others, y)[1]
            else:
                unique = math.nan
            term_rows.append(
                {
                    "solution": s,
                    "term": term,
                    "consistency": t_incl,
                    "pri": t_pri,
                    "raw_coverage": t_cov,
                    "unique_coverage": unique,
                    "cases": [ids[i] for i in order if m[i] > 0.5],
                }
            )
    term_cols = [
        "solution",
        "term",
        "consistency",
        "pri",
        "raw_coverage",
        "unique_coverage",
        "cases",
    ]
    sol_cols = ["solution", "expression", "consistency", "pri", "coverage"]
    return pd.DataFrame(term_rows, columns=term_cols), pd.DataFrame(sol_rows, columns=sol_cols)


def _unique_solutions(solutions: list[list[str]]) -> list[list[str]]:
    seen, out = set(), []
    for sol in solutions:
        key = frozenset(sol)
        if key not in seen:
            seen.add(key)
            out.append(sol)
    return out


def minimize(
    tt: TruthTable,
    include: str = "",
    directional: Mapping[str, int | str | None] | None = None,
) -> Solution:
    """Minimise the positive rows of a truth table.

    Parameters
    ----------
    tt : TruthTable
    include : {"", "?"}
        ``""`` gives the conservative (complex) solution, ``"?"`` uses the remainders as
        don't-cares and gives the parsimonious solution.
    directional : mapping, optional
        Directional expectations, condition -> expected value (1 present / 0 absent, or a
        value of a multi-value condition; ``"-"``/``None`` for no expectation; conditions
        not listed have none). When given, the intermediate solution is returned (whatever
        ``include`` is).

    Returns
    -------
    Solution
        Every tied minimal solution (minimum number of prime implicants) and its fits.

    Examples
    --------
    >>> df = pd.DataFrame({"A": [1, 1, 0, 0], "B": [1, 0, 0, 0], "Y": [1, 1, 0, 0]})
    >>> minimize(truth_table(df, "Y", ["A", "B"])).solutions
    [['A']]
    """
    if include not in ("", "?"):
        raise ValueError(
            f"include must be '' (conservative) or '?' (parsimonious), got {include!r}"
        )
    out = tt.table["out"].to_numpy()
    on = out == "1"
    off = out == "0"
    rem = out == "R"
    if not on.any():
        raise ValueError("the truth table has no positive ('1') configuration to minimise")
    conds, mv = tt.conditions, tt.multivalue

    term_imps: dict[str, np.ndarray] = {}

    def strings(imps: np.ndarray, covers: list[tuple[int, ...]]) -> list[list[str]]:
        for imp in imps:
            term_imps[_term_string(imp, conds, mv)] = imp
        return [[_term_string(imps[p], conds, mv) for p in cover] for cover in covers]

    if directional is None:
        allowed = ~off if include == "?" else on
        imps, cov, covers = _solve(tt, on, allowed)
        sols = _unique_solutions(strings(imps, covers))
        sa: set[int] = set()
        if include == "?":
            for cover in covers:
                sa.update(np.flatnonzero(cov[list(cover)].any(axis=0) & rem).tolist())
        term_fits, sol_fits = _fits(tt, sols, term_imps)
        return Solution(
            kind="parsimonious" if include == "?" else "conservative",
            solutions=sols,
            prime_implicants=[_term_string(i, conds, mv) for i in imps],
            term_fits=term_fits,
            solution_fits=sol_fits,
            simplifying_assumptions=sorted(sa),
        )

    # ---- intermediate solution ----
    unknown = sorted(set(directional) - set(conds))
    if unknown:
        raise ValueError(f"directional expectations name unknown conditions: {unknown}")
    expect = np.full(len(conds), -1, dtype=int)
    for j, c in enumerate(conds):
        v = directional.get(c)
        if v is None or v == "-":
            continue
        if not isinstance(v, int | np.integer) or not 0 <= int(v) < tt.levels[j]:
            raise ValueError(
                f"directional expectation for {c!r} must be an integer value of the "
                f"condition (0..{tt.levels[j] - 1}) or '-', got {v!r}"
            )
        expect[j] = int(v)
    configs = _configurations(tt.levels)
    _, c_cov, c_covers = _solve(tt, on, on)
    _, p_cov, p_covers = _solve(tt, on, ~off)
    on_cfg = configs[on]
    results: list[list[str]] = []
    all_sa: set[int] = set()
    all_easy: set[int] = set()
    last_pis: list[str] = []
    for p_cover in p_covers:
        p_terms_cov = p_cov[list(p_cover)]
        sa = np.flatnonzero(p_terms_cov.any(axis=0) & rem)
        easy = []
        for r in sa:
            diff = configs[r][None, :] != on_cfg
            ok = ~diff | (configs[r][None, :] == expect[None, :])
            if ok.all(axis=1).any():
                easy.append(int(r))
        all_sa.update(int(r) for r in sa)
        all_easy.update(easy)
        allowed = on.copy()
        allowed[easy] = True
        imps, cov = _prime_implicants(tt.levels, on, allowed)
        for c_cover in c_covers:
            c_terms_cov = c_cov[list(c_cover)]
            # keep implicants inside one parsimonious term and containing a conservative one
            inside = (cov[:, None, :] <= p_terms_cov[None, :, :]).all(axis=2).any(axis=1)
            contains = (c_terms_cov[None, :, :] <= cov[:, None, :]).all(axis=2).any(axis=1)
            keep = inside & contains
            if not cov[keep][:, on].any(axis=0).all():
                keep = inside
            if not cov[keep][:, on].any(axis=0).all():  # pragma: no cover - defensive
                keep = np.ones(len(imps), dtype=bool)
            k_imps, k_cov = imps[keep], cov[keep]
            covers = _minimal_covers(k_cov[:, on])
            results.extend(strings(k_imps, covers))
            last_pis = [_term_string(i, conds, mv) for i in k_imps]
    sols = _unique_solutions(results)
    term_fits, sol_fits = _fits(tt, sols, term_imps)
    return Solution(
        kind="intermediate",
        solutions=sols,
        prime_implicants=last_pis,
        term_fits=term_fits,
        solution_fits=sol_fits,
        simplifying_assumptions=sorted(all_sa),
        easy=sorted(all_easy),
        difficult=sorted(all_sa - all_easy),
    )


def is_submodel(solution: str | Sequence[str], truth: str) -> bool:
    """Whether a solution is a submodel of the true model (Baumgartner & Thiem 2020): every
    term of ``solution`` is a part of some term of ``truth`` (its literals a subset of that
    term's). A submodel makes only causal claims the truth makes, possibly fewer: this is
    how Baumgartner and Thiem score a QCA solution *correct*. An empty solution (no term)
    claims nothing and is not counted correct.

    >>> is_submodel("GK*POOR", "GK*POOR*VOL + COACH")
    True
    >>> is_submodel(["GK", "COACH"], "GK*POOR*VOL + COACH")
    True
    >>> is_submodel("COACH*POOR", "GK*POOR*VOL + COACH")  # more than the truth claims
    False
    >>> is_submodel("GK*~POOR", "GK*POOR*VOL + COACH")
    False
    """
    terms = solution if not isinstance(solution, str) else [solution]
    found = [frozenset(lit) for t in terms for lit in _parse_expression(t)]
    true_terms = [frozenset(lit) for lit in _parse_expression(truth)]
    if not found:
        return False
    return all(any(term <= true for true in true_terms) for term in found)
