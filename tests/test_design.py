"""Designs of any function from parameter ranges alone, and their sensitivity, in memory and
through a results folder that ``bt-sim sensitivity`` reads (no bt-sim scenario anywhere)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from bt_sim.cli import main
from bt_sim.errors import SweepError
from bt_sim.experiments.design import design, run_design, sensitivity
from bt_sim.experiments.executors import ProcessExecutor

BOX = {k: {"range": [-np.pi, np.pi]} for k in ("x1", "x2", "x3")}
# Analytic first-order and total Sobol indices of the Ishigami function (a = 7, b = 0.1).
S1 = {"x1": 0.3139, "x2": 0.4424, "x3": 0.0}
ST = {"x1": 0.5576, "x2": 0.4424, "x3": 0.2437}


def ishigami(params, seed):
    x1, x2, x3 = params["x1"], params["x2"], params["x3"]
    return {"y": float(np.sin(x1) + 7 * np.sin(x2) ** 2 + 0.1 * x3**4 * np.sin(x1))}


def test_sobol_indices_of_a_plain_function_in_memory():
    d = design(BOX, sampler="sobol", samples=2048, seed=3)
    assert list(d.points.columns) == ["x1", "x2", "x3"] and d.problem["num_vars"] == 3
    table = sensitivity(d, run_design(ishigami, d)).table.set_index("parameter")
    # 2048 x (2 x 3 + 2) = 16,384 evaluations: Saltelli's estimator's error at this size is
    # about 0.02 (its bootstrap intervals here are 0.02-0.05 wide); 0.04 is twice that.
    for k in BOX:
        assert table.loc[k, "S1"] == pytest.approx(S1[k], abs=0.04), k
        assert table.loc[k, "ST"] == pytest.approx(ST[k], abs=0.04), k


def test_a_design_through_a_folder_that_bt_sim_sensitivity_reads(tmp_path, capsys):
    d = design(BOX, sampler="morris", samples=40, seed=2, name="ishigami")
    out = tmp_path / "ishigami"
    with ProcessExecutor(2) as ex:
        res = run_design(ishigami, d, out, executor=ex)
    assert len(res) == len(d.points) and (res["error"] == "").all()
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["base_scenario"] is None
    assert manifest["function"] == "tests.test_design.ishigami"
    assert manifest["units"]["y"] == "?"  # a plain function's output: unit not known
    capsys.readouterr()
    assert main(["sensitivity", str(out)]) == 0
    table = pd.read_csv(out / "sensitivity.csv").set_index("parameter")
    # Morris mu*: x3 matters least for the mean effect here, x1 and x2 much more
    assert table.loc["x3", "mu_star"] < table.loc["x1", "mu_star"]
    assert table.loc["x3", "mu_star"] < table.loc["x2", "mu_star"]
    # the same design again resumes nothing new; another function is refused
    again = run_design(ishigami, d, out, resume=True)
    assert len(again) == len(res)
    with pytest.raises(SweepError, match="another sweep"):
        run_design(lambda p, s: {"y": 0.0}, d, out, resume=True)


def test_a_bad_design_names_the_parameter():
    with pytest.raises(SweepError, match=r"parameters\.x1"):
        design({"x1": {"range": [1]}, "x2": {"range": [0, 1]}}, sampler="latin", samples=8)
    with pytest.raises(SweepError, match="samples"):
        design(BOX, sampler="sobol", samples=100)
    with pytest.raises(SweepError, match="sampler"):
        sensitivity(design({"x": {"levels": [1, 2]}}), pd.DataFrame())
