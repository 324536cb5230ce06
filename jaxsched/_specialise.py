"""A schedule whose hyperparameters are known when it is traced compiles to its own
small program.

A schedule's formula is written for traced hyperparameters: every branch that
a hyperparameter picks (``cycle``, a power of 1, a growing or a decaying
schedule) is computed and selected per element, and every quantity derived
from hyperparameters alone is computed in the program. That generality is
what lets `jax.vmap` run over any hyperparameter. But the common use,
``optax.sgd(jaxsched.cosine(0.1, 1000))`` under ``jax.jit``, closes over
known hyperparameters. There `specialised` traces the formula as usual, then
folds it on the host before emitting it into the caller's trace:

- an equation whose inputs are all known and whose result IEEE arithmetic
  fixes (``+ - * /``, comparisons, ``floor``, selects, conversions, reshapes:
  `_HOST`) is computed with NumPy in the same dtype, correctly rounded (XLA's
  vectorised division on a CPU can differ in the last bit); transcendental
  functions (``cos``, ``exp``, ``pow``) stay in the program, where XLA folds
  them with its own kernels;
- a select whose condition is known and the same everywhere becomes the side
  it picks;
- what the result does not depend on is dropped.

So ``cosine`` compiles to 37 equations instead of 74 and ``poly`` to 27 instead
of 140 (`tests/test_jaxpr_size.py` caps every family), with the values of the
general program up to the float32 rounding that XLA's fusion already varies by
(the tests compare both). A batch whose leaves are partly traced (a sweep over one
hyperparameter, the others fixed) is specialised on the known ones.

Example:
  >>> import jax, jax.numpy as jnp, jaxsched
  >>> s = jaxsched.poly(0.1, 0.001, decay_steps=100, power=2.0)
  >>> len(jax.make_jaxpr(s)(jnp.int32(5)).eqns) < 40
  True
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import jax.extend as jex
import jax.numpy as jnp
import numpy as np

__all__ = ["specialised"]


def specialised(fn: Callable[..., jax.Array], *args: jax.Array) -> jax.Array:
    """``fn(*args)`` for an ``fn`` that closes over known arrays, folded on the host and
    pruned to what the result depends on (see the module's docstring)."""
    closed = jax.make_jaxpr(fn)(*args)
    jaxpr = closed.jaxpr
    known: dict[Any, np.ndarray] = {}  # var -> its value, computed on the host
    alias: dict[Any, Any] = {}  # var -> the var (or literal) a known select picks
    for var, value in zip(jaxpr.constvars, closed.consts, strict=True):
        if not isinstance(value, jax.core.Tracer):
            known[var] = np.asarray(value)
    env: dict[Any, Any] = dict(zip(jaxpr.constvars, closed.consts, strict=True))
    env.update(zip(jaxpr.invars, args, strict=True))

    def resolve(atom):
        while not isinstance(atom, jex.core.Literal) and atom in alias:
            atom = alias[atom]
        return atom

    def value_of(atom) -> np.ndarray | None:
        atom = resolve(atom)
        if isinstance(atom, jex.core.Literal):
            return np.asarray(atom.val, atom.aval.dtype)
        return known.get(atom)

    kept = []
    for eqn in jaxpr.eqns:
        values = [value_of(v) for v in eqn.invars]
        name = eqn.primitive.name
        if name == "select_n" and values[0] is not None and _uniform(values[0]):
            alias[eqn.outvars[0]] = resolve(eqn.invars[1 + int(values[0].flat[0])])
            continue
        if all(v is not None for v in values) and not eqn.effects:
            folded = _on_host(eqn, values)
            if folded is not None:
                known[eqn.outvars[0]] = folded
                continue
        kept.append(eqn)

    def read(atom):
        atom = resolve(atom)
        if isinstance(atom, jex.core.Literal):
            return atom.val
        if atom in known and atom not in env:
            env[atom] = jnp.asarray(known[atom])
        return env[atom]

    outs = [resolve(v) for v in jaxpr.outvars]
    for eqn in _live(kept, outs, resolve):
        params = eqn.primitive.get_bind_params(eqn.params)
        with eqn.ctx.manager:
            result = eqn.primitive.bind(*map(read, eqn.invars), **params)
        outs_of_eqn = result if eqn.primitive.multiple_results else [result]
        env.update(zip(eqn.outvars, outs_of_eqn, strict=True))
    (out,) = outs
    if isinstance(out, jex.core.Literal):  # a value known throughout, as an array
        return jnp.asarray(out.val, out.aval.dtype)
    return read(out)


def _uniform(x: np.ndarray) -> bool:
    return x.size > 0 and bool(np.all(x == x.flat[0]))


def _live(eqns: list, outs: list, resolve: Callable) -> list:
    """The equations the outputs depend on (and any with effects), in order."""
    live = {v for v in outs if not isinstance(v, jex.core.Literal)}
    kept = []
    for eqn in reversed(eqns):
        if eqn.effects or any(v in live for v in eqn.outvars):
            kept.append(eqn)
            live.update(
                resolve(v) for v in eqn.invars if not isinstance(resolve(v), jex.core.Literal)
            )
    return kept[::-1]


def _broadcast_in_dim(x, shape, broadcast_dimensions, **_):
    expanded = [1] * len(shape)
    for axis, size in zip(broadcast_dimensions, x.shape, strict=True):
        expanded[axis] = size
    return np.broadcast_to(x.reshape(expanded), shape)


def _convert(x, new_dtype, **_):
    new_dtype = np.dtype(new_dtype)
    if np.issubdtype(new_dtype, np.integer) and np.issubdtype(x.dtype, np.floating):
        return None  # XLA's float-to-int conversion of NaN or out-of-range values differs
    return x.astype(new_dtype)


def _round(x, rounding_method, **_):
    if int(rounding_method) != 1:  # only half to even is NumPy's
        return None
    return np.round(x)


def _exact_division(op):
    def run(x, y):
        if np.issubdtype(x.dtype, np.integer):
            return None  # XLA truncates, NumPy floors (and division by 0 differs)
        return op(x, y)

    return run


def _shift_right(x, y):
    if np.any((y < 0) | (y >= 8 * x.dtype.itemsize)):
        return None  # NumPy leaves shifts past the width undefined
    return np.right_shift(x, y)


#: Primitives whose result NumPy computes exactly as XLA does (IEEE arithmetic,
#: comparisons, bit operations, shapes). Anything else stays in the program.
_HOST: dict[str, Callable[..., np.ndarray | None]] = {
    "add": lambda x, y: x + y,
    "sub": lambda x, y: x - y,
    "mul": lambda x, y: x * y,
    "div": _exact_division(np.divide),
    "rem": _exact_division(np.fmod),
    "max": np.maximum,
    "min": np.minimum,
    "neg": np.negative,
    "abs": np.abs,
    "square": lambda x: x * x,
    "floor": np.floor,
    "ceil": np.ceil,
    "sign": np.sign,
    "is_finite": np.isfinite,
    "eq": np.equal,
    "ne": np.not_equal,
    "lt": np.less,
    "le": np.less_equal,
    "gt": np.greater,
    "ge": np.greater_equal,
    "and": np.bitwise_and,
    "or": np.bitwise_or,
    "not": np.invert,
    "shift_right_arithmetic": _shift_right,
    "select_n": lambda which, *cases: np.choose(which.astype(np.int32), cases),
    "stop_gradient": lambda x: x,
    "copy": lambda x: x,
}

#: The same for primitives with parameters (called as ``op(x, **params)``).
_HOST_WITH_PARAMS: dict[str, Callable[..., np.ndarray | None]] = {
    "convert_element_type": _convert,
    "round": _round,
    "bitcast_convert_type": lambda x, new_dtype, **_: x.view(np.dtype(new_dtype)),
    "squeeze": lambda x, dimensions, **_: np.squeeze(x, axis=tuple(dimensions)),
    "reshape": lambda x, new_sizes, **_: x.reshape(new_sizes),
    "broadcast_in_dim": _broadcast_in_dim,
    "slice": lambda x, start_indices, limit_indices, strides, **_: x[
        tuple(
            slice(a, b, s)
            for a, b, s in zip(
                start_indices, limit_indices, strides or [1] * len(start_indices), strict=True
            )
        )
    ],
}


def _on_host(eqn, values: list[np.ndarray]) -> np.ndarray | None:
    """``eqn`` computed with NumPy, or None where NumPy would not give XLA's bits."""
    name = eqn.primitive.name
    if eqn.primitive.multiple_results or len(eqn.outvars) != 1:
        return None
    with np.errstate(all="ignore"):
        if name in _HOST:
            result = _HOST[name](*values)
        elif name in _HOST_WITH_PARAMS:
            result = _HOST_WITH_PARAMS[name](*values, **eqn.params)
        else:
            return None
    if result is None:
        return None
    result = np.asarray(result)
    aval = eqn.outvars[0].aval
    if result.dtype != aval.dtype or result.shape != aval.shape:
        return None  # NumPy promoted or broadcast differently: leave it to XLA
    return result
