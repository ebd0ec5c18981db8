"""Tests of :mod:`bt_sim.qca` against golden values computed with R QCA 3.25 (Duşa).

Every value of ``tests/data/qca/r-qca-known-answers.json`` is checked (a copy of the
project's reference file of R QCA's known answers, from the MIT-licensed validation fixtures
named in its ``source``); if it is missing the golden tests fail (they do not skip).
Floats are compared with a relative tolerance of 1e-9 (``REL``): R prints 15 significant
digits and the sums are computed in a different order, so bit-for-bit equality is not
expected, but anything beyond round-off would show. Sets of solutions are compared exactly,
as sets of frozensets of terms, because neither the order of the terms within a solution nor
the order of tied solutions is meaningful.
"""

from __future__ import annotations

import doctest
import itertools
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from bt_sim import qca

GOLDEN_PATH = Path(__file__).resolve().parent / "data" / "qca" / "r-qca-known-answers.json"
REL = 1e-9  # relative tolerance for every float compared with the golden file


def _load_golden(path: Path) -> dict:
    # no skip: a missing golden file is a failure
    assert path.is_file(), f"golden file {path} is missing"
    return json.loads(path.read_text())


@pytest.fixture(scope="module")
def golden() -> dict:
    return _load_golden(GOLDEN_PATH)


def test_missing_golden_file_fails(tmp_path):
    with pytest.raises(AssertionError, match="missing"):
        _load_golden(tmp_path / "absent.json")


def _close(actual: float, expected: float | None) -> bool:
    """Relative tolerance REL; ``None`` (R's NA) must be NaN; an exact golden 0 allows 1e-15."""
    if expected is None:
        return math.isnan(actual)
    return math.isclose(actual, expected, rel_tol=REL, abs_tol=0.0) or (
        expected == 0 and abs(actual) < 1e-15
    )


def _solution_set(solutions) -> set[frozenset[str]]:
    return {frozenset(s) for s in solutions}


def _golden_solutions(value: list) -> set[frozenset[str]]:
    # LC parsimonious is stored as a flat list of terms = a single solution
    if value and all(isinstance(v, str) for v in value):
        value = [value]
    return _solution_set(value)


def _frame(entry: dict) -> pd.DataFrame:
    index = entry.get("case_ids")
    return pd.DataFrame(entry["data"], index=index)


# ------------------------------------------------------------------------------------------
# golden file: structure, so that no value can be added to the file without being checked
# ------------------------------------------------------------------------------------------


def test_golden_file_structure_is_fully_covered(golden):
    assert set(golden) == {
        "generated_with",
        "r_snapping",
        "source",
        "calibration",
        "pof",
        "analyses",
        "intermediate",
        "necessity_screens",
        "multivalue",
    }
    assert golden["generated_with"] == {"R": "4.5.1", "QCA": "3.25"}
    assert golden["necessity_screens"] == []
    for c in golden["calibration"]:
        assert set(c) == {"id", "values", "thresholds", "idm", "logistic", "expected"}
    for p in golden["pof"]:
        assert set(p) == {"expression", "outcome", "relation", "consistency", "coverage", "pri"}
    for a in golden["analyses"]:
        assert set(a) == {
            "id",
            "dataset",
            "outcome",
            "conditions",
            "incl_cut",
            "n_cut",
            "data",
            "case_ids",
            "truth_table",
            "conservative",
            "parsimonious",
            "term_fits",
        }
        for row in a["truth_table"]:
            assert set(row) == {"minterm", "configuration", "n", "consistency", "pri", "out"}
        for tf in a["term_fits"]:
            assert set(tf) == {
                "family",
                "term",
                "consistency",
                "pri",
                "raw_coverage",
                "unique_coverage",
                "cases",
            }
    for i in golden["intermediate"]:
        assert set(i) == {
            "id",
            "dataset",
            "outcome",
            "conditions",
            "incl_cut",
            "expectations",
            "data",
            "case_ids",
            "intermediate",
            "easy",
            "difficult",
            "simplifying_assumptions",
        }
    for m in golden["multivalue"]:
        assert set(m) == {
            "id",
            "outcome",
            "conditions",
            "incl_cut",
            "data",
            "truth_table",
            "conservative",
            "parsimonious",
        }
        for row in m["truth_table"]:
            assert set(row) == {"configuration", "n", "consistency", "out"}


def test_golden_intermediate_and_analyses_share_the_lf_data(golden):
    lf = next(a for a in golden["analyses"] if a["dataset"] == "LF")
    inter = golden["intermediate"][0]
    assert inter["data"] == lf["data"]
    assert inter["case_ids"] == lf["case_ids"]


# ------------------------------------------------------------------------------------------
# calibration
# ------------------------------------------------------------------------------------------


def test_calibrate_golden(golden):
    checked = 0
    for c in golden["calibration"]:
        got = qca.calibrate(c["values"], c["thresholds"], logistic=c["logistic"], idm=c["idm"])
        assert got.shape == (len(c["expected"]),)
        for v, g, e in zip(c["values"], got, c["expected"], strict=True):
            assert _close(float(g), e), (c["id"], v, g, e)
            checked += 1
    assert checked == 30


def test_calibrate_r_snapping(golden):
    snap = golden["r_snapping"]
    assert snap["low"] == qca.SNAP_LOW
    assert snap["high"] == qca.SNAP_HIGH
    assert "fs < 1e-04" in snap["source"] and "fs > 0.9999" in snap["source"]
    # log odds just beyond the snapping points: membership ~ 9.9e-5 -> 0, ~ 0.99991 -> 1
    scale = math.log(0.95 / 0.05)
    lo = math.log(0.999e-4 / (1 - 0.999e-4))
    hi = math.log(0.99991 / (1 - 0.99991))
    x_lo = 50 + lo / scale * 30
    x_hi = 50 + hi / scale * 30
    assert qca.calibrate([x_lo, x_hi], (20, 50, 80)).tolist() == [0.0, 1.0]
    # just inside the snapping points, values are kept
    inside = qca.calibrate([50 + math.log(1.01e-4 / (1 - 1.01e-4)) / scale * 30], (20, 50, 80))
    assert 0 < inside[0] < 1.1e-4


def test_calibrate_decreasing_is_mirror_image():
    x = np.array([0.0, 10, 30, 50, 70, 90, 100])
    inc = qca.calibrate(x, (20, 50, 80))
    dec = qca.calibrate(x, (80, 50, 20))
    np.testing.assert_allclose(inc, 1 - dec, rtol=REL)
    np.testing.assert_allclose(inc, qca.calibrate(-x, (-20, -50, -80)), rtol=REL)
    assert np.all(np.diff(dec) <= 0)
    lin = qca.calibrate(x, (80, 50, 20), logistic=False)
    np.testing.assert_allclose(lin, [1, 1, 5 / 6, 0.5, 1 / 6, 0, 0], rtol=REL)


@pytest.mark.parametrize(
    ("thresholds", "kwargs", "message"),
    [
        ((20, 50), {}, "thresholds"),
        ((50, 20, 80), {}, "crossover"),
        ((20, 50, 50), {}, "crossover"),
        ((20, 50, 80), {"idm": 0.4}, "idm"),
        ((20, float("nan"), 80), {}, "finite"),
    ],
)
def test_calibrate_bad_input(thresholds, kwargs, message):
    with pytest.raises(ValueError, match=message):
        qca.calibrate([1.0, 2.0], thresholds, **kwargs)


def test_calibrate_nan_raises():
    with pytest.raises(ValueError, match="NaN"):
        qca.calibrate([1.0, float("nan")], (20, 50, 80))


# ------------------------------------------------------------------------------------------
# pof
# ------------------------------------------------------------------------------------------


def test_pof_golden(golden):
    lf = _frame(next(a for a in golden["analyses"] if a["dataset"] == "LF"))
    checked = 0
    for p in golden["pof"]:
        got = qca.pof(p["expression"], lf, p["outcome"], relation=p["relation"])
        for key in ("consistency", "coverage", "pri"):
            assert _close(got[key], p[key]), (p["expression"], key, got[key], p[key])
            checked += 1
    assert checked == 9


def test_pof_disjunction_and_necessity():
    df = pd.DataFrame({"A": [0.2, 0.6, 0.9, 0.4], "B": [0.7, 0.1, 0.3, 0.2]})
    df["Y"] = [0.3, 0.5, 0.8, 0.1]
    # A + B = max(A, B) = [0.7, 0.6, 0.9, 0.4]; min with Y = [0.3, 0.5, 0.8, 0.1]
    got = qca.pof("A + B", df, "Y")
    assert math.isclose(got["consistency"], 1.7 / 2.6, rel_tol=REL)
    assert math.isclose(got["coverage"], 1.7 / 1.7, rel_tol=REL)
    # min(X, Y, 1-Y) = [0.3, 0.5, 0.2, 0.1] -> PRI = (1.7 - 1.1) / (2.6 - 1.1)
    assert math.isclose(got["pri"], 0.6 / 1.5, rel_tol=REL)
    nec = qca.pof("A", df, "Y", relation="necessity")
    assert math.isclose(nec["consistency"], 1.6 / 1.7, rel_tol=REL)
    assert math.isclose(nec["coverage"], 1.6 / 2.1, rel_tol=REL)
    assert math.isclose(nec["ron"], 1.9 / 2.4, rel_tol=REL)
    # negated outcome
    neg = qca.pof("A", df, "~Y")
    assert math.isclose(neg["consistency"], (0.2 + 0.5 + 0.2 + 0.4) / 2.1, rel_tol=REL)


@pytest.mark.parametrize(
    ("expression", "outcome", "relation", "message"),
    [
        ("A*C", "Y", "sufficiency", "'C'"),
        ("A", "Z", "sufficiency", "'Z'"),
        ("A", "Y", "both", "relation"),
        ("A*", "Y", "sufficiency", "literal"),
        ("", "Y", "sufficiency", "non-empty"),
        ("A++B", "Y", "sufficiency", "empty term"),
    ],
)
def test_pof_bad_input(expression, outcome, relation, message):
    df = pd.DataFrame({"A": [0.2, 0.6], "B": [0.7, 0.1], "Y": [0.3, 0.5]})
    with pytest.raises(ValueError, match=message):
        qca.pof(expression, df, outcome, relation=relation)


def test_pof_multivalue_literal(golden):
    mv = golden["multivalue"][0]
    df = pd.DataFrame(mv["data"])
    got = qca.pof("regime[2] + regime[1]*wealth[1]", df, "Y")
    assert got == {"consistency": 1.0, "coverage": 1.0, "pri": 1.0}
    got = qca.pof("wealth[0]", df, "Y")
    assert math.isclose(got["consistency"], 1 / 4, rel_tol=REL)
    assert math.isclose(got["coverage"], 1 / 5, rel_tol=REL)


# ------------------------------------------------------------------------------------------
# truth tables and minimisation of the Lipset data
# ------------------------------------------------------------------------------------------


def _analysis_ids(golden_path: Path = GOLDEN_PATH) -> list[str]:
    # parametrise by id when the file is there; otherwise a single id makes the test fail
    if not golden_path.is_file():
        return ["<golden file missing>"]
    return [a["id"] for a in json.loads(golden_path.read_text())["analyses"]]


def _analysis(golden: dict, analysis_id: str) -> dict:
    matches = [a for a in golden["analyses"] if a["id"] == analysis_id]
    assert len(matches) == 1, analysis_id
    return matches[0]


@pytest.mark.parametrize("analysis_id", _analysis_ids())
def test_truth_table_golden(golden, analysis_id):
    a = _analysis(golden, analysis_id)
    tt = qca.truth_table(
        _frame(a), a["outcome"], a["conditions"], incl_cut=a["incl_cut"], n_cut=a["n_cut"]
    )
    table = tt.table
    assert list(table.columns) == [
        "minterm",
        *a["conditions"],
        "n",
        "consistency",
        "pri",
        "out",
        "cases",
    ]
    assert len(table) == len(a["truth_table"]) == 32
    checked = 0
    for got, exp in zip(table.to_dict("records"), a["truth_table"], strict=True):
        assert got["minterm"] == exp["minterm"]
        assert [got[c] for c in a["conditions"]] == exp["configuration"]
        assert got["n"] == exp["n"]
        assert got["out"] == exp["out"]
        assert len(got["cases"]) == exp["n"]
        assert _close(got["consistency"], exp["consistency"]), (exp, got)
        assert _close(got["pri"], exp["pri"]), (exp, got)
        checked += 1
    assert checked == 32
    # every case with no membership of exactly 0.5 lies in exactly one row
    assert sum(len(c) for c in table["cases"]) == len(a["case_ids"])


def _fits_by_term(solution: qca.Solution) -> dict[str, dict]:
    assert len(solution.solutions) == 1
    fits = solution.term_fits
    assert fits["term"].is_unique
    return {row["term"]: row for row in fits.to_dict("records")}


@pytest.mark.parametrize("analysis_id", _analysis_ids())
def test_minimize_golden(golden, analysis_id):
    a = _analysis(golden, analysis_id)
    tt = qca.truth_table(
        _frame(a), a["outcome"], a["conditions"], incl_cut=a["incl_cut"], n_cut=a["n_cut"]
    )
    families = {
        "conservative": qca.minimize(tt, include=""),
        "parsimonious": qca.minimize(tt, include="?"),
    }
    for family, sol in families.items():
        assert sol.kind == family
        assert _solution_set(sol.solutions) == _golden_solutions(a[family]), family
    checked = 0
    golden_terms = {fam: set() for fam in families}
    for tf in a["term_fits"]:
        fam = tf["family"]
        golden_terms[fam].add(tf["term"])
        row = _fits_by_term(families[fam])[tf["term"]]
        for key in ("consistency", "pri", "raw_coverage", "unique_coverage"):
            assert _close(row[key], tf[key]), (analysis_id, tf["term"], key, row[key], tf[key])
            checked += 1
        assert row["cases"] == tf["cases"], (tf["term"], row["cases"])
        checked += 1
    # the golden term fits list every term of the solutions, and nothing else
    for fam, sol in families.items():
        assert golden_terms[fam] == set(sol.solutions[0])
    assert checked == 5 * len(a["term_fits"])


def test_solution_fits_lf(golden):
    a = _analysis(golden, "LF-SURV-incl80")
    tt = qca.truth_table(_frame(a), a["outcome"], a["conditions"], incl_cut=0.8)
    sol = qca.minimize(tt, include="?")
    fits = sol.solution_fits.iloc[0]
    expr = " + ".join(sol.solutions[0])
    ref = qca.pof(expr, _frame(a), "SURV")
    assert fits["expression"] == expr
    for key in ("consistency", "coverage", "pri"):
        assert math.isclose(fits[key], ref[key], rel_tol=REL)
    # unique coverage = solution coverage - coverage of the other term
    terms = _fits_by_term(sol)
    for term, row in terms.items():
        (other,) = set(terms) - {term}
        other_cov = qca.pof(other, _frame(a), "SURV")["coverage"]
        assert math.isclose(row["unique_coverage"], ref["coverage"] - other_cov, rel_tol=REL)


def test_parsimonious_simplifying_assumptions_lf(golden):
    inter = golden["intermediate"][0]
    a = _analysis(golden, "LF-SURV-incl80")
    tt = qca.truth_table(_frame(a), a["outcome"], a["conditions"], incl_cut=0.8)
    sol = qca.minimize(tt, include="?")
    assert sol.simplifying_assumptions == inter["simplifying_assumptions"]
    # no negative row is covered by the parsimonious solution
    out = tt.table.set_index("minterm")["out"]
    assert all(out[m] == "R" for m in sol.simplifying_assumptions)


# ------------------------------------------------------------------------------------------
# intermediate solution
# ------------------------------------------------------------------------------------------


def test_intermediate_golden(golden):
    checked = 0
    for i in golden["intermediate"]:
        tt = qca.truth_table(_frame(i), i["outcome"], i["conditions"], incl_cut=i["incl_cut"])
        sol = qca.minimize(tt, include="?", directional=i["expectations"])
        assert sol.kind == "intermediate"
        assert _solution_set(sol.solutions) == _golden_solutions(i["intermediate"])
        easy = i["easy"] if isinstance(i["easy"], list) else [i["easy"]]
        assert sol.easy == sorted(easy)
        assert sol.difficult == i["difficult"]
        assert sol.simplifying_assumptions == i["simplifying_assumptions"]
        checked += 1
    assert checked == len(golden["intermediate"]) == 1


def test_intermediate_lies_between_conservative_and_parsimonious(golden):
    i = golden["intermediate"][0]
    data = _frame(i)
    tt = qca.truth_table(data, i["outcome"], i["conditions"], incl_cut=i["incl_cut"])
    inter = qca.minimize(tt, include="?", directional=i["expectations"])
    cons = qca.minimize(tt)
    pars = qca.minimize(tt, include="?")

    def literals(term):
        return set(term.split("*"))

    for term in inter.solutions[0]:
        assert any(literals(p) <= literals(term) for p in pars.solutions[0])
        assert any(literals(term) <= literals(c) for c in cons.solutions[0])


def test_intermediate_without_expectations_equals_conservative_on_ons(golden):
    i = golden["intermediate"][0]
    tt = qca.truth_table(_frame(i), i["outcome"], i["conditions"], incl_cut=i["incl_cut"])
    sol = qca.minimize(tt, include="?", directional={})
    assert sol.easy == []
    assert _solution_set(sol.solutions) == _solution_set(qca.minimize(tt).solutions)


def test_intermediate_bad_expectations(golden):
    i = golden["intermediate"][0]
    tt = qca.truth_table(_frame(i), i["outcome"], i["conditions"], incl_cut=i["incl_cut"])
    with pytest.raises(ValueError, match="'FOO'"):
        qca.minimize(tt, include="?", directional={"FOO": 1})
    with pytest.raises(ValueError, match="'DEV'"):
        qca.minimize(tt, include="?", directional={"DEV": 2})


# ------------------------------------------------------------------------------------------
# multi-value
# ------------------------------------------------------------------------------------------


def test_multivalue_golden(golden):
    checked = 0
    for m in golden["multivalue"]:
        tt = qca.truth_table(
            _frame(m), m["outcome"], m["conditions"], incl_cut=m["incl_cut"], multivalue=True
        )
        assert tt.levels == [3, 2]
        assert len(tt.table) == len(m["truth_table"])
        for got, exp in zip(tt.table.to_dict("records"), m["truth_table"], strict=True):
            assert [got[c] for c in m["conditions"]] == exp["configuration"]
            assert got["n"] == exp["n"]
            assert got["out"] == exp["out"]
            assert _close(got["consistency"], exp["consistency"])
            checked += 1
        cons = qca.minimize(tt)
        pars = qca.minimize(tt, include="?")
        assert _solution_set(cons.solutions) == _golden_solutions(m["conservative"])
        assert _solution_set(pars.solutions) == _golden_solutions(m["parsimonious"])
    assert checked == 6


def test_multivalue_rejects_non_integers():
    df = pd.DataFrame({"A": [0, 1.5, 2], "Y": [0, 1, 1]})
    with pytest.raises(ValueError, match="'A'"):
        qca.truth_table(df, "Y", ["A"], multivalue=True)


# ------------------------------------------------------------------------------------------
# hand-computed examples
# ------------------------------------------------------------------------------------------


def test_necessity_hand_computed():
    df = pd.DataFrame({"X": [0.2, 0.6, 0.9, 0.4], "Y": [0.3, 0.5, 0.8, 0.1]})
    got = qca.necessity(df, "Y", ["X"])
    assert got["condition"].tolist() == ["X", "~X"]
    # X:  min(X,Y) = [.2,.5,.8,.1] (1.6); sum Y = 1.7; sum X = 2.1
    #     RoN = sum(1-X) / sum(1-min) = 1.9 / 2.4
    # ~X = [.8,.4,.1,.6]: min(~X,Y) = [.3,.4,.1,.1] (0.9); sum ~X = 1.9
    #     RoN = sum(X) / sum(1-min) = 2.1 / 3.1
    expected = [[1.6 / 1.7, 1.6 / 2.1, 1.9 / 2.4], [0.9 / 1.7, 0.9 / 1.9, 2.1 / 3.1]]
    np.testing.assert_allclose(
        got[["consistency", "coverage", "ron"]].to_numpy(), expected, rtol=REL
    )


def test_necessity_crisp_trivial_condition():
    # a condition present in every case is necessary but trivial: RoN = 0
    df = pd.DataFrame({"A": [1, 1, 1, 1], "Y": [1, 1, 0, 0]})
    row = qca.necessity(df, "Y", ["A"]).iloc[0]
    assert row["consistency"] == 1.0
    assert row["coverage"] == 0.5
    assert row["ron"] == 0.0


def test_tied_solutions_all_returned():
    # classic cyclic chart: ON = {0,1,2,5,6,7} of 3 variables has two minimal covers
    rows = [0, 1, 2, 5, 6, 7]
    configs = [[(m >> 2) & 1, (m >> 1) & 1, m & 1] for m in range(8)]
    df = pd.DataFrame(configs, columns=["A", "B", "C"])
    df["Y"] = [1 if m in rows else 0 for m in range(8)]
    sol = qca.minimize(qca.truth_table(df, "Y", ["A", "B", "C"], incl_cut=1))
    assert _solution_set(sol.solutions) == {
        frozenset({"~A*~B", "B*~C", "A*C"}),
        frozenset({"~A*~C", "~B*C", "A*B"}),
    }
    assert set(sol.term_fits["solution"]) == {0, 1}
    assert len(sol.solution_fits) == 2
    assert (sol.solution_fits["consistency"] == 1).all()


def test_half_membership_case_is_in_no_row():
    df = pd.DataFrame({"A": [0.5, 0.9, 0.1], "Y": [0.6, 0.9, 0.2]})
    tt = qca.truth_table(df, "Y", ["A"])
    assert tt.table["n"].tolist() == [1, 1]
    assert tt.case_minterm.tolist() == [-1, 1, 0]


def test_n_cut_makes_remainders():
    df = pd.DataFrame({"A": [1, 1, 0], "Y": [1, 1, 0]})
    tt = qca.truth_table(df, "Y", ["A"], n_cut=2)
    assert tt.table["out"].tolist() == ["R", "1"]
    assert tt.table["consistency"].iloc[0] == 0.0  # observed, so its inclusion is shown


def test_tautology_and_unusual_condition_names():
    # every observed row positive, the rest remainders: the parsimonious solution is "1"
    df = pd.DataFrame({"gdp-pc": [1, 1, 0], "x y": [1, 0, 0], "Y": [1, 1, 1]})
    tt = qca.truth_table(df, "Y", ["gdp-pc", "x y"])
    pars = qca.minimize(tt, include="?")
    assert pars.solutions == [["1"]]
    assert pars.term_fits["raw_coverage"].iloc[0] == 1.0
    cons = qca.minimize(tt)
    assert _solution_set(cons.solutions) == {frozenset({"gdp-pc", "~x y"})}


def test_no_positive_rows():
    df = pd.DataFrame({"A": [1, 0], "Y": [0, 0]})
    with pytest.raises(ValueError, match="positive"):
        qca.minimize(qca.truth_table(df, "Y", ["A"]))


def test_bad_include():
    df = pd.DataFrame({"A": [1, 0], "Y": [1, 0]})
    with pytest.raises(ValueError, match="include"):
        qca.minimize(qca.truth_table(df, "Y", ["A"]), include="1")


def _brute_primes(levels, on, allowed):
    """Prime implicants by definition, by brute force over every implicant."""
    configs = list(itertools.product(*(range(lv) for lv in levels)))
    imps = list(itertools.product(*([-1, *range(lv)] for lv in levels)))

    def covered(imp):
        return {
            c
            for c, cfg in enumerate(configs)
            if all(v in (-1, x) for v, x in zip(imp, cfg, strict=True))
        }

    valid = {imp: covered(imp) for imp in imps if covered(imp) <= set(np.flatnonzero(allowed))}
    return {
        imp
        for imp, cov in valid.items()
        if cov & set(np.flatnonzero(on))
        and not any(other != imp and cov < ocov for other, ocov in valid.items())
    }


@pytest.mark.parametrize("levels", [[2, 2, 2, 2], [3, 2, 2], [2, 4]])
def test_prime_implicants_match_brute_force(levels):
    rng = np.random.default_rng(20250101)
    n = math.prod(levels)
    for _ in range(15):
        status = rng.choice(3, size=n, p=[0.35, 0.35, 0.3])  # 1 on, 0 off, 2 remainder
        on = status == 1
        if not on.any():
            continue
        for allowed in (on, status != 0):
            imps, cov = qca._prime_implicants(levels, on, allowed)
            assert {tuple(int(v) for v in i) for i in imps} == _brute_primes(levels, on, allowed)
            covers = qca._minimal_covers(cov[:, on])
            chart = cov[:, on]
            # every returned cover covers, all have the same size, and no smaller cover exists
            sizes = {len(c) for c in covers}
            assert len(sizes) == 1
            for c in covers:
                assert chart[list(c)].any(axis=0).all()
            size = sizes.pop()
            every = [
                combo
                for combo in itertools.combinations(range(len(imps)), size)
                if chart[list(combo)].any(axis=0).all()
            ]
            assert set(covers) == set(every)
            assert not any(
                chart[list(combo)].any(axis=0).all()
                for combo in itertools.combinations(range(len(imps)), size - 1)
            )


def test_minimisation_size_guard():
    with pytest.raises(ValueError, match="too many conditions"):
        qca._prime_implicants([2] * 16, np.ones(2**16, bool), np.ones(2**16, bool))


# ------------------------------------------------------------------------------------------
# input validation
# ------------------------------------------------------------------------------------------


def _small() -> pd.DataFrame:
    return pd.DataFrame({"A": [0.2, 0.8, 0.6], "B": [0.1, 0.9, 0.3], "Y": [0.3, 0.7, 0.9]})


@pytest.mark.parametrize(
    ("mutate", "conditions", "outcome", "message"),
    [
        (None, ["A", "C"], "Y", "'C'"),
        (None, ["A", "B"], "Z", "'Z'"),
        (lambda d: d.assign(A=[0.2, 1.3, 0.5]), ["A", "B"], "Y", "'A'.*outside"),
        (lambda d: d.assign(Y=[-0.1, 0.3, 0.5]), ["A", "B"], "Y", "'Y'.*outside"),
        (lambda d: d.assign(B=[0.2, np.nan, 0.5]), ["A", "B"], "Y", "'B'.*NaN"),
        (lambda d: d.iloc[:1], ["A", "B"], "Y", "at least 2 cases"),
        (None, ["A", "B", "A"], "Y", "duplicate.*'A'"),
        (None, ["A", "Y"], "Y", "outcome 'Y'"),
        (None, [], "Y", "at least one condition"),
        (lambda d: d.assign(A=["x", "y", "z"]), ["A", "B"], "Y", "'A'"),
    ],
)
def test_truth_table_bad_input(mutate, conditions, outcome, message):
    data = _small() if mutate is None else mutate(_small())
    with pytest.raises(ValueError, match=message):
        qca.truth_table(data, outcome, conditions)


def test_necessity_bad_input():
    with pytest.raises(ValueError, match=r"'A'.*outside"):
        qca.necessity(_small().assign(A=[0.2, 2.0, 0.1]), "Y", ["A"])
    with pytest.raises(ValueError, match="outcome 'Y'"):
        qca.necessity(_small(), "Y", ["Y"])


def test_truth_table_bad_cuts():
    with pytest.raises(ValueError, match="n_cut"):
        qca.truth_table(_small(), "Y", ["A"], n_cut=0)
    with pytest.raises(ValueError, match="incl_cut"):
        qca.truth_table(_small(), "Y", ["A"], incl_cut=1.5)


def test_doctests():
    result = doctest.testmod(qca, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted >= 6
    assert result.failed == 0
