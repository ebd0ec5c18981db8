"""The comparison of scaling strategies: statistics, verdicts, ranks, table and picture."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from bt_sim.experiments.compare_report import (
    Metric,
    concentration_index,
    markdown_table,
    paired_difference,
    plot_tradeoff,
    summarise,
    write_tables,
)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
REPLICATES = 20
GAIN = Metric("gain", "Adopters", "higher", "households")
COST = Metric("cost", "Cost", "lower", "kEUR")
TIME = Metric("time_to_target", "Time to target", "lower", "years")
METRICS = [GAIN, COST, TIME]


@pytest.fixture
def runs() -> pd.DataFrame:
    """Strategies A (reference), B = A's level + 1 and C at A's level, on shared replicates.

    Each replicate has its own level (the common random numbers), each run its own noise of
    sd 0.1. ``time_to_target`` is NaN (never reached) in 3 runs of A and 1 of C.
    """
    rng = np.random.default_rng(20240611)
    level = rng.normal(10.0, 2.0, REPLICATES)
    shift = {"A": 0.0, "B": 1.0, "C": 0.0}
    frames = []
    for strategy, delta in shift.items():
        value = level + delta + rng.normal(0.0, 0.1, REPLICATES)
        frames.append(
            pd.DataFrame(
                {
                    "strategy": strategy,
                    "replicate": np.arange(REPLICATES),
                    "gain": value,
                    "cost": value,
                    "time_to_target": 30.0 - value,
                }
            )
        )
    df = pd.concat(frames, ignore_index=True)
    never = {"A": [0, 5, 7], "C": [2]}
    for strategy, reps in never.items():
        hit = (df["strategy"] == strategy) & df["replicate"].isin(reps)
        df.loc[hit, "time_to_target"] = np.nan
    return df


def _row(summary: pd.DataFrame, strategy: str, metric: str) -> pd.Series:
    sel = summary[(summary["strategy"] == strategy) & (summary["metric"] == metric)]
    assert len(sel) == 1
    return sel.iloc[0]


# ---- concentration index -----------------------------------------------------------------
def test_concentration_index_known_answers():
    income = np.array([1.0, 2.0, 3.0, 4.0])
    assert concentration_index(np.full(4, 2.0), income) == 0.0
    assert concentration_index(np.array([0.0, 0.0, 0.0, 1.0]), income) == pytest.approx(0.75)
    assert concentration_index(np.array([1.0, 0.0, 0.0, 0.0]), income) == pytest.approx(-0.75)
    # r = 1/6, 1/2, 5/6; cov = ((-1)(-1/3) + 0 + (1)(1/3)) / 3 = 2/9; C = 2 (2/9) / 2
    assert concentration_index(np.array([1.0, 2.0, 3.0]), np.array([10, 20, 30])) == (
        pytest.approx(2 / 9)
    )


def test_concentration_index_ties_share_the_mean_rank_and_order_does_not_matter():
    # incomes 10, 10, 30 rank 1.5, 1.5, 3: r = 1/3, 1/3, 5/6 (mean 1/2);
    # cov = ((-1)(-1/6) + 0 + (1)(1/3)) / 3 = 1/6; C = 2 (1/6) / 2 = 1/6
    values, income = np.array([1.0, 2.0, 3.0]), np.array([10.0, 10.0, 30.0])
    assert concentration_index(values, income) == pytest.approx(1 / 6)
    swapped = concentration_index(np.array([2.0, 1.0, 3.0]), income)
    assert swapped == pytest.approx(1 / 6)
    perm = np.random.default_rng(3).permutation(3)
    assert concentration_index(values[perm], income[perm]) == pytest.approx(1 / 6)


def test_concentration_index_nan_cases():
    assert np.isnan(concentration_index(np.array([]), np.array([])))
    assert np.isnan(concentration_index(np.array([5.0]), np.array([1.0])))
    assert np.isnan(concentration_index(np.array([1.0, -1.0]), np.array([1.0, 2.0])))
    assert np.isnan(concentration_index(np.array([1.0, np.nan]), np.array([1.0, 2.0])))
    with pytest.raises(ValueError):
        concentration_index(np.ones(3), np.ones(4))


# ---- paired difference -------------------------------------------------------------------
def test_paired_difference_matches_ttest_rel():
    rng = np.random.default_rng(7)
    a = rng.normal(5.0, 1.0, 15)
    b = a + rng.normal(0.3, 0.5, 15)
    runs = pd.DataFrame(
        {
            "strategy": ["a"] * 15 + ["b"] * 15,
            "replicate": np.r_[np.arange(15), np.arange(15)],
            "x": np.r_[a, b],
        }
    )
    for level in (0.9, 0.95):
        got = paired_difference(runs, "x", "b", "a", level=level)
        ci = stats.ttest_rel(b, a).confidence_interval(level)
        assert got["pairs"] == 15
        assert got["diff"] == pytest.approx(np.mean(b - a))
        assert got["se"] == pytest.approx(stats.sem(b - a))
        assert (got["lo"], got["hi"]) == (pytest.approx(ci.low), pytest.approx(ci.high))


def test_paired_difference_drops_unpaired_replicates_and_nans():
    runs = pd.DataFrame(
        {
            "strategy": ["a"] * 5 + ["b"] * 5,
            "replicate": [0, 1, 2, 3, 4, 0, 1, 2, 3, 9],
            "x": [1.0, 2.0, np.nan, 4.0, 5.0, 2.0, 4.0, 3.0, 5.0, 100.0],
        }
    )
    got = paired_difference(runs, "x", "b", "a")
    d = np.array([1.0, 2.0, 1.0])  # replicates 0, 1, 3: 2 has a NaN, 4 and 9 are unpaired
    ci = stats.ttest_1samp(d, 0.0).confidence_interval(0.95)
    assert got["pairs"] == 3
    assert got["diff"] == pytest.approx(d.mean())
    assert (got["lo"], got["hi"]) == (pytest.approx(ci.low), pytest.approx(ci.high))


def test_paired_difference_few_pairs_and_constant_differences():
    runs = pd.DataFrame(
        {
            "strategy": ["a", "a", "b", "b", "c", "c"],
            "replicate": [0, 1, 0, 1, 0, 1],
            "x": [1.0, 2.0, 1.25, np.nan, np.nan, np.nan],
        }
    )
    one = paired_difference(runs, "x", "b", "a")
    assert one["pairs"] == 1 and one["diff"] == 0.25
    assert np.isnan(one["lo"]) and np.isnan(one["hi"])
    none = paired_difference(runs, "x", "c", "a")
    assert none["pairs"] == 0 and np.isnan([none["diff"], none["lo"], none["hi"]]).all()
    same = runs.assign(x=[1.0, 2.0, 1.1, 2.1, 0.0, 0.0])
    const = paired_difference(same, "x", "b", "a")
    assert const["se"] == 0.0 and const["lo"] == const["hi"] == const["diff"]
    with pytest.raises(ValueError, match="strategy 'z'"):
        paired_difference(runs, "x", "z", "a")


# ---- summary ------------------------------------------------------------------------------
def test_summarise_shape_and_order(runs):
    s = summarise(runs, METRICS, reference="A")
    assert len(s) == 3 * len(METRICS)
    assert list(s["strategy"][:3]) == ["A", "B", "C"]
    assert list(s["metric"][::3]) == ["gain", "cost", "time_to_target"]
    for col in ("mean", "lo", "hi", "diff", "diff_lo", "diff_hi", "pairs", "verdict", "rank"):
        assert col in s.columns
    a = _row(s, "A", "gain")
    assert a["verdict"] == "reference" and a["pairs"] == 0 and np.isnan(a["diff"])
    values = runs.loc[runs["strategy"] == "A", "gain"]
    low, high = stats.t.interval(0.95, len(values) - 1, values.mean(), stats.sem(values))
    assert a["mean"] == pytest.approx(values.mean())
    assert (a["lo"], a["hi"]) == (pytest.approx(low), pytest.approx(high))


def test_summarise_verdicts_follow_the_better_direction(runs):
    s = summarise(runs, METRICS, reference="A")
    b_gain, b_cost = _row(s, "B", "gain"), _row(s, "B", "cost")
    assert b_gain["diff"] == pytest.approx(1.0, abs=0.1)
    assert b_gain["pairs"] == REPLICATES
    assert b_gain["verdict"] == "better"
    assert b_cost["verdict"] == "worse"
    assert _row(s, "B", "time_to_target")["verdict"] == "better"  # time falls as value rises
    for metric in ("gain", "cost"):
        c = _row(s, "C", metric)
        assert c["verdict"] == "indistinguishable"
        assert c["diff_lo"] < 0 < c["diff_hi"]


def test_summarise_ranks(runs):
    s = summarise(runs, METRICS, reference="A")
    rank = s.pivot(index="strategy", columns="metric", values="rank")
    # higher is better: B beats both; A and C are not told apart and share rank 2
    assert rank["gain"].to_dict() == {"A": 2, "B": 1, "C": 2}
    # lower is better: A and C both beat B
    assert rank["cost"].to_dict() == {"A": 1, "B": 3, "C": 1}


def test_summarise_never_and_pairs_with_nans(runs):
    s = summarise(runs, METRICS, reference="A")
    a, c = _row(s, "A", "time_to_target"), _row(s, "C", "time_to_target")
    assert (a["runs"], a["defined"], a["never"]) == (REPLICATES, 17, pytest.approx(3 / 20))
    assert (c["defined"], c["never"]) == (19, pytest.approx(1 / 20))
    assert _row(s, "B", "time_to_target")["never"] == 0.0
    assert c["pairs"] == 16  # defined in both A and C
    assert _row(s, "B", "time_to_target")["pairs"] == 17


def test_summarise_undefined_with_fewer_than_two_pairs(runs):
    extra = pd.DataFrame(
        {"strategy": ["D"], "replicate": [0], "gain": [50.0], "cost": [1.0], "time_to_target": 1}
    )
    s = summarise(pd.concat([runs, extra], ignore_index=True), [GAIN], reference="A")
    d = _row(s, "D", "gain")
    assert d["verdict"] == "undefined" and d["pairs"] == 1
    assert np.isnan(d["lo"]) and d["rank"] == 1  # no one has two pairs with D
    assert _row(s, "A", "gain")["rank"] == 2  # still beaten by B


def test_summarise_rejects_bad_input(runs):
    with pytest.raises(ValueError, match="strategy 'Z'"):
        summarise(runs, METRICS, reference="Z")
    with pytest.raises(ValueError, match="missing_metric"):
        summarise(runs, [Metric("missing_metric", "M", "higher")], reference="A")
    with pytest.raises(ValueError, match="one run per replicate"):
        summarise(pd.concat([runs, runs.iloc[:1]]), METRICS, reference="A")
    with pytest.raises(ValueError, match="better"):
        Metric("x", "X", "bigger")


# ---- table and picture --------------------------------------------------------------------
def test_markdown_table(runs):
    s = summarise(runs, METRICS, reference="A")
    text = markdown_table(s, METRICS)
    lines = text.splitlines()
    assert lines[0].startswith("| strategy | Adopters (households) | Adopters vs A | rank |")
    body = {line.split(" | ")[0].removeprefix("| "): line for line in lines[2:5]}
    assert set(body) == {"A", "B", "C"}
    assert "(never in 3 of 20)" in body["A"]
    assert "(never in 1 of 20)" in body["C"]
    assert "never in" not in body["B"]
    assert " better |" in body["B"] and " worse |" in body["B"]
    assert "indistinguishable" in body["C"]
    mean_b = _row(s, "B", "gain")["mean"]
    assert f"{mean_b:.1f} [" in body["B"]
    assert "95% t intervals" in text and "20 replicates" in text
    assert "common random numbers" in text and "Rank:" in text


def test_write_tables_writes_both_files_and_no_temporaries(runs, tmp_path):
    s = summarise(runs, METRICS, reference="A")
    paths = write_tables(s, METRICS, tmp_path)
    assert paths == [tmp_path / "comparison.csv", tmp_path / "comparison.md"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["comparison.csv", "comparison.md"]
    back = pd.read_csv(paths[0])
    assert list(back.columns) == list(s.columns) and len(back) == len(s)
    assert paths[1].read_text(encoding="utf-8") == markdown_table(s, METRICS)


def test_plot_tradeoff(runs, tmp_path):
    s = summarise(runs, METRICS, reference="A")
    path = tmp_path / "tradeoff.png"
    fig = plot_tradeoff(s, "gain", "time_to_target", path)
    assert path.read_bytes()[:8] == PNG_SIGNATURE
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tradeoff.png"]
    (ax,) = fig.axes
    assert sorted(t.get_text() for t in ax.texts) == ["A", "B", "C"]
    for t in ax.texts:
        row_x, row_y = _row(s, t.get_text(), "gain"), _row(s, t.get_text(), "time_to_target")
        assert t.xy == (pytest.approx(row_x["mean"]), pytest.approx(row_y["mean"]))
    assert len(ax.containers) == 3
    assert "Adopters" in ax.get_xlabel() and "years" in ax.get_ylabel()
    assert ax.get_title()
    assert plot_tradeoff(s, "gain", "cost") is not None  # no path: nothing written
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tradeoff.png"]
