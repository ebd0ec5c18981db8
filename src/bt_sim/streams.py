"""Named random streams: one seed sequence per replicate, one generator per decision.

A replicate's root is ``SeedSequence(seed, spawn_key=(replicate,))``, which is exactly
``SeedSequence(seed).spawn(R)[replicate]`` for any ``R``: replicate ``r`` of a run draws the same
numbers however many replicates or workers there are. Every random decision of the model draws
from its own stream, registered here under a stable name; a stream's seed is the root's entropy
with the name's CRC-32 appended to the spawn key, so renaming a Python attribute never changes
results. The dynamics draw counter-based numbers keyed by their stream (:mod:`bt_sim.draws`),
so a household's draw for a decision at a step depends on nothing else; construction does the
same by entity (:mod:`bt_sim.keyed`: population, placement and initial state), except the
network, which its generator draws from its stream in sequence.
"""

from __future__ import annotations

import zlib

import numpy as np

#: Every stream the model draws from, with what it decides: the model's own here (construction
#: streams first); each component registers its own when it is defined
#: (:func:`register_stream`, :mod:`bt_sim.component`).
STREAMS: dict[str, str] = {
    "population": "household attributes (income, tenure, size, age, literacy, language, KPI), "
    "keyed by household",
    "network": "the social network and its tie weights",
    "placement": "the order in which neighbourhoods get a collective, keyed by neighbourhood",
    "initial": "initial adopters, self-efficacy, meters, thresholds, founders, check offsets, "
    "keyed by household",
    "adopt": "adoption draws (one uniform per household and behaviour)",
    "kpi_noise": "month-to-month noise of each household's KPI",
    "dynamics": "every dynamic decision in turn, when common random numbers are off (run.crn)",
    "mesa": "Mesa's own generators (model.rng, model.random): used by agent views, never the rules",
}


def register_stream(name: str, what: str) -> None:
    """Register stream ``name`` (what it decides). A name is one stream: registering it again
    with another description is refused, since two decisions sharing a stream would share
    their numbers.

    >>> register_stream("adopt", STREAMS["adopt"])  # the same again: nothing happens
    """
    if not name or not isinstance(name, str):
        raise ValueError(f"a stream needs a name, got {name!r}")
    known = STREAMS.get(name)
    if known is not None and known != what:
        raise ValueError(f"stream {name!r} is registered already, for {known!r}")
    STREAMS[name] = what


def stream_id(name: str) -> int:
    """The stable number of a stream name (its CRC-32).

    >>> stream_id("adopt") == stream_id("adopt")
    True
    """
    if name not in STREAMS:
        raise KeyError(f"unknown random stream {name!r}; registered: {', '.join(STREAMS)}")
    return zlib.crc32(name.encode())


def replicate_root(seed: int, replicate: int = 0) -> np.random.SeedSequence:
    """The root seed sequence of replicate ``replicate`` of a run with seed ``seed``.

    >>> a = replicate_root(7, 2)
    >>> b = np.random.SeedSequence(7).spawn(3)[2]
    >>> a.entropy == b.entropy and a.spawn_key == b.spawn_key
    True
    """
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer):
        raise TypeError(f"seed must be a non-negative integer, got {seed!r}")
    if isinstance(replicate, bool) or not isinstance(replicate, int | np.integer) or replicate < 0:
        raise TypeError(f"replicate must be a non-negative integer, got {replicate!r}")
    if seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed}")
    return np.random.SeedSequence(int(seed), spawn_key=(int(replicate),))


class Streams:
    """The named generators of one replicate.

    Parameters
    ----------
    root : numpy.random.SeedSequence
        The replicate's root (:func:`replicate_root`).

    Examples
    --------
    >>> s = Streams(replicate_root(1))
    >>> s["adopt"] is s["adopt"]
    True
    """

    def __init__(self, root: np.random.SeedSequence):
        self.root = root
        self._generators: dict[str, np.random.Generator] = {}

    def sequence(self, name: str) -> np.random.SeedSequence:
        """The seed sequence of stream ``name``."""
        return np.random.SeedSequence(
            self.root.entropy, spawn_key=(*self.root.spawn_key, stream_id(name))
        )

    def __getitem__(self, name: str) -> np.random.Generator:
        gen = self._generators.get(name)
        if gen is None:
            gen = self._generators[name] = np.random.default_rng(self.sequence(name))
        return gen
