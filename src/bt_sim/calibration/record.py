"""What a calibration history was fitted to, kept beside it, so that ``--resume`` can never
continue a history against other data, another scenario, other priors or other statistics.

The record (``<out>.abc-history.json`` beside ``<out>.abc-history.db``; ``fitted_to`` in the
results' manifest) holds a SHA-256 of each part: the hub data file's bytes, the resolved base
scenario, the parameters with their priors, the matched indicators and statistics, and the
population size and seed. A resume whose parts differ is refused before any simulation, naming
what changed. The number of generations and the simulation budget may change (to run a
calibration further); the change is said.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from bt_sim.calibration.config import Calibration, CalibrationError

#: Parts whose change makes a history another calibration, in the order they are reported.
PARTS = ("hub data", "scenario", "parameters and priors", "statistics", "population size", "seed")


def _hash(obj) -> str:
    text = json.dumps(obj, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def fitted_to(cal: Calibration) -> dict:
    """The record of a calibration: a hash of each part, and the budget."""
    from bt_sim.scenario.validate import scenario_to_dict

    return {
        "hub data": hashlib.sha256(Path(cal.data_path).read_bytes()).hexdigest()[:16],
        "scenario": _hash(scenario_to_dict(cal.scenario())),
        "parameters and priors": _hash([(p.key, p.kind, p.a, p.b) for p in cal.priors]),
        "statistics": _hash([cal.match, cal.pool_months, cal.scale]),
        "population size": cal.population_size,
        "seed": cal.seed,
        "generations": cal.generations,
        "max_simulations": cal.max_simulations,
        "files": {
            "calibration": str(cal.path),
            "hub data": str(cal.data_path),
            "scenario": str(cal.scenario_path),
        },
    }


def record_path(db: Path) -> Path:
    """The record beside a history ``<out>.abc-history.db``."""
    return db.with_suffix(".json")


def write_record(db: Path, record: dict) -> None:
    """Write the record beside the history (atomically)."""
    from bt_sim.experiments.store import write_json

    write_json(record_path(db), record)


def check_resume(db: Path, now: dict) -> list[str]:
    """Refuse (CalibrationError) a resume whose history was fitted to something else; return
    what changed that a resume may change (the budget), to be said."""
    path = record_path(db)
    try:
        then = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CalibrationError(
            f"{db}: no record of what this history was fitted to ({path.name} is missing); "
            "it cannot be resumed safely: move it away and start afresh"
        ) from None
    except (OSError, ValueError) as exc:
        raise CalibrationError(f"{path}: cannot be read ({exc}); move the history away") from None
    changed = [p for p in PARTS if then.get(p) != now[p]]
    if changed:
        files = then.get("files", {})

        def said(part: str) -> str:
            if part in files:  # a file: name it
                return f"the {part} ({files[part]})"
            if part in ("population size", "seed"):  # a number: show the change
                return f"the {part} ({then.get(part)} -> {now[part]})"
            return f"the {part}"

        detail = "; ".join(said(p) for p in changed)
        raise CalibrationError(
            f"{db}: cannot resume: {detail} changed since this history was started; a resume "
            "needs the same calibration: start afresh with another --out (or move the history "
            "away)"
        )
    return [
        f"{k} {then.get(k)} -> {now[k]}"
        for k in ("generations", "max_simulations")
        if then.get(k) != now[k]
    ]
