"""Property tests (hypothesis) for every schedule family: finite for every valid input,
NaN for a NaN step and clamped for a negative one, consistent in a batch, and
unchanged by `to_dict` / `from_dict` / `parse` round trips (schedules drawn by
tests/draws.py).
"""

from __future__ import annotations

import json
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from draws import (
    ALL,
    BATCH_PROPS,
    INT_MAX,
    PROPS,
    build,
    evaluate,
    floats32,
    pad,
)
from hypothesis import given
from hypothesis import strategies as st

import jaxsched as js

#: Every test here runs in the default float32, whatever ran before.
pytestmark = pytest.mark.usefixtures("float32")


# -------------------------------------------------------- finite, NaN, negative
@pytest.mark.parametrize("family", ALL)
@PROPS
@given(data=st.data())
def test_finite_for_valid_inputs(family, data):
    s = build(family, data.draw)
    ints = [0, 1, 2, INT_MAX, INT_MAX - 1, 2**24 + 1, *data.draw(st.lists(st.integers(0, INT_MAX)))]
    floats = [0.0, 0.5, 1e12, 2.0**31, *data.draw(st.lists(floats32(0.0, 1e12)))]
    for steps in (pad(ints, 32, np.int32), pad(floats, 32, np.float32)):
        values = evaluate(s, steps)
        if grows(s):  # decay_rate > 1 or gamma > 1: the true value may exceed float32
            assert not np.any(np.isnan(values)) and np.all(values >= 0), (repr(s), values)
        else:
            assert np.all(np.isfinite(values)), (repr(s), steps[~np.isfinite(values)])


def grows(s: js.Schedule) -> bool:
    """Whether any factor that multiplies the value step after step exceeds 1."""
    leaves = jax.tree_util.tree_flatten_with_path(s)[0]
    names = {"decay_rate", "gamma", "m_mul"}
    return any(
        getattr(path[-1], "name", None) in names and np.any(np.asarray(leaf) > 1)
        for path, leaf in leaves
    )


@pytest.mark.parametrize("family", ALL)
@PROPS
@given(data=st.data())
def test_nan_and_negative_steps(family, data):
    """A NaN step gives NaN; a negative step (int or float) gives the value at step 0."""
    s = build(family, data.draw)
    neg_floats = data.draw(st.lists(floats32(-1e12, -1e-6), min_size=1, max_size=31))
    neg_ints = data.draw(st.lists(st.integers(-(2**31), -1), min_size=1, max_size=32))
    floats = evaluate(s, pad([math.nan, *neg_floats], 32, np.float32))
    ints = evaluate(s, pad(neg_ints, 32, np.int32))
    zero_f, zero_i = evaluate(s, np.float32(0.0)), evaluate(s, np.int32(0))
    assert np.isnan(floats[0]) and np.isnan(evaluate(s, np.float32(np.nan)))
    np.testing.assert_array_equal(floats[1:], np.broadcast_to(zero_f, floats[1:].shape))
    np.testing.assert_array_equal(ints, np.broadcast_to(zero_i, ints.shape))
    np.testing.assert_array_equal(zero_f, zero_i)


# --------------------------------------------------------------- batches
def batch_steps(data) -> np.ndarray:
    steps = data.draw(st.lists(floats32(0.0, 3000.0), min_size=1, max_size=32))
    return pad([0.0, *steps], 32, np.float32)


def assert_batch_matches(batch: js.Schedule, members: list[js.Schedule], steps) -> None:
    values = evaluate(batch, steps[:, None])
    assert values.shape == (len(steps), len(members))
    for i, s in enumerate(members):
        want = evaluate(s, steps)
        # float32 rounds a batch's vectorised division differently from a scalar one; the
        # exponent of a decay amplifies that ulp: 1e-5 relative, as for float32 parity.
        # Near zero the error is an ulp of the schedule's scale (its largest value, here or
        # at the far end: rex from 0 up to 1 computes 1 - 0.9974 and loses 1e-5 of 0.0026).
        ends = evaluate(s, pad([0.0, 3000.0, float(INT_MAX)], 32, np.float32))
        scale = np.abs(np.concatenate([want, ends]))
        atol = 1e-6 * float(scale[np.isfinite(scale)].max(initial=0.0))
        np.testing.assert_allclose(values[:, i], want, rtol=1e-5, atol=atol, err_msg=repr(s))
        # A switch entry reads back as itself or as the schedule it selects.
        member = s.schedules[int(s.index)] if isinstance(s, js.Switch) else s
        assert batch[i].to_dict() in (s.to_dict(), member.to_dict())
    assert batch.to_dicts() == [entry.to_dict() for entry in batch]


@pytest.mark.parametrize("family", ALL)
@BATCH_PROPS
@given(data=st.data())
def test_stack_equals_members(family, data):
    members = [build(family, data.draw) for _ in range(3)]
    assert_batch_matches(js.stack(members), members, batch_steps(data))


@BATCH_PROPS
@given(data=st.data())
def test_stack_mixing_families(data):
    """Schedules of different families stack into a switch that equals each of them."""
    families = data.draw(st.lists(st.sampled_from(ALL), min_size=2, max_size=4))
    members = [build(f, data.draw) for f in families]
    batch = js.stack(members)
    assert_batch_matches(batch, members, batch_steps(data))
    mapped = jax.vmap(lambda s: s(jnp.float32(17.5)))(batch)
    np.testing.assert_allclose(
        mapped, [evaluate(s, np.float32(17.5)) for s in members], rtol=1e-5, atol=1e-12
    )


# ------------------------------------------------------------ round trips
@pytest.mark.parametrize("family", ALL)
@PROPS
@given(data=st.data())
def test_round_trips(family, data):
    """to_dict -> JSON -> from_dict, and parse(repr(s)), give the same schedule."""
    s = build(family, data.draw)
    spec = s.to_dict()
    text = json.dumps(spec)
    steps = batch_steps(data)
    want = evaluate(s, steps)
    for again in (js.from_dict(json.loads(text)), js.parse(repr(s))):
        assert again.to_dict() == spec
        assert type(again) is type(s)
        np.testing.assert_array_equal(evaluate(again, steps), want)
