"""An attacker against the hub's published panel, and the privacy-learning trade-off.

The attacker plays against real runs. It sees the published panel and, to be as strong as
possible, also the model's ground truth about everyone *but* its target: who is in each
release's roster (so the true counts and which households entered or left), and the exact
values of every other household. Its attacks, each on every group release of a run:

* ``differencing``: any pair of releases of a group (consecutive or not) whose rosters differ
  by exactly one household: that household's value is the difference of the two sums
  (``n * mean``, with the true counts).
* ``known_others``: in each release (groups of exactly ``k`` and larger), the value of one
  household is the release's sum less the exact values of all the others.
* ``revocation``: a household that revoked its consent, from the last release of its group
  that held it and the first one after.
* ``overlap``: the collective's progress row against the sum of its published group rows
  (overlapping groups): the residual is the households of groups too small to publish.

A release is *broken* when an attack on it recovers some household's value: its baseline KPI
within 10 % (possible only where the panel publishes a KPI mean beside the saving, as the old
panel did: ``baseline = kpi / (1 - saving)``), or its saving within 0.01 (one percentage point).

``python -m bt_sim.privacy --seeds 40 --write docs/hub-data.md`` measures the attacker's
success beside the learning cost (how much members' saving drops against a hub that publishes
everything every month with no suppression) for a few settings and replaces the table in that
file between its ``<!-- privacy-table -->`` markers.
"""

from __future__ import annotations

import argparse
import dataclasses
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from bt_sim.rules.hub import SAVING_RANGE
from bt_sim.scenario import load_scenario
from bt_sim.scenario.schema import Scenario

DEFAULT = str(Path(__file__).resolve().parents[2] / "scenarios" / "default.toml")
BASELINE_TOL = 0.10  # relative error of a recovered baseline KPI
SAVING_TOL = 0.01  # absolute error of a recovered saving
ATTACKS = ("differencing", "known_others", "revocation", "overlap")

#: The panel before release windows: monthly, exact means and counts, every roster change
#: published, KPI and saving means side by side (``publish_kpi``), consent one draw at joining.
OLD_RULE = (
    "hub.report_months=1",
    "hub.min_change=1",
    "hub.epsilon=0",
    "hub.count_rounding=1",
    "hub.trust_rate=0",
    "hub.opt_in_rate=0",
)
#: A hub that publishes everything every month with no suppression (k = 1: below the scenario
#: floor, so it is built without validation; the reference of the learning cost).
OPEN_HUB = {
    "k": 1,
    "report_months": 1.0,
    "min_change": 1,
    "epsilon": 0.0,
    "count_rounding": 1,
}


@dataclass
class Observed:
    """A finished run with what the attacker is scored against (one entry per group release)."""

    model: object
    releases: list[dict] = field(default_factory=list)
    revocations: list[tuple[int, int]] = field(default_factory=list)  # (step, household)
    consents: list[tuple[int, int]] = field(default_factory=list)  # (step, household)


def observe(scenario: Scenario, seed: int, publish_kpi: bool = False) -> Observed:
    """Run ``scenario`` and keep, per published group row, its roster, the roster's true
    savings, KPIs and baselines at that step, and the published count and mean; with
    ``publish_kpi`` the row also gets the roster's exact KPI mean (what the old panel
    published beside the saving)."""
    from bt_sim.model import TransitionModel

    model = TransitionModel(scenario, seed=seed)
    obs = Observed(model)
    s = model.state
    base = model.population.baseline_kpi
    lo, hi = SAVING_RANGE
    classes = scenario.hub.size_classes
    hub_rows = model.recorder.hub_rows
    while model.steps_done < scenario.run.steps:
        before = s.consent.copy()
        seen = len(model.hub.releases)
        rows = len(hub_rows)
        model.step()
        hub_rows = model.recorder.hub_rows  # built from the recorder's columns: once a step
        gone = np.flatnonzero(before & ~s.consent & s.member)  # members who revoked
        obs.revocations += [(model.steps_done, int(i)) for i in gone]
        obs.consents += [(model.steps_done, int(i)) for i in np.flatnonzero(~before & s.consent)]
        published = {(r[1], r[2]): r for r in hub_rows[rows:] if r[2] >= 0}  # (c, class) -> row
        collective_rows = {r[1]: r for r in hub_rows[rows:] if r[2] < 0}
        for step, g, roster in model.hub.releases[seen:]:
            c, sc_ = divmod(g, classes)
            row = published.get((c, sc_))
            rec = {
                "step": step,
                "group": g,
                "collective": c,
                "roster": roster,
                "set": frozenset(roster.tolist()),
                "saving": np.clip(s.saving[roster].astype(np.float64), lo, hi),
                "kpi": s.kpi[roster].astype(np.float64),
                "baseline": base[roster].astype(np.float64),
                "n": roster.size,
                "n_pub": row[3] if row else roster.size,
                "mean_pub": row[4] if row else np.nan,
                "collective_row": collective_rows.get(c),
            }
            if publish_kpi:
                rec["kpi_pub"] = float(rec["kpi"].mean())
            obs.releases.append(rec)
    return obs


def _hit(rec: dict, i: int, saving: float, kpi: float | None) -> tuple[bool, bool]:
    """Whether an estimate of household ``i`` of ``rec`` (position in its roster) recovers its
    baseline KPI within 10 % and its saving within 0.01."""
    by_saving = abs(saving - rec["saving"][i]) < SAVING_TOL
    by_base = False
    if kpi is not None and saving < 1:
        est = kpi / (1.0 - saving)
        by_base = abs(est / rec["baseline"][i] - 1.0) < BASELINE_TOL
    return by_base, by_saving


def attack(obs: Observed) -> pd.DataFrame:
    """Every attack on every group release of ``obs``: one row per release and attack with the
    number of candidate targets and whether the baseline or the saving of one was recovered."""
    out = []
    by_group: dict[int, list[dict]] = {}
    for rec in obs.releases:
        by_group.setdefault(rec["group"], []).append(rec)
    kpi_on = bool(obs.releases) and "kpi_pub" in obs.releases[0]

    def add(rec, name, cands, base, sav):
        out.append(
            {
                "step": rec["step"],
                "group": rec["group"],
                "attack": name,
                "candidates": cands,
                "baseline": base,
                "saving": sav,
            }
        )

    for recs in by_group.values():
        for j, b in enumerate(recs):
            # Differencing against every earlier release of the group.
            cands, base_hit, sav_hit = 0, False, False
            for a in recs[:j]:
                if abs(len(a["set"]) - len(b["set"])) != 1:
                    continue
                diff = a["set"] ^ b["set"]
                if len(diff) != 1:
                    continue
                cands += 1
                (hh,) = diff
                joined = hh in b["set"]
                new, old = (b, a) if joined else (a, b)
                est_s = new["n"] * new["mean_pub"] - old["n"] * old["mean_pub"]
                est_k = (new["n"] * new["kpi_pub"] - old["n"] * old["kpi_pub"]) if kpi_on else None
                i = int(np.searchsorted(new["roster"], hh))
                hb, hs = _hit(new, i, est_s, est_k)
                base_hit |= hb
                sav_hit |= hs
            add(b, "differencing", cands, base_hit, sav_hit)
            # Known others: every household of the release in turn.
            total_s = b["n"] * b["mean_pub"]
            est_s = total_s - (b["saving"].sum() - b["saving"])
            est_k = None
            if kpi_on:
                est_k = b["n"] * b["kpi_pub"] - (b["kpi"].sum() - b["kpi"])
            hits = [
                _hit(b, i, est_s[i], None if est_k is None else est_k[i]) for i in range(b["n"])
            ]
            add(b, "known_others", b["n"], any(h[0] for h in hits), any(h[1] for h in hits))
    # Overlap: each collective row against the sum of its published group rows.
    parts: dict[tuple[int, int], list[dict]] = {}
    for rec in obs.releases:
        parts.setdefault((rec["step"], rec["collective"]), []).append(rec)
    for recs in parts.values():
        crow = recs[0]["collective_row"]
        if crow is not None:
            residual = crow[3] - sum(r["n_pub"] for r in recs)
            add(recs[0], "overlap", int(residual == 1), False, False)
    # Revocations: the last release holding the revoker and the first after without it.
    for step, hh in obs.revocations:
        g = None
        for recs in by_group.values():
            held = [r for r in recs if r["step"] < step and hh in r["set"]]
            after = [r for r in recs if r["step"] >= step]
            if held and after:
                a, b = held[-1], after[0]
                g = a["group"]
                break
        if g is None:
            continue
        if hh in b["set"]:
            add(b, "revocation", 0, False, False)
            continue
        est_s = a["n"] * a["mean_pub"] - b["n"] * b["mean_pub"]
        est_k = (a["n"] * a["kpi_pub"] - b["n"] * b["kpi_pub"]) if kpi_on else None
        i = int(np.searchsorted(a["roster"], hh))
        hb, hs = _hit(a, i, est_s, est_k)
        add(b, "revocation", 1, hb, hs)
    return pd.DataFrame(
        out, columns=["step", "group", "attack", "candidates", "baseline", "saving"]
    )


def success_rates(results: pd.DataFrame, n_releases: int) -> dict[str, float]:
    """Share of group releases broken (baseline or saving recovered), per attack and by any."""
    rates = {}
    broken_any_base: set = set()
    broken_any: set = set()
    for name in ATTACKS:
        sub = results[results["attack"] == name]
        b = set(map(tuple, sub.loc[sub["baseline"], ["step", "group"]].to_numpy().tolist()))
        s_ = set(map(tuple, sub.loc[sub["saving"], ["step", "group"]].to_numpy().tolist()))
        rates[f"{name}_baseline"] = len(b) / max(n_releases, 1)
        rates[f"{name}_saving"] = len(s_) / max(n_releases, 1)
        broken_any_base |= b
        broken_any |= b | s_
    rates["any_baseline"] = len(broken_any_base) / max(n_releases, 1)
    rates["any"] = len(broken_any) / max(n_releases, 1)
    return rates


def open_scenario(scenario: Scenario) -> Scenario:
    """``scenario`` with a hub that publishes everything every month (no validation)."""
    return dataclasses.replace(scenario, hub=dataclasses.replace(scenario.hub, **OPEN_HUB))


def member_outcomes(model) -> dict[str, float]:
    """Members' mean saving, and the share of members who consent, at the end."""
    s = model.state
    member = s.member & model.collectives.hosted
    return {
        "member_saving": float(s.saving[member].mean()) if member.any() else float("nan"),
        "consent_share": float(s.consent[member].mean()) if member.any() else float("nan"),
    }


def evaluate(
    overrides: Sequence[str],
    seeds: Sequence[int] = range(10),
    base: str = DEFAULT,
    publish_kpi: bool = False,
) -> dict[str, float]:
    """Attacker success and learning cost of one setting over ``seeds`` (paired with the open
    hub on the same seeds)."""
    from bt_sim.model import TransitionModel

    scenario = load_scenario(base, list(overrides))
    open_sc = open_scenario(scenario)
    frames, n_rel, saving, consent, cost = [], 0, [], [], []
    for seed in seeds:
        obs = observe(scenario, seed, publish_kpi)
        res = attack(obs)
        res["seed"] = seed
        res["group"] = res["group"] + 10_000 * seed  # releases of different seeds are distinct
        frames.append(res)
        n_rel += len(obs.releases)
        mo = member_outcomes(obs.model)
        ref = TransitionModel(open_sc, seed=seed)
        ref.run()
        saving.append(mo["member_saving"])
        consent.append(mo["consent_share"])
        cost.append(member_outcomes(ref)["member_saving"] - mo["member_saving"])
    results = pd.concat(frames, ignore_index=True)
    out = success_rates(results, n_rel)
    out |= {
        "releases_per_run": n_rel / len(seeds),
        "member_saving": float(np.nanmean(saving)),
        "consent_share": float(np.nanmean(consent)),
        "learning_cost": float(np.nanmean(cost)),
        "learning_cost_se": float(np.nanstd(cost, ddof=1) / np.sqrt(len(seeds))),
    }
    return out


#: (label, overrides, publish_kpi): the rows of the table in docs/hub-data.md.
SETTINGS: tuple[tuple[str, tuple[str, ...], bool], ...] = (
    ("old rule: k 10, monthly, every change, exact, KPI and saving", OLD_RULE, True),
    ("k 10, monthly, min change 3, exact", ("hub.report_months=1", "hub.epsilon=0"), False),
    ("k 10, quarterly, min change 3, exact", ("hub.epsilon=0",), False),
    ("k 10, quarterly, min change 3, epsilon 1 (default)", (), False),
    ("k 10, quarterly, min change 3, epsilon 0.5", ("hub.epsilon=0.5",), False),
    ("k 10, monthly, min change 3, epsilon 1", ("hub.report_months=1",), False),
    ("k 10, half-yearly, min change 3, epsilon 1", ("hub.report_months=6",), False),
    ("k 5, quarterly, min change 3, epsilon 1", ("hub.k=5",), False),
    ("k 20, quarterly, min change 3, epsilon 1", ("hub.k=20",), False),
)


def table(seeds: Sequence[int] = range(10)) -> str:
    """The privacy-learning table as Markdown."""
    lines = [
        "| setting | releases per run | baseline KPI recovered | saving recovered "
        "| members consenting | members' saving | learning cost ± SE |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for label, overrides, kpi in SETTINGS:
        r = evaluate(overrides, seeds, publish_kpi=kpi)
        lines.append(
            f"| {label} | {r['releases_per_run']:.1f} | {r['any_baseline']:.1%} | "
            f"{r['any']:.1%} | {r['consent_share']:.2f} | {r['member_saving']:.4f} | "
            f"{r['learning_cost']:+.4f} ± {r['learning_cost_se']:.4f} |"
        )
    return "\n".join(lines)


START, END = "<!-- privacy-table -->", "<!-- /privacy-table -->"


def main(argv: Sequence[str] | None = None) -> int:
    """Print the table, or replace it in a Markdown file between its markers."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--write", type=Path, help="replace the table in this file (docs/hub-data.md)")
    ap.add_argument("--seeds", type=int, default=10, help="seeds per setting (default 10)")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    body = table(range(args.seeds))
    note = (
        f"\n\n({args.seeds} seeds per setting, default scenario; "
        f"{time.perf_counter() - t0:.0f} s on one core.)"
    )
    print(body + note)
    if args.write:
        text = args.write.read_text()
        a, b = text.index(START) + len(START), text.index(END)
        args.write.write_text(text[:a] + "\n" + body + note + "\n" + text[b:])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
