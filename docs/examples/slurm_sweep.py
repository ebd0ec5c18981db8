"""Run a bt-sim sweep on a Slurm cluster through dask-jobqueue (an example; not run by tests).

Install on the cluster's login node, in the same environment the jobs will use::

    pip install "bt-sim[dask]" dask-jobqueue

then run this script there (or in a small job). It starts a Dask scheduler here, asks Slurm
for worker jobs, and runs the sweep on them; results are written on the shared file system as
runs finish, so an interrupted sweep is finished by running the script again (``resume=True``).
The same can be done from the command line: start the cluster, print its address, and run
``bt-sim sweep SWEEP.toml --scheduler tcp://HOST:PORT``.
"""

from pathlib import Path

from dask_jobqueue import SLURMCluster

from bt_sim.experiments.core import run_sweep_file
from bt_sim.experiments.executors import DaskExecutor
from bt_sim.experiments.spec import read_sweep

SWEEP = Path("scenarios/sweeps/inclusivity_sobol.toml")
OUT = Path("/scratch") / "bt-sim" / "inclusivity_sobol"  # a shared file system

if __name__ == "__main__":
    cluster = SLURMCluster(
        queue="normal",
        account="my_project",
        cores=32,  # cores per job ...
        processes=32,  # ... each a single-threaded worker process
        memory="64GB",
        walltime="02:00:00",
        # One BLAS/OpenMP thread per worker (bt-sim's own executors set these too).
        job_script_prologue=[
            "export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1",
            "source ~/bt-sim/.venv/bin/activate",
        ],
    )
    cluster.scale(jobs=4)  # 4 jobs x 32 workers
    print("scheduler:", cluster.scheduler_address)
    spec = read_sweep(SWEEP)
    with DaskExecutor(address=cluster.scheduler_address) as executor:
        outcome = run_sweep_file(spec, OUT, executor, resume=True, progress=True)
    print(f"{outcome.ran} runs, {outcome.failed} failed; results in {outcome.folder}")
    cluster.close()
