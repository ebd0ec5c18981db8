"""Experiments: sweeps, samplers, executors, resumable result storage, sensitivity, tipping.

The layer is model-agnostic: a sweep maps parameter dictionaries to output dictionaries
through any picklable function ``func(params, seed) -> dict`` (``seed`` a
:class:`numpy.random.SeedSequence`). bt-sim's own model is one such function,
:class:`~bt_sim.experiments.scenario_run.ScenarioRun`. Nothing here imports numpy or the engine on
import; each module loads what it needs.

Modules
-------
spec
    Sweep files (TOML): reading and validation, with messages naming the file and key.
samplers
    Grid, Latin hypercube, Sobol/Saltelli and Morris designs (SALib).
design
    Designs of any function from parameter ranges alone, run in memory or into a folder, and
    their sensitivity indices: no bt-sim scenario needed.
resources
    A sweep's memory, estimated and checked before any worker starts.
core
    :func:`run_sweep`: runs, seeds, batching and resume over any executor.
executors
    In-process, local processes (spawn, one BLAS thread each) and Dask.
store
    Results on disk: Parquet parts written atomically, a manifest, dedupe by run index.
sensitivity
    Sobol and Morris indices of each output (SALib), tables and plots.
tipping
    Critical values, bimodality across replicates, bifurcation diagrams, early warnings.
"""
