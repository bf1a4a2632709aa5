"""Every size and magnitude limit a user's file is held to, in one place (docs/limits.md).

A file that asks for more than the engine can hold is refused up front, with the file and line
of what asks for it, rather than ending in a MemoryError, an overflow or Infinity in the output
minutes later. Each limit here is generous for real negotiations (a summit has a handful of
actors, issues and formats) and sized so that memory stays bounded whatever the input:
docs/limits.md lists every limit, why it has its value and what happens at it, and
tests/test_config_limits.py holds each one.

This module holds numbers and the words that report them; the checks live with the models they
check (``scenario``, ``experiment``, ``design``, ``distributions``, ``yamlio``). It imports
nothing, so every layer can read it.
"""

from __future__ import annotations

# -- files ----------------------------------------------------------------------------------------

MAX_FILE_BYTES = 1 << 20
"""Largest scenario or experiment file read (1 MiB): parsing composes the whole node tree before
any other check, so the byte count bounds its memory (a 1 MiB flow list is ~0.5 M nodes)."""

MAX_NODES = 100_000
"""Largest document, counted in YAML nodes with its aliases expanded."""

MAX_DEPTH = 100
"""Deepest nesting of mappings and lists."""

# -- numbers --------------------------------------------------------------------------------------

MAX_MAGNITUDE = 1e6
"""Largest magnitude of any number a scenario holds: fixed values and every parameter of a
distribution (reservations, pressures, audience costs, saliences, clouts, claims, exponents,
means, standard deviations, bounds...). Utilities live in [0, 1], so 1e6 already means "never";
the cap keeps every sum, product and normalisation of them far from float64 overflow."""

NORMAL_REACH_SD = 40.0
"""An untruncated side of a normal distribution ends this many standard deviations from the
mean (no float64 inverse-CDF draw goes past 38.5): every draw of a scenario is finite."""

MAX_SEED = 2**63 - 1
"""Largest seed (fits the int64 columns and manifests that record it)."""

# -- scenarios ------------------------------------------------------------------------------------

MAX_ISSUES = 100
"""Issues of a scenario."""

MAX_ACTORS = 100
"""Actors of a scenario (all roles)."""

MAX_FORMATS = 100
"""Summit formats of a scenario. The format held is stored as an int8 index per world
(core/model.py, results/schema.py): 127 is the hard ceiling this stays under."""

MAX_ROUNDS = 10_000
"""Deadline in rounds (``protocol.rounds``)."""

MAX_ID_LENGTH = 64
"""Characters of an issue, actor or format id."""

MAX_WORLD_BYTES = 64 * 1024
"""Working memory one simulated world may need (64 KiB, estimated by ``scenario.world_bytes``
from the scenario's shape): a chunk of the default 16,384 worlds then stays under 1 GiB, and one
of ``MAX_CHUNK`` worlds under 4 GiB. It binds the products that single counts cannot: actors x
issues and formats x principals for every protocol, and rounds x principals for alternating
offers (the plan of backward induction). Expected utility adds nothing per world: its pairwise
challenges are computed a slice of worlds at a time and only the current positions are kept."""

# -- runs and sweeps ------------------------------------------------------------------------------

MAX_RUNS = 10**9
"""Worlds of a run, or per point of a sweep."""

MAX_CHUNK = 65_536
"""Largest number of worlds simulated together (64 blocks of 1,024). Chunk size never changes
results, only memory: ``--chunk-size`` and an experiment's ``chunk_size`` above it are refused."""

MAX_POINTS = 32_768
"""Points of a sweep's design (grid product, list, lhs samples, sobol N(D+2) or N(2D+2), morris
N(D+1)), counted before any point is made. Preparing a sweep builds every point's scenario
(about 25 KB each for the shipped baseline: 0.8 GB at the cap)."""

MAX_TASKS = 1_000_000
"""Tasks of a sweep: points x chunks per point."""

MAX_WORKERS = 1_024
"""Local worker processes of a sweep (``--workers``: the processes pool or a dask LocalCluster).
Each costs about 150 MB once warm; results never depend on their number."""

MAX_CHECKED_POINTS = 1_000
"""``validate`` builds and checks the scenario of every point of designs up to this size. A
larger design is checked on a spread of this many points plus every value of every grid axis
and each sampled parameter's smallest and largest value; the sweep itself checks every point
before it runs any."""


def limit_text(what: str, limit: float | int, found: float | int | None = None) -> str:
    """The one wording every refused size uses: what, the limit, what the file asks for."""
    shown = f"{limit:,}" if isinstance(limit, int) else f"{limit:g}"
    asked = "" if found is None else (
        f" (got {found:,})" if isinstance(found, int) else f" (got {found:g})")
    return f"{what} is limited to {shown}{asked}; see docs/limits.md"
