"""The array backend is chosen once, at the edge where data is created.

Generic code in problems/ and algorithms/ only ever sees arrays and asks them for their namespace
(``array_namespace``); here we map a backend name to the module that creates those arrays and
convert results back to NumPy for tables, fits and figures.
"""
from __future__ import annotations

import importlib

import numpy as np

BACKENDS = ("numpy", "cupy", "array_api_strict")


def backend_module(name: str):
    """The array module for a backend name; a clear error when it is unknown or not installed."""
    from .params import ParamError

    if name not in BACKENDS:
        raise ParamError(f"unknown backend {name!r}: valid backends are {', '.join(BACKENDS)}")
    try:
        mod = importlib.import_module(name)
    except ImportError:
        extra = "pip install -e '.[gpu]'" if name == "cupy" else f"pip install {name}"
        raise ParamError(f"backend {name!r} is not installed ({extra})") from None
    if name == "cupy":
        try:
            mod.cuda.runtime.getDeviceCount()
        except Exception as exc:  # no driver / no device
            raise ParamError(f"backend 'cupy' has no usable CUDA device: {exc}") from None
    return mod


def to_backend(array, xp, dtype=None):
    """A NumPy array (or scalar) created on the host, moved to the backend ``xp``; floating
    arrays are cast to ``dtype`` (default float64), integer and boolean arrays keep theirs."""
    a = np.asarray(array)
    if a.dtype.kind == "f":
        a = a.astype(dtype or np.float64, copy=False)
    return a if xp is np else xp.asarray(a)


def to_numpy(array) -> np.ndarray:
    """Back to NumPy from any backend (CuPy via .get(), others via DLPack or __array__)."""
    if isinstance(array, np.ndarray):
        return array
    if hasattr(array, "get") and type(array).__module__.startswith("cupy"):
        return array.get()
    try:
        return np.from_dlpack(array)
    except Exception:
        return np.asarray(array)
