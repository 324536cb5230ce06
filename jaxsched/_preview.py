"""A learning-rate curve drawn in text, for terminals."""

from __future__ import annotations

from typing import Any

import jax
import numpy as np

_BLOCKS = " ▁▂▃▄▅▆▇█"


def text_chart(
    values: np.ndarray, width: int = 64, height: int = 8, axis: str | None = None
) -> str:
    """Draw ``values`` (a curve over steps) as ``height`` rows of block characters.

    Each column is the mean of its slice of steps; the rows are labelled with
    the top and bottom of the range; the line below says what the columns
    span (``axis``, default the step range).

    Example:
      >>> print(text_chart(np.linspace(1.0, 0.0, 8), width=8, height=2))
               1 |█▆▄▂    |
               0 |████▇▅▃▁|
                  0 .. 7
    """
    values = np.asarray(values, dtype=np.float64)
    if values.size == 0:
        return "(no steps)"
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return "(no finite values)"
    columns = [chunk.mean() for chunk in np.array_split(values, min(width, values.size))]
    low, high = float(finite.min()), float(finite.max())
    span = high - low or 1.0
    # Height of each column in eighths of a row.
    levels = [
        round((c - low) / span * (height * 8 - 1)) + 1 if np.isfinite(c) else 0 for c in columns
    ]
    rows = []
    for row in range(height - 1, -1, -1):
        cells = "".join(_BLOCKS[min(max(level - row * 8, 0), 8)] for level in levels)
        label = f"{high:>10.4g}" if row == height - 1 else f"{low:>10.4g}" if row == 0 else " " * 10
        rows.append(f"{label} |{cells}|")
    rows.append(" " * 12 + (axis if axis is not None else f"0 .. {values.size - 1}"))
    return "\n".join(rows)


#: The most steps a drawn schedule is evaluated at (`plotted_steps`).
PLOTTED = 20_000


def plotted_steps(n: int, limit: int = PLOTTED) -> np.ndarray:
    """The steps ``0 .. n - 1`` at which to draw a schedule: all of them, or ``limit``
    evenly spread ones (a curve of 3e9 points would not fit in memory).

    Example:
      >>> plotted_steps(5).tolist(), plotted_steps(10**9, limit=3).tolist()
      ([0, 1, 2, 3, 4], [0, 500000000, 999999999])
    """
    steps = np.unique(np.linspace(0, n - 1, min(n, limit)).round())
    return steps.astype(np.int64)


@jax.jit
def curve(schedule: Any, steps: jax.Array) -> jax.Array:
    """``schedule(steps)`` for a figure, as one compiled program per kind of schedule (its
    family, static fields, shapes and dtypes) reused for any values. Called outside
    ``jit``, a schedule runs op by op: about half a second for each one drawn.

    Example:
      >>> import jaxsched
      >>> curve(jaxsched.linear(1.0, 0.0, 4), np.arange(5)).tolist()
      [1.0, 0.75, 0.5, 0.25, 0.0]
    """
    return schedule(steps)
