"""Landscape series: each kind's levels on known inputs, and series files read or refused."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from bt_sim.errors import ScenarioError
from bt_sim.landscape import (
    KINDS,
    MAX_PROBLEMS,
    clip_series,
    constant_series,
    read_series_csv,
    step_months,
    step_series,
    table_series,
    trend_series,
    values_series,
    walk_series,
)

# --- series kinds ---------------------------------------------------------------------------


def test_kinds():
    assert KINDS == ("constant", "values", "file", "trend", "step", "walk")


def test_step_months():
    np.testing.assert_array_equal(step_months(4, 0.25), [0.0, 0.25, 0.5, 0.75, 1.0])
    np.testing.assert_array_equal(step_months(2, 12), [0.0, 12.0, 24.0])
    assert step_months(0, 1.0).tolist() == [0.0]
    assert step_months(10, 1.0).dtype == np.float64
    with pytest.raises(ValueError, match="dt"):
        step_months(3, 0.0)
    with pytest.raises(ValueError, match="dt"):
        step_months(3, 13.0)
    with pytest.raises(ValueError, match="steps"):
        step_months(-1, 1.0)


def test_constant():
    out = constant_series(1.5, step_months(3, 1.0))
    assert out.dtype == np.float64
    np.testing.assert_array_equal(out, [1.5] * 4)


def test_values_month_by_month_and_held_after_the_end():
    months = np.array([0.0, 0.25, 0.999, 1.0, 1.5, 2.0, 3.0, 100.0])
    np.testing.assert_array_equal(
        values_series([10.0, 20.0, 30.0], months), [10, 10, 10, 20, 20, 30, 30, 30]
    )
    np.testing.assert_array_equal(values_series([4.0], months), [4.0] * len(months))


def test_values_tolerance_keeps_inexact_months_on_their_boundary():
    # step 90 of dt = 0.7 is 62.99999999999999 in floating point, yet it is month 63
    months = step_months(90, 0.7)
    assert months[90] < 63.0
    values = np.arange(70.0)
    assert values_series(values, months)[90] == 63.0
    assert values_series(values, months)[89] == 62.0
    # a month well short of the boundary stays before it
    np.testing.assert_array_equal(
        values_series([1.0, 2.0], np.array([1 - 1e-6, 1 - 1e-12])), [1, 2]
    )


def test_values_empty_refused():
    with pytest.raises(ValueError, match="at least one"):
        values_series([], step_months(2, 1.0))


def test_table_piecewise_constant():
    tm, tv = np.array([0.0, 6.0, 18.5]), np.array([1.0, 2.0, 3.0])
    months = np.array([0.0, 5.999, 6.0, 6.0 - 1e-12, 18.0, 18.5, 40.0])
    np.testing.assert_array_equal(table_series(tm, tv, months), [1, 1, 2, 2, 2, 3, 3])


@pytest.mark.parametrize(
    ("tm", "tv", "match"),
    [
        ([], [], "at least one row"),
        ([0.0, 1.0], [1.0], "2 months but 1 values"),
        ([1.0, 2.0], [1.0, 2.0], "first month must be 0"),
        ([0.0, 2.0, 2.0], [1.0, 2.0, 3.0], "strictly increasing"),
    ],
)
def test_table_bad_tables_refused(tm, tv, match):
    with pytest.raises(ValueError, match=match):
        table_series(np.array(tm), np.array(tv), step_months(2, 1.0))


def test_trend():
    np.testing.assert_allclose(
        trend_series(2.0, 0.6, np.array([0.0, 1.0, 6.0, 12.0, 30.0])),
        [2.0, 2.05, 2.3, 2.6, 3.5],
    )
    np.testing.assert_allclose(trend_series(1.0, -1.2, np.array([0.0, 10.0])), [1.0, 0.0])


def test_step_before_and_after_a_lasting_step():
    months = np.array([0.0, 2.0, 2.75, 3.0, 3.25, 50.0])
    np.testing.assert_array_equal(
        step_series(1.0, -0.4, 3.0, 0.0, months), [1.0, 1.0, 1.0, 0.6, 0.6, 0.6]
    )


def test_step_decays_from_its_month():
    months = np.array([0.0, 4.0, 5.0, 6.0, 9.0])
    decay = math.log(2) / 2  # the jump halves every 2 months
    np.testing.assert_allclose(
        step_series(10.0, 8.0, 5.0, decay, months),
        [10.0, 10.0, 18.0, 10.0 + 8 / math.sqrt(2), 12.0],
    )
    # the jump fades towards the level before it
    far = step_series(10.0, 8.0, 5.0, 1.0, np.array([1000.0]))
    assert far[0] == pytest.approx(10.0)


def test_step_at_an_inexact_month_and_before_start():
    # step 3 of dt = 0.1 is month 0.30000000000000004: on the step month, not after it
    months = step_months(5, 0.1)
    out = step_series(0.0, 1.0, 0.3, 0.0, months)
    np.testing.assert_array_equal(out, [0, 0, 0, 1, 1, 1])
    # a huge decay before the step must not overflow into the levels before it
    with np.errstate(all="raise"):
        np.testing.assert_array_equal(step_series(1.0, 1.0, 500.0, 5.0, months), [1.0] * 6)
    with pytest.raises(ValueError, match="decay"):
        step_series(1.0, 1.0, 1.0, -0.1, months)


def test_walk_with_no_spread_is_constant():
    months = step_months(24, 0.5)
    normals = np.random.default_rng(1).standard_normal(24)
    np.testing.assert_array_equal(walk_series(3.0, 0.0, months, normals), [3.0] * 25)


def test_walk_known_values():
    months = np.array([0.0, 1.0, 5.0, 5.25])
    normals = np.array([1.0, -0.5, 2.0])
    sd = 0.2
    logs = np.cumsum([0.0, sd * 1 * 1.0, sd * 2 * -0.5, sd * 0.5 * 2.0])
    np.testing.assert_allclose(walk_series(2.0, sd, months, normals), 2.0 * np.exp(logs))


def test_walk_log_increments_have_variance_sd_squared_per_month():
    rng = np.random.default_rng(20020101)
    sd, dt, n = 0.08, 0.25, 200_000
    months = step_months(n, dt)
    levels = walk_series(1.0, sd, months, rng.standard_normal(n))
    increments = np.diff(np.log(levels))
    # The sample variance of n independent normals has a relative standard error of
    # sqrt(2 / (n - 1)) = 0.32 % for n = 200 000; a 2 % tolerance is over six standard errors,
    # so the test holds for any seed, yet fails for a wrong scaling (sd * dt gives 25 %,
    # no sqrt(dt) gives 400 % of the expected variance).
    assert increments.var(ddof=1) == pytest.approx(sd**2 * dt, rel=0.02)
    assert abs(increments.mean()) < 5 * sd * math.sqrt(dt / n)
    # unequal steps: each move scaled by sqrt of its own length
    gaps = rng.choice([0.25, 1.0, 3.0], size=n)
    months = np.concatenate(([0.0], np.cumsum(gaps)))
    levels = walk_series(1.0, sd, months, rng.standard_normal(n))
    z = np.diff(np.log(levels)) / (sd * np.sqrt(gaps))
    assert z.var(ddof=1) == pytest.approx(1.0, rel=0.02)


def test_walk_argument_checks():
    months = step_months(3, 1.0)
    with pytest.raises(ValueError, match="expected 3 normals"):
        walk_series(1.0, 0.1, months, np.zeros(4))
    with pytest.raises(ValueError, match="sd"):
        walk_series(1.0, -0.1, months, np.zeros(3))
    with pytest.raises(ValueError, match="decrease"):
        walk_series(1.0, 0.1, np.array([0.0, 2.0, 1.0]), np.zeros(2))
    assert walk_series(1.0, 0.1, np.array([]), np.array([])).shape == (0,)
    assert walk_series(1.5, 0.1, np.array([0.0]), np.array([])).tolist() == [1.5]


def _same_months(kind_levels):
    """The levels at months 0..12 from dt = 0.25 (every 4th step) and from dt = 1."""
    fine, coarse = step_months(48, 0.25), step_months(12, 1.0)
    return kind_levels(fine)[::4], kind_levels(coarse)


@pytest.mark.parametrize(
    "kind_levels",
    [
        lambda m: constant_series(0.7, m),
        lambda m: values_series([1.0, 1.1, 1.3, 0.9, 1.2], m),
        lambda m: table_series(np.array([0.0, 2.0, 7.0]), np.array([5.0, 6.0, 4.0]), m),
        lambda m: trend_series(1.0, 0.3, m),
        lambda m: step_series(1.0, 0.5, 3.0, 0.2, m),
        lambda m: clip_series(trend_series(0.0, 2.0, m), 0.5, 1.5),
    ],
    ids=["constant", "values", "file", "trend", "step", "clipped trend"],
)
def test_dt_quarter_and_dt_one_agree_at_the_same_month(kind_levels):
    fine, coarse = _same_months(kind_levels)
    np.testing.assert_allclose(fine, coarse, rtol=0, atol=1e-12)


def test_walk_sd_zero_agrees_across_dt():
    fine = walk_series(2.0, 0.0, step_months(48, 0.25), np.ones(48))[::4]
    coarse = walk_series(2.0, 0.0, step_months(12, 1.0), np.ones(12))
    np.testing.assert_array_equal(fine, coarse)


def test_walk_same_path_across_dt_when_the_moves_add_up():
    # four quarter-month moves of z each make one month's move of 2 z (sqrt(1/4) * 4 = 2):
    # with the coarse normals set to 2 z, both give the same level at each month
    z = np.random.default_rng(3).standard_normal(12)
    fine = walk_series(1.0, 0.1, step_months(48, 0.25), np.repeat(z, 4))[::4]
    coarse = walk_series(1.0, 0.1, step_months(12, 1.0), 2 * z)
    np.testing.assert_allclose(fine, coarse, rtol=1e-12)


def test_clip():
    levels = np.array([-2.0, 0.0, 0.5, 1.0, 3.0])
    out = clip_series(levels, 0.0, 1.0)
    np.testing.assert_array_equal(out, [0.0, 0.0, 0.5, 1.0, 1.0])
    assert levels[0] == -2.0  # a new array
    np.testing.assert_array_equal(clip_series(levels, None, 0.5), [-2.0, 0.0, 0.5, 0.5, 0.5])
    np.testing.assert_array_equal(clip_series(levels, 0.0, None), [0.0, 0.0, 0.5, 1.0, 3.0])
    np.testing.assert_array_equal(clip_series(levels, None, None), levels)
    with pytest.raises(ValueError, match="lo <= hi"):
        clip_series(levels, 2.0, 1.0)


# --- series files ---------------------------------------------------------------------------


def _write(tmp_path: Path, content: str | bytes, name: str = "series.csv") -> Path:
    path = tmp_path / name
    if isinstance(content, str):
        path.write_bytes(content.encode("utf-8"))
    else:
        path.write_bytes(content)
    return path


def _refused(path: Path, column: str = "price", shown: str | None = None) -> ScenarioError:
    with pytest.raises(ScenarioError) as info:
        read_series_csv(path, column, shown)
    return info.value


def test_read_good_file(tmp_path):
    path = _write(tmp_path, "month,price,note\n0,1.0,start\n12,1.25,\n30.5,-0.5,dip\n")
    months, values = read_series_csv(path, "price")
    assert months.dtype == np.float64 and values.dtype == np.float64
    np.testing.assert_array_equal(months, [0.0, 12.0, 30.5])
    np.testing.assert_array_equal(values, [1.0, 1.25, -0.5])
    months, values = read_series_csv(str(path), "price")
    np.testing.assert_array_equal(values, [1.0, 1.25, -0.5])


def test_read_tolerant_layout(tmp_path):
    # CRLF lines, spaces around names and numbers, quoted fields, a column order other than
    # month first, empty lines, no newline at the end, exponent notation
    text = '\r\n price , month \r\n"1.5", 0\r\n\r\n 2e0 ,"6"\r\n3,12.25'
    months, values = read_series_csv(_write(tmp_path, text), "price")
    np.testing.assert_array_equal(months, [0.0, 6.0, 12.25])
    np.testing.assert_array_equal(values, [1.5, 2.0, 3.0])


def test_read_then_table_series(tmp_path):
    path = _write(tmp_path, "month,trust\n0,0.5\n3,0.6\n")
    months, values = read_series_csv(path, "trust")
    np.testing.assert_array_equal(
        table_series(months, values, step_months(8, 0.5)), [0.5] * 6 + [0.6] * 3
    )


def test_read_shown_name(tmp_path):
    path = _write(tmp_path, "month,price\n0,x\n")
    err = _refused(path, shown="scenario.toml: landscape.price.file")
    assert str(err) == (
        "scenario.toml: landscape.price.file: row 1 (line 2): price: expected a number, got 'x'"
    )
    assert str(path) not in str(err)


def test_read_file_not_found(tmp_path):
    path = tmp_path / "missing.csv"
    err = _refused(path)
    assert err.problems == [(str(path), "", "file not found; expected a CSV series file")]


def test_read_folder(tmp_path):
    err = _refused(tmp_path)
    assert err.problems == [(str(tmp_path), "", "is a folder; expected a CSV series file")]


def test_read_unreadable(tmp_path, monkeypatch):
    path = _write(tmp_path, "month,price\n0,1\n")

    def deny(self):
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "read_bytes", deny)
    err = _refused(path)
    assert err.problems == [(str(path), "", "cannot be read: Permission denied")]


def test_read_not_utf8(tmp_path):
    path = _write(tmp_path, b"month,price\n0,1\n1,caf\xe9\n")
    err = _refused(path)
    [(src, where, message)] = err.problems
    assert src == str(path) and where == ""
    assert "not UTF-8 text: byte 0xe9 at byte offset 21 (line 3)" in message
    assert "expected UTF-8" in message


def test_read_bom(tmp_path):
    path = _write(tmp_path, b"\xef\xbb\xbfmonth,price\n0,1\n")
    [(src, where, message)] = _refused(path).problems
    assert (src, where) == (str(path), "")
    assert "byte-order mark (BOM)" in message
    assert "save the file as UTF-8 without BOM" in message


def test_read_utf16(tmp_path):
    path = _write(tmp_path, "month,price\n0,1\n".encode("utf-16"))
    [(_, _, message)] = _refused(path).problems
    assert "UTF-16" in message and "save the file as UTF-8 without BOM" in message


@pytest.mark.parametrize("content", [b"", b"\n\n  \n", b'""\n'])
def test_read_empty(tmp_path, content):
    path = _write(tmp_path, content)
    err = _refused(path)
    assert err.problems == [
        (str(path), "", "is empty; expected a header row (month,price) and data rows")
    ]


def test_read_no_header(tmp_path):
    path = _write(tmp_path, "0,1.0\n12,1.5\n")
    [(src, where, message)] = _refused(path).problems
    assert (src, where) == (str(path), "header (line 1)")
    assert message.startswith("no header row: the first row holds only numbers ('0', '1.0')")
    assert "expected a header row naming the columns 'month' and 'price'" in message


def test_read_missing_month_column(tmp_path):
    path = _write(tmp_path, "\nmonths,price\n0,1\n")
    err = _refused(path)
    assert err.problems == [
        (
            str(path),
            "header (line 2)",
            "no column 'month': expected the columns 'month' and 'price', the file has "
            "'months', 'price'",
        )
    ]
    assert str(err).startswith(f"{path}: header (line 2): no column 'month'")


def test_read_missing_value_column(tmp_path):
    path = _write(tmp_path, "month,cost,other\n0,1,2\n")
    [(_, where, message)] = _refused(path).problems
    assert where == "header (line 1)"
    assert message == (
        "no column 'price': expected the columns 'month' and 'price', the file has "
        "'month', 'cost', 'other'"
    )


def test_read_missing_both_columns_and_semicolons(tmp_path):
    path = _write(tmp_path, "month;price\n0;1\n")
    problems = _refused(path).problems
    assert [p[2].split(":")[0] for p in problems] == ["no column 'month'", "no column 'price'"]
    assert all("separated by ';'" in p[2] and "expected commas" in p[2] for p in problems)


def test_read_duplicate_columns(tmp_path):
    path = _write(tmp_path, "month,price,price ,month\n0,1,2,0\n")
    problems = _refused(path).problems
    unique = "expected unique names"
    assert problems == [
        (str(path), "header (line 1)", f"column {c!r} appears more than once; {unique}")
        for c in ("price", "month")
    ]


def test_read_too_few_and_too_many_fields(tmp_path):
    path = _write(tmp_path, "month,price\n0,1\n1\n2,3,4\n3,4\n")
    err = _refused(path)
    fields = "expected 2 (as the header: month, price)"
    assert err.problems == [
        (str(path), "row 2 (line 3)", f"too few fields: {fields}, got 1"),
        (str(path), "row 3 (line 4)", f"too many fields: {fields}, got 3"),
    ]
    assert f"{path}: row 2 (line 3): too few fields" in str(err)


def test_read_not_a_number(tmp_path):
    path = _write(tmp_path, "month,price\n0,1\n1,2\nabc,3\n4,1,5\n5,\n6,1_000\n")
    err = _refused(path)
    fields = "expected 2 (as the header: month, price)"
    assert err.problems == [
        (str(path), "row 3 (line 4): month", "expected a number, got 'abc'"),
        (str(path), "row 4 (line 5)", f"too many fields: {fields}, got 3"),
        (str(path), "row 5 (line 6): price", "expected a number, got an empty field"),
        (str(path), "row 6 (line 7): price", "expected a number, got '1_000'"),
    ]
    assert f"{path}: row 3 (line 4): month: expected a number, got 'abc'" in str(err).splitlines()


@pytest.mark.parametrize("bad", ["nan", "inf", "-inf", "NaN", "Infinity"])
def test_read_non_finite(tmp_path, bad):
    path = _write(tmp_path, f"month,price\n0,1\n{bad},2\n3,{bad}\n")
    err = _refused(path)
    assert err.problems == [
        (str(path), "row 2 (line 3): month", f"expected a finite number, got {bad!r}"),
        (str(path), "row 3 (line 4): price", f"expected a finite number, got {bad!r}"),
    ]


def test_read_negative_month(tmp_path):
    path = _write(tmp_path, "month,price\n-1,1\n")
    err = _refused(path)
    assert err.problems == [
        (str(path), "row 1 (line 2): month", "expected a number >= 0, got '-1'")
    ]


def test_read_months_not_increasing(tmp_path):
    path = _write(tmp_path, "month,price\n0,1\n6,2\n6,3\n4,4\n9,5\n")
    err = _refused(path)
    assert err.problems == [
        (
            str(path),
            "row 3 (line 4): month",
            "expected months strictly increasing: 6 is not after 6 in row 2 (line 3)",
        ),
        (
            str(path),
            "row 4 (line 5): month",
            "expected months strictly increasing: 4 is not after 6 in row 3 (line 4)",
        ),
    ]


def test_read_first_month_not_zero(tmp_path):
    path = _write(tmp_path, "month,price\n1,1\n2,2\n")
    err = _refused(path)
    assert err.problems == [
        (
            str(path),
            "row 1 (line 2): month",
            "expected the first month to be 0 (the series starts at month 0), got '1'",
        )
    ]


def test_read_header_only(tmp_path):
    path = _write(tmp_path, "month,price\n\n")
    err = _refused(path)
    assert err.problems == [
        (
            str(path),
            "",
            "holds no data rows; expected at least one row after the header (month 0 and its "
            "price)",
        )
    ]


def test_read_bad_quoting(tmp_path):
    path = _write(tmp_path, 'month,price\n0,1\n1,"2\n')
    [(src, where, message)] = _refused(path).problems
    assert src == str(path) and where.startswith("line ")
    assert message.startswith("not valid CSV") and "expected comma-separated fields" in message


def test_read_line_numbers_follow_quoted_newlines(tmp_path):
    path = _write(tmp_path, 'month,price,note\n0,1,"two\nlines"\n\n5,x,n\n')
    err = _refused(path)
    assert err.problems == [(str(path), "row 2 (line 5): price", "expected a number, got 'x'")]


def test_read_reports_at_most_twenty_row_problems(tmp_path):
    rows = "".join(f"{m},bad{m}\n" for m in range(30))
    path = _write(tmp_path, "month,price\n" + rows)
    problems = _refused(path).problems
    assert len(problems) == MAX_PROBLEMS + 1 == 21
    assert problems[0] == (str(path), "row 1 (line 2): price", "expected a number, got 'bad0'")
    assert problems[19][1] == "row 20 (line 21): price"
    assert problems[-1] == (str(path), "", "... and 10 more problems")
