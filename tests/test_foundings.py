"""Collectives founded during a run: in preallocated room, with the founders they would have
had at the start, set up in every component; bad foundings refused before any work."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bt_sim import TransitionModel, load_scenario
from bt_sim.cli import main
from bt_sim.components.capacity import ACTIVE, UNFOUNDED
from bt_sim.errors import ScenarioError
from tests.conftest import SCENARIOS

EXAMPLE = str(SCENARIOS / "interventions.toml")


def write(tmp_path, extra: str = "") -> str:
    path = tmp_path / "found.toml"
    path.write_text(
        f'extends = "{EXAMPLE}"\n'
        "[run]\nsteps = 40\n"
        '[collectives]\nplacement = "first"\n'
        '[[foundings]]\nname = "next"\nmonth = 12\n'
        '[[foundings]]\nname = "east"\nmonth = 24\nneighbourhood = 9\n'
        'founder_rule = "disadvantaged"\nfounders = 8\n' + extra,
        encoding="utf-8",
    )
    return str(path)


def test_collectives_are_founded_in_preallocated_room(tmp_path):
    m = TransitionModel(load_scenario(write(tmp_path)), seed=1)
    colls, cap = m.collectives, m.capacity
    assert colls.count == 5 and colls.nbhd.tolist() == [0, 1, 2, -1, -1]
    assert cap.status.tolist() == [ACTIVE] * 3 + [UNFOUNDED] * 2
    arrays = [colls.state.progress, cap.volunteers, m.interventions.spent, colls.of]
    m.run(12)
    assert colls.nbhd.tolist() == [0, 1, 2, -1, -1]  # month 12 falls in the 13th step
    m.run(1)
    assert colls.nbhd.tolist() == [0, 1, 2, 3, -1] and cap.status[3] == ACTIVE
    mine = colls.of == 3
    assert mine.sum() == 200 and colls.hosted[mine].all()
    assert (m.hub.group[mine] // m.config.hub.size_classes == 3).all()
    m.run()
    assert colls.nbhd.tolist() == [0, 1, 2, 3, 9] and (cap.status == ACTIVE).all()
    assert all(
        a is b
        for a, b in zip(
            arrays,
            [colls.state.progress, cap.volunteers, m.interventions.spent, colls.of],
            strict=True,
        )
    )
    s = m.summary()
    assert s["collectives:founded"] == 2 and s["collectives:refused_foundings"] == 0
    ts = m.timeseries()
    truth = ts[ts["scope"] == "collective_truth"]
    assert sorted(truth["entity"].unique()) == ["0", "1", "2", "3", "9"]
    state = truth[(truth["entity"] == "9") & (truth["variable"] == "capacity:state")]
    assert (state["value"].to_numpy()[:25] == UNFOUNDED).all()  # steps 0-24
    assert (state["value"].to_numpy()[25:] == ACTIVE).all()
    members = truth[(truth["entity"] == "9") & (truth["variable"] == "members")]["value"]
    assert (members.to_numpy()[:25] == 0).all() and members.iloc[25] >= 8
    assert set(m.hub_panel()["collective"]) <= {0, 1, 2, 3, 9}


def test_a_founded_collective_starts_with_the_founders_it_would_have_had_at_the_start():
    """Founders are keyed by household: a collective founded in neighbourhood 3 during the
    run starts with the households that a fourth collective placed at the start would have
    had (the usual suspects' order does not depend on the state)."""
    sets = ["collectives.placement=first", "run.steps=20"]
    at_start = TransitionModel(load_scenario(EXAMPLE, [*sets, "collectives.count=4"]), seed=2)
    homes = at_start.collectives.of == 3
    want = np.flatnonzero(at_start.state.member & homes)
    later = TransitionModel(load_scenario(EXAMPLE, [*sets, "collectives.max_count=4"]), seed=2)
    later.run(10)
    before = later.state.member.copy()
    assert later.collectives.found(-1, "usual_suspects", 5) == 3
    got = np.flatnonzero(later.state.member & ~before)
    assert want.size == 5 and np.array_equal(got, want)
    assert later.capacity.volunteers[3] == 5 and later.collectives.nbhd[3] == 3
    later.run()  # and it runs on


def test_the_disadvantaged_founding_starts_with_disadvantaged_founders(tmp_path):
    m = TransitionModel(load_scenario(write(tmp_path)), seed=3)
    m.run(25)
    assert m.capacity.volunteers[4] == 8
    homes = m.collectives.of == 4
    # the eight founders are disadvantaged (the rule's first), and the first members
    members = m.state.member & homes
    assert members.sum() >= 8 and m.population.disadvantaged[members].sum() >= 8


def test_a_founding_in_a_neighbourhood_that_has_a_collective_is_refused(tmp_path):
    m = TransitionModel(load_scenario(write(tmp_path)), seed=4)
    m.run(1)
    assert m.collectives.found(0, "random", 5) == -1  # neighbourhood 0 has one
    assert m.collectives.found(-1, "random", 5) == 3  # the next free one
    assert m.collectives.found(7, "random", 5) == 4
    assert m.collectives.found(8, "random", 5) == -1  # no room left
    m.run()
    assert m.summary()["collectives:refused_foundings"] == 2 + 2  # and the two planned ones


@pytest.mark.parametrize(
    ("extra", "key", "expect"),
    [
        ("[[foundings]]\nname = \"late\"\nmonth = 500\n", r"foundings\[2\]\.month",
         "within the run"),
        ("[[foundings]]\nname = \"far\"\nneighbourhood = 10\n", r"foundings\[2\]\.neighbourhood",
         "below population.neighbourhoods"),
        ("[[foundings]]\nname = \"twice\"\nneighbourhood = 9\n", r"foundings\[2\]\.neighbourhood",
         "one founding per neighbourhood"),
        ("[[foundings]]\nname = \"odd\"\nfounder_rule = \"loudest\"\n",
         r"foundings\[2\]\.founder_rule", "expected one of"),
        ("[collectives]\nmax_count = 4\n", r"collectives\.max_count", "at least 5"),
    ],
)  # fmt: skip
def test_bad_foundings_are_refused_before_any_work(tmp_path, capsys, extra, key, expect):
    # the [collectives] table may appear once in TOML: merge max_count into it
    if extra.startswith("[collectives]"):
        path = write(tmp_path)
        file = Path(path)
        text = file.read_text(encoding="utf-8").replace(
            '[collectives]\nplacement = "first"\n',
            '[collectives]\nplacement = "first"\nmax_count = 4\n',
        )
        file.write_text(text, encoding="utf-8")
    else:
        path = write(tmp_path, extra)
    with pytest.raises(ScenarioError, match=key):
        load_scenario(path)
    code = main(["run", path, "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 2 and expect in err and "Traceback" not in err, err
    assert not (tmp_path / "out").exists()


def test_too_many_collectives_for_the_neighbourhoods(tmp_path, capsys):
    path = write(tmp_path)
    with pytest.raises(ScenarioError, match="foundings"):
        load_scenario(path, ["collectives.count=9"])


def test_the_view_lists_only_collectives_founded(tmp_path):
    from bt_sim.view.session import model_hub_table

    m = TransitionModel(load_scenario(write(tmp_path)), seed=6)
    m.run(13)
    rows = model_hub_table(m).rows
    assert [c for c, _ in rows] == [0, 1, 2, 3]  # neighbourhood 9 is founded at month 24


def test_set_names_a_founding_that_does_not_exist(capsys, tmp_path):
    code = main(["run", EXAMPLE, "--set", "foundings.a.month=2", "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert code == 2 and "no founding 'a' (there are none)" in err
    path = write(tmp_path)
    sc = load_scenario(path, ["foundings.east.founders=3", "foundings.0.month=6"])
    assert [(f.name, f.month, f.founders) for f in sc.foundings] == [
        ("next", 6.0, -1),
        ("east", 24.0, 3),
    ]
