"""Forward and backward continuation: does the outcome depend on where the system came from?

The control parameter is stepped up through its levels, each level continuing from the state the
previous one left (:meth:`bt_sim.model.TransitionModel.continue_from`), then stepped down again
from the top. Where the model has memory (a tipped neighbourhood stays tipped when the push that
tipped it is withdrawn), the two branches differ over a range of the control: hysteresis, the
mark of a bistable system (Scheffer et al. 2001).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from bt_sim.scenario import load_scenario


def state_outcome(model, name: str) -> float:
    """An outcome of the model's current state: ``final_adoption:<behaviour>``,
    ``any_adoption``, ``behaviours_per_household`` or ``kpi_saving``."""
    s = model.state
    if name.startswith("final_adoption:"):
        b = name.split(":", 1)[1]
        if b not in model.behaviour_names:
            raise ValueError(f"no behaviour {b!r} (known: {', '.join(model.behaviour_names)})")
        return float(s.adopted[:, model.behaviour_names.index(b)].mean())
    if name == "any_adoption":
        return float(s.adopted.any(axis=1).mean())
    if name == "behaviours_per_household":
        return float(s.adopted.sum(axis=1).mean())
    if name == "kpi_saving":
        return float(s.saving.mean())
    raise ValueError(
        f"continuation reads outcome {name!r} from the state; use final_adoption:<behaviour>, "
        "any_adoption, behaviours_per_household or kpi_saving"
    )


def check_control(
    base: str | Path | None, control: str, levels: Sequence[float], fixed: Sequence[str] = ()
) -> None:
    """Refuse, before any run, a control a continuation cannot carry over: one that changes
    the world (households, network, behaviours, host neighbourhoods) or the initial state
    other than the committed households (a continuation keeps the state the previous level
    left, so such a change would silently do nothing). Raises ValueError saying why.

    >>> check_control(None, "social.q", [0.01, 0.05], ["population.households=200"])
    >>> check_control(None, "mastery.initial_efficacy", [0.3, 0.6],
    ...               ["population.households=200"])
    Traceback (most recent call last):
    ...
    ValueError: continuation cannot carry mastery.initial_efficacy over: it sets the initial ...
    """
    from bt_sim.model import TransitionModel, same_world

    lo, hi = min(levels), max(levels)
    a, b = (
        TransitionModel(load_scenario(base, [*fixed, f"{control}={v:.12g}"]), seed=1)
        for v in (lo, hi)
    )
    why = "it changes the world (households, behaviours, network or host neighbourhoods)"
    if (
        not same_world(a, b)
        or a.adjacency is None != (b.adjacency is None)
        or (a.adjacency is not None and (a.adjacency != b.adjacency).nnz)
    ):
        raise ValueError(f"continuation cannot carry {control} over: {why}")
    # the committed households' own state follows their commitment (a continuation applies
    # it); everyone else's initial state must not depend on the control
    others = ~(a.committed | b.committed).any(axis=1)
    for name in a.state.__dataclass_fields__:
        x, y = getattr(a.state, name), getattr(b.state, name)
        if x.shape[:1] == others.shape:
            x, y = x[others], y[others]
        if not np.array_equal(x, y, equal_nan=x.dtype.kind == "f"):
            raise ValueError(
                f"continuation cannot carry {control} over: it sets the initial state "
                f"({name}), which a continuation keeps from the previous level"
            )


def continuation(
    base: str | Path | None,
    control: str,
    levels: Sequence[float],
    outcome: str,
    steps: int,
    seed: int = 1,
    replicates: int = 5,
    fixed: Sequence[str] = (),
) -> pd.DataFrame:
    """Run forward (levels rising) and backward (falling) continuations.

    Each replicate ``r`` builds its world from ``seed`` and ``r`` once and keeps it; at each
    level the model runs ``steps`` steps from the state the previous level left.

    Returns
    -------
    DataFrame
        One row per replicate, branch ("forward", "backward") and level, with the outcome.

    Examples
    --------
    >>> df = continuation(None, "social.q", [0.01, 0.05], "any_adoption", steps=2,
    ...                   replicates=1, fixed=["population.households=200"])
    >>> df["branch"].tolist()
    ['forward', 'forward', 'backward', 'backward']
    """
    from bt_sim.model import TransitionModel

    up = sorted(float(v) for v in levels)
    rows = []
    scenarios = {v: load_scenario(base, [*fixed, f"{control}={v:.12g}"]) for v in up}
    for r in range(replicates):
        model = None
        for branch, order in (("forward", up), ("backward", up[::-1])):
            for v in order:
                nxt = TransitionModel(scenarios[v], seed=seed, replicate=r)
                if model is not None:
                    nxt.continue_from(model)
                for _ in range(steps):
                    nxt.step()
                rows.append((r, branch, v, state_outcome(nxt, outcome)))
                model = nxt
    return pd.DataFrame(rows, columns=["replicate", "branch", control, outcome])


def hysteresis(df: pd.DataFrame, control: str, outcome: str) -> pd.DataFrame:
    """Per level: the mean outcome on each branch, their paired difference and its standard
    error over replicates, and whether the branches differ beyond 3 standard errors."""
    wide = df.pivot_table(index=["replicate", control], columns="branch", values=outcome)
    wide["diff"] = wide["backward"] - wide["forward"]
    g = wide.groupby(level=control)
    out = pd.DataFrame(
        {
            "forward": g["forward"].mean(),
            "backward": g["backward"].mean(),
            "diff": g["diff"].mean(),
            "se": g["diff"].std(ddof=1) / np.sqrt(g["diff"].count()),
        }
    )
    out["differs"] = out["diff"].abs() > 3 * out["se"].fillna(0.0)
    return out.reset_index()


def plot_hysteresis(df: pd.DataFrame, control: str, outcome: str, path: Path) -> None:
    """Both branches against the control, each replicate a faint line, the means bold."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    colours = {"forward": "#0072B2", "backward": "#D55E00"}
    for (branch, _), part in df.groupby(["branch", "replicate"]):
        part = part.sort_values(control)
        ax.plot(part[control], part[outcome], color=colours[branch], alpha=0.25, lw=0.8)
    for branch, part in df.groupby("branch"):
        m = part.groupby(control)[outcome].mean()
        ax.plot(m.index, m.values, color=colours[branch], lw=2.5, marker="o", label=branch)
    ax.set_xlabel(control)
    ax.set_ylabel(outcome)
    ax.set_title("continuation: control rising (forward) and falling (backward)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
