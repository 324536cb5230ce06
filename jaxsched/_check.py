"""Converting and validating factory arguments.

Factories convert every numeric argument to a jnp array and check it when it
is concrete (of any shape: a batch is checked at once, and the first bad entry
is named by its index). Traced arguments are not checked in Python: the
schedule's formulas clamp them into range instead.
"""

from __future__ import annotations

import difflib
import os
import sys
import types
import warnings
from collections.abc import Callable, Iterable, Sequence
from contextvars import ContextVar
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

Condition = Callable[[np.ndarray], np.ndarray]

#: The compat constructor being called, as ``(label, {factory parameter: its name})``,
#: set by `jaxsched.compat._names.speaks_as` so that warnings name it, as its errors do.
speaker: ContextVar[tuple[str, dict[str, str]] | None] = ContextVar("speaker", default=None)


def concrete(x: Any) -> np.ndarray | None:
    """``x`` as a NumPy array, or None if it is traced."""
    if isinstance(x, jax.core.Tracer):
        return None
    return np.asarray(x)


def as_float(
    factory: str, name: str, value: Any, event_ndim: int = 0, switch: bool = False
) -> jax.Array:
    """A float jnp array; integers take the default float dtype.

    Every concrete entry must be finite, and a boolean is no number: ``True`` where
    a step count or a rate goes is a mistake, not 1 (traced booleans are converted).
    Host data (numbers, lists, NumPy) is converted and checked with NumPy and then
    copied to the device: no operation of JAX's runs, so nothing compiles. ``switch``: the entries are
    steps where a schedule switches, and a host number the dtype cannot hold
    (``16777217`` in float32) is rounded with a warning, since the switch moves.
    """
    not_numbers = ValueError(
        f"{factory}: {name} must be a number or an array of numbers, got {value!r}"
    )
    host = on_host(value)  # None for arrays and for lists holding tracers
    if host is not None and host.dtype.kind == "O" and _all_ints(host):
        host = host.astype(np.float64)  # Python ints beyond 64 bits: numbers all the same
    if host is not None and host.dtype.kind in "SUVbc":
        raise not_numbers
    if host is not None and host.dtype.kind != "O":  # objects (__jax_array__): to jnp
        # Through float64: an int64 beyond int32 must not wrap (2**32 + 5 -> 5).
        with np.errstate(over="ignore"):  # beyond the dtype's range: inf, refused below
            arr = host.astype(_float_dtype(host.dtype))
    else:
        try:
            arr = jnp.asarray(value)
        except (TypeError, ValueError):
            raise not_numbers from None
        if arr.dtype.kind in "bc" and concrete(arr) is not None:
            raise not_numbers
    if arr.ndim < event_ndim:
        kind = "a sequence of numbers" if event_ndim == 1 else f"an array of rank {event_ndim}"
        raise ValueError(f"{factory}: {name} must be {kind}, got {value!r}")
    if 0 in arr.shape[: arr.ndim - event_ndim]:
        raise ValueError(f"{factory}: {name} is an empty batch, got {value!r}")
    if isinstance(arr, np.ndarray):
        require(factory, name, arr, np.isfinite, "finite")
        if switch:
            _warn_if_rounded(factory, name, host, arr)
        return on_device(arr)
    # A strong dtype: a weakly typed 1.0 and a strongly typed 3 would trace differently.
    arr = jax.lax.convert_element_type(arr, _float_dtype(arr.dtype))
    require(factory, name, arr, np.isfinite, "finite")
    return arr


def _all_ints(host: np.ndarray) -> bool:
    return host.size > 0 and all(isinstance(v, int) and not isinstance(v, bool) for v in host.flat)


def _float_dtype(dtype: np.dtype) -> np.dtype:
    """``dtype`` if it is a float type JAX uses, else JAX's default float type."""
    if not jnp.issubdtype(dtype, jnp.inexact):
        dtype = np.float64
    return jax.dtypes.canonicalize_dtype(dtype)


def host_or_traced(*values: Any) -> tuple[Any, list[Any]]:
    """``(xp, values)``: NumPy and the values as NumPy arrays when every one is
    concrete, else ``jax.numpy`` and the values as given.

    Factories derive arguments from the converted ones (`as_float`'s arrays)
    with ``xp``: on the host nothing compiles (a ``jnp`` operation compiles a
    small program per new shape), and the result has their dtype.

    >>> xp, (a, b) = host_or_traced(as_float("f", "a", 2.0), as_float("f", "b", 3.0))
    >>> xp is np, (a * b).dtype == jax.dtypes.canonicalize_dtype(np.float64)
    (True, True)
    """
    host = [concrete(v) for v in values]
    if any(h is None for h in host):
        return jnp, list(values)
    return np, host


def plain_array(value: Any) -> np.ndarray | jax.Array:
    """``value`` as an array: host data (numbers, lists, NumPy) as a NumPy array, to be
    checked without compiling anything; anything else (JAX arrays, tracers, objects
    with ``__jax_array__``) through ``jnp.asarray``."""
    host = on_host(value)
    return host if host is not None and host.dtype.kind != "O" else jnp.asarray(value)


def on_device(arr: np.ndarray | jax.Array) -> jax.Array:
    """``arr`` as a JAX array: a NumPy one copied over (``jnp.asarray`` would compile a
    small program per new shape), a JAX array or tracer as it is."""
    return jax.device_put(arr) if isinstance(arr, np.ndarray | np.generic) else arr


def on_host(value: Any) -> np.ndarray | None:
    """``value`` as a NumPy array if it is plain host data (numbers, lists, NumPy)."""
    if isinstance(value, jax.Array):
        return None
    try:
        return np.asarray(value)
    except Exception:  # e.g. a list of tracers, which jnp.asarray takes
        return None


def as_bool(factory: str, name: str, value: Any) -> jax.Array:
    """A bool jnp array; concrete values must be booleans (or 0/1)."""
    try:
        arr = plain_array(value)
    except (TypeError, ValueError):
        raise ValueError(f"{factory}: {name} must be True or False, got {value!r}") from None
    if arr.dtype != jnp.bool_ or getattr(arr, "weak_type", False):
        c = concrete(arr)
        if c is not None and not np.isin(c, (0, 1)).all():
            raise ValueError(f"{factory}: {name} must be True or False, got {value!r}")
        arr = arr.astype(jnp.bool_)
    return on_device(arr)


def as_choice(factory: str, name: str, value: Any, choices: Sequence[str]) -> str:
    """A static string option that must be one of ``choices``."""
    if not isinstance(value, str) or value not in choices:
        options = ", ".join(repr(c) for c in choices)
        raise ValueError(f"{factory}: {name} must be one of {options}, got {value!r}")
    return value


def did_you_mean(name: Any, known: Iterable[str]) -> str:
    """`` (did you mean 'cosine'?)``, naming the entries of ``known`` close to a
    misspelled ``name`` (`difflib.get_close_matches`, those about as close as the
    closest), for an error message to put after the name; empty when none is close.

    Case does not count, and a name may leave out its library's prefix: ``stepLR``
    is ``torch.StepLR`` spelled otherwise, which goes before any close name.

    >>> did_you_mean("cosin", ["cosine", "join", "poly"])
    " (did you mean 'cosine'?)"
    >>> did_you_mean("wds", ["wsd", "rex"])
    " (did you mean 'wsd'?)"
    >>> did_you_mean("cosine_restart", ["cosine_restarts", "cosine_restarts2", "cosine"])
    " (did you mean 'cosine_restarts' or 'cosine_restarts2'?)"
    >>> did_you_mean("stepLR", ["step", "torch.StepLR", "torch.MultiStepLR"])
    " (did you mean 'torch.StepLR'?)"
    >>> did_you_mean("nope", ["cosine", "poly"])
    ''
    """
    if not isinstance(name, str):
        return ""
    known, lowered = [k for k in known if k != name], name.lower()
    parts = (str.lower, _unprefixed)  # the whole name first, then without its library
    for part in parts:  # the name spelled in other case
        same = [k for k in known if part(k) == lowered]
        if same:
            return _suggest(same)
    for part in parts:
        close = _close_matches(lowered, known, part)
        if close:
            return _suggest(close)
    return ""


def _unprefixed(name: str) -> str:
    """``name`` without its library's prefix, lower case: ``torch.StepLR`` -> ``steplr``."""
    return name.rpartition(".")[2].lower()


def _close_matches(name: str, known: list[str], part: Callable[[str], str]) -> list[str]:
    """The entries of ``known`` whose ``part`` is about as close to ``name`` as the closest."""
    by_part: dict[str, list[str]] = {}
    for k in known:
        by_part.setdefault(part(k), []).append(k)
    keys = difflib.get_close_matches(name, by_part)
    score = [difflib.SequenceMatcher(None, key, name).ratio() for key in keys]
    return [
        k for key, r in zip(keys, score, strict=True) if r >= score[0] - 0.1 for k in by_part[key]
    ]


def _suggest(names: list[str]) -> str:
    return f" (did you mean {' or '.join(repr(n) for n in dict.fromkeys(names))}?)"


def require(factory: str, name: str, value: Any, condition: Condition, must: str) -> None:
    """Raise ``ValueError`` if a concrete ``value`` has an entry failing ``condition``."""
    arr = concrete(value)
    if arr is None:
        return
    with np.errstate(invalid="ignore"):
        bad = ~np.asarray(condition(arr), dtype=bool)
    if bad.any():
        raise ValueError(f"{factory}: {name} must be {must}, got {_describe(arr, bad)}")


def require_related(
    factory: str,
    names: tuple[str, ...],
    values: tuple[Any, ...],
    condition: Callable[..., np.ndarray],
    must: str,
) -> None:
    """Like `require`, for a condition that relates several concrete arguments; the
    error names each one's value at the first entry that fails."""
    arrays = [concrete(v) for v in values]
    if any(a is None for a in arrays):
        return
    try:
        arrays = np.broadcast_arrays(*arrays)
    except ValueError:
        shapes = ", ".join(f"{n} {a.shape}" for n, a in zip(names, arrays, strict=True))
        raise ValueError(
            f"{factory}: the hyperparameters' batch shapes do not broadcast: {shapes}"
        ) from None
    bad = ~np.asarray(condition(*arrays), dtype=bool)
    if bad.any():
        idx = tuple(np.argwhere(bad)[0])
        where = f" at index {_index(idx)}" if idx else ""
        given = [f"{n}={_num(a[idx])}" for n, a in zip(names, arrays, strict=True)]
        raise ValueError(f"{factory}: {must}, got {', '.join(given[:-1])} and {given[-1]}{where}")


def require_increasing(factory: str, name: str, value: Any) -> None:
    """Boundaries: non-negative and strictly increasing along the last axis."""
    require(factory, name, value, lambda b: b >= 0, "non-negative")
    _require_order(factory, name, value, strictly=True)


def _warn_if_rounded(factory: str, name: str, given: np.ndarray, held: np.ndarray) -> None:
    """Warn where ``held``, the dtype's rounding of the switch steps ``given``, switches
    at another whole step (``t >= b`` first holds at ``ceil(b)``, ``t > b`` at
    ``floor(b) + 1``); a fractional boundary rounded by a few ulps switches where it did.
    """
    exact, rounded = given.astype(np.float64), held.astype(np.float64)
    moved = (np.ceil(rounded) != np.ceil(exact)) | (np.floor(rounded) != np.floor(exact))
    if not moved.any():
        return
    idx = tuple(np.argwhere(moved)[0]) if moved.ndim else ()
    where = f" at index {_index(idx)}" if idx else ""
    said = speaker.get()
    if said is not None:  # a compat constructor may reorder its values: no index
        factory, name, where = said[0], said[1].get(name, name), ""
    warnings.warn(
        f"{factory}: {name}{where} is {_num(given[idx])}, which {held.dtype} cannot hold: "
        f"it is rounded to {_num(held[idx])}, and the schedule switches there instead "
        f"(float32 holds every whole step up to 2**24; use jax.enable_x64 for float64)",
        UserWarning,
        stacklevel=outside_stacklevel(),
    )


def outside_stacklevel() -> int:
    """The ``stacklevel`` that points a warning at the nearest caller outside this
    package, however deep inside it the warning is raised. Call it in the
    `warnings.warn` call itself. A schedule's ``__init__``, which `dataclasses`
    writes (its file is ``<string>``), counts as inside."""
    package = os.path.dirname(os.path.abspath(__file__))

    def inside(code: types.CodeType) -> bool:
        generated = code.co_filename == "<string>" and code.co_name == "__init__"
        return generated or os.path.abspath(code.co_filename).startswith(package)

    frame, level = sys._getframe(2), 2  # the function that warns is level 1
    while frame is not None and inside(frame.f_code):
        frame, level = frame.f_back, level + 1
    return level


def require_nondecreasing(factory: str, name: str, value: Any) -> None:
    """Boundaries of any sign that never decrease along the last axis."""
    _require_order(factory, name, value, strictly=False)


def _require_order(factory: str, name: str, value: Any, strictly: bool) -> None:
    arr = concrete(value)
    if arr is None or arr.shape[-1] < 2:
        return
    step = np.diff(arr, axis=-1)
    bad = step <= 0 if strictly else step < 0
    if bad.any():
        idx = tuple(np.argwhere(bad)[0])
        before, after = arr[idx], arr[(*idx[:-1], idx[-1] + 1)]
        order = "strictly increasing" if strictly else "non-decreasing"
        raise ValueError(
            f"{factory}: {name} must be {order}, got {_num(after)} after "
            f"{_num(before)} at index {_index((*idx[:-1], idx[-1] + 1))}"
        )


def _describe(arr: np.ndarray, bad: np.ndarray) -> str:
    if arr.ndim == 0:
        return _num(arr)
    idx = tuple(np.argwhere(bad)[0])
    return f"{_num(arr[idx])} at index {_index(idx)}"


def _index(idx: tuple[int, ...]) -> str:
    idx = tuple(int(i) for i in idx)
    return str(idx[0]) if len(idx) == 1 else str(idx)


def _num(x: Any) -> str:
    """A value as written: ``0.6`` for a float32 0.6, ``10`` for 10.0."""
    x = np.asarray(x)[()]
    if isinstance(x, np.floating):
        if np.isfinite(x) and float(x).is_integer():
            return str(int(x))
        return np.format_float_positional(x, unique=True, trim="-")
    return repr(x.item() if isinstance(x, np.generic) else x)
