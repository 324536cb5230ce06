"""The `Schedule` contract: a frozen dataclass that is a JAX pytree and a callable.

Every numeric hyperparameter is a data field (a jnp array: traceable,
batchable, differentiable); only what changes the program's structure (a
named shape, the number of children) is a static field. A batch of schedules
is the same class with a leading axis on every data leaf.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Callable, Iterator, Sequence
from contextvars import ContextVar
from operator import itemgetter
from typing import Any, ClassVar, TypeVar

import jax
import jax.numpy as jnp
import numpy as np

from jaxsched._check import did_you_mean, on_host
from jaxsched._fields import Declared, convert_fields, declare, register_checked, unchecked
from jaxsched._specialise import specialised
from jaxsched._steps import Steps

__all__ = ["Schedule", "data", "factory", "register", "static"]

_S = TypeVar("_S", bound="Schedule")

#: public factory name -> factory (what `parse` and `from_dict` call).
_FACTORIES: dict[str, Callable[..., Schedule]] = {}


def data(
    kind: Any = None,
    check: str | None = None,
    *,
    switch: bool | str = False,
    event_ndim: int = 0,
    **kwargs: Any,
) -> Any:
    """A data field: a jnp array whose trailing ``event_ndim`` axes are per-schedule.

    Its declaration converts and checks what the class is given, naming the factory
    called (`jaxsched._fields`). ``kind``: ``float`` (a float array, finite where
    concrete), ``bool``, ``Schedule`` (a child schedule; with ``event_ndim=1`` a
    non-empty sequence of them), a converter ``(factory, name, value, declared,
    fields) -> value``, or None (taken as given). ``check``: what the concrete
    entries must be (``"> 0"``, ``"in (0, 1)"``, ``"increasing"``: see
    `jaxsched._fields.parse_check`). ``switch``: the entries are steps where the
    schedule switches, so a host number the dtype cannot hold is rounded with a
    warning (or the name of the boolean field that makes them such steps).
    """
    declared = None
    if kind is not None:
        kind = _schedule_field if kind is Schedule else kind
        declared = declare(kind, check, switch, event_ndim)
    metadata = {"static": False, "event_ndim": event_ndim, "declared": declared}
    return dataclasses.field(metadata=metadata, **kwargs)


def static(choices: tuple[str, ...] | None = None, **kwargs: Any) -> Any:
    """A static field: part of the program's structure, never traced; with ``choices``,
    a string that must be one of them."""
    return dataclasses.field(metadata={"static": True, "choices": choices}, **kwargs)


def register(kind: str):
    """Class decorator: make ``cls`` a frozen dataclass, a pytree, and a named kind.

    Constructing the class converts and checks its declared fields; rebuilding it as
    a pytree (inside ``jit``, ``vmap``, ``tree_map``) takes the leaves as they are.
    """

    def wrap(cls: type[_S]) -> type[_S]:
        cls = register_checked(dataclasses.dataclass(frozen=True, eq=False, repr=False)(cls))
        cls.kind = kind
        return cls

    return wrap


#: The factory being called, whose name the schedule it builds says in its messages.
_BUILDING: ContextVar[str | None] = ContextVar("_BUILDING", default=None)


def factory(
    cls: type[Schedule] | None,
    name: str | None = None,
    event_ndims: dict[str, int] | None = None,
):
    """Function decorator: a public factory building ``cls``, known to `parse` by ``name``.

    The factory whose name is the class's kind is the one `from_dict` calls
    with the class's fields, so its parameters must include every field.
    ``event_ndims`` names the parameters that are sequences per schedule
    (``boundaries``), for factories whose parameters are not ``cls``'s fields.
    A schedule built while the factory runs names it in its messages.
    """

    def wrap(fn: Callable[..., _S]) -> Callable[..., _S]:
        label = name or fn.__name__

        @functools.wraps(fn)
        def build(*args: Any, **kwargs: Any) -> _S:
            token = _BUILDING.set(label)
            try:
                return _as_batch(label, fn(*args, **kwargs))
            finally:
                _BUILDING.reset(token)

        build.schedule_class = cls  # type: ignore[attr-defined]
        build.event_ndims = event_ndims or {}  # type: ignore[attr-defined]
        _FACTORIES[label] = build
        return build

    return wrap


def _as_batch(label: str, schedule: _S) -> _S:
    """Broadcast every leaf to the schedule's batch shape, so ``jax.vmap`` can map over all."""
    try:
        shape = schedule.batch_shape
    except ValueError:
        shapes = {
            n: jnp.shape(v) for n, v, _ in schedule._data_items() if not _is_schedule_field(v)
        }
        raise ValueError(
            f"{label}: the hyperparameters' batch shapes do not broadcast: {shapes}"
        ) from None
    return schedule.broadcast(shape) if shape else schedule


def _broadcast_leaf(value: Any, shape: tuple[int, ...]) -> Any:
    """``value`` broadcast to ``shape``; a concrete one on the host, then copied over
    (``jnp.broadcast_to`` would compile a small program per new shape)."""
    if jnp.shape(value) == shape:
        return value
    if isinstance(value, jax.core.Tracer):
        return jnp.broadcast_to(value, shape)
    return jax.device_put(np.broadcast_to(np.asarray(value), shape))


def factory_named(name: str) -> Callable[..., Schedule]:
    """The factory `parse` and `from_dict` know as ``name``; ``ValueError`` if none."""
    if name not in _FACTORIES:
        known = ", ".join(factory_names())
        raise ValueError(
            f"unknown schedule {name!r}{did_you_mean(name, _FACTORIES)}; known: {known}"
        )
    return _FACTORIES[name]


def factory_names() -> list[str]:
    """The names `factory_named` knows, sorted: the registry of every schedule family.

    The CLI's help, the sweep files' families and the tests' tables are read from it.
    """
    return sorted(_FACTORIES)


def core_factory_names() -> list[str]:
    """`factory_names` without the `jaxsched.compat` constructors (``torch.StepLR``, ...,
    the names with a dot): ``constant``, ``cosine``, ..., ``wsd``."""
    return [name for name in factory_names() if "." not in name]


def event_ndim(fn: Callable[..., Schedule], param: str) -> int:
    """Trailing per-schedule axes of ``fn``'s parameter ``param`` (0 if not a field)."""
    if param in getattr(fn, "event_ndims", {}):
        return fn.event_ndims[param]
    cls = getattr(fn, "schedule_class", None)
    if cls is None:
        return 0
    for f in dataclasses.fields(cls):
        if f.name == param:
            return f.metadata.get("event_ndim", 0)
    return 0


class Schedule:
    """Base class of every schedule: ``schedule(step) -> learning rate``.

    A schedule is a frozen dataclass registered as a JAX pytree, so it can be
    passed to ``jax.jit`` and ``jax.vmap`` as a value, and it is callable, so it
    drops into ``optax.sgd(schedule)`` like optax's own schedules.

    ``step`` is the number of updates already applied (optax's ``count``); a
    negative step counts as 0 and a NaN step gives NaN. A batched schedule
    (leading axes on its leaves) broadcasts against ``step``.

    Subclasses implement ``_value(steps)``, where ``steps`` is a
    `jaxsched._steps.Steps` in the computation dtype.
    """

    kind: ClassVar[str]

    def __post_init__(self) -> None:
        """Convert and check the fields as declared, check how they relate (`_validate`),
        and broadcast them to the batch shape, naming the factory called (or the kind)."""
        label = _BUILDING.get() or self.kind
        convert_fields(self, label)
        self._validate(label)
        broadcast = _as_batch(label, self)
        for f in dataclasses.fields(self):
            object.__setattr__(self, f.name, getattr(broadcast, f.name))

    def _validate(self, factory: str) -> None:
        """Check what relates several fields; a subclass with such constraints says them."""

    def _replace(self: _S, **updates: Any) -> _S:
        """A copy with ``updates``, unchecked (they come from valid fields)."""
        fields = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        return unchecked(type(self), fields | updates)

    def __call__(self, step: jax.typing.ArrayLike) -> jax.Array:
        step = _as_step(step)
        leaves, treedef = jax.tree_util.tree_flatten(self)
        traced = [i for i, x in enumerate(leaves) if isinstance(x, jax.core.Tracer)]
        if len(traced) == len(leaves) or not (traced or isinstance(step, jax.core.Tracer)):
            return self._evaluate(step)  # nothing known, or nothing traced

        def evaluate(step: jax.Array, *values: jax.Array) -> jax.Array:
            known = list(leaves)
            for i, value in zip(traced, values, strict=True):
                known[i] = value
            return jax.tree_util.tree_unflatten(treedef, known)._evaluate(step)

        return specialised(evaluate, step, *(leaves[i] for i in traced))

    def _evaluate(self, step: jax.Array) -> jax.Array:
        dtype = self._compute_dtype(step)
        steps = Steps.from_step(step, dtype)
        value = jnp.asarray(self._value(steps), dtype)
        if jnp.issubdtype(step.dtype, jnp.inexact):
            value = jnp.where(jnp.isnan(step), jnp.nan, value)
        return value

    def _value(self, steps: Steps) -> jax.Array:
        raise NotImplementedError

    # ------------------------------------------------------------------ length
    @property
    def end_step(self) -> jax.Array:
        """The step from which the value no longer changes, per schedule (shape `batch_shape`).

        A decay's end (``begin + decay_steps``, a one-cycle's or WSD's
        ``total_steps``, a multistep's last boundary), shifted by a warmup or a
        join's boundary in front of it; 0 for a constant. NaN where there is
        none: periodic schedules (cyclic, cosine restarts, PyTorch's cosine
        annealing, poly with ``cycle``) and those that decay for ever (step,
        exponential, inverse time, inverse square root).

        Example:
          >>> import jaxsched
          >>> s = jaxsched.warmup(jaxsched.cosine(init_value=0.1, decay_steps=900), warmup_steps=100)
          >>> float(s.end_step), float(s(1000)) == float(s(5000))
          (1000.0, True)
          >>> jaxsched.stack([s, jaxsched.cyclic(0.01, 0.1, step_size_up=50)]).end_step
          Array([1000.,   nan], dtype=float32)
        """
        return jnp.broadcast_to(jnp.asarray(self._end(), float), self.batch_shape)

    def _end(self) -> jax.typing.ArrayLike:
        """`end_step`, before broadcasting to the batch shape; a subclass with an end says it."""
        return jnp.nan

    # ----------------------------------------------------------------- dtype
    def _compute_dtype(self, step: jax.Array | None = None) -> jnp.dtype:
        """The float dtype the schedule computes in: its leaves' and a float ``step``'s."""
        leaves = [
            x for x in jax.tree_util.tree_leaves(self) if jnp.issubdtype(x.dtype, jnp.inexact)
        ]
        if step is not None and jnp.issubdtype(step.dtype, jnp.inexact):
            leaves.append(step)
        return jnp.result_type(*leaves) if leaves else jnp.result_type(float)

    # ---------------------------------------------------------------- batches
    def _data_items(self) -> Iterator[tuple[str, Any, int]]:
        """(name, value, event_ndim) of each data field; children have event_ndim -1."""
        for f in dataclasses.fields(self):
            if f.metadata.get("static"):
                continue
            value = getattr(self, f.name)
            yield f.name, value, f.metadata.get("event_ndim", 0)

    @property
    def batch_shape(self) -> tuple[int, ...]:
        """The leading (batch) shape shared by all leaves; ``()`` for one schedule."""
        shapes = []
        for _, value, event_ndim in self._data_items():
            for child in _children(value):
                shapes.append(child.batch_shape)
            if not _is_schedule_field(value):
                shape = jnp.shape(value)
                shapes.append(shape[: len(shape) - event_ndim])
        return tuple(np.broadcast_shapes(*shapes)) if shapes else ()

    def broadcast(self: _S, batch_shape: tuple[int, ...] | None = None) -> _S:
        """Broadcast every leaf to ``batch_shape`` (default: `batch_shape`)."""
        batch_shape = self.batch_shape if batch_shape is None else tuple(batch_shape)
        updates = {}
        for name, value, event_ndim in self._data_items():
            if _is_schedule_field(value):
                updates[name] = _map_children(value, lambda c: c.broadcast(batch_shape))
            else:
                event = jnp.shape(value)[jnp.ndim(value) - event_ndim :]
                updates[name] = _broadcast_leaf(value, batch_shape + event)
        return self._replace(**updates)

    def reshape(self: _S, *shape: int | tuple[int, ...]) -> _S:
        """The same schedules with their batch axes reshaped to ``shape`` (one ``-1`` allowed).

        Only the leading batch axes change; per-schedule axes (a ``boundaries``
        sequence) are kept. ``shape`` may be given as ints or as one tuple, as
        in NumPy.

        Example:
          >>> import jaxsched
          >>> batch = jaxsched.grid(jaxsched.multistep, init_value=[0.1, 0.2, 0.3],
          ...                       boundaries=[[10, 20], [30, 40]], decay_rate=0.5)
          >>> square = batch.reshape(3, 2)      # rows: init_value, columns: boundaries
          >>> square.batch_shape, square.boundaries.shape
          ((3, 2), (3, 2, 2))
          >>> square[2][1].to_dict()["boundaries"], square[2][1].to_dict()["init_value"]
          ([30.0, 40.0], 0.3)
        """
        if len(shape) == 1 and isinstance(shape[0], tuple | list):
            shape = tuple(shape[0])
        full = self.broadcast()
        old = full.batch_shape
        try:
            new = np.empty(old, dtype=np.bool_).reshape(shape).shape
        except (ValueError, TypeError):
            raise ValueError(
                f"{self.kind}: cannot reshape a batch of shape {old} "
                f"({math.prod(old)} schedules) into {tuple(shape)}"
            ) from None
        return jax.tree_util.tree_map(lambda x: x.reshape(new + x.shape[len(old) :]), full)

    def flatten(self: _S) -> _S:
        """The batch with its axes flattened into one, in row-major order (``reshape(-1)``).

        What `jaxsched.train.fit` takes: one axis of configurations. An
        unbatched schedule becomes a batch of one.

        Example:
          >>> import jax.numpy as jnp
          >>> import jaxsched
          >>> peaks, decays = jnp.array([[0.1], [0.3]]), jnp.array([100, 200, 300])
          >>> batch = jaxsched.cosine(init_value=peaks, decay_steps=decays)  # broadcast: (2, 3)
          >>> flat = batch.flatten()
          >>> batch.batch_shape, flat.batch_shape
          ((2, 3), (6,))
          >>> flat[4].to_dict()["init_value"], flat[4].to_dict()["decay_steps"]
          (0.3, 200.0)
        """
        return self.reshape(-1)

    def __len__(self) -> int:
        shape = self.batch_shape
        if not shape:
            raise TypeError(f"{self.kind}: an unbatched schedule has no len()")
        return shape[0]

    def __getitem__(self: _S, index: Any) -> _S:
        shape = self.batch_shape
        if not shape:
            raise TypeError(f"{self.kind}: an unbatched schedule cannot be indexed")
        if isinstance(index, int | np.integer) and not -shape[0] <= index < shape[0]:
            raise IndexError(f"index {index} out of range for a batch of {shape[0]} schedules")
        return jax.tree_util.tree_map(lambda x: x[index], self.broadcast(shape))._entry()

    def _entry(self) -> Schedule:
        """What indexing a batch gives for this entry (a `Switch` gives its chosen member)."""
        return self

    def __iter__(self: _S) -> Iterator[_S]:
        for i in range(len(self)):
            yield self[i]

    # ------------------------------------------------------------------- data
    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict: ``{"kind": ..., <field>: value, ...}``.

        Arrays become Python numbers or nested lists; children become dicts.
        ``jaxsched.from_dict`` rebuilds the schedule.
        """
        out: dict[str, Any] = {"kind": self.kind}
        for f in dataclasses.fields(self):
            out[f.name] = _to_plain(getattr(self, f.name))
        return out

    def to_dicts(self) -> list[dict[str, Any]]:
        """One `to_dict` per schedule of a batch (one leading batch axis).

        Equal to ``[s.to_dict() for s in batch]``, but the leaves are copied
        to the host once instead of indexed on the device schedule by schedule.

        >>> import jaxsched
        >>> [d["value"] for d in jaxsched.grid(jaxsched.constant, value=[0.5, 1.0]).to_dicts()]
        [0.5, 1.0]
        """
        if len(self.batch_shape) != 1:
            raise TypeError(
                f"{self.kind}: to_dicts needs one batch axis, got batch shape {self.batch_shape}"
            )
        host = jax.tree_util.tree_map(np.asarray, self.broadcast())
        entries = [jax.tree_util.tree_map(itemgetter(i), host) for i in range(len(self))]
        return [entry._entry().to_dict() for entry in entries]

    def __repr__(self) -> str:
        args = ", ".join(
            f"{f.name}={_repr_value(getattr(self, f.name))}" for f in dataclasses.fields(self)
        )
        return f"{self.kind}({args})"


# ---------------------------------------------------------------------- helpers
def _schedule_field(
    factory: str, name: str, value: Any, declared: Declared, fields: dict[str, Any]
) -> Schedule | tuple[Schedule, ...]:
    """A child schedule, or with ``event_ndim=1`` a non-empty sequence of them (a tuple)."""
    if declared.event_ndim == 0:
        if not isinstance(value, Schedule):
            raise ValueError(f"{factory}: {name} must be a schedule, got {value!r}")
        return value
    if isinstance(value, Schedule) or not isinstance(value, Sequence) or not value:
        raise ValueError(f"{factory}: {name} must be a non-empty list of schedules")
    for i, s in enumerate(value):
        if not isinstance(s, Schedule):
            raise ValueError(f"{factory}: {name}[{i}] must be a schedule, got {s!r}")
    return tuple(value)


def _is_schedule_field(value: Any) -> bool:
    return isinstance(value, Schedule) or (
        isinstance(value, tuple) and bool(value) and all(isinstance(v, Schedule) for v in value)
    )


def _children(value: Any) -> list[Schedule]:
    if isinstance(value, Schedule):
        return [value]
    if _is_schedule_field(value):
        return list(value)
    return []


def _map_children(value: Any, fn: Callable[[Schedule], Schedule]) -> Any:
    if isinstance(value, Schedule):
        return fn(value)
    return tuple(fn(v) for v in value)


def _as_step(step: Any) -> jax.Array:
    """``step`` as a jnp array; host integers that int32 cannot hold (without x64)
    become floats, rounded, instead of wrapping around (2**32 + 5 would be step 5)."""
    host = on_host(step)
    if host is not None and host.dtype.kind in "iu" and host.size:
        info = np.iinfo(jax.dtypes.canonicalize_dtype(np.int64))
        if host.max() > info.max or host.min() < info.min:
            step = host.astype(np.float64)
    return jnp.asarray(step)


def _to_plain(value: Any) -> Any:
    if isinstance(value, Schedule):
        return value.to_dict()
    if isinstance(value, tuple) and _is_schedule_field(value):
        return [v.to_dict() for v in value]
    if isinstance(value, jax.Array | np.ndarray | np.generic):
        return plain_data(np.asarray(value))
    return value


def plain_data(arr: np.ndarray) -> Any:
    """``arr`` as plain Python data for a dict or JSON: lists of bools, ints and the
    shortest decimals that read back as the same floats (``0.1``, not
    ``0.10000000149`` for a float32), None for a value that is not finite.

    >>> plain_data(np.asarray([0.1, np.inf], np.float32))
    [0.1, None]
    """
    if arr.dtype == np.bool_:
        return arr.tolist()
    if np.issubdtype(arr.dtype, np.integer):
        return arr.tolist()
    if arr.dtype.itemsize < 8:
        # The shortest decimal that reads back as the same float32: 0.1, not 0.10000000149.
        shortest = [float(np.format_float_scientific(v, unique=True)) for v in arr.ravel()]
        arr = np.asarray(shortest, dtype=np.float64).reshape(arr.shape)
    return _finite_or_none(arr.astype(np.float64).tolist())


def _finite_or_none(x: Any) -> Any:
    if isinstance(x, list):
        return [_finite_or_none(v) for v in x]
    return x if math.isfinite(x) else None


def _repr_value(value: Any) -> str:
    if isinstance(value, Schedule):
        return repr(value)
    if isinstance(value, tuple) and _is_schedule_field(value):
        return "[" + ", ".join(repr(v) for v in value) + "]"
    if isinstance(value, jax.Array | np.ndarray):
        if isinstance(value, jax.core.Tracer):
            return f"<traced {value.dtype}{list(value.shape)}>"
        arr = np.asarray(value)
        if arr.size > 8:
            return f"<{arr.dtype}{list(arr.shape)}>"
        return _repr_plain(plain_data(arr))
    return repr(value)


def _repr_plain(x: Any) -> str:
    if isinstance(x, list):
        return "[" + ", ".join(_repr_plain(v) for v in x) + "]"
    if isinstance(x, float) and x.is_integer() and abs(x) < 1e15:
        return str(int(x))
    return repr(x)
