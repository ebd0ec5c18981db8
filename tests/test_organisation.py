"""The network organisation: its budget, where it founds, the mix it gives, deep and linking,
and bad settings refused before any run (its effects are rows of docs/mechanisms.md)."""

from __future__ import annotations

import numpy as np
import pytest

from bt_sim import TransitionModel, load_scenario
from bt_sim.cli import main
from bt_sim.errors import ScenarioError
from tests.conftest import ROOT

TOWN = str(ROOT / "scenarios" / "strategies" / "town.toml")
SHORT = ["run.steps=48"]


def run(*settings, seed=1, steps=48):
    m = TransitionModel(load_scenario(TOWN, [f"run.steps={steps}", *settings]), seed=seed)
    m.run()
    return m


def test_none_spends_nothing_and_founds_nothing():
    m = run()
    s = m.summary()
    assert s["organisation:staff_hours"] == 0 and s["organisation:euros"] == 0
    assert s["organisation:founded"] == 0
    assert m.collectives.count == 2  # no room kept when it never founds


def test_scaling_out_founds_as_the_budget_allows_and_keeps_the_books():
    # 40 staff hours and 1,000 EUR a month; a founding takes 480 hours and 6,000 EUR:
    # one a year, at months 12, 24, 36 and 48 (the budget of month 12 is there at its step)
    m = run("organisation.strategy=out")
    org = m.organisation
    assert [r["month"] for r in org.recommendations] == [12.0, 24.0, 36.0, 48.0]
    assert m.collectives.count == 2 + 8  # room for max_foundings
    s = m.summary()
    assert s["organisation:founded"] == 4
    assert s["organisation:staff_hours"] == pytest.approx(4 * 480)
    assert s["organisation:euros"] == pytest.approx(4 * 6000)
    assert np.nansum(org.result["foundings"]) == 4
    founded = np.flatnonzero(m.collectives.founded)
    assert set(m.collectives.founded_month[founded[2:]]) == {11.0, 23.0, 35.0, 47.0}


def test_it_stops_at_max_foundings_and_saves_no_more():
    m = run("organisation.strategy=out", "organisation.found_hours=40",
            "organisation.found_euros=0", "organisation.max_foundings=3")  # fmt: skip
    assert m.summary()["organisation:founded"] == 3
    assert m.organisation.bank_hours["out"] == 0.0
    assert m.collectives.count == 5


def test_least_served_founds_where_disadvantaged_households_live():
    pop_share = None
    for order in ("least_served", "ready"):
        m = run("organisation.strategy=out", f"organisation.found_order={order}")
        pop = m.population
        share = np.bincount(pop.neighbourhood, pop.disadvantaged) / np.bincount(pop.neighbourhood)
        firsts = [r["collective"] for r in m.organisation.recommendations]
        if order == "least_served":
            free = np.setdiff1d(np.arange(pop.n_neighbourhoods), m.collectives.nbhd[:2])
            assert firsts[0] == free[np.argmax(share[free])]
            pop_share = share[firsts].mean()
        else:
            assert share[firsts].mean() < pop_share


def test_a_cold_start_mix_is_the_founders_draw_and_leaves_the_others_whole():
    m = run("organisation.strategy=out", "organisation.cold_share=0.5")
    iv = m.interventions
    founded = [c for c in np.flatnonzero(m.collectives.founded) if c >= 2]
    assert iv.allowed[:, :2].all()  # the collectives at the start carry out everything
    mixes = iv.allowed[:, founded]
    assert not mixes.all() and mixes.any()
    again = run("organisation.strategy=out", "organisation.cold_share=0.5")
    assert (again.interventions.allowed == iv.allowed).all()
    # a collective never carries out an entry outside its mix, and that is not a refusal
    months = iv.log_months[:, ~iv.allowed]
    assert not months.any()


def test_cold_share_one_gives_the_whole_catalogue_and_zero_none():
    full = run("organisation.strategy=out", "organisation.cold_share=1")
    assert full.interventions.allowed.all()
    empty = run("organisation.strategy=out", "organisation.cold_share=0")
    founded = np.flatnonzero(empty.collectives.founded)[2:]
    assert not empty.interventions.allowed[:, founded].any()


def test_warm_start_without_records_is_exactly_the_cold_start():
    cold = run("organisation.strategy=out", seed=3, steps=60)
    warm = run("organisation.strategy=out", "organisation.warm_start=true", seed=3, steps=60)
    assert warm.summary()["organisation:warm_starts"] == 0  # too few first years to learn
    assert (warm.interventions.allowed == cold.interventions.allowed).all()
    assert warm.summary()["any_adoption"] == cold.summary()["any_adoption"]


def test_deep_gives_its_hours_to_the_active_collectives():
    m = run("organisation.strategy=deep", steps=12)
    s = m.summary()
    assert s["organisation:staff_hours"] == pytest.approx(12 * 40)
    assert s["organisation:deep_hours"] == pytest.approx(12 * 40)
    assert m.interventions.extra[:2] == pytest.approx([20.0, 20.0])


def test_linking_ties_members_of_different_collectives():
    quiet = ("collectives.count=4", "interventions.event.enabled=false")  # no event ties
    m = run("organisation.strategy=linking", *quiet, steps=24)
    s = m.summary()
    assert s["organisation:links"] > 0
    assert s["organisation:staff_hours"] == pytest.approx(s["organisation:links"] * 2.0)
    base = run("organisation.strategy=none", *quiet, steps=24)
    used0 = base.interventions.room.used  # the ties in use without linking
    adj, room, of = m.adjacency, m.interventions.room, m.collectives.of
    assert (room.used - used0).sum() == 2 * s["organisation:links"]
    for i in np.flatnonzero(room.used > used0):  # every tie made links two collectives
        for x in range(adj.indptr[i] + used0[i], adj.indptr[i] + room.used[i]):
            j = adj.indices[x]
            assert of[i] >= 0 and of[j] >= 0 and of[i] != of[j]


def test_a_mix_splits_the_budget():
    m = run("organisation.strategy=mix", "organisation.out_share=0.5",
            "organisation.deep_share=0.5", steps=24)  # fmt: skip
    s = m.summary()
    assert s["organisation:deep_hours"] == pytest.approx(24 * 20)
    assert s["organisation:founded"] == 1  # 480 hours at 20 a month: month 24


@pytest.mark.parametrize(
    ("settings", "key"),
    [
        (["organisation.out_share=0.5"], "organisation.out_share"),
        (["organisation.strategy=mix"], "organisation.out_share"),
        (
            [
                "organisation.strategy=mix",
                "organisation.out_share=0.8",
                "organisation.deep_share=0.4",
            ],
            "organisation.out_share",
        ),
        (["organisation.strategy=sideways"], "organisation.strategy"),
        (["organisation.records=/no/such/records.parquet"], "organisation.records"),
        (["organisation.objective=happiness"], "organisation.objective"),
    ],
)
def test_bad_settings_are_refused_with_the_key(settings, key):
    with pytest.raises(ScenarioError) as exc:
        load_scenario(TOWN, settings)
    assert key in str(exc.value)


def test_a_bad_setting_at_the_command_line_exits_2_and_writes_nothing(tmp_path, capsys):
    out = tmp_path / "run"
    code = main(["run", TOWN, "--set", "organisation.strategy=sideways", "--out", str(out)])
    assert code == 2
    assert "organisation.strategy" in capsys.readouterr().err
    assert not out.exists()


def test_the_archive_path_is_read_relative_to_the_scenario_file():
    sc = load_scenario(str(ROOT / "scenarios" / "strategies" / "town_archive.toml"))
    assert sc.organisation.records == str(
        ROOT / "scenarios" / "strategies" / "pilot_records.parquet"
    )


def test_a_continued_run_takes_over_the_organisation():
    sc = load_scenario(TOWN, ["run.steps=36", "organisation.strategy=out",
                              "organisation.found_hours=100"])  # fmt: skip
    whole = TransitionModel(sc, seed=2)
    whole.run()
    half = TransitionModel(sc, seed=2)
    half.run(18)
    rest = TransitionModel(sc, seed=2)
    rest.continue_from(half)
    rest.run()
    assert rest.summary()["organisation:founded"] == whole.summary()["organisation:founded"]
    assert rest.summary()["any_adoption"] == whole.summary()["any_adoption"]


def test_the_run_summary_says_what_the_organisation_did(tmp_path, capsys):
    args = ["run", TOWN, "--set", "organisation.strategy=out", "--set", "run.steps=24",
            "--replicates", "1", "--out", str(tmp_path / "r")]  # fmt: skip
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "organisation:founded" in out and "organisation:staff_hours" in out
    assert main(["run", TOWN, "--set", "run.steps=12", "--replicates", "1",
                 "--out", str(tmp_path / "s")]) == 0  # fmt: skip
    assert "organisation:" not in capsys.readouterr().out  # it spent nothing
