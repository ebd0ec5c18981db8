"""End-of-run outcomes of one replicate: the summary row."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from bt_sim.model import TransitionModel


def time_to_reach(series: np.ndarray, level: float, dt: float) -> float:
    """Months until ``series`` first reaches ``level``; NaN if it never does.

    >>> time_to_reach(np.array([0.1, 0.4, 0.6]), 0.5, 1.0)
    2.0
    """
    hit = np.flatnonzero(series >= level)
    return float(hit[0] * dt) if hit.size else float("nan")


def _gap(other: float, dis: float, n_other: int, n_dis: int, what: str, notes: list) -> float:
    if n_dis == 0 or n_other == 0:
        empty = "disadvantaged" if n_dis == 0 else "other"
        notes.append(f"{what}: no {empty} households")
        return float("nan")
    return float(other - dis)


def _ratio(
    members: np.ndarray, base: np.ndarray, flag: np.ndarray, what: str, notes: list
) -> float:
    """Share of ``flag`` among members over its share among ``base``; NaN with a reason."""
    if not members.any():
        notes.append(f"{what}: no members")
        return float("nan")
    ref = flag[base].mean() if base.any() else 0.0
    if ref == 0:
        notes.append(f"{what}: none in the host neighbourhoods")
        return float("nan")
    return float(flag[members].mean() / ref)


def summarise(model: TransitionModel) -> dict[str, float | str]:
    """Outcomes of a finished (or partly run) model.

    Keys
    ----
    final_adoption:<b>
        Share of all households performing behaviour ``b`` at the end.
    time_to_50pct:<b>
        Months until half of the *eligible* households performed ``b`` (NaN: never).
    any_adoption, time_to_50pct:any
        The same for "at least one behaviour".
    behaviours_per_household
        Mean number of behaviours performed at the end.
    kpi_saving
        Mean relative saving against each household's baseline KPI at the end.
    kpi_change
        Relative change of that mean relative KPI from the start (step 0, initial adopters
        included) to the end: ``(1 - saving_end) / (1 - saving_start) - 1``; negative is a
        saving.
    adoption_disadvantaged, adoption_other
        Share adopting at least one behaviour in each group at the end.
    inclusivity_gap, saving_gap
        Other households minus disadvantaged ones: share adopting any behaviour, and mean
        saving; town-wide.
    inclusivity_gap_hosted, saving_gap_hosted
        The same within the neighbourhoods that host a collective (where collectives act).
    member_share
        Members as a share of households in neighbourhoods with a collective.
    representativeness, representativeness_senior, representativeness_young
        Share of disadvantaged (aged 65+, under 35) households among members divided by that
        share in the host neighbourhoods (1: members mirror their neighbourhoods; below 1:
        under-represented).
    members, consenting
        Members of all collectives, and those sharing data with a hub, at the end.
    compared_share
        Share of all households that got a peer comparison with the latest release.
    peer_curtailment
        Mean KPI cut prompted by peer comparison among households compared at the latest
        release.
    mean_efficacy, mean_effort, mean_goal
        Mean self-efficacy, curtailment effort and goal at the end.
    collective_progress
        Mean over collectives of their progress towards the shared goal (0..1).
    spawn_key
        The replicate's seed: ``seed`` and ``spawn_key`` of its root SeedSequence.
    undefined
        Why an outcome above is NaN (``; ``-separated), empty when none is.
    """
    rec, pop, s = model.recorder, model.population, model.state
    dt = model.config.run.dt
    t = rec.steps_done
    notes: list[str] = []
    adoption = rec.overall_adoption
    overall = rec.overall
    out: dict[str, float | str] = {"steps": int(t), "households": int(pop.n)}
    eligible = model.eligible_share()
    for bi, b in enumerate(model.behaviour_names):
        out[f"final_adoption:{b}"] = float(adoption[t, bi])
    out["any_adoption"] = float(overall["any_adoption"][t])
    out["behaviours_per_household"] = float(adoption[t].sum())
    for bi, b in enumerate(model.behaviour_names):
        share_of_eligible = adoption[: t + 1, bi] / max(eligible[bi], 1e-12)
        out[f"time_to_50pct:{b}"] = time_to_reach(share_of_eligible, 0.5, dt)
    out["time_to_50pct:any"] = time_to_reach(overall["any_adoption"][: t + 1], 0.5, dt)
    base = float(overall["kpi_saving"][0])
    out["kpi_saving"] = float(overall["kpi_saving"][t])
    out["kpi_change"] = (1.0 - out["kpi_saving"]) / (1.0 - base) - 1.0
    dis = pop.disadvantaged
    any_now = s.adopted.any(axis=1)
    hosted = model.collectives.hosted
    n_dis, n_other = int(dis.sum()), int((~dis).sum())
    g = rec.group["any_adoption"][t]
    out["adoption_disadvantaged"] = float(g[1]) if n_dis else float("nan")
    out["adoption_other"] = float(g[0]) if n_other else float("nan")
    out["inclusivity_gap"] = _gap(g[0], g[1], n_other, n_dis, "inclusivity_gap", notes)
    sg = rec.group["kpi_saving"][t]
    out["saving_gap"] = _gap(sg[0], sg[1], n_other, n_dis, "saving_gap", notes)
    hd, ho = hosted & dis, hosted & ~dis
    if not hosted.any():
        notes.append("inclusivity_gap_hosted, saving_gap_hosted: no collectives")
        out["inclusivity_gap_hosted"] = out["saving_gap_hosted"] = float("nan")
    else:
        nd, no = int(hd.sum()), int(ho.sum())
        mean = lambda x, m: float(x[m].mean()) if m.any() else 0.0  # noqa: E731
        out["inclusivity_gap_hosted"] = _gap(
            mean(any_now, ho), mean(any_now, hd), no, nd, "inclusivity_gap_hosted", notes
        )
        out["saving_gap_hosted"] = _gap(
            mean(s.saving, ho), mean(s.saving, hd), no, nd, "saving_gap_hosted", notes
        )
    n_hosted = int(hosted.sum())
    members = s.member & hosted
    n_members = int(members.sum())
    out["members"] = float(n_members)
    if n_hosted:
        out["member_share"] = n_members / n_hosted
    else:
        out["member_share"] = float("nan")
        notes.append("member_share: no collectives")
    if n_hosted:
        age = pop.age_group
        out["representativeness"] = _ratio(members, hosted, dis, "representativeness", notes)
        out["representativeness_senior"] = _ratio(
            members, hosted, age == 2, "representativeness_senior", notes
        )
        out["representativeness_young"] = _ratio(
            members, hosted, age == 0, "representativeness_young", notes
        )
    else:
        for k in ("representativeness", "representativeness_senior", "representativeness_young"):
            out[k] = float("nan")
        notes.append("representativeness: no collectives")
    out["consenting"] = float(s.consent.sum())
    out["compared_share"] = float(overall["compared"][t])
    out["mean_efficacy"] = float(overall["efficacy"][t])
    if s.compared.any():
        out["peer_curtailment"] = float(s.peer[s.compared].mean())
    else:
        out["peer_curtailment"] = float("nan")
        notes.append("peer_curtailment: nobody compared")
    out["mean_effort"] = float(s.effort.mean())
    out["mean_goal"] = float(s.goal.mean())
    colls = model.collectives
    if colls.founded.any():
        out["collective_progress"] = float(colls.state.progress[colls.founded].mean())
    else:
        out["collective_progress"] = float("nan")
        notes.append("collective_progress: no collectives")
    out["spawn_key"] = f"{model.seed_entropy}:{'.'.join(map(str, model.seed_spawn_key))}"
    out["undefined"] = "; ".join(notes)
    return out
