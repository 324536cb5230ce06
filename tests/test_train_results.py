"""Result's plots (built from arrays, no training) and the TensorBoard callback."""

from __future__ import annotations

import numpy as np
import pytest

import jaxsched
from jaxsched.train import Result
from jaxsched.train._io import pyplot


def _result(schedules, steps=(100, 200, 300), seeds=1, metrics=None):
    configs = schedules.to_dicts()
    n, e = len(configs), len(steps)
    rng = np.random.default_rng(0)
    metrics = metrics or {
        "train_loss": rng.uniform(0.1, 1.0, (seeds, n, e)),
        "val_acc": rng.uniform(0.5, 0.9, (seeds, n, e)),
    }
    return Result(
        metrics=metrics,
        steps=np.asarray(steps),
        lr=np.zeros((n, e)),
        diverged=np.full((seeds, n), -1),
        configs=configs,
        seeds=list(range(seeds)),
        goals={"train_loss": "min", "val_acc": "max"},
    )


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    pyplot().close("all")


def _legend(fig):
    return [t.get_text() for t in fig.axes[0].get_legend().get_texts()]


def test_plot_lr_draws_a_short_warmup_at_every_step():
    # Evaluated every 100 steps, a 90-step warmup would vanish from the evaluation points.
    schedules = jaxsched.grid(
        lambda peak: jaxsched.warmup(jaxsched.cosine(peak, decay_steps=300), warmup_steps=90),
        peak=[0.1, 0.3],
    )
    result = _result(schedules)
    fig = result.plot_lr()
    lines = fig.axes[0].get_lines()
    assert len(lines) == 2
    for line, schedule in zip(lines, schedules, strict=True):
        x, y = np.asarray(line.get_xdata()), np.asarray(line.get_ydata())
        np.testing.assert_array_equal(x, np.arange(301))
        np.testing.assert_allclose(y, np.asarray(schedule(np.arange(301))), rtol=1e-6)
        assert y[45] == pytest.approx(y[90] / 2, rel=1e-5)  # halfway up the warmup
    assert _legend(fig)[0].startswith("warmup(schedule=cosine(init_value=0.1, decay_steps=300)")


def test_plot_lr_spreads_at_most_20000_steps_over_a_long_run():
    result = _result(
        jaxsched.grid(jaxsched.cosine, init_value=[0.1], decay_steps=10**6), steps=(10**6,)
    )
    (line,) = result.plot_lr().axes[0].get_lines()
    x = np.asarray(line.get_xdata())
    assert len(x) == 20_000 and x[0] == 0 and x[-1] == 10**6


def test_legends_name_hyperparameters_and_shorten_long_ones():
    schedules = jaxsched.grid(jaxsched.cosine, init_value=[0.01, 0.1], decay_steps=900)
    result = _result(schedules)
    for fig in (result.plot_lr(), result.plot_curves("val_acc", configs=[0, 1])):
        assert _legend(fig) == [
            "cosine(init_value=0.01, decay_steps=900)",
            "cosine(init_value=0.1, decay_steps=900)",
        ]
    long = jaxsched.grid(
        lambda v: jaxsched.join(
            [jaxsched.constant(v), jaxsched.cosine(v, 100), jaxsched.constant(v / 10)],
            boundaries=[100, 200],
        ),
        v=[0.1],
    )
    (text,) = _legend(_result(long).plot_lr())
    assert text.startswith("join(schedules=[constant(value=0.1)") and text.endswith("…")
    assert len(text) <= 60


def test_plot_curves_uses_a_log_axis_for_a_loss_spanning_decades_only():
    steps = (100, 200, 300)
    loss = np.array([[[2.0, 0.05, 0.001], [2.3, 0.2, 0.01]]])
    acc = np.array([[[0.2, 0.6, 0.9], [0.1, 0.5, 0.8]]])
    result = _result(
        jaxsched.grid(jaxsched.constant, value=[0.1, 0.3]),
        steps,
        metrics={"train_loss": loss, "val_acc": acc},
    )
    assert result.plot_curves("train_loss").axes[0].get_yscale() == "log"
    assert result.plot_curves("val_acc").axes[0].get_yscale() == "linear"
    flat = dict(result.metrics, train_loss=loss.clip(0.5))  # less than two decades
    flat_result = _result(jaxsched.grid(jaxsched.constant, value=[0.1, 0.3]), steps, metrics=flat)
    assert flat_result.plot_curves("train_loss").axes[0].get_yscale() == "linear"


def test_titles_count_and_subsets_are_honoured():
    schedules = jaxsched.grid(jaxsched.constant, value=list(np.linspace(0.01, 0.3, 30)))
    acc = np.linspace(0.1, 0.9, 30)[None, :, None].repeat(3, axis=2)
    result = _result(schedules, metrics={"val_acc": acc})

    fig = result.plot_lr(configs=[3, 7, 11, 20, 29])
    assert fig.axes[0].get_title() == "learning rate: 5 of 30 configurations"
    assert len(fig.axes[0].get_lines()) == 5
    assert _legend(fig)[1] == "constant(value=0.08)"
    assert result.plot_lr().axes[0].get_title() == "learning rate: 20 of 30 configurations"

    fig = result.plot_curves("val_acc", configs=[2, 5])
    assert fig.axes[0].get_title() == "val_acc: 2 of 30 configurations"
    np.testing.assert_allclose(fig.axes[0].get_lines()[1].get_ydata(), acc[0, 5])

    fig = result.plot_curves("val_acc")  # the 10 best, best first
    assert fig.axes[0].get_title().startswith("val_acc: 10 of 30 configurations")
    firsts = [line.get_ydata()[0] for line in fig.axes[0].get_lines()]
    np.testing.assert_allclose(firsts, acc[0, 29:19:-1, 0])
    with pytest.raises(ValueError, match="no configuration 30"):
        result.plot_lr(configs=[30])
