"""A sweep's results on disk: written as runs finish, never twice, never half.

A sweep folder holds

``manifest.json``
    What the sweep is (its file, base scenario, sampler, parameters, seeds, the fingerprint
    that ``--resume`` checks) and the files written so far. Rewritten atomically.
``design.parquet``
    The points: row ``i`` is point ``i``, one column per parameter.
``part-NNNNN.parquet``
    Finished runs, a batch per part: ``run``, ``point``, ``replicate``, the parameters, the
    outputs, ``error`` (empty when the run succeeded) and ``seconds``.
``ts-NNNNN.parquet``
    Time series of the same runs, when the sweep keeps them.

Every file is written to a hidden temporary file and moved into place with ``os.replace``, so
a sweep killed at any moment leaves only complete parts. Reading deduplicates by run index
(the first record of a run wins), so a run is never counted twice even if it were written
twice.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from bt_sim.errors import OutputError, SweepError

_PART = re.compile(r"^(part|ts)-(\d{5,})\.parquet$")
MANIFEST = "manifest.json"
DESIGN = "design.parquet"


def write_atomic(path: Path, write) -> None:
    """Call ``write(tmp_path)`` and move the file into place; nothing half-written remains."""
    tmp = path.parent / f".{path.name}.tmp-{os.getpid()}"
    try:
        write(tmp)
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def write_json(path: Path, data: dict) -> None:
    text = json.dumps(data, indent=2, default=_jsonable) + "\n"
    write_atomic(path, lambda p: p.write_text(text, encoding="utf-8"))


def _jsonable(x: Any) -> Any:
    if hasattr(x, "item"):
        return x.item()
    return str(x)


class SweepStore:
    """The results folder of one sweep (already claimed and locked by the caller)."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self._manifest: dict | None = None

    # ---- creation and reading -------------------------------------------------------------
    def create(self, manifest: dict, design: pd.DataFrame) -> None:
        """Write the manifest and the design into an empty folder."""
        write_atomic(self.folder / DESIGN, lambda p: design.to_parquet(p, index=False))
        manifest = dict(manifest, files={"design": DESIGN})
        self._manifest = manifest
        write_json(self.folder / MANIFEST, manifest)

    @property
    def manifest(self) -> dict:
        if self._manifest is None:
            self._manifest = read_manifest(self.folder)
        return self._manifest

    def design(self) -> pd.DataFrame:
        return pd.read_parquet(self.folder / DESIGN)

    def parts(self, kind: str = "part") -> list[Path]:
        """The complete part files on disk, in order."""
        found = []
        for entry in os.scandir(self.folder):
            m = _PART.match(entry.name)
            if m and m[1] == kind:
                found.append((int(m[2]), Path(entry.path)))
        return [p for _, p in sorted(found)]

    def _read(self, path: Path, columns: list[str] | None = None) -> pd.DataFrame:
        """A part file, or SweepError naming it when it is damaged."""
        from bt_sim.errors import SweepError

        try:
            return pd.read_parquet(path, columns=columns)
        except Exception as exc:  # pyarrow's errors for a truncated or foreign file
            raise SweepError(
                [(str(path), "", f"a damaged results part ({type(exc).__name__}: "
                  f"{str(exc)[:120]}); --resume with this folder as --out sets it aside "
                  "and runs its runs again")]
            ) from None  # fmt: skip

    def set_aside_damaged(self) -> list[Path]:
        """Rename part files that cannot be read to ``<name>.damaged`` (kept, not deleted),
        so that a resume runs their runs again; returns the new names."""
        import pyarrow.parquet as pq

        moved = []
        for kind in ("part", "ts"):
            for path in self.parts(kind):
                try:
                    pq.read_metadata(path)
                except Exception:
                    target = path.with_name(f"{path.name}.damaged")
                    os.replace(path, target)
                    self.add_file(target.name, target.name)  # still ours: --force may remove
                    moved.append(target)
        return moved

    def results(self) -> pd.DataFrame:
        """Every recorded run, one row each (deduplicated by run index), sorted by run."""
        frames = [self._read(p) for p in self.parts("part")]
        frames = [f for f in frames if len(f)]
        if not frames:
            return pd.DataFrame(columns=["run", "point", "replicate", "error"])
        df = pd.concat(frames, ignore_index=True)
        df = df.drop_duplicates("run", keep="first").sort_values("run").reset_index(drop=True)
        if "units" in self.manifest:
            df.attrs["units"] = self.manifest["units"]
        return df

    def timeseries(self) -> pd.DataFrame:
        """Kept time series: ``run``, ``step``, ``variable``, ``value`` (deduplicated)."""
        frames = [self._read(p) for p in self.parts("ts")]
        if not frames:
            return pd.DataFrame(columns=["run", "step", "variable", "value"])
        df = pd.concat(frames, ignore_index=True)
        return df.drop_duplicates(["run", "step", "variable"]).reset_index(drop=True)

    def done_runs(self) -> set[int]:
        """Indices of the runs recorded (succeeded or failed)."""
        done: set[int] = set()
        for p in self.parts("part"):
            done.update(int(r) for r in self._read(p, columns=["run"])["run"])
        return done

    # ---- writing ---------------------------------------------------------------------------
    def clean_temporary(self) -> None:
        """Remove temporary files left by a killed sweep (the caller holds the lock)."""
        for entry in os.scandir(self.folder):
            if entry.name.startswith(".") and ".tmp-" in entry.name:
                with contextlib.suppress(OSError):
                    os.unlink(entry.path)

    def _next_index(self) -> int:
        idx = [int(_PART.match(p.name)[2]) for k in ("part", "ts") for p in self.parts(k)]
        return max(idx, default=-1) + 1

    def write_batch(self, rows: list[dict], series: list[pd.DataFrame]) -> None:
        """Write a batch of finished runs as one part (and its time series), atomically."""
        if not rows:
            return
        n = self._next_index()
        files = dict(self.manifest.get("files", {}))
        if series:
            ts = pd.concat(series, ignore_index=True)
            name = f"ts-{n:05d}.parquet"
            write_atomic(self.folder / name, lambda p: ts.to_parquet(p, index=False))
            files[f"ts-{n:05d}"] = name
        df = pd.DataFrame(rows)
        name = f"part-{n:05d}.parquet"
        write_atomic(self.folder / name, lambda p: df.to_parquet(p, index=False))
        files[f"part-{n:05d}"] = name
        self.update(files=files)

    def update(self, **changes: Any) -> None:
        """Change manifest entries and rewrite it atomically."""
        self._manifest = dict(self.manifest, **changes)
        write_json(self.folder / MANIFEST, self._manifest)

    def sync_files(self) -> None:
        """List every part on disk in the manifest (parts written just before a kill)."""
        files = {
            k: v for k, v in self.manifest.get("files", {}).items() if (self.folder / v).exists()
        }
        for kind in ("part", "ts"):
            for p in self.parts(kind):
                files[p.stem] = p.name
        self.update(files=files)

    def add_file(self, role: str, name: str) -> None:
        """Record a file written into the folder (an analysis table or plot)."""
        files = dict(self.manifest.get("files", {}))
        files[role] = name
        self.update(files=files)


def read_manifest(folder: Path) -> dict:
    """A sweep folder's manifest, or a SweepError naming the folder."""
    path = Path(folder) / MANIFEST
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SweepError(
            [(str(folder), "", "not a sweep results folder (no manifest.json)")]
        ) from None
    except (OSError, ValueError) as exc:
        raise SweepError([(str(path), "", f"cannot be read: {exc}")]) from None
    if not isinstance(data, dict) or data.get("kind") != "sweep":
        raise SweepError([(str(path), "kind", "not a sweep manifest (bt-sim sweep writes one)")])
    return data


def open_store(folder: Path) -> SweepStore:
    """An existing sweep folder, for reading."""
    folder = Path(folder)
    if not folder.is_dir():
        raise OutputError(f"{folder}: no such results folder")
    store = SweepStore(folder)
    store.manifest  # noqa: B018 - reads and checks it
    return store


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
