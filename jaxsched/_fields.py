"""Declared fields: how a schedule's field converts and checks the value it is given.

A field says what it holds (``data(float, check="> 0", switch=True)``,
``static(choices=...)``), and constructing the class converts and checks every
field from that declaration, with the messages of `jaxsched._check`, naming the
factory being called. Each constraint is written once, on its field.
"""

from __future__ import annotations

import dataclasses
import operator
import re
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

import jax
import numpy as np

from jaxsched._check import (
    as_bool,
    as_choice,
    as_float,
    concrete,
    require,
    require_increasing,
    require_nondecreasing,
)

#: ``convert(factory, name, value, declared, fields) -> value``, where ``declared`` is the
#: field's `Declared` and ``fields`` holds the fields converted before it.
Converter = Callable[[str, str, Any, "Declared", dict[str, Any]], Any]
Check = Callable[[str, str, Any], None]

_T = TypeVar("_T")

_COMPARISONS = {">": operator.gt, ">=": operator.ge, "<": operator.lt, "<=": operator.le}
_NUMBER = r"-?\d+(?:\.\d+)?"


@dataclasses.dataclass(frozen=True)
class Declared:
    """A data field's declaration: its conversion, its check, and whether its entries
    are steps where the schedule switches (True, or the name of the boolean field that
    makes them so, such as ``staircase``)."""

    convert: Converter
    check: Check | None
    switch: bool | str
    event_ndim: int

    def __call__(self, factory: str, name: str, value: Any, fields: dict[str, Any]) -> Any:
        value = self.convert(factory, name, value, self, fields)
        if self.check is not None:
            self.check(factory, name, value)
        return value

    def switches(self, fields: dict[str, Any]) -> bool:
        """Whether a step the dtype cannot hold moves a switch (and so warns)."""
        if isinstance(self.switch, bool):
            return self.switch
        on = concrete(fields[self.switch])
        return on is not None and bool(on.any())


def declare(kind: Any, check: str | None, switch: bool | str, event_ndim: int) -> Declared:
    """The declaration of ``data(kind, check, switch=..., event_ndim=...)``: ``kind`` is
    ``float``, ``bool`` or a `Converter`; ``check`` one of `parse_check`'s."""
    convert = {float: as_float_field, bool: as_bool_field}.get(kind, kind)
    return Declared(convert, parse_check(check), switch, event_ndim)


def parse_check(spec: str | None) -> Check | None:
    """A check from its description, which is also what the error says the value must be:
    ``"> 0"``, ``">= 1"`` (any comparison with a number), ``"in (0, 1)"``, ``"in [0, 1)"``
    (intervals), ``"increasing"`` (non-negative, strictly increasing boundaries) or
    ``"non-decreasing"``, or ``"a whole number >= 0"``."""
    if spec is None:
        return None
    if spec == "increasing":
        return require_increasing
    if spec == "non-decreasing":
        return require_nondecreasing
    if spec == "a whole number >= 0":
        return _whole_check(spec)
    condition = _condition(spec)

    def check(factory: str, name: str, value: Any) -> None:
        require(factory, name, value, condition, spec)

    return check


def _whole_check(spec: str) -> Check:
    def check(factory: str, name: str, value: Any) -> None:
        require(factory, name, value, lambda x: (x >= 0) & (x == np.round(x)), spec)

    return check


def _condition(spec: str) -> Callable[[Any], Any]:
    if match := re.fullmatch(rf"(>=|>|<=|<) ({_NUMBER})", spec):
        compare, bound = _COMPARISONS[match[1]], float(match[2])
        return lambda x: compare(x, bound)
    if match := re.fullmatch(rf"in ([(\[])({_NUMBER}), ({_NUMBER})([)\]])", spec):
        above = operator.ge if match[1] == "[" else operator.gt
        below = operator.le if match[4] == "]" else operator.lt
        low, high = float(match[2]), float(match[3])
        return lambda x: above(x, low) & below(x, high)
    raise ValueError(f"unknown check {spec!r}")


def convert_fields(schedule: Any, factory: str) -> None:
    """Convert and check every declared field of ``schedule`` in place: the boolean
    fields first (a step count may switch only where one is on), then the other data
    fields in order, then the static choices."""
    fields = dataclasses.fields(schedule)
    converted: dict[str, Any] = {}
    for f in sorted(fields, key=_order):
        value = getattr(schedule, f.name)
        declared = f.metadata.get("declared")
        if declared is not None:
            value = declared(factory, f.name, value, converted)
        choices = f.metadata.get("choices")
        if choices is not None:
            value = as_choice(factory, f.name, value, choices)
        converted[f.name] = value
        object.__setattr__(schedule, f.name, value)


def _order(f: dataclasses.Field) -> int:
    if f.metadata.get("static"):
        return 2
    declared = f.metadata.get("declared")
    return 0 if declared is not None and declared.convert is as_bool_field else 1


def as_float_field(
    factory: str, name: str, value: Any, declared: Declared, fields: dict[str, Any]
) -> Any:
    """`as_float` with the field's event axes, warning where a switch would move."""
    switch = declared.switches(fields)
    return as_float(factory, name, value, event_ndim=declared.event_ndim, switch=switch)


def as_bool_field(
    factory: str, name: str, value: Any, declared: Declared, fields: dict[str, Any]
) -> Any:
    """`as_bool`."""
    return as_bool(factory, name, value)


def register_checked(cls: type[_T]) -> type[_T]:
    """Register the dataclass ``cls`` as a pytree (its ``static`` fields as metadata, the
    others as leaves) whose rebuilding from leaves (inside ``jit``, ``vmap``,
    ``tree_map``) takes them as they are: construction converts and checks, rebuilding
    never does (`unchecked`)."""
    fields = dataclasses.fields(cls)
    data_fields = tuple(f.name for f in fields if not f.metadata.get("static"))
    meta_fields = tuple(f.name for f in fields if f.metadata.get("static"))
    keys = tuple(jax.tree_util.GetAttrKey(name) for name in data_fields)

    def flatten(obj: _T) -> tuple[list[Any], tuple[Any, ...]]:
        return [getattr(obj, n) for n in data_fields], tuple(getattr(obj, n) for n in meta_fields)

    def flatten_with_keys(obj: _T) -> tuple[list[tuple[Any, Any]], tuple[Any, ...]]:
        children, meta = flatten(obj)
        return list(zip(keys, children, strict=True)), meta

    def unflatten(meta: tuple[Any, ...], children: Iterable[Any]) -> _T:
        return unchecked(
            cls, dict(zip((*meta_fields, *data_fields), (*meta, *children), strict=True))
        )

    jax.tree_util.register_pytree_with_keys(cls, flatten_with_keys, unflatten, flatten)
    return cls


def unchecked(cls: type[_T], fields: dict[str, Any]) -> _T:
    """An instance of ``cls`` holding ``fields`` as they are, neither converted nor
    checked: a pytree rebuilt from its leaves (tracers, batching placeholders)."""
    obj = object.__new__(cls)
    for name, value in fields.items():
        object.__setattr__(obj, name, value)
    return obj
