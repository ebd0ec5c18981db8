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


def summarise(model: TransitionModel) -> dict[str, float]:
    """Outcomes of a finished (or partly run) model.

    Keys
    ----
    final_adoption:<b>
        Share of all households performing behaviour ``b`` at the end.
    time_to_50pct:<b>
        Months until half of the *eligible* households performed ``b`` (NaN: never).
    any_adoption, time_to_50pct:any
        The same for "at least one behaviour".
    kpi_saving
        Mean relative saving against each household's baseline KPI at the end.
    kpi_change
        Relative change of that mean relative KPI from the start (step 0, initial adopters
        included) to the end: ``(1 - saving_end) / (1 - saving_start) - 1``; negative is a
        saving.
    adoption_disadvantaged, adoption_other
        Share adopting at least one behaviour in each group at the end.
    inclusivity_gap
        Share adopting any behaviour among other households minus among disadvantaged ones.
    member_share
        Members as a share of households in neighbourhoods with a collective.
    representativeness
        Disadvantaged share among members divided by that share in those neighbourhoods
        (1: members mirror their neighbourhoods; below 1: the usual suspects).
    members, consenting
        Members of all collectives, and those sharing data with a hub, at the end.
    compared_share
        Share of all households that got a peer comparison in the last step.
    mean_efficacy
        Mean self-efficacy at the end.
    """
    rec, pop, s = model.recorder, model.population, model.state
    dt = model.config.run.dt
    t = rec.steps_done
    adoption = rec.overall_adoption
    overall = rec.overall
    out: dict[str, float] = {"steps": float(t), "households": float(pop.n)}
    eligible = model.eligible_share()
    for bi, b in enumerate(model.behaviour_names):
        out[f"final_adoption:{b}"] = float(adoption[t, bi])
    out["any_adoption"] = float(overall["any_adoption"][t])
    for bi, b in enumerate(model.behaviour_names):
        share_of_eligible = adoption[: t + 1, bi] / max(eligible[bi], 1e-12)
        out[f"time_to_50pct:{b}"] = time_to_reach(share_of_eligible, 0.5, dt)
    out["time_to_50pct:any"] = time_to_reach(overall["any_adoption"][: t + 1], 0.5, dt)
    base = float(overall["kpi_saving"][0])
    out["kpi_saving"] = float(overall["kpi_saving"][t])
    out["kpi_change"] = (1.0 - out["kpi_saving"]) / (1.0 - base) - 1.0
    g = rec.group["any_adoption"][t]
    out["adoption_disadvantaged"] = float(g[1])
    out["adoption_other"] = float(g[0])
    out["inclusivity_gap"] = float(g[0] - g[1])
    hosted = model.collective_of >= 0
    n_hosted = int(hosted.sum())
    n_members = int(s.member.sum())
    out["members"] = float(n_members)
    out["member_share"] = n_members / n_hosted if n_hosted else float("nan")
    if n_members and n_hosted:
        dis_members = pop.disadvantaged[s.member].mean()
        dis_hosted = pop.disadvantaged[hosted].mean()
        out["representativeness"] = float(dis_members / dis_hosted) if dis_hosted else float("nan")
    else:
        out["representativeness"] = float("nan")
    out["consenting"] = float(s.consent.sum())
    out["compared_share"] = float(overall["compared"][t])
    out["mean_efficacy"] = float(overall["efficacy"][t])
    return out
