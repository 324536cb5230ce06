"""The registry is the one list of schedule families: every table of the tests covers it.

Adding a family is its module (a `register`-ed class and a `factory`) and its tests;
a test table that misses it fails here, in a few seconds:

- ``SWEEPS`` (conftest.py): an entry whose sweeps cover every numeric parameter of the
  factory (test_vmap.py, test_end_step.py, test_dropin.py, test_compile_options.py);
- ``reference`` (reference.py): an exact formula for the factory's kind, which
  the property tests check the schedule against, and ``build`` in draws.py, which draws it;
- ``cases`` (test_values.py): at least one case of hand-computed values.

The compared families of `jaxsched.experiments` each build a schedule of a registered
factory, and the compat tables name registered constructors.
"""

from __future__ import annotations

import dataclasses
import inspect
import math
from collections.abc import Callable, Iterable
from fractions import Fraction

import draws
import pytest
import test_hf_timm_parity
import test_values
from conftest import SWEEPS
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from reference import reference

from jaxsched._base import Schedule, core_factory_names, factory_named, factory_names
from jaxsched.experiments.families import FAMILIES, candidates, factory_of

CORE = core_factory_names()


def family_of(name: str) -> str | None:
    """The core factory a table's key belongs to: the key itself, or the longest core name
    followed by ``_`` and a variant (``cosine_restarts_equal_periods``: cosine_restarts)."""
    names = [n for n in CORE if name == n or name.startswith(f"{n}_")]
    return max(names, key=len, default=None)


def numeric_parameters(fn: Callable[..., Schedule]) -> set[str]:
    """The factory's parameters that are hyperparameters (data fields): all but the
    schedules it composes and the static ones (a choice of shape, a `str`)."""
    fields = dataclasses.fields(fn.schedule_class)
    static = {f.name for f in fields if f.metadata.get("static")}
    return {
        p.name
        for p in inspect.signature(fn).parameters.values()
        if p.name not in static
        # string annotations (from __future__ import annotations): "str", "Schedule", ...
        and str(p.annotation) != "str"
        and "Schedule" not in str(p.annotation)
    }


def entries(name: str) -> list[str]:
    return [key for key in SWEEPS if family_of(key) == name]


def test_the_registry_holds_the_core_factories():
    assert {"constant", "cosine", "poly", "warmup", "wsd"} <= set(CORE)
    assert all("." not in n for n in CORE) and set(CORE) < set(factory_names())
    for name in CORE:
        assert factory_named(name).schedule_class is not None, name


# ------------------------------------------------------------------------ SWEEPS
@pytest.mark.parametrize("key", list(SWEEPS))
def test_each_sweep_entry_is_named_after_its_registered_factory(key):
    name = family_of(key)
    assert name is not None, f"SWEEPS[{key!r}]: not a core factory's name (or name_variant)"
    assert SWEEPS[key][0] is factory_named(name), f"SWEEPS[{key!r}] does not build {name}"


@pytest.mark.parametrize("name", CORE)
def test_every_core_factory_sweeps_each_numeric_parameter(name):
    assert entries(name), f"{name}: no entry in conftest.SWEEPS"
    swept = {param for key in entries(name) for param in SWEEPS[key][2]}
    missing = numeric_parameters(factory_named(name)) - swept
    assert not missing, f"{name}: conftest.SWEEPS sweeps none of {sorted(missing)}"


# --------------------------------------------------------------------- reference
@pytest.mark.parametrize("name", CORE)
def test_every_core_factory_has_a_reference_formula(name):
    """For the shared arguments of each of its SWEEPS entries (test_properties.py
    compares the formula with the schedule for every family's random draws)."""
    for key in entries(name):
        fn, shared, _ = SWEEPS[key]
        s = fn(**shared)
        for t in (0, 3, 7.5, 1000):
            assert math.isfinite(reference(s, Fraction(t))), (key, t)  # or NotImplementedError


@pytest.mark.parametrize("family", draws.ALL)
@settings(max_examples=1, deadline=None, database=None, derandomize=True,
          suppress_health_check=list(HealthCheck))  # fmt: skip
@given(data=st.data())
def test_the_property_tests_draw_every_family(family, data):
    """draws.py's ``build`` draws each of its families (every core factory:
    its ``CORE`` is the registry's), and the reference knows each family that
    test_matches_reference compares."""
    for precise in (False, True):
        s = draws.build(family, data.draw, precise)  # NotImplementedError if none
        if family in draws.REFERENCE_FAMILIES:
            assert math.isfinite(reference(s, Fraction(3))), s


# ---------------------------------------------------------------------- values
def value_cases() -> dict[str, list[tuple[str, Schedule]]]:
    out: dict[str, list[tuple[str, Schedule]]] = {name: [] for name in CORE}
    for case, (schedule, _) in test_values.cases().items():
        name = family_of(case)
        if name is not None:
            out[name].append((case, schedule))
    return out


def test_every_core_factory_has_value_cases():
    cases = value_cases()
    missing = [name for name in CORE if not cases[name]]
    assert not missing, f"no case in test_values.cases() for {missing}"
    for name, named in cases.items():
        for case, schedule in named:
            want = factory_named(name).schedule_class
            assert type(schedule) is want, f"test_values case {case!r} is not a {name}"


# ------------------------------------------------------------ compared families
@pytest.mark.parametrize("family", FAMILIES)
def test_each_compared_family_builds_a_registered_factorys_schedules(family):
    name = factory_of(family)
    assert name in factory_names()
    for c in candidates(family, [0.1], 100, own=3):
        assert type(c.schedule) is factory_named(name).schedule_class, (family, c)


# ------------------------------------------------------------------ compat tables
def _registered(names: Iterable[str], table: str) -> None:
    unknown = sorted(set(names) - set(factory_names()))
    assert not unknown, f"{table} names unregistered constructors: {unknown}"


def test_compat_tables_name_registered_constructors():
    _registered(draws.TORCH, "draws.TORCH")
    _registered(test_hf_timm_parity.SWEEPS, "test_hf_timm_parity.SWEEPS")
    for name, (fn, _, _) in test_hf_timm_parity.SWEEPS.items():
        assert inspect.unwrap(fn) is inspect.unwrap(factory_named(name)), name
