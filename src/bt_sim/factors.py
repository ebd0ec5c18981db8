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


def check_covariates(covariates: Sequence[str] | None) -> None:
    """Raise ValueError naming the covariates that are not context columns."""
    unknown = [c for c in covariates or () if c not in CONTEXT]
    if unknown:
        raise ValueError(
            f"no context column {', '.join(map(repr, unknown))} (have: {', '.join(CONTEXT)})"
        )


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
    return estimate_cases(cases(records, kind, objective), covariates, boot, seed)


def estimate_cases(
    table: pd.DataFrame,
    covariates: Sequence[str] | None = None,
    boot: int = 500,
    seed: int = 1,
) -> tuple[pd.DataFrame, dict[str, Estimate]]:
    """:func:`estimate_all` from a table of :func:`cases` (or a subset of one)."""
    check_covariates(covariates)
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
        covariates=cols, cases=len(table), without_outcome=table.attrs.get("without_outcome", 0)
    )
    return out, found


def screen(
    records: pd.DataFrame,
    objective: str = "members",
    covariates: Sequence[str] | None = None,
    boot: int = 200,
    seed: int = 1,
) -> pd.DataFrame:
    """Every kind of building block in ``records``, estimated as :func:`estimate_all` does:
    one row per kind and adjusted method (``ipw``, ``matching``) with the effect, its
    interval and a ``verdict``: ``helps`` (the interval lies above 0), ``harms`` (below) or
    ``unclear``; a kind the methods cannot estimate gets its reason in ``verdict``.

    This is how a network organisation can use the estimates with its recommender
    (docs/factors.md): keep in the catalogue the building blocks the adjusted estimates
    say help (the recommender then chooses mixes among them), and treat ``unclear`` as
    "not known yet" rather than "does not work".
    """
    rows = []
    for kind in sorted(set(records["kind"].astype(str))):
        try:
            table, _ = estimate_all(records, kind, objective, covariates, boot, seed)
        except ValueError as exc:
            rows.append({"kind": kind, "method": "", "verdict": f"not estimated: {exc}"})
            continue
        for _, r in table[table["method"] != "naive"].iterrows():
            verdict = "helps" if r["lo"] > 0 else "harms" if r["hi"] < 0 else "unclear"
            rows.append({"kind": kind, "method": r["method"], "effect": r["effect"],
                         "lo": r["lo"], "hi": r["hi"], "verdict": verdict})  # fmt: skip
    return pd.DataFrame(rows, columns=["kind", "method", "effect", "lo", "hi", "verdict"])


def qca_of(
    table: pd.DataFrame,
    conditions: Sequence[str],
    success: float | None = None,
    incl_cut: float = 0.8,
    n_cut: int = 1,
):
    """Qualitative comparative analysis of :func:`cases`: which combinations of
    ``conditions`` go with a successful first year.

    A condition is a kind of building block (crisp: carried out in the first year) or a
    context column (fuzzy: calibrated by the direct method with the cases' 10th, 50th and
    90th percentiles as the anchors, or crisp above the median where those do not differ).
    Success is crisp: an outcome above ``success`` (default: the cases' median). Conditions
    are named in capitals (``GATEKEEPER_PROGRAMME``, ``SHARE_NON_NATIVE``).

    Returns
    -------
    data, truth table, parsimonious and conservative solutions (:mod:`bt_sim.qca`).

    Raises
    ------
    ValueError
        An unknown condition, no conditions, or an outcome all on one side of ``success``.
    """
    from bt_sim import qca

    if not conditions:
        raise ValueError("name the QCA conditions with --condition (a kind or a context column)")
    kinds = sorted({k for m in table["mix"].astype(str) for k in m.split("+") if k})
    data = pd.DataFrame(index=table["case"].to_numpy())
    for c in conditions:
        if c in CONTEXT:
            x = table[c].to_numpy(np.float64)
            e, m, i = np.percentile(x, [10, 50, 90])
            data[c.upper()] = (
                qca.calibrate(x, (e, m, i)) if e < m < i else (x > m).astype(np.float64)
            )
        elif c in kinds:
            mix = table["mix"].astype(str).str.split("+")
            data[c.upper()] = mix.map(lambda ks, c=c: float(c in ks)).to_numpy()
        else:
            raise ValueError(
                f"no condition {c!r}: a kind of building block ({', '.join(kinds)}) or a "
                f"context column ({', '.join(CONTEXT)})"
            )
    y = table["outcome"].to_numpy(np.float64)
    cut = float(np.median(y)) if success is None else float(success)
    data["SUCCESS"] = (y > cut).astype(np.float64)
    if data["SUCCESS"].nunique() < 2:
        raise ValueError(
            f"every first-year outcome is on one side of {cut:g}: nothing to tell success by "
            "(choose --success)"
        )
    conds = [c.upper() for c in conditions]
    tt = qca.truth_table(data, "SUCCESS", conds, incl_cut=incl_cut, n_cut=n_cut)
    if not (tt.table["out"] == "1").any():
        raise ValueError(
            f"no configuration of {', '.join(conds)} reaches consistency {incl_cut} with "
            f"{n_cut} case(s) or more: no sufficient combination (lower --incl-cut?)"
        )
    return data, tt, qca.minimize(tt, include="?"), qca.minimize(tt, include="")


def _fmt(v: float) -> str:
    """Three significant figures with a sign (effects range from 1e-4 for saving to 0.1)."""
    return "" if v != v else f"{v:+.3g}"


def _parse_confound(text: str | None) -> tuple[str, float] | None:
    if text is None:
        return None
    column, _, strength = text.partition("=")
    if column not in CONTEXT:
        raise ValueError(f"--confound: no context column {column!r} (have: {', '.join(CONTEXT)})")
    try:
        value = float(strength)
    except ValueError:
        raise ValueError(f"--confound: expected COLUMN=STRENGTH (a number), got {text!r}") from None
    if not np.isfinite(value):
        raise ValueError(f"--confound: the strength must be finite, got {strength!r}")
    return column, value


def _check_args(args) -> tuple[str, float] | None:
    """Every check of the command's values that can fail, before any work."""
    from bt_sim import qca

    if not 0 < args.incl_cut <= 1:
        raise ValueError(f"--incl-cut: expected a consistency in (0, 1], got {args.incl_cut}")
    if args.success is not None and not np.isfinite(args.success):
        raise ValueError(f"--success: expected a finite number, got {args.success}")
    if args.conditions and not args.qca:
        raise ValueError("--condition is for --qca")
    if args.qca and not args.conditions:
        raise ValueError("--qca needs its conditions: --condition NAME (repeat)")
    if args.truth_model is not None:
        try:
            qca._parse_expression(args.truth_model)
        except ValueError as exc:
            raise ValueError(f"--truth-model: {exc} (expected e.g. 'A*~B + C')") from None
    check_covariates(args.covariates)
    return _parse_confound(args.confound)


def cmd_factors(args) -> int:
    """``bt-sim factors``: the estimates as a table, with the cases and the balance reached;
    from a scenario, the truth beside them (or, over archives, the methods' scores)."""
    from bt_sim.errors import BtSimError

    source = str(args.records)
    try:
        confounder = _check_args(args)
    except ValueError as exc:
        raise BtSimError(str(exc)) from None
    if source.endswith((".parquet", ".csv")):
        if args.archives > 1 or args.towns is not None or args.overrides:
            raise BtSimError(
                f"{source}: --archives, --towns and --set need a scenario (the records of a "
                "file are what they are)"
            )
        table, simulated = _from_records(args, source), False
    else:
        table, simulated = _from_scenario(args, source, confounder), True
        if table is None:
            return 0
    if confounder is not None:
        from bt_sim.truth import confound

        table = confound(table, confounder[0], confounder[1], seed=args.seed)
    try:
        est, _ = estimate_cases(table, args.covariates, boot=args.boot, seed=args.seed)
        if args.qca:
            qca_result = qca_of(table, args.conditions, args.success, args.incl_cut, args.n_cut)
    except ValueError as exc:
        raise BtSimError(f"{source}: {exc}") from None
    _print_estimates(args, source, table, est)
    if simulated:
        _print_truth(table, est)
    if args.qca:
        _print_qca(qca_result, args.truth_model)
    return 0


def _from_records(args, source: str) -> pd.DataFrame:
    from bt_sim.errors import BtSimError
    from bt_sim.record_file import read_records

    records = read_records(source)
    try:
        return cases(records, args.kind, args.objective)
    except ValueError as exc:
        raise BtSimError(f"{source}: {exc}") from None


def _from_scenario(args, source: str, confounder) -> pd.DataFrame | None:
    """The cases of a scenario's towns with their truth (or, over archives, the scores
    printed and None returned)."""
    from bt_sim.errors import BtSimError
    from bt_sim.scenario import load_scenario
    from bt_sim.scenario.loader import find_scenario
    from bt_sim.truth import archive_truth, entries_of, score, with_truth

    sc = load_scenario(find_scenario(source), list(args.overrides))
    if not entries_of(sc, args.kind):
        kinds = sorted({x.kind for x in sc.interventions})
        raise BtSimError(f"{source}: the scenario has no building block of kind {args.kind!r} "
                         f"(it has: {', '.join(kinds) or 'none'})")  # fmt: skip
    towns = sc.run.replicates if args.towns is None else args.towns
    if args.archives > 1:
        per, scores = score(
            sc, args.kind, args.objective, args.archives, towns, None, args.covariates,
            args.boot, args.workers, confounder,
        )  # fmt: skip
        if scores.empty:
            first = per["error"].iloc[0] if len(per) else "no archive"
            raise BtSimError(f"{source}: no archive could be estimated (archive 0: {first})")
        _print_scores(args, source, towns, per, scores)
        return None
    records, truth = archive_truth(sc, args.kind, args.objective, None, range(towns), args.workers)
    try:
        return with_truth(records, truth, args.kind, args.objective)
    except ValueError as exc:
        raise BtSimError(f"{source}: {exc}") from None


def _print_estimates(args, source: str, table: pd.DataFrame, est: pd.DataFrame) -> None:
    a = est.attrs
    print(
        f"{source}: the effect of {args.kind} on the first-year {args.objective} per "
        f"household of the collectives that carried it out; {a['cases']} collectives "
        f"({a['without_outcome']} without a published first-year outcome left out)"
    )
    print(f"adjusting for: {', '.join(a['covariates'])}")
    shown = est.copy()
    for c in ("effect", "lo", "hi", "max_smd_before", "max_smd_after"):
        shown[c] = shown[c].map(_fmt)
    print(shown.to_string(index=False))
    adjusted = est[est["method"] != "naive"]
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


def _print_truth(table: pd.DataFrame, est: pd.DataFrame) -> None:
    from bt_sim.truth import true_att

    att, se, n = true_att(table)
    treated = int((table["treated"] == 1).sum())
    missing = (
        f"; {treated - n} would have been founded elsewhere without it and are left out"
        if n < treated
        else ""
    )
    print(
        f"true effect on the treated: {_fmt(att)} (standard error {se:.3g}, over {n} of "
        f"{treated} treated collectives{missing}): the same towns run again without the "
        "building block in each one's mix"
    )
    rows = [
        f"  {r['method']:<9} estimate {_fmt(r['effect'])}  error {_fmt(r['effect'] - att)}  "
        f"interval {'holds' if r['lo'] <= att <= r['hi'] else 'misses'} the truth"
        for _, r in est.iterrows()
    ]
    print("\n".join(rows))


def _print_scores(args, source: str, towns: int, per: pd.DataFrame, scores: pd.DataFrame):
    print(
        f"{source}: the methods scored against the truth over {args.archives} archives of "
        f"{towns} towns (the effect of {args.kind} on the first-year {args.objective}; "
        f"{args.boot} resamples per interval)"
    )
    failed = per[per["error"] != ""] if "error" in per else per.iloc[:0]
    shown = scores.copy()
    for c in ("bias", "mean_truth"):
        shown[c] = shown[c].map(_fmt)
    for c in ("bias_se", "rmse", "width"):
        shown[c] = shown[c].map(lambda v: f"{v:.3g}")
    for c in ("coverage", "coverage_se"):
        shown[c] = shown[c].map(lambda v: f"{v:.2f}")
    print(shown.to_string(index=False))
    for _, row in failed.iterrows():
        print(f"note: archive {row['archive']} could not be estimated: {row['error']}")


def _print_qca(result, truth_model: str | None) -> None:
    from bt_sim.qca import is_submodel

    data, tt, pars, cons = result
    shown = tt.table[tt.table["out"] != "R"].drop(columns="cases", errors="ignore")
    print(f"QCA: success (first-year outcome above the cut) in {int(data['SUCCESS'].sum())} "
          f"of {len(data)} collectives; configurations with cases:")  # fmt: skip
    print(shown.to_string(index=False))
    for label, sol in (("parsimonious", pars), ("conservative", cons)):
        for _, row in sol.solution_fits.iterrows():
            line = (
                f"{label}: SUCCESS <- {row['expression']}  (consistency "
                f"{row['consistency']:.3f}, coverage {row['coverage']:.3f})"
            )
            if truth_model is not None and label == "parsimonious":
                terms = sol.solutions[int(row["solution"])]
                ok = is_submodel(terms, truth_model)
                line += f"; {'a' if ok else 'not a'} submodel of {truth_model}"
            print(line)
