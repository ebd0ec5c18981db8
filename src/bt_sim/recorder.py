"""Per-step outputs, kept in preallocated arrays and turned into tidy tables at the end.

Each step, the per-household values (adoption per behaviour, KPI saving, self-efficacy,
membership, ...) are summed per neighbourhood in one pass
(:func:`bt_sim.rules.fused.neighbourhood_sums`): over all households, over disadvantaged ones
and over collective members. Every other aggregate (overall, disadvantaged vs other, per
collective) is a sum of these neighbourhood sums.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from bt_sim.rules.fused import neighbourhood_sums

if TYPE_CHECKING:
    from bt_sim.model import TransitionModel

#: The timeseries' per-collective scope: every member's true values (consenting or not), with
#: no k rule. Researcher-only ground truth, never something a hub publishes (docs/hub-data.md).
TRUTH_SCOPE = "collective_truth"
SCALARS = ("kpi_saving", "efficacy", "members", "consenting", "compared", "any_adoption")
GROUPS = ("other", "disadvantaged")


class Recorder:
    """Collects per-step aggregates of a run.

    Parameters
    ----------
    steps : int
        Steps to be recorded after the initial state.
    behaviours : tuple of str
        Behaviour names (the first columns of the value matrix).
    bounds : ndarray
        Start offsets of the neighbourhoods (length ``c + 1``).
    disadvantaged : bool ndarray
        Which households are disadvantaged.
    collective_nbhd : int ndarray
        Neighbourhood of each collective.
    size_classes : int
        Household-size classes of the hub's peer groups.
    """

    def __init__(
        self,
        steps: int,
        behaviours: tuple[str, ...],
        bounds: np.ndarray,
        disadvantaged: np.ndarray,
        collective_nbhd: np.ndarray,
        size_classes: int = 4,
    ):
        self.size_classes = size_classes
        self.behaviours = behaviours
        self.variables = tuple(f"adoption:{b}" for b in behaviours) + SCALARS
        self.collective_nbhd = collective_nbhd
        self._dis = disadvantaged
        c, v = bounds.shape[0] - 1, len(self.variables)
        self._bounds = np.asarray(bounds, np.int64)
        self._nbhd = np.repeat(np.arange(c), np.diff(bounds))
        self.nb_count = np.diff(bounds).astype(np.float64)
        self.nb_dis_count = np.bincount(self._nbhd, disadvantaged, c).astype(np.float64)
        shape = (steps + 1, c, v)
        self.nb_sum = np.zeros(shape, np.float32)
        # Disadvantaged households' sums are read only over the whole population: each step's
        # per-neighbourhood sums go to a work array and only their total is kept (a third less
        # memory for the recorder: 200 MB at 8,000,000 households).
        self._nb_dis = np.zeros((c, v), np.float32)
        self.dis_sum = np.zeros((steps + 1, v), np.float64)
        # Members live only where a collective sits: their sums are kept per collective slot
        # (a slot founded later starts at zero), not per neighbourhood.
        self._nb_member = np.zeros((c, v), np.float32)
        self.member_sum = np.zeros((steps + 1, collective_nbhd.shape[0], v), np.float32)
        self.steps_done = 0
        self._hub: list[tuple[np.ndarray, ...]] = []  # per release: the rows' columns

    def record(
        self,
        t: int,
        adopted: np.ndarray,
        saving: np.ndarray,
        efficacy: np.ndarray,
        member: np.ndarray,
        consent: np.ndarray,
        compared: np.ndarray,
    ) -> None:
        """Record the state after step ``t`` (``t = 0`` is the initial state)."""
        while t >= self.nb_sum.shape[0]:  # running past the planned steps: grow the storage
            self.nb_sum, self.dis_sum, self.member_sum = (
                np.concatenate([a, np.zeros_like(a)])
                for a in (self.nb_sum, self.dis_sum, self.member_sum)
            )
        neighbourhood_sums(
            self._bounds,
            adopted,
            saving,
            efficacy,
            member,
            consent,
            compared,
            self._dis,
            self.nb_sum[t],
            self._nb_dis,
            self._nb_member,
        )
        self._nb_dis.sum(axis=0, dtype=np.float64, out=self.dis_sum[t])
        slots = np.flatnonzero(self.collective_nbhd >= 0)
        self.member_sum[t, slots] = self._nb_member[self.collective_nbhd[slots]]
        self.steps_done = t

    def record_hub(self, t: int, release) -> None:
        """Keep the hub's release of step ``t`` (a :class:`bt_sim.rules.hub.Release`): a row per
        published group, then a row per collective whose progress is published
        (``size_class = -1``). Suppressed groups leave no row."""
        gs = np.flatnonzero(release.published)
        cs = np.flatnonzero(release.collective_published)
        k = self.size_classes
        rows = gs.size + cs.size
        self._hub.append(
            (
                np.full(rows, t, np.int64),
                np.concatenate([gs // k, cs]).astype(np.int32),
                np.concatenate([gs % k, np.full(cs.size, -1)]).astype(np.int32),
                np.concatenate([release.count[gs], release.collective_count[cs]]).astype(np.int64),
                np.concatenate([release.mean[gs], release.collective_mean[cs]]).astype(np.float64),
            )
        )

    def _hub_columns(self) -> list[np.ndarray]:
        """The published rows' columns (step, collective slot, size class, households, mean
        saving), every release in order."""
        if not self._hub:
            return [np.zeros(0, d) for d in (np.int64, np.int32, np.int32, np.int64, np.float64)]
        return [np.concatenate(col) for col in zip(*self._hub, strict=True)]

    @property
    def hub_rows(self) -> list[tuple]:
        """The hub's published rows in release order, as tuples ``(step, collective slot, size
        class or -1 for a collective's progress, households, mean saving)``; kept as columns
        (28 bytes a row rather than a tuple's 150 or so)."""
        return list(zip(*(col.tolist() for col in self._hub_columns()), strict=True))

    # ---- derived series (all of shape (steps + 1, ...)) -------------------------------------
    def _t(self) -> slice:
        return slice(0, self.steps_done + 1)

    def overall_means(self) -> np.ndarray:
        """Mean of every variable over all households, shape (t, v)."""
        return self.nb_sum[self._t()].sum(axis=1, dtype=np.float64) / self.nb_count.sum()

    def group_means(self) -> np.ndarray:
        """Means for other (0) and disadvantaged (1) households, shape (t, 2, v)."""
        total = self.nb_sum[self._t()].sum(axis=1, dtype=np.float64)
        dis = self.dis_sum[self._t()]
        n_dis = self.nb_dis_count.sum()
        n_other = self.nb_count.sum() - n_dis
        return np.stack([_div(total - dis, n_other), _div(dis, n_dis)], axis=1)

    def neighbourhood_means(self) -> np.ndarray:
        """Means per neighbourhood, shape (t, c, v)."""
        return self.nb_sum[self._t()] / self.nb_count[None, :, None]

    def founded(self) -> np.ndarray:
        """The collectives founded by now (a collective founded later has no neighbourhood)."""
        return np.flatnonzero(self.collective_nbhd >= 0)

    def member_sums(self, t: np.ndarray, nbhd: np.ndarray) -> np.ndarray:
        """The members' sums of every variable in neighbourhoods ``nbhd`` after steps ``t``
        (paired, or ``t`` one step), shape (len(nbhd), v): zero where no collective sits."""
        nbhd = np.asarray(nbhd, np.int64)
        slot = np.full(self.nb_count.shape[0], -1, np.int64)
        held = np.flatnonzero(self.collective_nbhd >= 0)
        slot[self.collective_nbhd[held]] = held
        s = slot[nbhd]
        t = np.broadcast_to(np.asarray(t, np.int64), nbhd.shape)
        out = np.zeros((nbhd.shape[0], len(self.variables)), np.float32)
        has = s >= 0
        out[has] = self.member_sum[t[has], s[has]]
        return out

    def collective_series(self) -> tuple[np.ndarray, np.ndarray]:
        """Per collective founded: member counts (t, k) and means over members (t, k, v)."""
        nbhd = self.collective_nbhd[self.founded()]
        sums = self.member_sum[self._t()][:, self.founded()].astype(np.float64)
        members = self.nb_sum[self._t()][:, nbhd, self.variables.index("members")].astype(
            np.float64
        )
        return members, _div(sums, members[:, :, None])

    @property
    def overall_adoption(self) -> np.ndarray:
        """Share of all households adopting each behaviour, shape (t, b)."""
        return self.overall_means()[:, : len(self.behaviours)]

    @property
    def overall(self) -> dict[str, np.ndarray]:
        """Overall means of the scalar variables, each of shape (t,)."""
        m = self.overall_means()
        return {name: m[:, self.variables.index(name)] for name in SCALARS}

    @property
    def group(self) -> dict[str, np.ndarray]:
        """Other/disadvantaged means of the scalar variables, each of shape (t, 2)."""
        m = self.group_means()
        return {name: m[:, :, self.variables.index(name)] for name in SCALARS}

    # ---- tidy tables --------------------------------------------------------------------------
    def timeseries(
        self,
        dt: float,
        extra: dict[str, np.ndarray] | None = None,
        per_collective: dict[str, np.ndarray] | None = None,
    ) -> pd.DataFrame:
        """The tidy per-step table: step, month, scope, entity, variable, value.

        The ``collective_truth`` scope is researcher-only ground truth (all members, no k rule);
        the table's ``attrs["researcher_only_scopes"]`` names it. ``extra`` adds overall
        series (name to one value per step, step 0 included): the components' results;
        ``per_collective`` adds series to that scope (name to shape (steps + 1, collectives)).
        """
        parts = []

        def add(scope: str, units: list[str], values: np.ndarray, variables) -> None:
            # values: (t, len(units), len(variables)) -> long format
            tt, uu, vv = values.shape
            parts.append(
                pd.DataFrame(
                    {
                        "step": np.repeat(np.arange(tt), uu * vv),
                        "scope": scope,
                        "entity": np.tile(np.repeat(np.array(units, dtype=object), vv), tt),
                        "variable": np.tile(np.array(variables, dtype=object), tt * uu),
                        "value": values.reshape(-1).astype(np.float64),
                    }
                )
            )

        overall = self.overall_means()
        add("overall", ["all"], overall[:, None, :], self.variables)
        if extra:
            t = overall.shape[0]
            values = np.stack([np.asarray(v, np.float64)[:t] for v in extra.values()], axis=1)
            add("overall", ["all"], values[:, None, :], list(extra))
        add("group", list(GROUPS), self.group_means(), self.variables)
        b = len(self.behaviours)
        nb_units = [str(c) for c in range(self.nb_count.shape[0])]
        add("neighbourhood", nb_units, self.neighbourhood_means()[:, :, :b], self.variables[:b])
        if self.founded().size:
            members, means = self.collective_series()
            units = [str(int(c)) for c in self.collective_nbhd[self.founded()]]
            keep = [
                *range(b),
                self.variables.index("kpi_saving"),
                self.variables.index("consenting"),
            ]
            vals = means[:, :, keep].copy()
            vals[:, :, -1] = members * vals[:, :, -1]  # consenting members: a count
            add(
                TRUTH_SCOPE,
                units,
                np.concatenate([vals, members[:, :, None]], axis=2),
                [*self.variables[:b], "kpi_saving", "consenting", "members"],
            )
            if per_collective:
                t = members.shape[0]
                values = np.stack(
                    [np.asarray(v, np.float64)[:t] for v in per_collective.values()], axis=2
                )[:, self.founded()]
                add(TRUTH_SCOPE, units, values, list(per_collective))
        df = pd.concat(parts, ignore_index=True)
        df.insert(1, "month", df["step"] * dt)
        df["scope"] = pd.Categorical(
            df["scope"], categories=["overall", "group", "neighbourhood", TRUTH_SCOPE]
        )
        df.attrs["researcher_only_scopes"] = [TRUTH_SCOPE]
        return df

    def hub_panel(self, dt: float) -> pd.DataFrame:
        """The hub's published panel in the documented tidy format (docs/hub-data.md)."""
        cols = ["step", "collective", "size_class", "n_households", "saving_mean"]
        df = pd.DataFrame(dict(zip(cols, self._hub_columns(), strict=True))).astype(
            {
                "step": np.int64,
                "collective": np.int64,
                "size_class": np.int64,
                "n_households": np.int64,
                "saving_mean": np.float64,
            }
        )
        df = df.sort_values(["step", "collective", "size_class"], kind="stable").reset_index(
            drop=True
        )
        if len(df):
            df["collective"] = self.collective_nbhd[df["collective"].to_numpy()].astype(np.int64)
        df.insert(1, "month", df["step"] * dt)
        return df


def record_phase(model: TransitionModel) -> None:
    """Record: per-neighbourhood sums of the state after the step."""
    model.record()


def _div(a: np.ndarray, b) -> np.ndarray:
    b = np.asarray(b, dtype=np.float64)
    out = np.zeros(np.broadcast_shapes(np.shape(a), b.shape))
    np.divide(a, b, out=out, where=b > 0)
    return out
