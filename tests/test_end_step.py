"""`Schedule.end_step`: the step from which a schedule is constant (NaN where it never is),
and the warning for schedules longer than the run."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from conftest import SWEEPS, SWEPT, factory_name

import jaxsched as js
from jaxsched.compat import keras as keras_schedules
from jaxsched.compat import torch as lr_scheduler
from jaxsched.train.run_length import warn_unfinished

#: Families that never settle: periodic, or decaying for ever.
ENDLESS = {"step", "exponential", "inverse_time", "cyclic", "cosine_restarts", "inverse_sqrt"}


def _assert_ends_at(schedule: js.Schedule, end: float) -> None:
    """Constant from ``ceil(end)`` on, and (for an end after 0) not yet one step before."""
    first = math.ceil(end)
    after = np.asarray(schedule(np.arange(first, first + 500)))
    np.testing.assert_array_equal(after, after[0])
    if first > 0:
        assert float(schedule(first - 1)) != after[0], (schedule, end)


@pytest.mark.parametrize(
    ("name", "param"), [(n, p) for n, p in SWEPT if factory_name(n) not in ENDLESS]
)
def test_each_configuration_is_constant_from_its_end_step_and_not_before(name, param):
    factory, shared, sweeps = SWEEPS[name]
    batch = js.grid(factory, **{**shared, param: sweeps[param]})
    ends = np.asarray(batch.end_step)
    assert ends.shape == batch.batch_shape
    for schedule, end in zip(batch, ends, strict=True):
        if schedule.to_dict().get("cycle"):  # a cycled poly restarts: no end
            assert math.isnan(end)
        else:
            _assert_ends_at(schedule, end)


@pytest.mark.parametrize("name", sorted(ENDLESS))
def test_periodic_and_endless_families_have_no_end(name):
    factory, shared, _ = SWEEPS[name]
    assert math.isnan(float(factory(**shared).end_step))


def test_compositions_and_compat_constructors_end_where_their_parts_do():
    cases = [
        (js.warmup(js.cosine(0.1, decay_steps=900), warmup_steps=100), 1000),
        (js.warmup(js.constant(0.1), warmup_steps=30), 30),
        (js.join([js.constant(0.1), js.poly(0.1, 0.0, 50, begin=10)], boundaries=[40]), 100),
        (lr_scheduler.OneCycleLR(max_lr=0.1, total_steps=100), 100),
        (lr_scheduler.MultiStepLR(0.1, milestones=[10, 30]), 30),
        (keras_schedules.PiecewiseConstantDecay([10, 20], [1.0, 0.5, 0.1]), 21),  # step > b
        (keras_schedules.CosineDecay(0.0, 900, warmup_target=0.1, warmup_steps=100), 1000),
    ]
    for schedule, end in cases:
        assert float(schedule.end_step) == end, schedule
        _assert_ends_at(schedule, end)
    for endless in (
        lr_scheduler.CosineAnnealingLR(0.1, T_max=10),  # climbs back up after T_max
        js.warmup(js.cyclic(0.01, 0.1, step_size_up=20), warmup_steps=10),
        js.join([js.constant(0.1), js.step(0.1, 10, 0.5)], boundaries=[5]),
    ):
        assert math.isnan(float(endless.end_step)), endless
    mixed = js.stack([js.cosine(0.1, 100), js.cyclic(0.01, 0.1, 20), js.wsd(0.1, 300, 10, 50)])
    np.testing.assert_array_equal(mixed.end_step, [100, np.nan, 300])
    assert mixed.reshape(3, 1).end_step.shape == (3, 1)


def test_the_warning_names_the_configurations_longer_than_the_run_once():
    batch = js.stack(
        [js.cosine(0.1, 2000), js.cosine(0.1, 1000), js.cyclic(0.01, 0.1, 5000)]
        + [js.poly(0.1, 0.0, 1000, begin=k) for k in range(1, 8)]
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        warn_unfinished("sweep", batch, steps=1000)
        warn_unfinished("sweep", batch[1:3], steps=1000)  # as long as the run, or endless: quiet
    assert len(caught) == 1
    message = str(caught[0].message)
    assert message.startswith(
        "sweep: 8 of 10 configurations end after the run's 1000 steps: "
        "config 0 at step 2000 (cosine(init_value=0.1, decay_steps=2000"
    )
    assert "config 3 at step 1001 (poly(" in message and "config 6 at step 1004" in message
    assert "config 7" not in message and "and 3 more;" in message
    assert message.endswith("train for more steps or shorten their schedules")
