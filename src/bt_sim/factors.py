"""Success factors from experiment records: the effect of a building block on the collectives
that carried it out, by propensity scores (:mod:`bt_sim.propensity`).

A records file (:mod:`bt_sim.records`, docs/records.md) has one row per round of a building
block. :func:`cases` turns it into one case per collective (per run): its neighbourhood's
context when its first round started, whether it carried out the building block of ``kind``
in its first year (the *treatment*), and its first year's outcome as its hub published it
(:func:`bt_sim.recommender.first_years`: sharing members per household, or published saving
per household, at the release nearest 12 months after its founding). :func:`estimate_all`
estimates the effect on the treated three ways (the plain difference, matching and
weighting), adjusting for the context columns that vary. ``bt-sim factors RECORDS --kind
KIND`` prints the same.

The collectives a records file holds chose their building blocks themselves (or a network
organisation chose them): the adjusted estimates hold only as far as the context columns
explain that choice (docs/factors.md).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from bt_sim.propensity import BALANCED, METHODS, Estimate, estimate
from bt_sim.records import CONTEXT


def cases(records: pd.DataFrame, kind: str, objective: str = "members") -> pd.DataFrame:
    """One row per collective of ``records`` (per run) with an outcome: the context columns,
    ``treated`` (1 if it carried out ``kind`` in its first year) and ``outcome``.

    Collectives whose first year has no published outcome the records know of are left out
    (their number is in ``attrs["without_outcome"]``).

    Raises
    ------
    ValueError
        ``kind`` is not a kind the records hold (the message lists those it holds).
    """
    from bt_sim.recommender import first_years

    kinds = sorted(set(records["kind"].astype(str)))
    if kind not in kinds:
        raise ValueError(f"no records of kind {kind!r} (the records hold: {', '.join(kinds)})")
    years = first_years(records, objective)
    has = years["outcome"].notna()
    out = years[has].reset_index(drop=True)
    out["treated"] = out["mix"].astype(str).str.split("+").map(lambda m: int(kind in m))
    out["case"] = out["run"].astype(str) + "/" + out["collective"].astype(str)
    out.attrs["without_outcome"] = int((~has).sum())
    return out


def covariates_of(table: pd.DataFrame, wanted: Sequence[str] | None = None) -> list[str]:
    """The context columns to adjust for: ``wanted`` (default every context column), less
    those that do not vary among the cases."""
    cols = list(CONTEXT if wanted is None else wanted)
    return [c for c in cols if table[c].astype(np.float64).std() > 0]


def estimate_all(
    records: pd.DataFrame,
    kind: str,
    objective: str = "members",
    covariates: Sequence[str] | None = None,
    boot: int = 500,
    seed: int = 1,
) -> tuple[pd.DataFrame, dict[str, Estimate]]:
    """The effect of ``kind`` on the first-year ``objective`` of the collectives that carried it
    out: a table with one row per method (naive, matching, ipw: effect, interval, cases,
    the largest standardised difference of a covariate before and after, the cases outside
    common support or unmatched), and the estimates themselves.

    Raises
    ------
    ValueError
        An unknown kind or covariate, no treated or no untreated collective, or no overlap.
    """
    table = cases(records, kind, objective)
    if covariates is not None:
        unknown = [c for c in covariates if c not in CONTEXT]
        if unknown:
            raise ValueError(
                f"no context column {', '.join(map(repr, unknown))} (have: {', '.join(CONTEXT)})"
            )
    cols = covariates_of(table, covariates)
    if not cols:
        raise ValueError("no context column varies among the collectives: nothing to adjust for")
    rows, found = [], {}
    for method in METHODS[::-1]:  # naive, ipw, matching
        est = estimate(table, "treated", "outcome", cols, method, boot=boot, seed=seed, ids="case")
        found[method] = est
        bal = est.balance
        rows.append(
            {
                "method": method,
                "effect": est.effect,
                "lo": est.lo,
                "hi": est.hi,
                "treated": est.treated,
                "untreated": est.control,
                "used": est.used,
                "outside_support": len(est.outside),
                "unmatched": len(est.unmatched),
                "max_smd_before": np.nan if bal is None else bal["smd_before"].abs().max(),
                "max_smd_after": np.nan if bal is None else bal["smd_after"].abs().max(),
            }
        )
    out = pd.DataFrame(rows)
    out.attrs.update(
        covariates=cols, cases=len(table), without_outcome=table.attrs["without_outcome"]
    )
    return out, found


def cmd_factors(args) -> int:
    """``bt-sim factors``: the estimates as a table, with the cases and the balance reached."""
    from bt_sim.errors import BtSimError
    from bt_sim.record_file import read_records

    records = read_records(args.records)
    try:
        table, _ = estimate_all(
            records, args.kind, args.objective, args.covariates, boot=args.boot, seed=args.seed
        )
    except ValueError as exc:
        raise BtSimError(f"{args.records}: {exc}") from None
    a = table.attrs
    print(
        f"{args.records}: the effect of {args.kind} on the first-year {args.objective} per "
        f"household of the collectives that carried it out; {a['cases']} collectives "
        f"({a['without_outcome']} without a published first-year outcome left out)"
    )
    print(f"adjusting for: {', '.join(a['covariates'])}")
    shown = table.copy()
    for c in ("effect", "lo", "hi", "max_smd_before", "max_smd_after"):
        shown[c] = shown[c].map(lambda v: "" if v != v else f"{v:+.4f}")
    print(shown.to_string(index=False))
    adjusted = table[table["method"] != "naive"]
    poor = adjusted[adjusted["max_smd_after"] > BALANCED]
    for _, row in poor.iterrows():
        print(
            f"note: {row['method']} leaves a covariate unbalanced (largest standardised "
            f"difference {row['max_smd_after']:.2f} > {BALANCED}): its estimate still "
            "carries the difference in context"
        )
    if (adjusted["outside_support"] > 0).any():
        print(
            "note: cases outside common support are left out of the adjusted estimates "
            "(their number is in outside_support; the Python API names them)"
        )
    return 0
