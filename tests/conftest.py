"""Shared test configuration: repository paths, and the repository root on ``sys.path``."""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "scenarios"

# Make the repository root importable, so tests can use ``benchmarks.mesa_baseline``.
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
