"""Small helpers shared by the result classes: strict-JSON arrays and matplotlib."""

from __future__ import annotations

from typing import Any

import numpy as np


def plain(x: Any) -> Any:
    """A float or nested lists of floats for strict JSON: None for NaN, "inf"/"-inf" for infinities.

    >>> plain(np.array([1.5, np.nan, -np.inf]))
    [1.5, None, '-inf']
    """
    a = np.asarray(x, dtype=np.float64)
    out = a.astype(object)
    out[np.isnan(a)] = None
    out[np.isposinf(a)] = "inf"
    out[np.isneginf(a)] = "-inf"
    return out.tolist()


def array(x: Any, dtype: Any = np.float64) -> np.ndarray:
    """The inverse of `plain`, as ``dtype``: NaN where it has None.

    >>> array([1.5, None, "-inf"]).tolist()
    [1.5, nan, -inf]
    """
    a = np.array(x, dtype=object)
    a[np.equal(a, None)] = np.nan
    return a.astype(dtype)


def pyplot():
    """``matplotlib.pyplot`` on the Agg backend, or a `ValueError` saying how to install it."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise ValueError("plots need matplotlib: pip install 'jaxsched[experiments]'") from None
    return plt
