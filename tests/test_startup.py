"""The command line starts without loading the engine: `bt-sim --help` and the scenario
commands import neither Mesa nor numba nor numpy (their CPU time is measured by
benchmarks/startup.py, not here), and the kernels are cached per user."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import bt_sim

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
    folder = Path(out)
    assert folder.parent == tmp_path / "bt-sim" / "numba" and folder.is_dir()
    assert folder.name == bt_sim._kernel_fingerprint()


def test_the_kernel_cache_follows_every_kernel_module():
    """numba reuses a compiled kernel if its own file is unchanged, even when a function it
    inlines from another module changed; the cache folder is named from all kernel modules."""
    src = Path(bt_sim.__file__).parent
    with_kernels = {
        p.relative_to(src).as_posix() for p in src.rglob("*.py") if "@njit" in p.read_text()
    }
    assert with_kernels == set(bt_sim.KERNEL_MODULES)
