"""Small helpers shared by the result classes: strict-JSON arrays and matplotlib."""

from __future__ import annotations

from typing import Any

import numpy as np


def plain(x: Any) -> Any:
    """A float or nested lists of floats, with None for NaN and infinities (strict JSON).

    >>> plain(np.array([1.5, np.nan]))
    [1.5, None]
    """
    a = np.asarray(x, dtype=np.float64)
    out = a.astype(object)
    out[~np.isfinite(a)] = None
    return out.tolist()


def array(x: Any) -> np.ndarray:
    """The inverse of `plain`: a float64 array, NaN where it has None.

    >>> array([1.5, None]).tolist()
    [1.5, nan]
    """
    return np.array(x, dtype=np.float64)


def pyplot():
    """``matplotlib.pyplot`` on the Agg backend, or a `ValueError` saying how to install it."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise ValueError("plots need matplotlib: pip install 'jaxsched[experiments]'") from None
    return plt
