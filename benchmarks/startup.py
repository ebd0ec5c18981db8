"""Start-up cost of the command line: CPU time of `bt-sim --help` and the scenario commands.

Each command runs in a fresh process several times; the table gives the best and median CPU
time (user + system, from ``os.wait4``) and the wall time. Target (design brief): under 0.1 s
of CPU.

    python benchmarks/startup.py
"""

from __future__ import annotations

import os
import shutil
import statistics
import sys
import time

COMMANDS = [
    ["--help"],
    ["--version"],
    ["scenario", "keys"],
    ["scenario", "list"],
    ["scenario", "validate", "default"],
    ["scenario", "show", "bass"],
]


def cpu_of(argv: list[str]) -> tuple[float, float]:
    """CPU seconds (user + system) and wall seconds of one run of ``argv``."""
    t0 = time.perf_counter()
    pid = os.fork()
    if pid == 0:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.dup2(devnull, 2)
        os.execv(argv[0], argv)
    _, _, usage = os.wait4(pid, 0)
    return usage.ru_utime + usage.ru_stime, time.perf_counter() - t0


def main() -> int:
    exe = shutil.which("bt-sim") or os.path.join(os.path.dirname(sys.executable), "bt-sim")
    print(f"# bt-sim start-up, {time.strftime('%Y-%m-%d %H:%M')}, load {os.getloadavg()[0]:.2f}")
    print("| command | CPU best s | CPU median s | wall median s |")
    print("| --- | ---: | ---: | ---: |")
    for cmd in COMMANDS:
        runs = [cpu_of([exe, *cmd]) for _ in range(7)]
        cpu = [r[0] for r in runs]
        wall = [r[1] for r in runs]
        print(
            f"| `bt-sim {' '.join(cmd)}` | {min(cpu):.3f} | {statistics.median(cpu):.3f} | "
            f"{statistics.median(wall):.3f} |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
