"""Per-step outputs, kept in preallocated arrays and turned into tidy tables at the end."""

from __future__ import annotations

import numpy as np
import pandas as pd

SCOPES = ("overall", "group", "neighbourhood", "collective")


class Recorder:
    """Collects per-step aggregates of a run.

    Each record is a small set of bincounts over households, never a per-household loop. The
    tidy :meth:`timeseries` table has one row per (step, scope, unit, variable).
    """

    def __init__(
        self,
        steps: int,
        behaviours: tuple[str, ...],
        n_neighbourhoods: int,
        collective_nbhd: np.ndarray,
    ):
        self.behaviours = behaviours
        self.collective_nbhd = collective_nbhd
        t, b, c = steps + 1, len(behaviours), n_neighbourhoods
        k = collective_nbhd.shape[0]
        self.steps_done = 0
        self.overall_adoption = np.zeros((t, b))
        self.group_adoption = np.zeros((t, 2, b))  # 0: not disadvantaged, 1: disadvantaged
        self.nbhd_adoption = np.zeros((t, c, b))
        self.coll_adoption = np.zeros((t, k, b))
        # scalar series per scope: kpi_saving, efficacy, members, consenting, compared
        self.overall = {v: np.zeros(t) for v in self.SCALARS}
        self.group = {v: np.zeros((t, 2)) for v in self.SCALARS}
        self.coll = {v: np.zeros((t, k)) for v in ("members", "consenting", "kpi_saving")}
        self.hub_rows: list[tuple] = []

    SCALARS = ("kpi_saving", "efficacy", "members", "consenting", "compared", "any_adoption")

    def record(
        self,
        t: int,
        adopted: np.ndarray,
        saving: np.ndarray,
        efficacy: np.ndarray,
        member: np.ndarray,
        consent: np.ndarray,
        compared: np.ndarray,
        disadvantaged: np.ndarray,
        nbhd: np.ndarray,
        collective: np.ndarray,
        n_nbhd: int,
    ) -> None:
        """Record the state after step ``t`` (``t = 0`` is the initial state)."""
        a = adopted.astype(np.float32)
        grp = disadvantaged.astype(np.int64)
        n_grp = np.bincount(grp, minlength=2).astype(float)
        n_nb = np.bincount(nbhd, minlength=n_nbhd).astype(float)
        self.overall_adoption[t] = a.mean(axis=0)
        for b in range(a.shape[1]):
            col = a[:, b]
            self.group_adoption[t, :, b] = _safe_div(np.bincount(grp, col, 2), n_grp)
            self.nbhd_adoption[t, :, b] = _safe_div(np.bincount(nbhd, col, n_nbhd), n_nb)
        scal = {
            "kpi_saving": saving,
            "efficacy": efficacy,
            "members": member,
            "consenting": consent,
            "compared": compared,
            "any_adoption": adopted.any(axis=1),
        }
        for name, v in scal.items():
            v = v.astype(np.float64)
            self.overall[name][t] = v.mean()
            self.group[name][t] = _safe_div(np.bincount(grp, v, 2), n_grp)
        k = self.collective_nbhd.shape[0]
        if k:
            idx = np.where(collective >= 0, collective, k)
            m = np.bincount(idx, member, k + 1)[:k]
            self.coll["members"][t] = m
            self.coll["consenting"][t] = np.bincount(idx, consent, k + 1)[:k]
            midx = np.where(member, idx, k)
            self.coll["kpi_saving"][t] = _safe_div(np.bincount(midx, saving, k + 1)[:k], m)
            for b in range(a.shape[1]):
                self.coll_adoption[t, :, b] = _safe_div(np.bincount(midx, a[:, b], k + 1)[:k], m)
        self.steps_done = t

    def record_hub(
        self,
        t: int,
        counts: np.ndarray,
        means: np.ndarray,
        published: np.ndarray,
        saving_means: np.ndarray,
    ) -> None:
        """Keep the hub's published aggregates of step ``t`` (suppressed groups leave no row)."""
        for g in np.flatnonzero(published):
            self.hub_rows.append(
                (
                    t,
                    int(g) // 4,
                    int(g) % 4,
                    int(counts[g]),
                    float(means[g]),
                    float(saving_means[g]),
                )
            )

    def timeseries(self, dt: float) -> pd.DataFrame:
        """The tidy per-step table: step, month, scope, unit, variable, value."""
        t = self.steps_done + 1
        parts = []

        def add(scope: str, unit, variable: str, values: np.ndarray) -> None:
            parts.append(
                pd.DataFrame(
                    {
                        "step": np.arange(t),
                        "month": np.arange(t) * dt,
                        "scope": scope,
                        "unit": str(unit),
                        "variable": variable,
                        "value": values[:t],
                    }
                )
            )

        for bi, b in enumerate(self.behaviours):
            add("overall", "all", f"adoption:{b}", self.overall_adoption[:, bi])
            for gi, gname in enumerate(("other", "disadvantaged")):
                add("group", gname, f"adoption:{b}", self.group_adoption[:, gi, bi])
            for c in range(self.nbhd_adoption.shape[1]):
                add("neighbourhood", c, f"adoption:{b}", self.nbhd_adoption[:, c, bi])
            for k, nb in enumerate(self.collective_nbhd):
                add("collective", int(nb), f"adoption:{b}", self.coll_adoption[:, k, bi])
        for name in self.SCALARS:
            add("overall", "all", name, self.overall[name])
            for gi, gname in enumerate(("other", "disadvantaged")):
                add("group", gname, name, self.group[name][:, gi])
        for name, arr in self.coll.items():
            for k, nb in enumerate(self.collective_nbhd):
                add("collective", int(nb), name, arr[:, k])
        df = pd.concat(parts, ignore_index=True)
        df["scope"] = df["scope"].astype("category")
        return df

    def hub_panel(self, dt: float) -> pd.DataFrame:
        """The hub's published panel in the documented tidy format (docs/hub-data.md)."""
        cols = ["step", "collective", "size_class", "n_households", "kpi_mean", "saving_mean"]
        df = pd.DataFrame(self.hub_rows, columns=cols)
        df["collective"] = (
            self.collective_nbhd[df["collective"].to_numpy()].astype(np.int64)
            if len(df)
            else df["collective"]
        )
        df.insert(1, "month", df["step"] * dt)
        return df


def _safe_div(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    out = np.zeros(np.broadcast(a, b).shape)
    np.divide(a, b, out=out, where=b > 0)
    return out
