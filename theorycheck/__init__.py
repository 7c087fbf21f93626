"""theorycheck as a library: run a paper's experiment, check its claims, draw its figure.

    >>> import theorycheck
    >>> [e["name"] for e in theorycheck.experiments()]
    >>> r = theorycheck.run("halpern-vr", mode="quick", seed=0)
    >>> r.frame.head(); [v.status for v in r.verdicts]; r.figure()

The command line (``theorycheck ...``, ``python -m theorycheck``) is a thin layer over these
functions.  Results are cached in a user cache folder (``cache_dir``), independent of ``out``.
"""
from __future__ import annotations

from .api import Result, default_cache_dir, experiments, run, verify

__all__ = ["Result", "__version__", "default_cache_dir", "experiments", "run", "verify"]


def _version() -> str:
    from importlib import metadata

    try:
        return metadata.version("theorycheck")
    except metadata.PackageNotFoundError:
        return "0+unknown"


__version__ = _version()
