"""Optional parts: what needs an extra package, and the one line that says how to get it.

``pip install -e .`` (the README's first command) installs the model, sweeps on this machine's
cores and the view; Dask executors need the ``dask`` extra and calibration the
``calibration`` extra. A command that needs one checks for it before any work (``--check``
included) and, when it is missing, stops with one line naming the extra.

>>> require("json", "dask", "--executor dask")
"""

from __future__ import annotations

import importlib.util
import re

from bt_sim.errors import BtSimError

#: What each extra gives.
EXTRAS = {
    "dask": ("distributed", "Dask executors (--executor dask, --scheduler)"),
    "calibration": ("pyabc", "calibration against hub data (bt-sim calibrate)"),
}


class MissingExtra(BtSimError):
    """An optional package a command needs is not installed."""


class BadAddress(BtSimError):
    """A Dask scheduler address that cannot be one, or that does not answer."""


def require(module: str, extra: str, what: str) -> None:
    """Raise :class:`MissingExtra` unless ``module`` can be imported.

    Parameters
    ----------
    module : str
        The package the feature imports.
    extra : str
        The bt-sim extra that installs it.
    what : str
        The feature, as the user asked for it (an option or a command).
    """
    if importlib.util.find_spec(module) is None:
        raise MissingExtra(
            f"{what} needs the optional package {module!r}: install it with "
            f'pip install "bt-sim[{extra}]" (or pip install -e ".[{extra}]" in a checkout)'
        )


_ADDRESS = re.compile(r"^(tcp|tls|ucx|inproc|ws|wss)://[^\s/:]+(:\d{1,5})$")


def check_scheduler(address: str) -> None:
    """Refuse a Dask scheduler address that is not ``PROTOCOL://HOST:PORT``.

    >>> check_scheduler("tcp://10.0.0.5:8786")
    >>> check_scheduler("notaurl")
    Traceback (most recent call last):
    ...
    bt_sim.extras.BadAddress: --scheduler: expected an address like tcp://HOST:8786, got 'notaurl'
    """
    if not _ADDRESS.match(address or ""):
        raise BadAddress(f"--scheduler: expected an address like tcp://HOST:8786, got {address!r}")
