"""A schedule longer than the run: the warning `jaxsched sweep` (and `fit`) give before training."""

from __future__ import annotations

import math
import warnings

import numpy as np

from jaxsched._base import Schedule
from jaxsched._check import outside_stacklevel

__all__ = ["warn_unfinished"]

#: The most configurations a warning names one by one.
_NAMED = 5


def warn_unfinished(who: str, schedules: Schedule, steps: int) -> None:
    """Warn once, naming them, where configurations of ``schedules`` end after ``steps``.

    ``who`` starts the message (``"fit"``); a batch of several axes is numbered as
    its `Schedule.flatten` is.

    A configuration ends at its `Schedule.end_step`; one whose end is beyond the
    run's ``steps`` is still decaying when training stops (a schedule exactly as
    long as the run ends as it should: its last update uses the value one step
    before the end). Schedules without an end (periodic ones, or those that decay
    for ever) are never warned about.

    Example:
      >>> import warnings
      >>> import jaxsched
      >>> batch = jaxsched.grid(jaxsched.cosine, init_value=0.1, decay_steps=[1000, 2000])
      >>> with warnings.catch_warnings(record=True) as caught:
      ...     warnings.simplefilter("always")
      ...     warn_unfinished("fit", batch, steps=1000)
      >>> print(caught[0].message)  # doctest: +ELLIPSIS
      fit: 1 of 2 configurations end after the run's 1000 steps: config 1 at step 2000 (cosine(...)); train for more steps or shorten their schedules
    """
    flat = schedules.flatten()
    ends = np.asarray(flat.end_step, np.float64)
    late = np.flatnonzero(ends > steps)  # NaN (no end) is never late
    if not late.size:
        return
    named = [f"config {i} at step {_number(ends[i])} ({flat[int(i)]!r})" for i in late[:_NAMED]]
    more = f" and {late.size - _NAMED} more" if late.size > _NAMED else ""
    warnings.warn(
        f"{who}: {late.size} of {ends.size} configurations end after the run's {steps} steps: "
        f"{', '.join(named)}{more}; train for more steps or shorten their schedules",
        UserWarning,
        stacklevel=outside_stacklevel(),
    )


def _number(x: float) -> str:
    return str(int(x)) if math.isfinite(x) and x.is_integer() else f"{x:g}"
