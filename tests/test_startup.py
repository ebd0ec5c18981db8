"""The command line starts without loading the engine: `bt-sim --help` and the scenario
commands import neither Mesa nor numba nor numpy (their CPU time is measured by
benchmarks/startup.py, not here), and the kernels are cached per user."""

from __future__ import annotations

import os
import subprocess
import sys

HEAVY = ("mesa", "numba", "numpy", "pandas", "scipy")


def imported_after(code: str) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", f"{code}\nimport sys\nprint(' '.join(sorted(sys.modules)))"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return {m for m in out if m.split(".")[0] in HEAVY}


def test_cli_and_scenario_commands_do_not_import_the_engine():
    assert imported_after("import bt_sim.cli") == set()
    code = (
        "import contextlib, io\n"
        "from bt_sim.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    main(['scenario', 'validate', 'default'])\n"
        "    main(['scenario', 'keys'])\n"
    )
    assert imported_after(code) == set()


def test_the_package_loads_the_model_on_first_use():
    import bt_sim

    assert bt_sim.TransitionModel.__name__ == "TransitionModel"
    assert "TransitionModel" in dir(bt_sim)


def test_kernels_are_cached_in_a_per_user_folder(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_CACHE_DIR"}
    env["XDG_CACHE_HOME"] = str(tmp_path)
    out = subprocess.run(
        [sys.executable, "-c", "import bt_sim, os; print(os.environ['NUMBA_CACHE_DIR'])"],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    ).stdout.strip()
    assert out == str(tmp_path / "bt-sim" / "numba")
