"""The limits a run must fit, checked before anything is allocated or compiled:
int32 step counters, 64-bit seeds, and a quarter of the machine's memory."""

from __future__ import annotations

import os

#: Step counters (the chunk's and optax's) are int32.
MAX_STEPS = 2**31 - 1


def check_steps(who: str, steps: int) -> None:
    """Refuse more steps than the int32 step counters (the chunk's and optax's) count.

    >>> check_steps("fit", 2**31)
    Traceback (most recent call last):
    ...
    ValueError: fit: steps must be at most 2**31 - 1 (step counters are int32), got 2147483648
    """
    if steps > MAX_STEPS:
        raise ValueError(
            f"{who}: steps must be at most 2**31 - 1 (step counters are int32), got {steps}"
        )


def check_seed(who: str, seed: int) -> None:
    """Refuse a seed that ``jax.random.key`` cannot take (it must fit 64 bits)."""
    if not -(2**63) <= seed < 2**63:
        raise ValueError(
            f"{who}: a seed must be a 64-bit integer (-2**63 <= seed < 2**63), got {seed}"
        )


def check_fits(what: str, size: int, hint: str) -> None:
    """Raise a `ValueError` naming ``what`` if ``size`` bytes exceed a quarter of the memory.

    >>> check_fits("fit: the table", 2**20, "use fewer rows")
    >>> check_fits("fit: the table", 2**62, "use fewer rows")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: fit: the table would take 4294967296.0 GiB, ...; use fewer rows
    """
    if size > memory_bytes() // 4:
        raise ValueError(
            f"{what} would take {size / 2**30:.1f} GiB, more than a quarter of this "
            f"machine's memory; {hint}"
        )


def check_runs_fit(who: str, runs: str, n_runs: int, n_weights: int, hint: str) -> None:
    """Refuse ``n_runs`` trained at once whose weights, gradients and optimizer states
    (about four float32 copies of the ``n_weights`` weights per run) would not fit in
    a quarter of the memory; ``runs`` says what they are in the message.

    >>> check_runs_fit("fit", "10**9 runs", 10**9, 15210, "use fewer runs")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: fit: the weights, gradients and optimizer states of 10**9 runs would take ...
    """
    check_fits(
        f"{who}: the weights, gradients and optimizer states of {runs}",
        n_runs * n_weights * 4 * 4,
        hint,
    )


def memory_bytes() -> int:
    """The machine's physical memory (16 GiB where the OS does not say)."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        return 16 * 2**30
