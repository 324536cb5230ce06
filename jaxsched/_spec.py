"""Schedules as data: `from_dict` (the inverse of ``Schedule.to_dict``) and `parse`.

`parse` reads a spec string written in Python call syntax with literal
arguments only, such as ``"warmup(cosine(init_value=0.1, decay_steps=900),
warmup_steps=100)"``. It walks the syntax tree with `ast`; nothing is
evaluated.
"""

from __future__ import annotations

import ast
import inspect
from typing import Any

import numpy as np

from jaxsched._base import Schedule, factory_named

__all__ = ["from_dict", "label", "parse"]


def from_dict(spec: dict[str, Any]) -> Schedule:
    """Rebuild a schedule from ``Schedule.to_dict()`` output (validated like any factory call).

    Example:
      >>> import jaxsched
      >>> s = jaxsched.warmup(jaxsched.cosine(0.1, decay_steps=900), warmup_steps=100)
      >>> jaxsched.from_dict(s.to_dict()).to_dict() == s.to_dict()
      True
    """
    if not isinstance(spec, dict) or "kind" not in spec:
        raise ValueError(f"from_dict: expected a dict with a 'kind' entry, got {spec!r}")
    spec = _renamed(spec)
    build = factory_named(spec["kind"])
    kwargs = {k: _from_plain(v) for k, v in spec.items() if k != "kind"}
    try:
        return build(**kwargs)
    except TypeError as e:
        raise ValueError(f"from_dict: {e}") from None


#: Fields that left a core kind for the torch kind that keeps them, as saved before:
#: ``step``'s ``decays_per_rate`` and ``cyclic``'s ``gamma_steps`` (both 1 unless a
#: ``torch.StepLR`` or ``torch.CyclicLR`` stored a ``gamma`` float32 does not hold).
_MOVED = {
    "step": ("decays_per_rate", "torch.step_per_rate"),
    "cyclic": ("gamma_steps", "torch.cyclic_per_rate"),
}


def _renamed(spec: dict[str, Any]) -> dict[str, Any]:
    """A dict saved before a field moved (see `_MOVED`) as today's: without the field
    where it is 1 everywhere (it changed nothing), else of the kind that keeps it."""
    field, kind = _MOVED.get(spec["kind"], (None, None))
    if field not in spec:
        return spec
    if np.all(np.asarray(spec[field]) == 1):
        return {k: v for k, v in spec.items() if k != field}
    return {**spec, "kind": kind}


def _from_plain(value: Any) -> Any:
    if isinstance(value, dict) and "kind" in value:
        return from_dict(value)
    if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        return [from_dict(v) for v in value]
    return value


def parse(spec: str) -> Schedule:
    """Build a schedule from a spec string: a call of a factory with literal arguments.

    Factories are named as in ``jaxsched`` (``poly``, ``warmup``, ...) and
    the compat constructors as ``torch.StepLR``, ``keras.CosineDecay`` and
    ``optax.warmup_cosine_decay_schedule``.
    Arguments may be numbers, strings, booleans, None, lists, dicts (such as optax's
    ``boundaries_and_scales``), and nested calls.

    Example:
      >>> import jaxsched
      >>> s = jaxsched.parse("poly(init_value=0.1, end_value=0.0, decay_steps=1000, power=2)")
      >>> round(float(s(500)), 6)
      0.025
    """
    if not isinstance(spec, str):
        raise ValueError(f"parse: expected a string, got {spec!r}")
    try:
        tree = ast.parse(spec.strip(), mode="eval")
    except SyntaxError as e:
        raise ValueError(f"parse: {spec!r} is not valid call syntax ({e.msg})") from None
    if not isinstance(tree.body, ast.Call):
        raise ValueError(f"parse: {spec!r} is not a call of a schedule factory")
    return _evaluate(tree.body, spec)


def _evaluate(node: ast.AST, spec: str) -> Any:
    if isinstance(node, ast.Call):
        name = _call_name(node.func, spec)
        build = _factory(name, spec)
        args = [_evaluate(a, spec) for a in node.args]
        kwargs = {}
        for kw in node.keywords:
            if kw.arg is None:
                raise ValueError(f"parse: '**' is not allowed in {spec!r}")
            if kw.arg in kwargs:  # Python refuses this too; ast.parse does not
                raise ValueError(f"parse: {name}: {kw.arg} is given twice in {spec!r}")
            kwargs[kw.arg] = _evaluate(kw.value, spec)
        try:
            return build(*args, **kwargs)
        except TypeError as e:
            raise ValueError(f"parse: {e}") from None
    if isinstance(node, ast.List | ast.Tuple):
        return [_evaluate(e, spec) for e in node.elts]
    if isinstance(node, ast.Dict) and None not in node.keys:  # None: a ``**`` entry
        table = {}
        for key, value in zip(node.keys, node.values, strict=True):
            key = _evaluate(key, spec)
            if not isinstance(key, int | float | str) or isinstance(key, bool):
                raise ValueError(f"parse: a dict's keys must be numbers or strings, in {spec!r}")
            table[key] = _evaluate(value, spec)
        return table
    if isinstance(node, ast.Constant) and not isinstance(node.value, bytes):
        return node.value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        value = _evaluate(node.operand, spec)
        if isinstance(value, int | float) and not isinstance(value, bool):
            return -value if isinstance(node.op, ast.USub) else value
    if isinstance(node, ast.Lambda):
        raise ValueError(
            f"parse: a spec string cannot hold a function, got "
            f"{ast.get_source_segment(spec, node)!r} in {spec!r}; build schedules that take "
            "one (torch.LambdaLR, torch.MultiplicativeLR) in Python"
        )
    raise ValueError(
        f"parse: only literal arguments and schedule calls are allowed, got "
        f"{ast.get_source_segment(spec, node) or ast.dump(node)!r} in {spec!r}"
    )


def _call_name(func: ast.AST, spec: str) -> str:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
        return f"{func.value.id}.{func.attr}"
    raise ValueError(f"parse: {ast.get_source_segment(spec, func)!r} is not a schedule name")


def _factory(name: str, spec: str):
    try:
        return factory_named(name)
    except ValueError as e:
        raise ValueError(f"parse: {e} (in {spec!r})") from None


def label(spec: dict[str, Any], width: int | None = 60) -> str:
    """A short spec string for a `to_dict` row, for legends: parameters left at their
    defaults are left out, numbers have 4 significant digits, and a string longer than
    ``width`` characters ends in ``…``.

    Example:
      >>> import jaxsched
      >>> label(jaxsched.cosine(0.1, decay_steps=900).to_dict())
      'cosine(init_value=0.1, decay_steps=900)'
      >>> s = jaxsched.warmup(jaxsched.cosine(0.1, decay_steps=900), warmup_steps=100)
      >>> label(s.to_dict(), width=40)
      'warmup(schedule=cosine(init_value=0.1, …'
    """
    text = _label(spec)
    if width is not None and len(text) > width:
        text = text[: width - 1] + "…"
    return text


def _label(value: Any) -> str:
    if isinstance(value, dict) and "kind" in value:
        try:
            params = inspect.signature(factory_named(value["kind"])).parameters
        except ValueError:
            params = {}
        args = [
            f"{k}={_label(v)}"
            for k, v in value.items()
            if k != "kind" and not (k in params and _is_default(v, params[k].default))
        ]
        return f"{value['kind']}({', '.join(args)})"
    if isinstance(value, list):
        return "[" + ", ".join(_label(v) for v in value) + "]"
    if isinstance(value, float):
        return f"{value:.4g}"
    return repr(value)


def _is_default(value: Any, default: Any) -> bool:
    if default is inspect.Parameter.empty or isinstance(value, list | dict):
        return False
    if isinstance(value, bool) or isinstance(default, bool):
        return value is default
    return isinstance(value, int | float | str | None) and value == default
