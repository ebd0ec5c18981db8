"""Ship the repository's scenarios/ (with sweeps/ and strategies/) inside the package as
bt_sim/scenario_files/.

The top-level scenarios/ folder stays the place to edit them; a build copies them in, so that
``bt-sim scenario list`` and ``bt-sim run default`` work from an installed wheel too.
"""

import shutil
import sys
from pathlib import Path

if sys.version_info < (3, 12):  # noqa: UP036 (this check is for older Pythons)
    # pip resolves the dependencies before it checks requires-python, and says only
    # "No matching distribution found for mesa"; say what is wrong instead.
    sys.exit(
        f"bt-sim needs Python 3.12 or newer; this is Python {sys.version.split()[0]}. "
        "Create the environment with python3.12 -m venv .venv"
    )

from setuptools import setup
from setuptools.command.build_py import build_py

#: What is shipped from scenarios/: scenarios, sweep and comparison files, and the records
#: (and their schemas) a scenario reads.
SHIPPED = ("*.toml", "*.parquet", "*.json")


class BuildWithScenarios(build_py):
    """build_py that also copies scenarios/ (its subfolders too) into the built package."""

    def run(self):
        super().run()
        source = Path(__file__).parent / "scenarios"
        target = Path(self.build_lib) / "bt_sim" / "scenario_files"
        for pattern in SHIPPED:
            for path in sorted(source.rglob(pattern)):
                dest = target / path.relative_to(source)
                dest.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(path, dest)


setup(cmdclass={"build_py": BuildWithScenarios})
