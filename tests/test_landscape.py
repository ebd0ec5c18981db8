"""The landscape component: drivers act on the model through their documented couplings, a
walk keeps its own stream, and bad series files or couplings are refused before any run
with the file, row and key named."""

from __future__ import annotations

import numpy as np
import pytest

from bt_sim import TransitionModel, load_scenario
from bt_sim.cli import main
from bt_sim.errors import ScenarioError
from tests.conftest import SCENARIOS

SMALL = ["population.households=300", "run.steps=24"]


def write(tmp_path, body: str, name: str = "s.toml"):
    f = tmp_path / name
    f.write_text(f'extends = "{SCENARIOS / "default.toml"}"\nname = "s"\n' + body)
    return f


def model(tmp_path, body: str, sets=()):
    return TransitionModel(load_scenario(write(tmp_path, body), [*SMALL, *sets]), seed=3)


def test_no_drivers_change_nothing():
    m = TransitionModel(load_scenario(None, SMALL), seed=3)
    cost = m.cost.copy()
    m.run()
    assert not m.landscape.active and not m.regime.active
    assert np.array_equal(m.cost, cost) and m.p_scale == 1.0 and (m.pull == 1.0).all()


def test_energy_price_divides_the_cost_households_weigh_and_price_multiplies_it(tmp_path):
    m = model(
        tmp_path,
        '[[landscape]]\nname = "energy"\nkind = "step"\nmonth = 6\nsize = 1.0\n'
        '[[landscape]]\nname = "hp"\nacts_on = "price"\nbehaviour = "heat_pump"\nstart = 1.5\n',
    )
    base = np.array([b.cost for b in m.config.behaviours], np.float32)
    hp = m.behaviour_names.index("heat_pump")
    m.run(5)
    expect = base.copy()
    expect[hp] *= 1.5
    assert np.allclose(m.cost, expect)  # energy still at 1 in month 5
    m.run(1)
    expect /= 2.0
    assert np.allclose(m.cost, expect)  # doubled from month 6: every cost weighs half
    ts = m.timeseries()
    energy = ts[ts["variable"] == "landscape:energy"].set_index("step")["value"]
    assert energy.loc[5] == 1.0 and energy.loc[6] == 2.0


def test_income_and_attention_scale_incomes_and_outside_pull(tmp_path):
    m = model(
        tmp_path,
        '[[landscape]]\nname = "inc"\nacts_on = "income"\nstart = 0.8\n'
        '[[landscape]]\nname = "news"\nacts_on = "attention"\nkind = "values"\n'
        "values = [1.0, 1.0, 3.0]\n",
    )
    base = m.landscape.base_income
    m.run(2)
    assert np.allclose(m.income_rel, base * np.float32(0.8))
    assert m.p_scale == 3.0


def test_a_trust_shock_cuts_trust_by_the_level_s_change_and_restores_it(tmp_path):
    body = (
        '[[landscape]]\nname = "scandal"\nacts_on = "trust"\nkind = "values"\n'
        "values = [1.0, 1.0, 1.0, 0.5, 0.5, 1.0]\n"
    )
    m = model(tmp_path, body, ["hub.trust_rate=0"])  # trust moves only by the driver
    m.run(2)
    before, members = m.state.trust.copy(), m.state.member.copy()
    m.run(1)
    # (a household that joins a collective starts afresh at hub.trust_initial)
    same = members == m.state.member
    assert same.mean() > 0.9
    assert np.allclose(m.state.trust[same], before[same] * 0.5)
    m.run(2)
    same &= members == m.state.member
    assert np.allclose(m.state.trust[same], before[same], atol=1e-6)


def test_a_walk_is_reproducible_and_independent_of_other_drivers(tmp_path):
    walk = '[[landscape]]\nname = "w"\nkind = "walk"\nsd = 0.1\n'
    a = model(tmp_path, walk).landscape.levels[0]
    again = model(tmp_path, walk).landscape.levels[0]
    other = '[[landscape]]\nname = "v"\nkind = "walk"\nsd = 0.2\n'
    with_other = model(tmp_path, other + walk).landscape.levels[1]
    assert np.array_equal(a, again) and np.array_equal(a, with_other)
    assert np.std(np.diff(np.log(a))) > 0.05  # it moves


def test_a_series_file_is_read_relative_to_the_scenario(tmp_path):
    (tmp_path / "prices.csv").write_text("month,energy\n0,1.0\n3,1.2\n6,2.0\n")
    m = model(tmp_path, '[[landscape]]\nname = "energy"\nkind = "file"\nfile = "prices.csv"\n')
    assert m.landscape.levels[0][[0, 2, 3, 5, 6, 24]].tolist() == [1.0, 1.0, 1.2, 1.2, 2.0, 2.0]


def test_bad_series_files_and_couplings_are_refused_with_file_row_and_key(tmp_path, capsys):
    (tmp_path / "bad.csv").write_text("month,energy\n0,1.0\n3,abc\n2,1.0\n")
    f = write(tmp_path, '[[landscape]]\nname = "energy"\nkind = "file"\nfile = "bad.csv"\n')
    out = tmp_path / "out"
    assert main(["run", str(f), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and not out.exists()
    assert "landscape[0].file" in err and "bad.csv" in err
    assert "row 2 (line 3): energy: expected a number, got 'abc'" in err
    assert "row 3" in err  # months not increasing: named too
    bad = {
        'acts_on = "weather"': "landscape[0].acts_on: expected one of",
        'acts_on = "price"\nbehaviour = "solar"': "landscape[0].behaviour: expected '' or a "
        "behaviour of the scenario",
        'behaviour = "heat_pump"': "landscape[0].behaviour: used only with acts_on = 'price'",
        'kind = "values"': "landscape[0].values: kind = 'values' needs at least one value",
        'kind = "values"\nvalues = [1, "x"]': "landscape[0].values: expected an array of numbers",
        "lo = 2.0\nhi = 1.0": "landscape[0].lo: expected at most hi",
        'kind = "file"': "landscape[0].file: kind = 'file' needs a CSV file",
        'kind = "file"\nfile = "none.csv"': "none.csv: file not found",
    }
    for body, words in bad.items():
        f = write(tmp_path, f'[[landscape]]\nname = "x"\n{body}\n')
        with pytest.raises(ScenarioError, match="landscape") as exc:
            load_scenario(f)
        assert words in str(exc.value), (body, str(exc.value))
    with pytest.raises(ScenarioError, match=r"regime\.transition: expected ''"):
        load_scenario(None, ["regime.transition=solar"])
